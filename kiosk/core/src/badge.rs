//! Badge scans: a keyboard-wedge scanner "types" the content of a visitor's badge (a vCard, a
//! MeCard or a plain code) as key presses, ending with Enter.
//!
//! [`ScanBuffer`] collects the key presses into complete scans; [`parse`] turns a scan into a
//! [`Badge`] with a [`Contact`], or into [`Scan::Unreadable`], kept as a raw scan for staff.
//!
//! Everything here is bounded and total: a scan is at most [`MAX_SCAN_CHARS`] chars, every
//! contact field is cut to [`MAX_FIELD_CHARS`], the raw text of an unreadable scan to
//! [`MAX_RAW_KEEP`], and hostile input (huge lines, control characters, broken structure) gives
//! an `Unreadable` result, never a panic.

use protocol::Contact;
use protocol::contact::{plausible_email, plausible_phone};

/// Chars kept in a [`ScanBuffer`] (and accepted by [`parse`]); more is [`Unreadable::TooLong`].
pub const MAX_SCAN_CHARS: usize = 8192;
/// Chars of an unreadable scan kept for staff.
pub const MAX_RAW_KEEP: usize = 2048;
/// Each contact field is cut to this many chars.
pub const MAX_FIELD_CHARS: usize = 200;
/// A buffer with no key for this long completes as it is (see [`ScanBuffer::poll`]).
pub const QUIET_MS: u64 = 300;

/// Length bounds of a plain badge code, in chars.
const MIN_CODE_CHARS: usize = 3;
const MAX_CODE_CHARS: usize = 64;
/// The punctuation a plain badge code may contain, besides ASCII letters and digits.
const CODE_PUNCTUATION: &str = "-_./:#+=";
/// Chars of the current line the buffer keeps to recognise "END:VCARD".
const LINE_PROBE_CHARS: usize = 16;

const VCARD_BEGIN: &str = "BEGIN:VCARD";
const VCARD_END: &str = "END:VCARD";
const MECARD_PREFIX: &str = "MECARD:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeFormat {
    VCard3,
    VCard4,
    MeCard,
    Code,
}

/// A readable badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub format: BadgeFormat,
    /// Empty for a plain [`BadgeFormat::Code`].
    pub contact: Contact,
    /// The plain code, or a vCard's UID if present, else `None`.
    pub code: Option<String>,
}

impl Badge {
    /// The name to greet the visitor with, if any (trimmed, non-empty).
    pub fn greeting_name(&self) -> Option<&str> {
        let name = self.contact.name.trim();
        (!name.is_empty()).then_some(name)
    }
}

/// Why a scan could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Nothing but whitespace.
    Empty,
    /// More than [`MAX_SCAN_CHARS`] chars.
    TooLong,
    /// A vCard or MeCard with no name, no usable email and no usable phone.
    NoContact,
    /// Not a vCard, a MeCard or a plain code.
    Malformed,
}

impl Unreadable {
    /// Stable snake_case id stored with the raw scan: "empty", "too_long", "no_contact",
    /// "malformed".
    pub fn as_str(self) -> &'static str {
        match self {
            Unreadable::Empty => "empty",
            Unreadable::TooLong => "too_long",
            Unreadable::NoContact => "no_contact",
            Unreadable::Malformed => "malformed",
        }
    }
}

/// The result of reading one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    Badge(Badge),
    /// `raw` is the input with control characters replaced (see below) and cut to MAX_RAW_KEEP
    /// chars.
    ///
    /// Precisely: the input is trimmed, "\r\n" becomes "\n", every other control character
    /// (lone '\r' and '\t' included) becomes U+FFFD, and the result is cut to [`MAX_RAW_KEEP`]
    /// chars.
    Unreadable {
        raw: String,
        reason: Unreadable,
    },
}

/// Parses one complete scan (lines separated by "\n" or "\r\n").
///
/// Input longer than [`MAX_SCAN_CHARS`] chars (after trimming) is [`Unreadable::TooLong`].
pub fn parse(input: &str) -> Scan {
    let text = input.trim();
    if text.is_empty() {
        return unreadable(text, Unreadable::Empty);
    }
    if text.chars().nth(MAX_SCAN_CHARS).is_some() {
        return unreadable(text, Unreadable::TooLong);
    }
    let parsed = if starts_with_ci(text, VCARD_BEGIN) {
        parse_vcard(text)
    } else if starts_with_ci(text, MECARD_PREFIX) {
        parse_mecard(text.get(MECARD_PREFIX.len()..).unwrap_or(""))
    } else {
        parse_code(text)
    };
    match parsed {
        Ok(badge) => Scan::Badge(badge),
        Err(reason) => unreadable(text, reason),
    }
}

fn unreadable(text: &str, reason: Unreadable) -> Scan {
    Scan::Unreadable {
        raw: raw_of(text),
        reason,
    }
}

/// The text kept for staff: trimmed, "\r\n" → "\n", other control characters → U+FFFD, cut to
/// [`MAX_RAW_KEEP`] chars.
fn raw_of(text: &str) -> String {
    let mut out = String::new();
    let mut kept = 0;
    let mut chars = text.trim().chars().peekable();
    while kept < MAX_RAW_KEEP {
        let Some(c) = chars.next() else { break };
        let c = match c {
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\n' => '\n',
            c if c.is_control() => char::REPLACEMENT_CHARACTER,
            c => c,
        };
        out.push(c);
        kept += 1;
    }
    out
}

/// Whether `s` starts with the ASCII `prefix`, ignoring ASCII case.
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

// ---------------------------------------------------------------------------------------------
// vCard (RFC 2426 / RFC 6350; 2.1 is read as 3.0)
// ---------------------------------------------------------------------------------------------

fn parse_vcard(text: &str) -> Result<Badge, Unreadable> {
    let lines = unfold(text);
    let mut lines = lines.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty());
    match lines.next() {
        Some(first) if first.trim().eq_ignore_ascii_case(VCARD_BEGIN) => {}
        _ => return Err(Unreadable::Malformed),
    }

    let mut format = BadgeFormat::VCard3;
    let mut contact = Contact::default();
    let mut code = None;
    let mut structured_name = None;
    let (mut properties, mut broken) = (0usize, 0usize);
    // No END:VCARD is tolerated: scanners cut the tail.
    for line in lines {
        if line.trim().eq_ignore_ascii_case(VCARD_END) {
            break;
        }
        let Some((name, value)) = split_property(line) else {
            broken += 1;
            continue;
        };
        properties += 1;
        match name.to_ascii_uppercase().as_str() {
            "VERSION" if value.trim().starts_with('4') => format = BadgeFormat::VCard4,
            "FN" => set_if_empty(&mut contact.name, &unescape_vcard(value)),
            "N" if structured_name.is_none() => {
                structured_name = Some(vcard_structured_name(value));
            }
            "ORG" if contact.organisation.is_empty() => {
                let units: Vec<String> = split_unescaped(value, ';')
                    .into_iter()
                    .map(|unit| clean_field(&unescape_vcard(unit)))
                    .filter(|unit| !unit.is_empty())
                    .collect();
                contact.organisation = clean_field(&units.join(", "));
            }
            "TITLE" => set_if_empty(&mut contact.title, &unescape_vcard(value)),
            "EMAIL" => set_email_if_empty(&mut contact.email, &unescape_vcard(value)),
            "TEL" => set_phone_if_empty(&mut contact.phone, &unescape_vcard(value)),
            "ADR" => {
                if let Some(country) = split_unescaped(value, ';').get(6) {
                    set_if_empty(&mut contact.country, &unescape_vcard(country));
                }
            }
            "UID" if code.is_none() => {
                let uid = clean_field(&unescape_vcard(value));
                code = (!uid.is_empty()).then_some(uid);
            }
            _ => {}
        }
    }

    if properties == 0 && broken > 0 {
        return Err(Unreadable::Malformed);
    }
    if contact.name.is_empty()
        && let Some(name) = structured_name
    {
        contact.name = clean_field(&name);
    }
    if !has_contact(&contact) {
        return Err(Unreadable::NoContact);
    }
    Ok(Badge {
        format,
        contact,
        code,
    })
}

/// The logical lines of a vCard: lines split at "\n" (a trailing '\r' dropped), control
/// characters other than '\t' removed, and folded lines (beginning with a space or a tab)
/// joined to the previous one without their first char (RFC 6350 §3.2).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for physical in text.split('\n') {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        let continued = physical.starts_with([' ', '\t']);
        let clean = |s: &str, out: &mut String| {
            out.extend(s.chars().filter(|&c| c == '\t' || !c.is_control()));
        };
        match lines.last_mut() {
            Some(last) if continued => clean(physical.get(1..).unwrap_or(""), last),
            _ => {
                let mut line = String::new();
                clean(physical, &mut line);
                lines.push(line);
            }
        }
    }
    lines
}

/// Splits a content line `[group.]NAME[;params]:value` into the property name (without the
/// group) and the raw value. `None` if the line is not a property at all.
fn split_property(line: &str) -> Option<(&str, &str)> {
    // The first colon outside a quoted parameter value ends the name and parameters.
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let head = line.get(..colon)?;
    let value = line.get(colon + 1..)?;
    let group_and_name = head.split(';').next().unwrap_or("");
    let name = group_and_name.rsplit('.').next().unwrap_or("");
    let valid = !name.is_empty()
        && group_and_name.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    valid.then_some((name, value))
}

/// N: `Family;Given;Additional;Prefix;Suffix` → "Given Family", or "FamilyGiven" for an
/// East-Asian family name. A component's comma-separated values are joined with spaces.
fn vcard_structured_name(value: &str) -> String {
    let components = split_unescaped(value, ';');
    let component = |i: usize| -> String {
        let Some(component) = components.get(i) else {
            return String::new();
        };
        let values: Vec<String> = split_unescaped(component, ',')
            .into_iter()
            .map(|v| clean_field(&unescape_vcard(v)))
            .filter(|v| !v.is_empty())
            .collect();
        values.join(" ")
    };
    compose_name(&component(0), &component(1))
}

/// Undoes vCard escapes: `\,` `\;` `\\` `\:` and `\n`/`\N` (a line break). Any other backslash is
/// kept as it is.
fn unescape_vcard(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(e @ (',' | ';' | '\\' | ':')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// MeCard (NTT DoCoMo)
// ---------------------------------------------------------------------------------------------

fn parse_mecard(body: &str) -> Result<Badge, Unreadable> {
    let mut contact = Contact::default();
    let (mut fields, mut broken) = (0usize, 0usize);
    for field in split_unescaped(body, ';') {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        let Some((key, value)) = split_mecard_field(field) else {
            broken += 1;
            continue;
        };
        fields += 1;
        match key.to_ascii_uppercase().as_str() {
            "N" if contact.name.is_empty() => {
                // `Last,First`; without a comma, the name as it is.
                let parts = split_unescaped(value, ',');
                let name = match parts.as_slice() {
                    [last, first @ ..] if !first.is_empty() => {
                        let first: Vec<String> = first
                            .iter()
                            .map(|p| clean_field(&unescape_mecard(p)))
                            .filter(|p| !p.is_empty())
                            .collect();
                        compose_name(&clean_field(&unescape_mecard(last)), &first.join(" "))
                    }
                    _ => unescape_mecard(value),
                };
                contact.name = clean_field(&name);
            }
            "ORG" => set_if_empty(&mut contact.organisation, &unescape_mecard(value)),
            "TITLE" => set_if_empty(&mut contact.title, &unescape_mecard(value)),
            "EMAIL" => set_email_if_empty(&mut contact.email, &unescape_mecard(value)),
            "TEL" => set_phone_if_empty(&mut contact.phone, &unescape_mecard(value)),
            "ADR" => {
                // Comma-separated: PO box, room, street, city, region, postal code, country.
                // A free-form address (no comma) has no country we could tell.
                let parts = split_unescaped(value, ',');
                if parts.len() >= 2
                    && let Some(country) = parts.last()
                {
                    set_if_empty(&mut contact.country, &unescape_mecard(country));
                }
            }
            _ => {} // NOTE, SOUND, URL, BDAY, …: not needed.
        }
    }
    if fields == 0 && broken > 0 {
        return Err(Unreadable::Malformed);
    }
    if !has_contact(&contact) {
        return Err(Unreadable::NoContact);
    }
    Ok(Badge {
        format: BadgeFormat::MeCard,
        contact,
        code: None,
    })
}

/// Splits `KEY:value` at the first unescaped colon; `None` if there is none or the key is not
/// a plain name.
fn split_mecard_field(field: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in field.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ':' {
            let key = field.get(..i)?.trim();
            let valid =
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            return valid.then_some((key, field.get(i + 1..)?));
        }
    }
    None
}

/// Undoes MeCard escapes: `\;` `\:` `\,` `\\`. Any other backslash is kept as it is.
fn unescape_mecard(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ (';' | ':' | ',' | '\\')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Plain code
// ---------------------------------------------------------------------------------------------

fn parse_code(text: &str) -> Result<Badge, Unreadable> {
    let len = text.chars().count();
    let valid = (MIN_CODE_CHARS..=MAX_CODE_CHARS).contains(&len)
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || CODE_PUNCTUATION.contains(c));
    if !valid {
        return Err(Unreadable::Malformed);
    }
    Ok(Badge {
        format: BadgeFormat::Code,
        contact: Contact::default(),
        code: Some(text.to_string()),
    })
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// Splits at `sep` where it is not escaped by a backslash. The parts keep their escapes.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(s.get(start..i).unwrap_or(""));
            start = i + c.len_utf8();
        }
    }
    parts.push(s.get(start..).unwrap_or(""));
    parts
}

/// A contact field: line breaks and tabs become spaces, other control characters are removed,
/// the result is trimmed and cut to [`MAX_FIELD_CHARS`] chars.
fn clean_field(s: &str) -> String {
    clean_chars(s).0
}

/// [`clean_field`], and whether the value had to be cut.
fn clean_chars(s: &str) -> (String, bool) {
    let mut chars = s
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .skip_while(|c| c.is_whitespace());
    let mut cut: String = chars.by_ref().take(MAX_FIELD_CHARS).collect();
    let was_cut = chars.any(|c| !c.is_whitespace());
    let trimmed_len = cut.trim_end().len();
    cut.truncate(trimmed_len);
    (cut, was_cut)
}

/// The whole cleaned value, or `None` if it is longer than [`MAX_FIELD_CHARS`] chars: an email
/// or a phone number cut to fit would be a wrong one.
fn clean_whole(s: &str) -> Option<String> {
    match clean_chars(s) {
        (value, false) => Some(value),
        (_, true) => None,
    }
}

fn set_if_empty(field: &mut String, value: &str) {
    if field.is_empty() {
        *field = clean_field(value);
    }
}

/// Keeps the first email that looks like `x@y.z`.
fn set_email_if_empty(field: &mut String, value: &str) {
    if !field.is_empty() {
        return;
    }
    let Some(email) = clean_whole(value) else {
        return;
    };
    let email = strip_prefix_ci(&email, "mailto:").trim();
    if plausible_email(email) {
        *field = email.to_string();
    }
}

/// Keeps the first phone number with 6–20 digits (a `tel:` URI's scheme and parameters
/// dropped).
fn set_phone_if_empty(field: &mut String, value: &str) {
    if !field.is_empty() {
        return;
    }
    let Some(phone) = clean_whole(value) else {
        return;
    };
    let phone = match phone.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => {
            let uri = phone.get(4..).unwrap_or("");
            uri.split(';').next().unwrap_or("")
        }
        _ => phone.as_str(),
    };
    let phone = phone.trim();
    if plausible_phone(phone) {
        *field = phone.to_string();
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> &'a str {
    if starts_with_ci(s, prefix) {
        s.get(prefix.len()..).unwrap_or("")
    } else {
        s
    }
}

fn has_contact(contact: &Contact) -> bool {
    !(contact.name.is_empty() && contact.email.is_empty() && contact.phone.is_empty())
}

/// "Given Family", or "FamilyGiven" (no space) when the family name is written in Hangul, Han
/// or Kana, the East-Asian order. Empty parts are skipped.
fn compose_name(family: &str, given: &str) -> String {
    let (family, given) = (family.trim(), given.trim());
    match (family.is_empty(), given.is_empty()) {
        (true, true) => String::new(),
        (false, true) => family.to_string(),
        (true, false) => given.to_string(),
        (false, false) if family.chars().any(is_east_asian) => format!("{family}{given}"),
        (false, false) => format!("{given} {family}"),
    }
}

/// Hangul, Kana or Han (CJK ideographs).
fn is_east_asian(c: char) -> bool {
    matches!(
        c as u32,
        0x1100..=0x11FF          // Hangul Jamo
        | 0x3130..=0x318F        // Hangul Compatibility Jamo
        | 0xA960..=0xA97F        // Hangul Jamo Extended-A
        | 0xAC00..=0xD7FF        // Hangul Syllables, Jamo Extended-B
        | 0x3040..=0x30FF        // Hiragana, Katakana
        | 0x31F0..=0x31FF        // Katakana Phonetic Extensions
        | 0xFF66..=0xFF9F        // Halfwidth Katakana
        | 0x3005                 // 々 ideographic iteration mark
        | 0x3400..=0x4DBF        // CJK Extension A
        | 0x4E00..=0x9FFF        // CJK Unified Ideographs
        | 0xF900..=0xFAFF        // CJK Compatibility Ideographs
        | 0x20000..=0x3FFFF // CJK Extensions B…, supplementary and tertiary ideographic planes
    )
}

// ---------------------------------------------------------------------------------------------
// Scan buffer
// ---------------------------------------------------------------------------------------------

/// Collects key presses from the scanner into complete scans.
///
/// Memory is bounded: at most [`MAX_SCAN_CHARS`] chars are stored (the line breaks of a
/// multi-line vCard included); further chars are dropped and the scan is marked as overflowed.
#[derive(Debug, Default)]
pub struct ScanBuffer {
    text: String,
    /// Chars in `text`.
    chars: usize,
    /// Chars were dropped because the buffer was full.
    overflowed: bool,
    /// A char other than whitespace was typed.
    has_content: bool,
    /// Line breaks taken into `text` (only a vCard has them).
    line_breaks: usize,
    /// The first line began with "BEGIN:VCARD": Enter is a line break until "END:VCARD".
    in_vcard: bool,
    /// The first [`LINE_PROBE_CHARS`] chars of the current line, and its length in chars:
    /// enough to recognise "END:VCARD" even after an overflow.
    line_probe: String,
    line_chars: usize,
    last_key_ms: Option<u64>,
}

/// A complete scan taken from a [`ScanBuffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub text: String,
    /// More than [`MAX_SCAN_CHARS`] chars were typed; `text` holds the first ones.
    pub overflowed: bool,
}

impl Completed {
    /// parse(text), except overflowed → Scan::Unreadable { reason: TooLong, raw: first
    /// MAX_RAW_KEEP chars }.
    pub fn scan(&self) -> Scan {
        if self.overflowed {
            unreadable(&self.text, Unreadable::TooLong)
        } else {
            parse(&self.text)
        }
    }
}

impl ScanBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A typed character. Control characters (char::is_control, except '\t') are dropped.
    pub fn push_char(&mut self, c: char, now_ms: u64) {
        self.last_key_ms = Some(now_ms);
        if c.is_control() && c != '\t' {
            return;
        }
        self.store(c);
        if !c.is_whitespace() {
            self.has_content = true;
        }
        self.line_chars = self.line_chars.saturating_add(1);
        if self.line_chars <= LINE_PROBE_CHARS {
            self.line_probe.push(c);
        }
    }

    /// The Enter key. Returns the completed scan text, unless a vCard is open
    /// ("BEGIN:VCARD" seen at the start, case-insensitive, and no "END:VCARD" line yet): then
    /// Enter is a line break inside it and None is returned.
    ///
    /// A buffer holding only whitespace is dropped, as an empty one: None.
    pub fn push_enter(&mut self, now_ms: u64) -> Option<Completed> {
        self.last_key_ms = Some(now_ms);
        if !self.has_content && !self.overflowed {
            self.clear();
            return None;
        }
        if self.line_breaks == 0 {
            self.in_vcard = starts_with_ci(self.text.trim_start(), VCARD_BEGIN);
        }
        let at_end = self.line_breaks > 0
            && self.line_chars <= LINE_PROBE_CHARS
            && self.line_probe.trim().eq_ignore_ascii_case(VCARD_END);
        if self.in_vcard && !at_end {
            self.store('\n');
            self.line_breaks += 1;
            self.line_probe.clear();
            self.line_chars = 0;
            return None;
        }
        self.take()
    }

    /// Called every frame: a buffer that has had no key for QUIET_MS (300 ms) completes as it
    /// is (a scanner that sends no Enter, or a vCard cut short).
    pub fn poll(&mut self, now_ms: u64) -> Option<Completed> {
        let last = self.last_key_ms?;
        if now_ms.saturating_sub(last) < QUIET_MS {
            return None;
        }
        self.take()
    }

    /// Whether a scan is being typed (so the UI may show "reading badge…").
    pub fn is_active(&self) -> bool {
        self.has_content || self.overflowed
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    fn store(&mut self, c: char) {
        if self.chars < MAX_SCAN_CHARS {
            self.text.push(c);
            self.chars += 1;
        } else {
            self.overflowed = true;
        }
    }

    /// Empties the buffer; the scan, unless it held only whitespace.
    fn take(&mut self) -> Option<Completed> {
        let text = std::mem::take(&mut self.text);
        let overflowed = self.overflowed;
        let has_content = self.has_content;
        self.clear();
        (has_content || overflowed).then_some(Completed { text, overflowed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn badge(input: &str) -> Badge {
        match parse(input) {
            Scan::Badge(b) => b,
            other => panic!("expected a badge from {input:?}, got {other:?}"),
        }
    }

    fn unreadable_of(input: &str) -> (String, Unreadable) {
        match parse(input) {
            Scan::Unreadable { raw, reason } => (raw, reason),
            other => panic!("expected unreadable from {input:?}, got {other:?}"),
        }
    }

    /// Types `text` into the buffer, one key a millisecond from `t`, '\n' as Enter. Returns
    /// the scans completed on the way and the time after the last key.
    fn type_text(buf: &mut ScanBuffer, text: &str, mut t: u64) -> (Vec<Completed>, u64) {
        let mut done = Vec::new();
        for c in text.chars() {
            if c == '\n' {
                done.extend(buf.push_enter(t));
            } else {
                buf.push_char(c, t);
            }
            t += 1;
        }
        (done, t)
    }

    /// The invariants every result must keep, whatever the input.
    fn check_invariants(scan: &Scan) {
        match scan {
            Scan::Badge(b) => {
                let c = &b.contact;
                for field in [
                    &c.name,
                    &c.organisation,
                    &c.email,
                    &c.phone,
                    &c.country,
                    &c.title,
                ] {
                    assert!(field.chars().count() <= MAX_FIELD_CHARS, "{field:?}");
                    assert!(!field.chars().any(char::is_control), "{field:?}");
                    assert_eq!(field.trim(), field.as_str());
                }
                assert!(c.email.is_empty() || plausible_email(&c.email));
                assert!(c.phone.is_empty() || plausible_phone(&c.phone));
                match b.format {
                    BadgeFormat::Code => {
                        assert!(c.is_empty());
                        assert!(b.code.is_some());
                    }
                    _ => assert!(has_contact(c)),
                }
            }
            Scan::Unreadable { raw, .. } => {
                assert!(raw.chars().count() <= MAX_RAW_KEEP);
                assert!(!raw.chars().any(|c| c.is_control() && c != '\n'), "{raw:?}");
            }
        }
    }

    #[test]
    fn vcard3_with_every_field() {
        let input = "BEGIN:VCARD\r\n\
                     VERSION:3.0\r\n\
                     N:Kim;Minjun;;;\r\n\
                     FN:Kim Minjun\r\n\
                     ORG:Hanbit Robotics;Export Sales\r\n\
                     TITLE:Sales Manager\r\n\
                     EMAIL;TYPE=INTERNET:minjun.kim@hanbit.example.kr\r\n\
                     TEL;TYPE=CELL:+82 10-1234-5678\r\n\
                     ADR;TYPE=WORK:;;123 Teheran-ro;Seoul;;06133;Korea\r\n\
                     END:VCARD\r\n";
        let b = badge(input);
        assert_eq!(b.format, BadgeFormat::VCard3);
        assert_eq!(
            b.contact,
            Contact {
                name: "Kim Minjun".into(),
                organisation: "Hanbit Robotics, Export Sales".into(),
                email: "minjun.kim@hanbit.example.kr".into(),
                phone: "+82 10-1234-5678".into(),
                country: "Korea".into(),
                title: "Sales Manager".into(),
            }
        );
        assert_eq!(b.code, None);
        assert_eq!(b.greeting_name(), Some("Kim Minjun"));
    }

    #[test]
    fn vcard4_with_tel_uri_folded_line_and_escaped_commas() {
        let input = "BEGIN:VCARD\n\
                     VERSION:4.0\n\
                     FN:Nguyễn Thị Hương\n\
                     ORG:Công ty TNHH Đồng Nai Xanh\\, Chi\n  nhánh Biên Hòa;Phòng\n \tXuất khẩu\n\
                     TITLE:Giám đốc\\, khu vực phía Nam\n\
                     item1.EMAIL;TYPE=work:huong.nguyen@dongnaixanh.example.vn\n\
                     TEL;VALUE=uri:tel:+82-2-555-0100\n\
                     NOTE:Gặp tại gian hàng B12\\; quan tâm\\nmáy đóng gói\n\
                     UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n\
                     END:VCARD";
        let b = badge(input);
        assert_eq!(b.format, BadgeFormat::VCard4);
        assert_eq!(b.contact.name, "Nguyễn Thị Hương");
        assert_eq!(
            b.contact.organisation,
            "Công ty TNHH Đồng Nai Xanh, Chi nhánh Biên Hòa, Phòng Xuất khẩu"
        );
        assert_eq!(b.contact.title, "Giám đốc, khu vực phía Nam");
        assert_eq!(b.contact.email, "huong.nguyen@dongnaixanh.example.vn");
        assert_eq!(b.contact.phone, "+82-2-555-0100");
        assert_eq!(b.contact.country, "");
        assert_eq!(
            b.code.as_deref(),
            Some("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1")
        );
    }

    #[test]
    fn vcard_tel_uri_with_parameters_and_quoted_colon_in_a_parameter() {
        let b = badge(
            "BEGIN:VCARD\nVERSION:4.0\n\
             ADR;LABEL=\"12 Đường 30/4: Biên Hòa\":;;12 Đường 30/4;Biên Hòa;Đồng Nai;;Việt Nam\n\
             TEL;VALUE=uri;TYPE=\"voice,cell\":TEL:+84-251-1234;ext=12\nEND:VCARD",
        );
        assert_eq!(b.contact.phone, "+84-251-1234");
        assert_eq!(b.contact.country, "Việt Nam");
    }

    #[test]
    fn vcard_with_only_n_korean_uses_east_asian_order() {
        let b = badge("BEGIN:VCARD\nVERSION:3.0\nN:김;민준;;;\nEND:VCARD");
        assert_eq!(b.contact.name, "김민준");
        assert_eq!(b.greeting_name(), Some("김민준"));
    }

    #[test]
    fn vcard_with_only_n_vietnamese_uses_given_family() {
        let b = badge("BEGIN:VCARD\nVERSION:3.0\nN:Nguyễn;Hương;;;\nEND:VCARD");
        assert_eq!(b.contact.name, "Hương Nguyễn");
    }

    #[test]
    fn vcard_with_only_n_chinese_and_japanese() {
        assert_eq!(
            badge("BEGIN:VCARD\nN:王;小明\nEND:VCARD").contact.name,
            "王小明"
        );
        assert_eq!(
            badge("BEGIN:VCARD\nN:やまだ;たろう\nEND:VCARD")
                .contact
                .name,
            "やまだたろう"
        );
        // FN wins over N.
        assert_eq!(
            badge("BEGIN:VCARD\nN:Tanaka;Hiroshi\nFN:田中 博\nEND:VCARD")
                .contact
                .name,
            "田中 博"
        );
        // Only a given name, or only a family name.
        assert_eq!(
            badge("BEGIN:VCARD\nN:;Lan;;;\nEND:VCARD").contact.name,
            "Lan"
        );
        assert_eq!(badge("BEGIN:VCARD\nN:Trần\nEND:VCARD").contact.name, "Trần");
    }

    #[test]
    fn vcard_version_2_1_or_missing_reads_as_vcard3() {
        let v21 =
            badge("BEGIN:VCARD\nVERSION:2.1\nN:Smith;Anna\nTEL;CELL:+44 20 7946 0958\nEND:VCARD");
        assert_eq!(v21.format, BadgeFormat::VCard3);
        assert_eq!(v21.contact.phone, "+44 20 7946 0958");
        let none = badge("begin:vcard\nfn:Anna Smith\nend:vcard");
        assert_eq!(none.format, BadgeFormat::VCard3);
        assert_eq!(none.contact.name, "Anna Smith");
    }

    #[test]
    fn mecard_with_escapes() {
        let b = badge(
            "MECARD:N:Tanaka,Hiroshi;ORG:Acme\\; Ltd;TEL:+81312345678;EMAIL:h.tanaka@example.jp;;",
        );
        assert_eq!(b.format, BadgeFormat::MeCard);
        assert_eq!(
            b.contact,
            Contact {
                name: "Hiroshi Tanaka".into(),
                organisation: "Acme; Ltd".into(),
                email: "h.tanaka@example.jp".into(),
                phone: "+81312345678".into(),
                ..Contact::default()
            }
        );
        assert_eq!(b.code, None);
    }

    #[test]
    fn mecard_east_asian_name_address_and_note() {
        let b = badge(
            "mecard:N:山田,太郎;SOUND:ヤマダ,タロウ;TEL:03-1234-5678;\
             ADR:,,1-2-3 Chiyoda,Tokyo,,100-0001,Japan;NOTE:Booth\\: B12;;",
        );
        assert_eq!(b.contact.name, "山田太郎");
        assert_eq!(b.contact.phone, "03-1234-5678");
        assert_eq!(b.contact.country, "Japan");
        // A free-form address has no country we could tell; a name without a comma is as is.
        let b =
            badge("MECARD:N:Nguyễn Thị Hương;ADR:12 Đường 30/4 Biên Hòa;EMAIL:huong@example.vn;;");
        assert_eq!(b.contact.name, "Nguyễn Thị Hương");
        assert_eq!(b.contact.country, "");
    }

    #[test]
    fn plain_code() {
        let b = badge("  EXPO2026-000123\r\n");
        assert_eq!(b.format, BadgeFormat::Code);
        assert_eq!(b.code.as_deref(), Some("EXPO2026-000123"));
        assert!(b.contact.is_empty());
        assert_eq!(b.greeting_name(), None);
        assert!(matches!(
            parse("https://expo.example/b/A1#x=2"),
            Scan::Badge(_)
        ));
        assert_eq!(unreadable_of("AB").1, Unreadable::Malformed);
        assert_eq!(unreadable_of(&"A".repeat(65)).1, Unreadable::Malformed);
        assert_eq!(badge(&"A".repeat(64)).code.map(|c| c.len()), Some(64));
    }

    #[test]
    fn garbage_text_is_malformed() {
        let (raw, reason) = unreadable_of("  hello, this is not a badge  ");
        assert_eq!(reason, Unreadable::Malformed);
        assert_eq!(raw, "hello, this is not a badge");
        assert_eq!(unreadable_of("Mã số: 123").1, Unreadable::Malformed);
        assert_eq!(unreadable_of("EXPO2026?id=1&x=2").1, Unreadable::Malformed);
    }

    #[test]
    fn empty_input() {
        assert_eq!(
            parse(" \r\n\t "),
            Scan::Unreadable {
                raw: String::new(),
                reason: Unreadable::Empty
            }
        );
        assert_eq!(Unreadable::Empty.as_str(), "empty");
        assert_eq!(Unreadable::TooLong.as_str(), "too_long");
        assert_eq!(Unreadable::NoContact.as_str(), "no_contact");
        assert_eq!(Unreadable::Malformed.as_str(), "malformed");
    }

    #[test]
    fn hundred_kb_line_through_the_buffer_is_too_long_and_bounded() {
        let line: String = "Nguyễn Thị Hương 김민준 "
            .chars()
            .cycle()
            .take(100_000)
            .collect();
        let mut buf = ScanBuffer::new();
        for (i, c) in line.chars().enumerate() {
            // 10 keys a millisecond: never quiet.
            buf.push_char(c, i as u64 / 10);
            assert!(buf.text.chars().count() <= MAX_SCAN_CHARS);
        }
        assert_eq!(buf.text.chars().count(), MAX_SCAN_CHARS);
        assert!(buf.text.capacity() <= 4 * MAX_SCAN_CHARS * 2);
        assert!(buf.is_active());
        let done = buf
            .push_enter(10_000)
            .expect("an overflowed line completes");
        assert!(done.overflowed);
        assert!(done.text.chars().count() <= MAX_SCAN_CHARS);
        match done.scan() {
            Scan::Unreadable {
                raw,
                reason: Unreadable::TooLong,
            } => {
                assert_eq!(raw.chars().count(), MAX_RAW_KEEP);
                assert!(line.starts_with(&raw));
            }
            other => panic!("{other:?}"),
        }
        assert!(!buf.is_active());
        assert_eq!(buf.push_enter(10_001), None);
    }

    #[test]
    fn hundred_kb_line_through_parse_is_too_long() {
        let line = "A".repeat(100_000);
        let (raw, reason) = unreadable_of(&line);
        assert_eq!(reason, Unreadable::TooLong);
        assert_eq!(raw.len(), MAX_RAW_KEEP);
        let vcard = format!("BEGIN:VCARD\nFN:{}\nEND:VCARD", "Hương".repeat(20_000));
        assert_eq!(unreadable_of(&vcard).1, Unreadable::TooLong);
    }

    #[test]
    fn control_characters_never_panic() {
        let inputs = [
            "EXPO\u{0}2026-000123",
            "\u{1b}[31mEXPO2026-000123\u{1b}[0m",
            "EXPO2026\u{7f}",
            "\u{0}\u{0}\u{0}",
            "BEGIN:VCARD\u{0}\nFN:x\nEND:VCARD",
            "MECARD:N:\u{1b}[31mKim\u{7f};TEL:\u{0}+8210\u{1b}12345678;;",
            "BEGIN:VCARD\nVERSION:3.0\nFN:Kim\u{0} Min\u{7f}jun\u{1b}[31m\nTEL:+82\u{85}101234\u{9b}5678\nEND:VCARD",
        ];
        for input in inputs {
            let scan = parse(input);
            check_invariants(&scan);
            if let Scan::Unreadable { raw, .. } = &scan {
                assert!(raw.contains(char::REPLACEMENT_CHARACTER), "{raw:?}");
            }
        }
        assert_eq!(
            unreadable_of("\u{1b}[31mEXPO2026-000123\u{1b}[0m").0,
            "\u{FFFD}[31mEXPO2026-000123\u{FFFD}[0m"
        );
        let b = badge(inputs[6]);
        assert_eq!(b.contact.name, "Kim Minjun[31m");
        assert_eq!(b.contact.phone, "+821012345678");
        let b = badge(inputs[5]);
        assert_eq!(b.contact.name, "[31mKim");
        assert_eq!(b.contact.phone, "+821012345678");

        // The buffer drops them as they are typed.
        let mut buf = ScanBuffer::new();
        let (_, t) = type_text(&mut buf, "\u{1b}EXPO\u{0}2026-000123\u{7f}", 0);
        let done = buf.push_enter(t).unwrap();
        assert_eq!(done.text, "EXPO2026-000123");
        assert_eq!(badge(&done.text).code.as_deref(), Some("EXPO2026-000123"));
    }

    #[test]
    fn vcard_without_end_is_tolerated() {
        let b = badge(
            "BEGIN:VCARD\nVERSION:3.0\nFN:Trần Văn Nam\nEMAIL:nam.tran@example.vn\nTEL;TYPE=CE",
        );
        assert_eq!(b.contact.name, "Trần Văn Nam");
        assert_eq!(b.contact.email, "nam.tran@example.vn");
        assert_eq!(b.contact.phone, "");
    }

    #[test]
    fn vcard_without_name_email_or_phone_is_no_contact() {
        let input = "BEGIN:VCARD\nVERSION:4.0\nORG:Acme\nTITLE:Buyer\nEMAIL:not-an-email\n\
                     TEL:12\nEND:VCARD";
        let (raw, reason) = unreadable_of(input);
        assert_eq!(reason, Unreadable::NoContact);
        assert_eq!(raw, input);
        assert_eq!(
            unreadable_of("BEGIN:VCARD\nEND:VCARD").1,
            Unreadable::NoContact
        );
        assert_eq!(
            unreadable_of("MECARD:NOTE:hello;;").1,
            Unreadable::NoContact
        );
        // CRLF is kept as a line break in the raw text.
        assert_eq!(
            unreadable_of("BEGIN:VCARD\r\nEND:VCARD").0,
            "BEGIN:VCARD\nEND:VCARD"
        );
    }

    #[test]
    fn vcard_without_property_lines_is_malformed() {
        assert_eq!(
            unreadable_of("BEGIN:VCARD\nthis is just text\nmore text\nEND:VCARD").1,
            Unreadable::Malformed
        );
        assert_eq!(
            unreadable_of("BEGIN:VCARD garbage FN Kim").1,
            Unreadable::Malformed
        );
        assert_eq!(unreadable_of("MECARD:hello world").1, Unreadable::Malformed);
    }

    #[test]
    fn buffer_completes_a_vcard_only_after_end_and_enter() {
        let lines = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            "FN:Kim Minjun",
            "N:Kim;Minjun;;;",
            "EMAIL;TYPE=INTERNET:minjun.kim@hanbit.example.kr",
            "end:vcard",
        ];
        let mut buf = ScanBuffer::new();
        let mut t = 5_000;
        assert!(!buf.is_active());
        for (i, line) in lines.iter().enumerate() {
            for c in line.chars() {
                buf.push_char(c, t);
                t += 2;
                assert_eq!(buf.poll(t), None);
            }
            assert!(buf.is_active());
            let done = buf.push_enter(t);
            if i + 1 < lines.len() {
                assert_eq!(done, None, "completed early after {line:?}");
            } else {
                let done = done.expect("completes after END:VCARD");
                assert!(!done.overflowed);
                assert_eq!(done.text, lines.join("\n"));
                let b = badge(&done.text);
                assert_eq!(b.contact.name, "Kim Minjun");
                assert_eq!(b.contact.email, "minjun.kim@hanbit.example.kr");
            }
        }
        assert!(!buf.is_active());
        // Enter on an empty buffer, or one holding only whitespace.
        assert_eq!(buf.push_enter(t), None);
        buf.push_char(' ', t);
        assert_eq!(buf.push_enter(t), None);
        // A plain code completes at the first Enter.
        let (done, _) = type_text(&mut buf, "EXPO2026-000123\n", t);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].text, "EXPO2026-000123");
    }

    #[test]
    fn buffer_poll_completes_after_quiet_and_not_before() {
        let mut buf = ScanBuffer::new();
        assert_eq!(buf.poll(1_000_000), None);
        let (done, t) = type_text(&mut buf, "EXPO2026-000123", 1_000);
        assert!(done.is_empty());
        let last = t - 1;
        assert_eq!(buf.poll(last), None);
        assert_eq!(buf.poll(last + QUIET_MS - 1), None);
        assert!(buf.is_active());
        let done = buf.poll(last + QUIET_MS).expect("quiet for 300 ms");
        assert_eq!(done.text, "EXPO2026-000123");
        assert_eq!(buf.poll(last + 10 * QUIET_MS), None);

        // A vCard cut short completes on quiet too, and still parses.
        let (done, t) = type_text(
            &mut buf,
            "BEGIN:VCARD\nVERSION:3.0\nFN:Lê Minh\nTEL:0251 3",
            50_000,
        );
        assert!(done.is_empty());
        assert_eq!(buf.poll(t + 100), None);
        let done = buf.poll(t + QUIET_MS).unwrap();
        assert_eq!(
            done.text,
            "BEGIN:VCARD\nVERSION:3.0\nFN:Lê Minh\nTEL:0251 3"
        );
        assert_eq!(badge(&done.text).contact.name, "Lê Minh");

        // A clock going backwards does not complete anything.
        buf.push_char('X', 90_000);
        assert_eq!(buf.poll(80_000), None);
        buf.clear();
        assert!(!buf.is_active());
        assert_eq!(buf.poll(200_000), None);
    }

    #[test]
    fn overflowed_vcard_still_ends_at_end_vcard() {
        let mut buf = ScanBuffer::new();
        let long_note = "x".repeat(2 * MAX_SCAN_CHARS);
        let text = format!("BEGIN:VCARD\nFN:Kim\nNOTE:{long_note}\nEND:VCARD\n");
        let (done, _) = type_text(&mut buf, &text, 0);
        assert_eq!(done.len(), 1);
        assert!(done[0].overflowed);
        assert!(done[0].text.chars().count() <= MAX_SCAN_CHARS);
        assert!(matches!(
            done[0].scan(),
            Scan::Unreadable {
                reason: Unreadable::TooLong,
                ..
            }
        ));
        assert!(!buf.is_active());
    }

    #[test]
    fn invalid_email_and_phone_are_dropped() {
        for bad in [
            "minjun.kim",
            "a@b",
            "@example.com",
            "a@b@example.com",
            "min jun@example.com",
            "a@.com",
            "a@example.",
        ] {
            let b = badge(&format!("BEGIN:VCARD\nFN:Kim\nEMAIL:{bad}\nEND:VCARD"));
            assert_eq!(b.contact.email, "", "{bad}");
        }
        // The first usable one is kept.
        let b = badge(
            "BEGIN:VCARD\nFN:Kim\nEMAIL:nope\nEMAIL:kim@example.kr\nTEL:12345\nTEL:ext 5\nTEL:(0251) 382.1234\nEND:VCARD",
        );
        assert_eq!(b.contact.email, "kim@example.kr");
        assert_eq!(b.contact.phone, "(0251) 382.1234");
        let b = badge("MECARD:N:Kim;EMAIL:kim at example.kr;TEL:+1 234 567 890 123 456 789 012;;");
        assert_eq!(b.contact.email, "");
        assert_eq!(b.contact.phone, "");
    }

    #[test]
    fn long_field_is_cut_at_a_char_boundary() {
        let long_name = "Hương김".repeat(100); // 600 chars, multibyte
        let b = badge(&format!(
            "BEGIN:VCARD\nFN:{long_name}\nORG:{long_name}\nEND:VCARD"
        ));
        assert_eq!(b.contact.name.chars().count(), MAX_FIELD_CHARS);
        assert!(long_name.starts_with(&b.contact.name));
        assert_eq!(b.contact.organisation, b.contact.name);
        let b = badge(&format!("MECARD:N:{long_name};;"));
        assert_eq!(b.contact.name.chars().count(), MAX_FIELD_CHARS);
        // A cut ending on a space leaves no trailing space.
        let spaced = format!("{} tail", "ễ".repeat(MAX_FIELD_CHARS - 1));
        let b = badge(&format!("BEGIN:VCARD\nFN:{spaced}\nEND:VCARD"));
        assert_eq!(b.contact.name, "ễ".repeat(MAX_FIELD_CHARS - 1));
        // An email or a phone too long to keep whole is dropped, not cut into another one.
        let email = format!("{}@example.com", "a".repeat(MAX_FIELD_CHARS - 10));
        let phone = format!("+84 251{}", " ".repeat(MAX_FIELD_CHARS)) + "382 1234";
        let b = badge(&format!(
            "BEGIN:VCARD\nFN:Kim\nEMAIL:{email}\nTEL:{phone}\nEND:VCARD"
        ));
        assert_eq!(b.contact.email, "");
        assert_eq!(b.contact.phone, "");
        let email = format!("{}@example.com", "a".repeat(MAX_FIELD_CHARS - 20));
        let b = badge(&format!("BEGIN:VCARD\nEMAIL:{email}\nEND:VCARD"));
        assert_eq!(b.contact.email, email);
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        "BEGIN:VCARD",
        "END:VCARD",
        "MECARD:",
        "VERSION:4.0",
        "FN:",
        "N:",
        "ORG:",
        "TEL:",
        "EMAIL;TYPE=work:",
        "ADR:",
        "UID:",
        "item1.",
        "tel:",
        "@",
        ".",
        ";",
        ":",
        ",",
        "\\",
        "\"",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "\n ",
        "a",
        "Z",
        "7",
        "-",
        "ễ",
        "Hương",
        "김",
        "山",
        "カ",
        "🙂",
        "\u{0}",
        "\u{1b}[31m",
        "\u{7f}",
        "\u{85}",
        "\u{9b}",
        "\u{200b}",
        "\u{feff}",
    ];

    fn random_string(rng: &mut XorShift) -> String {
        let pieces = match rng.below(100) {
            0 => 3_000, // sometimes long enough to overflow
            n if n < 10 => 0,
            _ => rng.below(120),
        };
        let mut s = String::new();
        if rng.below(3) == 0 {
            s.push_str(["BEGIN:VCARD\n", "MECARD:", "begin:vcard\r\n"][rng.below(3)]);
        }
        for _ in 0..pieces {
            if rng.below(4) == 0 {
                if let Some(c) = char::from_u32(rng.below(0x11_0000) as u32) {
                    s.push(c);
                }
            } else {
                s.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        s
    }

    #[test]
    fn random_input_never_panics() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut buf = ScanBuffer::new();
        let mut t = 0u64;
        for _ in 0..2_000 {
            let input = random_string(&mut rng);
            check_invariants(&parse(&input));

            for c in input.chars() {
                t += rng.below(3) as u64;
                let done = match c {
                    '\n' => buf.push_enter(t),
                    _ if rng.below(50) == 0 => {
                        t += QUIET_MS;
                        buf.poll(t)
                    }
                    c => {
                        buf.push_char(c, t);
                        None
                    }
                };
                assert!(buf.text.chars().count() <= MAX_SCAN_CHARS);
                if let Some(done) = done {
                    assert!(done.text.chars().count() <= MAX_SCAN_CHARS);
                    check_invariants(&done.scan());
                }
            }
            if let Some(done) = buf.push_enter(t) {
                check_invariants(&done.scan());
            }
            t += QUIET_MS;
            if let Some(done) = buf.poll(t) {
                check_invariants(&done.scan());
            }
            assert!(!buf.is_active());
        }
    }
}
