//! Staff exports of leads whose every field a visitor typed: every CSV cell that could be a
//! formula is defused, vCard lines are folded to 75 octets, and neither writer panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_server::export::{COLUMNS, ExportLead, Headers, csv, formula_like, vcard};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\u{1f}').map(str::to_owned);
    let mut next = || fields.next().unwrap_or_default();
    let lead = ExportLead {
        name: next(),
        organisation: next(),
        title: next(),
        email: next(),
        phone: next(),
        country: next(),
        notes: next(),
        interests: vec![next(), next()],
        ..Default::default()
    };
    let leads = vec![lead];
    let headers = Headers(COLUMNS.iter().map(|(k, _)| (*k).to_owned()).collect());
    let bytes = csv(&leads, &headers);
    let text = std::str::from_utf8(&bytes).expect("CSV is UTF-8");
    let mut reader =
        ::csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut rows = 0;
    for row in reader.records() {
        let row = row.expect("the CSV reads back");
        for cell in row.iter() {
            assert!(!formula_like(cell) || cell.starts_with('\''), "{cell:?}");
        }
        rows += 1;
    }
    assert_eq!(rows, 1);
    for line in vcard(&leads).split("\r\n") {
        assert!(line.len() <= 75, "{line:?}");
    }
});
