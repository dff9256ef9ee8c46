//! Property tests of what the server reads from the network and writes for staff: a push
//! body of any shape decodes or fails cleanly; the CSV and vCard writers never panic, keep
//! every cell that could be a formula defused, and stay bounded; forwarded headers never
//! name a client when the peer is not trusted.

use proptest::prelude::*;
use sync_server::export::{COLUMNS, ExportLead, Headers, csv, formula_like, vcard};
use sync_server::http::client_ip::{TrustedProxies, client_ip, parse_net};
use sync_server::store::IncomingBatch;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Text a hostile visitor could type: formulas, line breaks, full-width signs, quotes.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[ \\n\\r\\t\u{3000}]{0,3}[=+\\-@＝＋－＠][A-Z0-9(),\"]{0,12}",
        Just(String::new()),
    ]
}

fn lead() -> impl Strategy<Value = ExportLead> {
    (cell(), cell(), cell(), cell(), cell(), cell(), cell()).prop_map(
        |(name, organisation, title, email, phone, country, notes)| ExportLead {
            lead_id: uuid::Uuid::now_v7(),
            created_ms: 1_790_000_000_000,
            updated_ms: 1_790_000_000_000,
            name,
            organisation,
            title,
            email,
            phone,
            country,
            notes,
            ..Default::default()
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_push_body_decodes_or_fails_cleanly(s in "\\PC{0,3000}") {
        let started = std::time::Instant::now();
        let _ = serde_json::from_str::<IncomingBatch>(&s);
        prop_assert!(started.elapsed() < std::time::Duration::from_millis(50));
    }

    #[test]
    fn batches_with_any_bodies_decode_with_the_body_kept(body in "\\PC{0,200}", seq: u64, wall: i64) {
        let id = uuid::Uuid::now_v7();
        let json = serde_json::json!({
            "clock": {"boot_id": id, "mono_ms": 1, "wall_ms": wall},
            "records": [{"id": id, "kiosk_id": id, "seq": seq, "wall_ms": wall, "boot_id": id,
                         "mono_ms": 0, "body": {"kind": "x", "text": body}}],
        });
        let batch: IncomingBatch = serde_json::from_value(json).unwrap();
        prop_assert_eq!(batch.records.len(), 1);
        let kept: serde_json::Value = serde_json::from_str(batch.records[0].body.get()).unwrap();
        prop_assert_eq!(kept["text"].as_str(), Some(body.as_str()));
    }

    #[test]
    fn csv_cells_that_could_be_formulas_are_defused(leads in proptest::collection::vec(lead(), 0..20)) {
        let headers = Headers(COLUMNS.iter().map(|(k, _)| (*k).to_owned()).collect());
        let bytes = csv(&leads, &headers);
        let text = std::str::from_utf8(&bytes).unwrap().trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let mut rows = 0;
        for row in reader.records() {
            let row = row.unwrap();
            for cell in row.iter() {
                prop_assert!(!formula_like(cell) || cell.starts_with('\''), "{:?}", cell);
            }
            rows += 1;
        }
        prop_assert_eq!(rows, leads.len());
    }

    #[test]
    fn vcards_fold_their_lines_and_keep_one_card_per_lead(leads in proptest::collection::vec(lead(), 0..20)) {
        let text = vcard(&leads);
        prop_assert_eq!(text.matches("BEGIN:VCARD\r\n").count(), leads.len());
        for line in text.split("\r\n") {
            prop_assert!(line.len() <= 75, "{} octets: {:?}", line.len(), line);
            prop_assert!(!line.contains('\n') && !line.contains('\r'));
        }
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_never_name_the_client(
        xff in "[0-9a-f:., ]{0,80}",
        fwd in "\\PC{0,80}",
        peer in any::<[u8; 4]>(),
    ) {
        let mut h = axum::http::HeaderMap::new();
        if let Ok(v) = xff.parse() { h.insert("x-forwarded-for", v); }
        if let Ok(v) = fwd.parse() { h.insert("forwarded", v); }
        let peer = std::net::IpAddr::from(peer);
        let trusted = TrustedProxies::new(vec![parse_net("127.0.0.1").unwrap()]);
        if !trusted.contains(peer) {
            prop_assert_eq!(client_ip(peer, &h, &trusted), peer);
        } else {
            let _ = client_ip(peer, &h, &trusted);
        }
    }
}
