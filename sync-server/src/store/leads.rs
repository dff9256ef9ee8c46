//! What the leads table means on every backend, without SQL: which conditions a scope and a
//! filter put on the leads, what a merge keeps, and how a lead's JSON columns read and write.
//! Backends turn each [`Condition`] into their SQL and store what [`merge`] returns.

use std::collections::HashSet;

use uuid::Uuid;

use crate::store::time::{DAY_MS, day_start_ms};
use crate::store::{ConsentText, LeadFilter, LeadRow, Scope};

/// One condition on the leads (besides not being erased). The text is trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The lead's event is organised by this unit (a lead of an event with no row has none).
    Org(String),
    Event(String),
    /// The name of the kiosk that took the lead.
    Kiosk(String),
    /// Created at or after this time (ms).
    CreatedFrom(i64),
    /// Created before this time (ms).
    CreatedBefore(i64),
    /// The country, in any case.
    Country(String),
    Lang(String),
    /// One of the lead's interests, exactly.
    Interest(String),
    Source(String),
    Status(String),
    /// A `LIKE` pattern (`\` escapes) that name, organisation, email, phone or notes match,
    /// in any case.
    Text(String),
}

/// The conditions of a scope and a filter, in that order; empty fields put none.
pub fn conditions(scope: &Scope, f: &LeadFilter) -> Vec<Condition> {
    let mut out = Vec::new();
    if let Some(org) = scope.org() {
        out.push(Condition::Org(org.to_owned()));
    }
    let text = |s: &str, c: fn(String) -> Condition| {
        let s = s.trim();
        (!s.is_empty()).then(|| c(s.to_owned()))
    };
    out.extend(text(&f.event, Condition::Event));
    out.extend(text(&f.org, Condition::Org));
    out.extend(text(&f.kiosk, Condition::Kiosk));
    out.extend(day_start_ms(f.from.trim()).map(Condition::CreatedFrom));
    out.extend(day_start_ms(f.to.trim()).map(|ms| Condition::CreatedBefore(ms + DAY_MS)));
    out.extend(text(&f.country, Condition::Country));
    out.extend(text(&f.lang, Condition::Lang));
    out.extend(text(&f.interest, Condition::Interest));
    out.extend(text(&f.source, Condition::Source));
    out.extend(text(&f.status, Condition::Status));
    out.extend(text(&f.q, |q| Condition::Text(like_pattern(&q))));
    out
}

/// A `LIKE` pattern (escape `\`) matching text that contains `q`.
pub fn like_pattern(q: &str) -> String {
    format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Merges `others` into `kept`: its empty contact fields filled from theirs, their interests
/// added, their notes joined (a line each), in the order given; `kept` itself among them is
/// skipped. Returns the ids merged.
pub fn merge(kept: &mut LeadRow, others: &[LeadRow]) -> Vec<Uuid> {
    let mut merged = Vec::new();
    for other in others.iter().filter(|o| o.lead_id != kept.lead_id) {
        let c = &mut kept.contact;
        for (mine, theirs) in [
            (&mut c.name, &other.contact.name),
            (&mut c.organisation, &other.contact.organisation),
            (&mut c.email, &other.contact.email),
            (&mut c.phone, &other.contact.phone),
            (&mut c.country, &other.contact.country),
            (&mut c.title, &other.contact.title),
        ] {
            if mine.is_empty() {
                mine.clone_from(theirs);
            }
        }
        for i in &other.interests {
            if !kept.interests.contains(i) {
                kept.interests.push(i.clone());
            }
        }
        if !other.notes.is_empty() {
            if !kept.notes.is_empty() {
                kept.notes.push('\n');
            }
            kept.notes.push_str(&other.notes);
        }
        merged.push(other.lead_id);
    }
    merged
}

/// The duplicate groups shown so far: a group found again by another key (the same leads by
/// email and by phone) is shown once.
#[derive(Debug, Default)]
pub struct DuplicateGroups {
    groups: Vec<Vec<LeadRow>>,
    seen: HashSet<Uuid>,
}

impl DuplicateGroups {
    /// Adds a group of leads sharing a key, unless it has fewer than two or every one of them
    /// was in a group already.
    pub fn add(&mut self, rows: Vec<LeadRow>) {
        if rows.len() < 2 {
            return;
        }
        // Every lead is marked, not only up to the first new one: a later group of the same
        // leads is then skipped.
        let mut new = false;
        for r in &rows {
            new |= self.seen.insert(r.lead_id);
        }
        if new {
            self.groups.push(rows);
        }
    }

    pub fn into_groups(self) -> Vec<Vec<LeadRow>> {
        self.groups
    }
}

/// The interests column as a list (nothing when it cannot be read).
pub fn interests_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The interests column of a list.
pub fn interests_json(interests: &[String]) -> String {
    serde_json::to_string(interests).unwrap_or_else(|_| "[]".into())
}

/// The consent column, when it holds one.
pub fn consent_of(json: Option<&str>) -> Option<protocol::Consent> {
    json.and_then(|c| serde_json::from_str(c).ok())
}

/// The longest consent text archived (a real one is a few hundred characters).
pub const CONSENT_TEXT_MAX: usize = 8 * 1024;

/// How a lead keeps its consent: as JSON without its text (the digest names it), and the text
/// to archive once per version, when it came with the text its digest names.
pub fn consent_to_store(
    consent: Option<&protocol::Consent>,
    now_ms: i64,
) -> (Option<String>, Option<ConsentText>) {
    let Some(c) = consent else {
        return (None, None);
    };
    let mut kept = c.without_text();
    // A digest that is no sha256 names no version: the lead keeps its consent without one.
    if kept.digest.as_deref().is_some_and(|d| {
        d.len() != 64 || !d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }) {
        kept.digest = None;
    }
    let json = serde_json::to_string(&kept).ok();
    let archived = c
        .verified_text()
        .filter(|t| t.len() <= CONSENT_TEXT_MAX)
        .zip(c.digest.as_deref())
        .map(|(text, digest)| ConsentText {
            digest: digest.to_owned(),
            text_id: c.text_id.clone(),
            lang: c.lang.clone(),
            text: text.to_owned(),
            first_seen_ms: now_ms,
        });
    (json, archived)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lead_keeps_its_consent_without_the_text_which_is_archived_once() {
        let shown = protocol::Consent::shown("kiosk-consent-text", "ja", "同意します。", 7);
        let (json, archived) = consent_to_store(Some(&shown), 9);
        let kept = consent_of(json.as_deref()).unwrap();
        assert_eq!(kept.text, None);
        assert_eq!(kept.digest, shown.digest);
        let a = archived.unwrap();
        assert_eq!(
            (a.text.as_str(), a.lang.as_str(), a.first_seen_ms),
            ("同意します。", "ja", 9)
        );
        // A text that is not its digest's, or too long, is not archived.
        let forged = protocol::Consent {
            text: Some("other".into()),
            ..shown.clone()
        };
        assert!(consent_to_store(Some(&forged), 9).1.is_none());
        let long = protocol::Consent::shown("x", "en", &"a".repeat(CONSENT_TEXT_MAX + 1), 1);
        assert!(consent_to_store(Some(&long), 9).1.is_none());
        // A digest that is no sha256 is not kept.
        let odd = protocol::Consent {
            digest: Some("../../etc".into()),
            text: None,
            ..shown.clone()
        };
        let (json, archived) = consent_to_store(Some(&odd), 9);
        assert!(archived.is_none());
        assert_eq!(consent_of(json.as_deref()).unwrap().digest, None);
        assert_eq!(consent_to_store(None, 9), (None, None));
    }

    fn lead(n: u128) -> LeadRow {
        LeadRow {
            lead_id: Uuid::from_u128(n),
            created_ms: 0,
            updated_ms: 0,
            event_id: String::new(),
            event_name: String::new(),
            org: String::new(),
            kiosk_name: String::new(),
            item: String::new(),
            lang: String::new(),
            source: String::new(),
            contact: Default::default(),
            interests: vec![],
            status: String::new(),
            notes: String::new(),
            consent: None,
        }
    }

    #[test]
    fn a_group_found_again_by_another_key_is_shown_once() {
        let mut g = DuplicateGroups::default();
        g.add(vec![lead(2), lead(1)]);
        g.add(vec![lead(9), lead(8)]);
        g.add(vec![lead(5)]);
        // One new lead: shown, with the one seen before.
        g.add(vec![lead(3), lead(2)]);
        // The same two by phone as by email.
        g.add(vec![lead(9), lead(8)]);
        g.add(vec![lead(8), lead(1)]);
        let ids: Vec<Vec<u128>> = g
            .into_groups()
            .iter()
            .map(|g| g.iter().map(|r| r.lead_id.as_u128()).collect())
            .collect();
        assert_eq!(ids, [vec![2, 1], vec![9, 8], vec![3, 2]]);
    }

    #[test]
    fn empty_fields_put_no_condition_and_text_is_escaped() {
        let f = LeadFilter {
            event: " fair ".into(),
            country: "  ".into(),
            to: "2026-05-01".into(),
            q: "50%_a\\".into(),
            ..Default::default()
        };
        let to = day_start_ms("2026-05-01").unwrap() + DAY_MS;
        assert_eq!(
            conditions(&Scope::Org("Unit".into()), &f),
            [
                Condition::Org("Unit".into()),
                Condition::Event("fair".into()),
                Condition::CreatedBefore(to),
                Condition::Text("%50\\%\\_a\\\\%".into()),
            ]
        );
        assert!(conditions(&Scope::All, &LeadFilter::default()).is_empty());
    }
}
