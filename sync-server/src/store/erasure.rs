//! What erasing a person means for stored text, the same on every backend: which raw scans
//! mention a person, what an erased scan keeps, what a lead record keeps once its lead is
//! erased, and the tombstone of an erased delegation member. Backends find the rows and write
//! what these functions return.

use protocol::RecordBody;
use protocol::contact::{PersonKey, email_key, phone_key};
use uuid::Uuid;

use crate::store::StorageError;

/// The text of a raw scan record that is not erased yet.
pub fn raw_scan_text(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    if v.get("erased_ms").is_some() {
        return None;
    }
    v.get("raw")?.as_str().map(str::to_owned)
}

/// Whether a scan's text holds the person's email or phone: each word (split at blanks and
/// the separators of vCard and MeCard) compared exactly, a phone also across a few words
/// (`+84 912 345 678`).
pub fn scan_mentions(raw: &str, who: &PersonKey) -> bool {
    let words: Vec<&str> = raw
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '<' | '>' | '"' | '\''))
        .flat_map(|w| {
            // `EMAIL:x@y`, `TEL;TYPE=cell:+84…`, `mailto:`, `tel:`: the value after a colon.
            w.rsplit_once(':')
                .map(|(_, v)| v)
                .into_iter()
                .chain(std::iter::once(w))
        })
        .filter(|w| !w.is_empty())
        .collect();
    match who {
        PersonKey::Email(_) => words.iter().any(|w| who.matches(w, "")),
        PersonKey::Phone(_) => (0..words.len()).any(|i| {
            (1..=5).any(|n| {
                words
                    .get(i..i + n)
                    .is_some_and(|run| who.matches("", &run.join(" ")))
            })
        }),
    }
}

/// The keys a lead's contact is found by in raw scans.
pub fn contact_keys(email: &str, phone: &str) -> Vec<PersonKey> {
    email_key(email)
        .map(PersonKey::Email)
        .into_iter()
        .chain(phone_key(phone).map(PersonKey::Phone))
        .collect()
}

/// Whether a raw scan record's body mentions any of `keys` (and is not erased yet).
pub fn scan_body_mentions(body: &str, keys: &[PersonKey]) -> bool {
    raw_scan_text(body).is_some_and(|raw| keys.iter().any(|k| scan_mentions(&raw, k)))
}

/// What an erased raw scan keeps: its kind, the reason it was not a badge, and when it was
/// erased; its text goes.
pub fn erased_scan_body(body: &str, now_ms: i64) -> String {
    let reason = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("reason")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    serde_json::json!({"kind": "raw_scan", "raw": "", "reason": reason, "erased_ms": now_ms})
        .to_string()
}

/// A lead record's body with the personal fields of `lead_id` removed, or `None` when the
/// body is not that lead's.
pub fn redacted_lead_body(body: &str, lead_id: Uuid) -> Result<Option<String>, StorageError> {
    match serde_json::from_str::<RecordBody>(body) {
        Ok(RecordBody::Lead(mut lead)) if lead.lead_id == lead_id => {
            lead.redact();
            serde_json::to_string(&RecordBody::Lead(lead))
                .map(Some)
                .map_err(|e| StorageError::Db(e.to_string()))
        }
        _ => Ok(None),
    }
}

/// The tombstone of an erased member: no personal data, the same for the same person.
pub fn member_hash(delegation: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{delegation}\n{}", name.trim().to_lowercase()));
    hex::encode(digest)
}

/// The name an event row takes from a delegation: Vietnamese, else English, else the id.
pub fn delegation_name(d: &protocol::content::Delegation) -> String {
    ["vi", "en"]
        .iter()
        .find_map(|l| d.name.get(*l).filter(|n| !n.trim().is_empty()))
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|| d.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erased_scan_keeps_its_reason_and_loses_its_text() {
        let body = r#"{"kind":"raw_scan","raw":"MECARD:N:Kim;EMAIL:kim@example.kr;;","reason":"not a badge"}"#;
        let keys = contact_keys("Kim@Example.kr", "");
        assert!(scan_body_mentions(body, &keys));
        let erased = erased_scan_body(body, 42);
        assert!(!erased.contains("kim@"), "{erased}");
        assert!(
            erased.contains("not a badge") && erased.contains("42"),
            "{erased}"
        );
        assert!(!scan_body_mentions(&erased, &keys));
    }

    #[test]
    fn a_phone_is_found_across_words_but_not_as_a_suffix() {
        let keys = contact_keys("", "+84 912 345 678");
        assert!(scan_mentions("TEL:+84 912 345 678", &keys[0]));
        assert!(!scan_mentions("TEL:+84 1912 345 678", &keys[0]));
    }
}
