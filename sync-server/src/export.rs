//! Exports of leads for the promotion staff: CSV and XLSX for Excel, vCard 4.0 for address
//! books.
//!
//! The caller reads the leads from the database into [`ExportLead`]s and translates the column
//! headers ([`COLUMNS`] gives the Fluent message id of each) into [`Headers`]; this module only
//! formats. Every format keeps names in Vietnamese, Korean, Japanese and Chinese exactly.
//!
//! Common to CSV and XLSX:
//! - one row per lead, the columns of [`COLUMNS`] in that order;
//! - times (`created`, and the time of the consent) as `YYYY-MM-DD HH:MM` in Vietnam time
//!   (UTC+07:00, a fixed offset: Vietnam has no daylight saving time);
//! - `event` is `event name (event id)`, or the id alone when the event has no name;
//! - `interests` are joined with `", "`;
//! - `consent` is `text_id v{version} ({lang}) YYYY-MM-DD HH:MM`, empty without consent;
//! - `source` and `status` are the stored codes (`phone_form`, `qualified`, …), not translated.
//!
//! **CSV** ([`csv()`]): RFC 4180 (fields quoted when needed, CRLF line ends), UTF-8 with a byte
//! order mark first so that Excel reads it as UTF-8 rather than in the ANSI code page. Against
//! CSV (formula) injection, every cell — names and notes included, and the headers — that
//! begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets an apostrophe in front, as
//! OWASP recommends. Excel shows that apostrophe when it opens a CSV file, so a phone number
//! given as `+84 251 …` reads `'+84 251 …` in the CSV export: accepted, since the XLSX export
//! keeps it exact. Excel also turns a CSV cell of digits only into a number, so a phone number
//! written without spaces such as `0912345678` loses its leading zero there: the XLSX export is
//! the one to use in Excel; the CSV export is for other tools and as a fallback.
//!
//! [`csv_table()`] writes any other table (a delegation's visits) the same way.
//!
//! **XLSX** ([`xlsx()`]): one worksheet in constant-memory mode (rows go straight to a
//! temporary file in the system's temporary directory, so memory stays flat), a bold, frozen
//! header row with an autofilter, fixed column widths. Every cell, times included, is written
//! as a string, never as a formula, so a cell that begins with `=` stays text; such cells also
//! get Excel's "quote prefix" style so that they stay text when someone edits them. Cell text
//! is kept exact (no apostrophe added), except that text past Excel's limit of 32,767 UTF-16
//! units per cell is cut there. 100,000 leads (1.7 million cells) took 1.8–2.0 s in release on
//! a 2-core machine busy with other builds, a quarter of it zip compression (at level 3).
//!
//! **vCard** ([`vcard()`]): vCard 4.0 (RFC 6350), one card per lead: `FN` (the name, else the
//! email, the phone, the organisation, or the lead id: `FN` is mandatory), `N` with the whole
//! name in the family-name component (names are not split into parts), `ORG`, `TITLE`,
//! `EMAIL`, `TEL`, `ADR` with the country in the country-name component, `NOTE` (status,
//! interests, event, then the notes), `UID` (`urn:uuid:…`) and `REV` (the lead's last update,
//! UTC). `TEL` is a `tel:` URI (`TEL;VALUE=uri:tel:+84251…`, spaces removed) when the number is
//! a global number (`+` then digits and the visual separators `-`, `.`, `(`, `)`); any other
//! number (a local number has no valid `tel:` URI without a `phone-context` we cannot know) is
//! kept as text: `TEL;VALUE=text:0251 3822 123`. Text values are escaped (`\\`, `\,`, `\;`,
//! `\n`), control characters other than tab are dropped, and lines longer than 75 octets are
//! folded (CRLF and a space) between UTF-8 characters, never inside one. Lines end with CRLF.

use std::borrow::Cow;

use protocol::record::Consent;
use rust_xlsxwriter::{Format, Workbook};
use time::format_description::FormatItem;
use time::macros::format_description;

use crate::store::time::vietnam_time;
use time::OffsetDateTime;

/// One lead as exported (the caller fills it from the database).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportLead {
    pub lead_id: uuid::Uuid,
    /// Unix time in milliseconds, UTC.
    pub created_ms: i64,
    /// Unix time in milliseconds, UTC.
    pub updated_ms: i64,
    pub event_id: String,
    pub event_name: String,
    /// The kiosk's name.
    pub kiosk: String,
    pub item: String,
    pub lang: String,
    /// `phone_form` | `badge` | `kiosk_form`.
    pub source: String,
    pub name: String,
    pub organisation: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    pub country: String,
    pub interests: Vec<String>,
    /// `new` | `contacted` | `qualified`.
    pub status: String,
    pub notes: String,
    pub consent: Option<Consent>,
}

/// The number of columns of the CSV and XLSX exports.
pub const NUM_COLUMNS: usize = 17;

/// The columns, in order: each column's key and the Fluent message id of its header (the caller
/// translates).
pub const COLUMNS: [(&str, &str); NUM_COLUMNS] = [
    ("created", "export-col-created"),
    ("event", "export-col-event"),
    ("kiosk", "export-col-kiosk"),
    ("source", "export-col-source"),
    ("name", "export-col-name"),
    ("organisation", "export-col-organisation"),
    ("title", "export-col-title"),
    ("email", "export-col-email"),
    ("phone", "export-col-phone"),
    ("country", "export-col-country"),
    ("language", "export-col-language"),
    ("interests", "export-col-interests"),
    ("item", "export-col-item"),
    ("status", "export-col-status"),
    ("notes", "export-col-notes"),
    ("consent", "export-col-consent"),
    ("lead_id", "export-col-lead-id"),
];

/// Widths of the XLSX columns (in characters), in [`COLUMNS`] order.
const XLSX_WIDTHS: [f64; NUM_COLUMNS] = [
    17.0, // created
    30.0, // event
    18.0, // kiosk
    12.0, // source
    26.0, // name
    26.0, // organisation
    20.0, // title
    30.0, // email
    18.0, // phone
    14.0, // country
    10.0, // language
    30.0, // interests
    24.0, // item
    12.0, // status
    40.0, // notes
    36.0, // consent
    38.0, // lead_id
];

/// Headers translated by the caller, in [`COLUMNS`] order. A missing header is replaced by the
/// column's key; headers past the last column are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headers(pub Vec<String>);

impl Headers {
    /// The header of every column, in [`COLUMNS`] order.
    fn cells(&self) -> [&str; NUM_COLUMNS] {
        std::array::from_fn(|i| self.0.get(i).map_or(COLUMNS[i].0, String::as_str))
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// More leads than one Excel worksheet has rows (below its header row).
    #[error("{leads} leads do not fit in one worksheet (at most {max})")]
    TooManyRows { leads: usize, max: usize },
    /// The XLSX writer failed (for instance, no temporary file could be created).
    #[error("writing the XLSX file: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Excel's rows per worksheet.
const EXCEL_MAX_ROWS: usize = 1_048_576;
/// Excel's limit of the text in one cell, in UTF-16 units.
const EXCEL_MAX_CELL_UTF16: usize = 32_767;
/// Excel's limit of a worksheet name, in UTF-16 units.
const EXCEL_MAX_SHEET_NAME_UTF16: usize = 31;

const VCARD_TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

// ---------------------------------------------------------------------------------------------
// Cells shared by CSV and XLSX

fn datetime(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

fn event_cell(lead: &ExportLead) -> String {
    match (lead.event_name.is_empty(), lead.event_id.is_empty()) {
        (true, _) => lead.event_id.clone(),
        (false, true) => lead.event_name.clone(),
        (false, false) => format!("{} ({})", lead.event_name, lead.event_id),
    }
}

fn consent_cell(consent: Option<&Consent>) -> String {
    consent.map_or_else(String::new, |c| {
        format!(
            "{} v{} ({}) {}",
            c.text_id,
            c.version_label(),
            c.lang,
            vietnam_time(c.at_ms)
        )
    })
}

/// The cells of one lead, in [`COLUMNS`] order.
fn cells(lead: &ExportLead) -> [Cow<'_, str>; NUM_COLUMNS] {
    [
        vietnam_time(lead.created_ms).into(),
        event_cell(lead).into(),
        lead.kiosk.as_str().into(),
        lead.source.as_str().into(),
        lead.name.as_str().into(),
        lead.organisation.as_str().into(),
        lead.title.as_str().into(),
        lead.email.as_str().into(),
        lead.phone.as_str().into(),
        lead.country.as_str().into(),
        lead.lang.as_str().into(),
        lead.interests.join(", ").into(),
        lead.item.as_str().into(),
        lead.status.as_str().into(),
        lead.notes.as_str().into(),
        consent_cell(lead.consent.as_ref()).into(),
        lead.lead_id.hyphenated().to_string().into(),
    ]
}

/// Whether a spreadsheet could take the cell for a formula: OWASP's first characters, also
/// after leading spaces or line breaks (spreadsheets skip them), and their full-width forms
/// (`＝＋－＠`, which some spreadsheets read as the ASCII ones).
pub fn formula_like(cell: &str) -> bool {
    const STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    cell.starts_with(STARTS)
        || cell
            .trim_start_matches([' ', '\u{3000}', '\u{a0}', '\n', '\r', '\t'])
            .starts_with(STARTS)
}

// ---------------------------------------------------------------------------------------------
// CSV

/// A CSV cell with an apostrophe in front if a spreadsheet could take it for a formula.
fn defuse(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The leads as CSV for Excel: UTF-8 with a BOM, CRLF, a header row, cells that could be taken
/// for formulas prefixed with `'` (see the module documentation).
pub fn csv(leads: &[ExportLead], headers: &Headers) -> Vec<u8> {
    let mut out = CsvOut::new(256 * (leads.len() + 1));
    out.row(&headers.cells());
    for lead in leads {
        let row = cells(lead);
        out.row(&row.each_ref().map(|c| c.as_ref()));
    }
    out.finish()
}

/// Any table (a header row, then the rows) as CSV for Excel, written as [`csv()`] writes the
/// leads: UTF-8 with a BOM, CRLF, cells that could be taken for formulas prefixed with `'`.
pub fn csv_table<S: AsRef<str>>(header: &[S], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = CsvOut::new(128 * (rows.len() + 1));
    out.row(header);
    for row in rows {
        out.row(row);
    }
    out.finish()
}

/// One table of a CSV file of several: its title, header row and rows.
pub struct CsvSection {
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Several tables in one CSV file for Excel, one after another: each a title line, its header
/// row and its rows, with an empty line between tables; written as [`csv()`] writes the leads.
pub fn csv_sections(sections: &[CsvSection]) -> Vec<u8> {
    let mut out = CsvOut::flexible(4096);
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            out.row::<&str>(&[]);
        }
        out.row(&[s.title.as_str()]);
        out.row(&s.head);
        for row in &s.rows {
            out.row(row);
        }
    }
    out.finish()
}

/// A CSV file being written to memory.
struct CsvOut(::csv::Writer<Vec<u8>>);

/// Writing to a Vec cannot fail.
const INFALLIBLE: &str = "writing CSV to memory cannot fail";

impl CsvOut {
    fn new(capacity: usize) -> CsvOut {
        CsvOut::build(capacity, false)
    }

    /// Rows of different lengths (tables one after another).
    fn flexible(capacity: usize) -> CsvOut {
        CsvOut::build(capacity, true)
    }

    fn build(capacity: usize, flexible: bool) -> CsvOut {
        let mut out = Vec::with_capacity(UTF8_BOM.len() + capacity);
        out.extend_from_slice(UTF8_BOM);
        CsvOut(
            ::csv::WriterBuilder::new()
                .terminator(::csv::Terminator::CRLF)
                .quote_style(::csv::QuoteStyle::Necessary)
                .flexible(flexible)
                .from_writer(out),
        )
    }

    fn row<S: AsRef<str>>(&mut self, row: &[S]) {
        for cell in row {
            self.0
                .write_field(defuse(cell.as_ref()).as_bytes())
                .expect(INFALLIBLE);
        }
        self.0.write_record(None::<&[u8]>).expect(INFALLIBLE);
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect(INFALLIBLE)
    }
}

// ---------------------------------------------------------------------------------------------
// XLSX

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `s` of at most `max` UTF-16 units, cut between characters.
fn truncate_utf16(s: &str, max: usize) -> &str {
    // Each char is at most 2 UTF-16 units; short strings need no counting.
    if s.len() <= max {
        return s;
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

/// A valid worksheet name from any text: the characters `[]:*?/\` become `_`, control
/// characters are dropped, no apostrophe at either end, at most 31 UTF-16 units, not empty
/// (`Leads`) and not Excel's reserved `History`.
pub fn sanitize_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c => c,
        })
        .collect();
    let trim = |s: &str| s.trim().trim_matches('\'').trim().to_owned();
    let mut name = trim(&cleaned);
    if utf16_len(&name) > EXCEL_MAX_SHEET_NAME_UTF16 {
        name = trim(truncate_utf16(&name, EXCEL_MAX_SHEET_NAME_UTF16));
    }
    if name.is_empty() {
        name = "Leads".to_owned();
    }
    if name.eq_ignore_ascii_case("history") {
        name.push('_');
    }
    name
}

/// The leads as an XLSX workbook of one worksheet named after `sheet_name` (made valid by
/// [`sanitize_sheet_name`]): a bold, frozen header row with an autofilter, every cell a string.
pub fn xlsx(
    leads: &[ExportLead],
    headers: &Headers,
    sheet_name: &str,
) -> Result<Vec<u8>, ExportError> {
    if leads.len() >= EXCEL_MAX_ROWS {
        return Err(ExportError::TooManyRows {
            leads: leads.len(),
            max: EXCEL_MAX_ROWS - 1,
        });
    }
    let bold = Format::new().set_bold();
    let bold_text = Format::new().set_bold().set_quote_prefix();
    let text = Format::new().set_quote_prefix();
    let last_col = (NUM_COLUMNS - 1) as u16;

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(sanitize_sheet_name(sheet_name))?;
    for (col, width) in XLSX_WIDTHS.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    for (col, header) in headers.cells().iter().enumerate() {
        let header = truncate_utf16(header, EXCEL_MAX_CELL_UTF16);
        let format = if formula_like(header) {
            &bold_text
        } else {
            &bold
        };
        sheet.write_string_with_format(0, col as u16, header, format)?;
    }
    for (i, lead) in leads.iter().enumerate() {
        let row = (i + 1) as u32;
        for (col, cell) in cells(lead).iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let cell = truncate_utf16(cell, EXCEL_MAX_CELL_UTF16);
            if formula_like(cell) {
                sheet.write_string_with_format(row, col as u16, cell, &text)?;
            } else {
                sheet.write_string(row, col as u16, cell)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, leads.len() as u32, last_col)?;
    // Zip level 3 instead of 6: about twice as fast to save, for some 15 % more bytes.
    workbook.set_zip_compression_level(3);
    Ok(workbook.save_to_buffer()?)
}

// ---------------------------------------------------------------------------------------------
// vCard

/// Longest line of a vCard in octets, without its CRLF (RFC 6350 §3.2).
const VCARD_LINE_OCTETS: usize = 75;

/// Escapes a text value (RFC 6350 §3.4): backslash, comma, semicolon, newline (CRLF, LF or CR).
/// Control characters other than tab are not allowed in values and are dropped.
fn escape(out: &mut String, value: &str) {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape(&mut out, value);
    out
}

/// Appends one content line, folded at 75 octets between UTF-8 characters, and its CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    // A continuation line's leading space counts toward its 75 octets.
    let mut limit = VCARD_LINE_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = VCARD_LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// A `tel:` URI (RFC 3966 global number, spaces removed) if `phone` is a global number.
fn tel_uri(phone: &str) -> Option<String> {
    let compact: String = phone.chars().filter(|c| *c != ' ').collect();
    let digits = compact.strip_prefix('+')?;
    let valid = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '(' | ')'));
    valid.then(|| format!("tel:{compact}"))
}

fn note(lead: &ExportLead) -> String {
    let mut lines = Vec::new();
    if !lead.status.is_empty() {
        lines.push(format!("status: {}", lead.status));
    }
    if !lead.interests.is_empty() {
        lines.push(format!("interests: {}", lead.interests.join(", ")));
    }
    let event = event_cell(lead);
    if !event.is_empty() {
        lines.push(format!("event: {event}"));
    }
    if !lead.notes.is_empty() {
        lines.push(lead.notes.clone());
    }
    lines.join("\n")
}

fn vcard_one(out: &mut String, lead: &ExportLead) {
    let mut line = String::new();
    let mut prop = |out: &mut String, name: &str, value: &str| {
        line.clear();
        line.push_str(name);
        line.push(':');
        escape(&mut line, value);
        push_folded(out, &line);
    };

    push_folded(out, "BEGIN:VCARD");
    push_folded(out, "VERSION:4.0");
    let lead_id = lead.lead_id.hyphenated().to_string();
    let formatted = [&lead.name, &lead.email, &lead.phone, &lead.organisation]
        .into_iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or(&lead_id);
    prop(out, "FN", formatted);
    let name = lead.name.trim();
    if !name.is_empty() {
        // Family name; given names; additional names; prefixes; suffixes.
        push_folded(out, &format!("N:{};;;;", escaped(name)));
    }
    if !lead.organisation.is_empty() {
        prop(out, "ORG", &lead.organisation);
    }
    if !lead.title.is_empty() {
        prop(out, "TITLE", &lead.title);
    }
    if !lead.email.is_empty() {
        prop(out, "EMAIL", &lead.email);
    }
    if !lead.phone.trim().is_empty() {
        match tel_uri(&lead.phone) {
            Some(uri) => push_folded(out, &format!("TEL;VALUE=uri:{uri}")),
            None => prop(out, "TEL;VALUE=text", lead.phone.trim()),
        }
    }
    if !lead.country.is_empty() {
        // PO box; extended address; street; locality; region; postal code; country name.
        push_folded(out, &format!("ADR:;;;;;;{}", escaped(&lead.country)));
    }
    let note = note(lead);
    if !note.is_empty() {
        prop(out, "NOTE", &note);
    }
    push_folded(out, &format!("UID:urn:uuid:{lead_id}"));
    let rev_ms = if lead.updated_ms != 0 {
        lead.updated_ms
    } else {
        lead.created_ms
    };
    if let Some(rev) = datetime(rev_ms).and_then(|t| t.format(VCARD_TIMESTAMP).ok()) {
        push_folded(out, &format!("REV:{rev}"));
    }
    push_folded(out, "END:VCARD");
}

/// The leads as vCard 4.0 cards, one per lead; an empty string for no leads.
pub fn vcard(leads: &[ExportLead]) -> String {
    let mut out = String::with_capacity(400 * leads.len());
    for lead in leads {
        vcard_one(&mut out, lead);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};
    use calcard::vcard::{VCard, VCardProperty, VCardValue};
    use calcard::{Entry, Parser};

    use super::*;

    const NAMES: [&str; 5] = [
        "Nguyễn Thị Minh Khai",
        // Vietnamese in decomposed form (combining marks): must come back byte for byte.
        "Tra\u{302}\u{300}n Va\u{306}n Đu\u{31b}\u{301}c",
        "김민준",
        "山田 太郎",
        "王小明",
    ];
    const FORMULAS: [&str; 6] = [
        "=HYPERLINK(\"http://evil\")",
        "+1+1",
        "-2",
        "@SUM(A1)",
        "\tTAB",
        "\rCR",
    ];
    const TRICKY_NOTES: &str = "first, second; \"quoted\"\nnew line\r\nCRLF \\ backslash";

    fn headers() -> Headers {
        Headers(COLUMNS.iter().map(|(key, _)| format!("H {key}")).collect())
    }

    fn lead(name: &str) -> ExportLead {
        ExportLead {
            lead_id: uuid::Uuid::now_v7(),
            // 2025-03-01 20:30:00 UTC = 2025-03-02 03:30 in Vietnam.
            created_ms: 1_740_861_000_000,
            updated_ms: 1_740_861_060_000,
            event_id: "dn-2025".into(),
            event_name: "Hội chợ Đồng Nai".into(),
            kiosk: "Gian A1".into(),
            item: "Khu công nghiệp Nhơn Trạch".into(),
            lang: "vi".into(),
            source: "kiosk_form".into(),
            name: name.into(),
            organisation: "Công ty TNHH Sông Đồng Nai".into(),
            title: "Giám đốc".into(),
            email: "khai@example.vn".into(),
            phone: "0251 3822 123".into(),
            country: "Việt Nam".into(),
            interests: vec!["logistics".into(), "điện tử".into()],
            status: "qualified".into(),
            notes: "Gọi lại thứ Hai".into(),
            consent: Some(Consent {
                text_id: "privacy".into(),
                version: 3,
                lang: "vi".into(),
                at_ms: 1_740_861_000_000,
                digest: None,
                text: None,
            }),
        }
    }

    fn col(key: &str) -> usize {
        COLUMNS.iter().position(|(k, _)| *k == key).unwrap()
    }

    /// Reads a CSV export back: asserts the BOM and CRLF line ends, returns the header and rows.
    fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let body = bytes
            .strip_prefix(UTF8_BOM)
            .expect("the CSV starts with a BOM");
        assert!(body.ends_with(b"\r\n"));
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(body);
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    fn read_xlsx(bytes: Vec<u8>, sheet: &str) -> (Xlsx<Cursor<Vec<u8>>>, Vec<Vec<Data>>) {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec![sheet.to_owned()]);
        let range = book.worksheet_range(sheet).unwrap();
        let rows = range.rows().map(<[Data]>::to_vec).collect();
        (book, rows)
    }

    fn parse_vcards(text: &str) -> Vec<VCard> {
        let mut parser = Parser::new(text);
        let mut cards = Vec::new();
        loop {
            match parser.entry() {
                Entry::VCard(card) => cards.push(card),
                Entry::Eof => return cards,
                other => panic!("not a vCard: {other:?}"),
            }
        }
    }

    fn text_of(card: &VCard, prop: VCardProperty) -> Option<String> {
        let entry = card.property(&prop)?;
        assert_eq!(entry.values.len(), 1, "{prop:?}: {:?}", entry.values);
        match &entry.values[0] {
            VCardValue::Text(s) => Some(s.clone()),
            other => panic!("{prop:?} is not text: {other:?}"),
        }
    }

    /// The components of a structured value (N, ADR), as the parser gives them.
    fn components(card: &VCard, prop: VCardProperty) -> Vec<String> {
        card.property(&prop)
            .unwrap()
            .values
            .iter()
            .map(|v| match v {
                VCardValue::Text(s) => s.clone(),
                VCardValue::Component(parts) => parts.join(","),
                other => panic!("{prop:?}: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn cells_follow_the_columns() {
        let lead = lead("Nguyễn Văn An");
        let row = cells(&lead);
        assert_eq!(row[col("created")], "2025-03-02 03:30");
        assert_eq!(row[col("event")], "Hội chợ Đồng Nai (dn-2025)");
        assert_eq!(row[col("kiosk")], "Gian A1");
        assert_eq!(row[col("source")], "kiosk_form");
        assert_eq!(row[col("name")], "Nguyễn Văn An");
        assert_eq!(row[col("organisation")], lead.organisation);
        assert_eq!(row[col("title")], "Giám đốc");
        assert_eq!(row[col("email")], "khai@example.vn");
        assert_eq!(row[col("phone")], "0251 3822 123");
        assert_eq!(row[col("country")], "Việt Nam");
        assert_eq!(row[col("language")], "vi");
        assert_eq!(row[col("interests")], "logistics, điện tử");
        assert_eq!(row[col("item")], lead.item);
        assert_eq!(row[col("status")], "qualified");
        assert_eq!(row[col("notes")], "Gọi lại thứ Hai");
        assert_eq!(row[col("consent")], "privacy v3 (vi) 2025-03-02 03:30");
        assert_eq!(row[col("lead_id")], lead.lead_id.hyphenated().to_string());

        let bare = ExportLead {
            event_id: "dn-2025".into(),
            ..ExportLead::default()
        };
        let row = cells(&bare);
        assert_eq!(row[col("created")], "1970-01-01 07:00");
        assert_eq!(row[col("event")], "dn-2025");
        assert_eq!(row[col("consent")], "");
        assert_eq!(row[col("interests")], "");
        assert_eq!(vietnam_time(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn missing_headers_fall_back_to_keys() {
        let partial = Headers(vec!["Thời gian".into()]);
        let cells = partial.cells();
        assert_eq!(cells[0], "Thời gian");
        assert_eq!(cells[1], "event");
        assert_eq!(cells[NUM_COLUMNS - 1], "lead_id");
    }

    #[test]
    fn csv_round_trips_names_and_defuses_formulas() {
        let mut leads: Vec<ExportLead> = NAMES.iter().map(|n| lead(n)).collect();
        leads.extend(FORMULAS.iter().map(|f| lead(f)));
        let mut tricky = lead("Lê Văn Tám");
        tricky.notes = TRICKY_NOTES.into();
        tricky.phone = "+84 251 3822 123".into();
        tricky.organisation = "=cmd|' /C calc'!A0".into();
        leads.push(tricky);

        let bytes = csv(&leads, &headers());
        assert!(bytes.starts_with(b"\xEF\xBB\xBFH created,H event,"));
        // Every record ends with CRLF (the only LF outside quoted notes).
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("\u{feff}H created"));
        let (header, rows) = read_csv(&bytes);
        assert_eq!(header, headers().0);
        assert_eq!(rows.len(), leads.len());
        for (row, lead) in rows.iter().zip(&leads) {
            assert_eq!(row.len(), NUM_COLUMNS);
            assert_eq!(row[col("created")], "2025-03-02 03:30");
            assert_eq!(row[col("lead_id")], lead.lead_id.to_string());
        }
        for (i, name) in NAMES.iter().enumerate() {
            assert_eq!(rows[i][col("name")], *name);
        }
        for (i, formula) in FORMULAS.iter().enumerate() {
            assert_eq!(rows[NAMES.len() + i][col("name")], format!("'{formula}"));
        }
        let last = rows.last().unwrap();
        assert_eq!(last[col("notes")], TRICKY_NOTES);
        assert_eq!(last[col("phone")], "'+84 251 3822 123");
        assert_eq!(last[col("organisation")], "'=cmd|' /C calc'!A0");
        // The whole file: CRLF after every record, LF alone only inside the quoted note.
        assert_eq!(text.matches("\r\n").count(), leads.len() + 1 + 1);
    }

    #[test]
    fn csv_defuses_headers_too() {
        let mut evil = headers();
        evil.0[0] = "=1+1".into();
        let (header, rows) = read_csv(&csv(&[], &evil));
        assert_eq!(header[0], "'=1+1");
        assert!(rows.is_empty());
    }

    #[test]
    fn any_table_is_written_like_the_leads() {
        let rows = vec![
            vec![
                "Đoàn Gyeonggi".to_owned(),
                "=1+1".to_owned(),
                "90".to_owned(),
            ],
            vec!["김민준, \"Kim\"".to_owned(), "-".to_owned(), String::new()],
        ];
        let bytes = csv_table(&["Đoàn", "@title", "Seconds"], &rows);
        let (header, back) = read_csv(&bytes);
        assert_eq!(header, ["Đoàn", "'@title", "Seconds"]);
        assert_eq!(
            back,
            [
                ["Đoàn Gyeonggi", "'=1+1", "90"],
                ["김민준, \"Kim\"", "'-", ""]
            ]
        );
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap().matches("\r\n").count(),
            3
        );
    }

    #[test]
    fn csv_of_no_leads_is_the_header() {
        let bytes = csv(&[], &headers());
        let expected = format!(
            "\u{feff}{}\r\n",
            COLUMNS.map(|(k, _)| format!("H {k}")).join(",")
        );
        assert_eq!(bytes, expected.as_bytes());
        let (header, rows) = read_csv(&bytes);
        assert_eq!(header.len(), NUM_COLUMNS);
        assert!(rows.is_empty());
    }

    #[test]
    fn xlsx_round_trips_names_and_keeps_formulas_as_text() {
        let mut leads: Vec<ExportLead> = NAMES.iter().map(|n| lead(n)).collect();
        leads.extend(FORMULAS.iter().map(|f| lead(f)));
        let mut tricky = lead("Lê Văn Tám");
        tricky.notes = TRICKY_NOTES.into();
        tricky.phone = "+84 251 3822 123".into();
        tricky.title = String::new();
        leads.push(tricky);

        let bytes = xlsx(&leads, &headers(), "Khách hàng").unwrap();
        let (mut book, rows) = read_xlsx(bytes, "Khách hàng");
        assert_eq!(rows.len(), leads.len() + 1);
        let header: Vec<_> = rows[0].iter().map(|d| d.to_string()).collect();
        assert_eq!(header, headers().0);
        for (row, lead) in rows[1..].iter().zip(&leads) {
            assert_eq!(row.len(), NUM_COLUMNS);
            let expect = cells(lead);
            for (c, (cell, want)) in row.iter().zip(&expect).enumerate() {
                if want.is_empty() {
                    assert_eq!(*cell, Data::Empty, "column {c}");
                } else {
                    assert_eq!(*cell, Data::String(want.to_string()), "column {c}");
                }
            }
        }
        for (i, name) in NAMES.iter().enumerate() {
            assert_eq!(rows[1 + i][col("name")], Data::String((*name).into()));
        }
        for (i, formula) in FORMULAS.iter().enumerate() {
            assert_eq!(
                rows[1 + NAMES.len() + i][col("name")],
                Data::String((*formula).into())
            );
        }
        let last = rows.last().unwrap();
        assert_eq!(last[col("notes")], Data::String(TRICKY_NOTES.into()));
        assert_eq!(last[col("phone")], Data::String("+84 251 3822 123".into()));
        // No cell is a formula.
        let formulas = book.worksheet_formula("Khách hàng").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
        // The autofilter covers the header and every lead.
        let last_row = leads.len() + 1;
        assert!(
            book.defined_names().iter().any(|(name, range)| {
                name == "_xlnm._FilterDatabase"
                    && range == &format!("'Khách hàng'!$A$1:$Q${last_row}")
            }),
            "{:?}",
            book.defined_names()
        );
    }

    #[test]
    fn xlsx_of_no_leads_is_the_header() {
        let bytes = xlsx(&[], &headers(), "Leads").unwrap();
        let (_, rows) = read_xlsx(bytes, "Leads");
        assert_eq!(rows.len(), 1);
        let header: Vec<_> = rows[0].iter().map(|d| d.to_string()).collect();
        assert_eq!(header, headers().0);
    }

    #[test]
    fn xlsx_cuts_cells_at_excels_limit() {
        let mut long = lead("An");
        long.notes = "ồ".repeat(40_000);
        let bytes = xlsx(&[long], &headers(), "Leads").unwrap();
        let (_, rows) = read_xlsx(bytes, "Leads");
        assert_eq!(
            rows[1][col("notes")],
            Data::String("ồ".repeat(EXCEL_MAX_CELL_UTF16))
        );
        // A character outside the BMP takes two UTF-16 units and is never split.
        assert_eq!(truncate_utf16("a😀b", 2), "a");
        assert_eq!(truncate_utf16("a😀b", 3), "a😀");
    }

    #[test]
    fn sheet_names_are_made_valid() {
        assert_eq!(sanitize_sheet_name("Khách hàng"), "Khách hàng");
        assert_eq!(sanitize_sheet_name("a[b]c:d*e?f/g\\h"), "a_b_c_d_e_f_g_h");
        assert_eq!(sanitize_sheet_name("  'quoted'  "), "quoted");
        assert_eq!(sanitize_sheet_name(""), "Leads");
        assert_eq!(sanitize_sheet_name("''"), "Leads");
        assert_eq!(sanitize_sheet_name("History"), "History_");
        assert_eq!(sanitize_sheet_name("tab\there"), "tabhere");
        let long = sanitize_sheet_name("Hội chợ Thương mại Quốc tế Đồng Nai 2025");
        assert_eq!(long, "Hội chợ Thương mại Quốc tế Đồng");
        assert_eq!(utf16_len(&long), 31);
        // Every one of them is accepted by the writer.
        for name in [
            "a[b]c:d*e?f/g\\h",
            "''",
            "Hội chợ Thương mại Quốc tế Đồng Nai 2025 / 2026",
        ] {
            let bytes = xlsx(&[], &headers(), name).unwrap();
            read_xlsx(bytes, &sanitize_sheet_name(name));
        }
    }

    #[test]
    fn vcard_round_trips_through_a_parser() {
        let mut leads: Vec<ExportLead> = NAMES.iter().map(|n| lead(n)).collect();
        let mut tricky = lead("Lê, Văn; Tám \\ Jr.");
        tricky.notes = TRICKY_NOTES.into();
        tricky.phone = "+84 251 3822-123".into();
        tricky.organisation = "Sông Đồng Nai; Chi nhánh 2, Biên Hòa".into();
        leads.push(tricky);

        let text = vcard(&leads);
        assert!(text.ends_with("END:VCARD\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        let cards = parse_vcards(&text);
        assert_eq!(cards.len(), leads.len());
        for (card, lead) in cards.iter().zip(&leads) {
            assert_eq!(
                text_of(card, VCardProperty::Version).as_deref(),
                Some("4.0")
            );
            assert_eq!(text_of(card, VCardProperty::Fn), Some(lead.name.clone()));
            assert_eq!(
                components(card, VCardProperty::N),
                [lead.name.as_str(), "", "", "", ""]
            );
            assert_eq!(
                text_of(card, VCardProperty::Org),
                Some(lead.organisation.clone())
            );
            assert_eq!(
                text_of(card, VCardProperty::Title),
                Some(lead.title.clone())
            );
            assert_eq!(
                text_of(card, VCardProperty::Email),
                Some(lead.email.clone())
            );
            assert_eq!(
                components(card, VCardProperty::Adr),
                ["", "", "", "", "", "", "Việt Nam"]
            );
            assert_eq!(
                card.uid(),
                Some(format!("urn:uuid:{}", lead.lead_id.hyphenated()).as_str())
            );
            let note = text_of(card, VCardProperty::Note).unwrap();
            let expected_note = format!(
                "status: qualified\ninterests: logistics, điện tử\nevent: Hội chợ Đồng Nai (dn-2025)\n{}",
                lead.notes.replace("\r\n", "\n")
            );
            assert_eq!(note, expected_note);
            assert!(card.property(&VCardProperty::Rev).is_some());
        }
        assert!(text.contains("REV:20250301T203100Z\r\n"));
        // A local number is text, a global one a tel: URI without spaces.
        assert!(text.contains("TEL;VALUE=text:0251 3822 123\r\n"));
        assert!(text.contains("TEL;VALUE=uri:tel:+842513822-123\r\n"));
        let tel = |card: &VCard| {
            card.property(&VCardProperty::Tel)
                .unwrap()
                .values
                .iter()
                .map(|v| v.as_text().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(tel(&cards[0]), "0251 3822 123");
        assert!(tel(cards.last().unwrap()).contains("+842513822-123"));
    }

    #[test]
    fn vcard_folds_long_lines_between_characters() {
        // 200 characters of 1 to 4 octets each.
        let name: String = "Nguyễn 김민준 山田 😀 ".chars().cycle().take(200).collect();
        assert_eq!(name.chars().count(), 200);
        let mut long = lead(&name);
        long.notes = "x".repeat(300);
        let text = vcard(&[long]);
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert!(
            lines.iter().all(|l| l.len() <= VCARD_LINE_OCTETS),
            "{lines:#?}"
        );
        let folded = lines.iter().filter(|l| l.starts_with(' ')).count();
        assert!(folded >= 8, "{folded} continuation lines");
        // Unfolded by hand, FN is the name exactly.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("\r\nFN:{name}\r\n")));
        assert!(unfolded.contains(&format!("\r\nN:{name};;;;\r\n")));
        // And by the parser.
        let cards = parse_vcards(&text);
        assert_eq!(text_of(&cards[0], VCardProperty::Fn), Some(name.clone()));
        assert!(
            text_of(&cards[0], VCardProperty::Note)
                .unwrap()
                .ends_with(&"x".repeat(300))
        );
    }

    #[test]
    fn vcard_fn_falls_back_to_email_then_phone() {
        let mut no_name = lead("");
        no_name.email = "visitor@example.kr".into();
        let mut phone_only = ExportLead {
            lead_id: uuid::Uuid::now_v7(),
            phone: "+82 10 1234 5678".into(),
            ..ExportLead::default()
        };
        let bare = ExportLead {
            lead_id: uuid::Uuid::now_v7(),
            ..ExportLead::default()
        };
        phone_only.updated_ms = 0;
        let text = vcard(&[no_name.clone(), phone_only, bare.clone()]);
        let cards = parse_vcards(&text);
        assert_eq!(cards.len(), 3);
        assert_eq!(
            text_of(&cards[0], VCardProperty::Fn).as_deref(),
            Some("visitor@example.kr")
        );
        assert!(cards[0].property(&VCardProperty::N).is_none());
        assert_eq!(
            text_of(&cards[1], VCardProperty::Fn).as_deref(),
            Some("+82 10 1234 5678")
        );
        assert_eq!(
            text_of(&cards[2], VCardProperty::Fn),
            Some(bare.lead_id.hyphenated().to_string())
        );
        // The bare lead has nothing but the mandatory properties.
        assert!(cards[2].property(&VCardProperty::Note).is_none());
        assert!(cards[2].property(&VCardProperty::Tel).is_none());
        assert!(text.contains("REV:19700101T000000Z\r\n"));
    }

    #[test]
    fn vcard_of_no_leads_is_empty() {
        assert_eq!(vcard(&[]), "");
    }

    #[test]
    fn vcard_escapes_and_drops_control_characters() {
        assert_eq!(
            escaped("a\\b,c;d\ne\r\nf\rg\th\u{7}i"),
            "a\\\\b\\,c\\;d\\ne\\nf\\ng\thi"
        );
        assert_eq!(
            tel_uri("+84 251 3822 123").as_deref(),
            Some("tel:+842513822123")
        );
        assert_eq!(
            tel_uri("+1 (555) 010-9999").as_deref(),
            Some("tel:+1(555)010-9999")
        );
        assert_eq!(tel_uri("0251 3822 123"), None);
        assert_eq!(tel_uri("+84 251 ext 5"), None);
        assert_eq!(tel_uri("+"), None);
    }
}
