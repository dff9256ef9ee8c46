//! Every stored table, read as it is, the same on both backends: what the end-to-end tests
//! check that the server kept (or erased, or counted once), without opening a backend's files.
//! Read-only, and nothing outside the tests calls it: no HTTP route or CLI command serves it.
//!
//! A row is a JSON object of its columns: integers as numbers, text as strings, NULL as null,
//! a 16-byte blob (every id the server stores as bytes) as its UUID's text and any other blob
//! as lowercase hex. Rows come sorted by the table's key, compared the same way on both
//! backends (numbers by value, text byte by byte), so both answer identically.

use std::cmp::Ordering;

use serde_json::Value;

use crate::store::StorageError;

/// A table of the schema, both backends' (the numbered migrations keep them in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Kiosks,
    KioskBoots,
    KioskEvents,
    Records,
    SeqGaps,
    Quarantine,
    Leads,
    LeadVersions,
    QrOpens,
    RollupViews,
    RollupViewsDay,
    RollupKinds,
    RollupSessions,
    RollupKioskDays,
    Media,
    ContentVersions,
    Users,
    StaffSessions,
    Audit,
    Orgs,
    Events,
    Visits,
    DelegationMembers,
    ErasedMembers,
    KioskScreenshots,
    UserLinks,
    EventContent,
    ContentDraft,
    LoginChallenges,
    ConsentTexts,
    RollupQr,
}

/// One row: column name to value.
pub type Row = serde_json::Map<String, Value>;

impl Table {
    pub const ALL: [Table; 31] = [
        Table::Kiosks,
        Table::KioskBoots,
        Table::KioskEvents,
        Table::Records,
        Table::SeqGaps,
        Table::Quarantine,
        Table::Leads,
        Table::LeadVersions,
        Table::QrOpens,
        Table::RollupViews,
        Table::RollupViewsDay,
        Table::RollupKinds,
        Table::RollupSessions,
        Table::RollupKioskDays,
        Table::Media,
        Table::ContentVersions,
        Table::Users,
        Table::StaffSessions,
        Table::Audit,
        Table::Orgs,
        Table::Events,
        Table::Visits,
        Table::DelegationMembers,
        Table::ErasedMembers,
        Table::KioskScreenshots,
        Table::UserLinks,
        Table::EventContent,
        Table::ContentDraft,
        Table::LoginChallenges,
        Table::ConsentTexts,
        Table::RollupQr,
    ];

    /// Its name in SQL (a fixed identifier: nothing from a request reaches a query here).
    pub fn name(self) -> &'static str {
        match self {
            Table::Kiosks => "kiosks",
            Table::KioskBoots => "kiosk_boots",
            Table::KioskEvents => "kiosk_events",
            Table::Records => "records",
            Table::SeqGaps => "seq_gaps",
            Table::Quarantine => "quarantine",
            Table::Leads => "leads",
            Table::LeadVersions => "lead_versions",
            Table::QrOpens => "qr_opens",
            Table::RollupViews => "rollup_views",
            Table::RollupViewsDay => "rollup_views_day",
            Table::RollupKinds => "rollup_kinds",
            Table::RollupSessions => "rollup_sessions",
            Table::RollupKioskDays => "rollup_kiosk_days",
            Table::Media => "media",
            Table::ContentVersions => "content_versions",
            Table::Users => "users",
            Table::StaffSessions => "staff_sessions",
            Table::Audit => "audit",
            Table::Orgs => "orgs",
            Table::Events => "events",
            Table::Visits => "visits",
            Table::DelegationMembers => "delegation_members",
            Table::ErasedMembers => "erased_members",
            Table::KioskScreenshots => "kiosk_screenshots",
            Table::UserLinks => "user_links",
            Table::EventContent => "event_content",
            Table::ContentDraft => "content_draft",
            Table::LoginChallenges => "login_challenges",
            Table::ConsentTexts => "consent_texts",
            Table::RollupQr => "rollup_qr",
        }
    }

    /// The columns rows are sorted by: the key, or the order rows were written in.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Table::Kiosks
            | Table::ContentVersions
            | Table::Users
            | Table::Audit
            | Table::QrOpens
            | Table::LeadVersions => &["id"],
            Table::KioskBoots => &["kiosk", "boot_id"],
            Table::KioskEvents => &["kiosk", "event_id"],
            Table::Records | Table::Quarantine => &["kiosk", "seq"],
            Table::SeqGaps => &["kiosk", "from_seq", "noted_ms"],
            Table::Leads => &["lead_id"],
            Table::RollupViews => &["event_id", "item", "lang", "hour", "origin"],
            Table::RollupViewsDay => &["event_id", "day", "item", "lang", "origin"],
            Table::RollupKinds => &["event_id", "kind", "hour"],
            Table::RollupSessions => &["event_id", "hour"],
            Table::RollupKioskDays => &["day", "kiosk", "event_id"],
            Table::Media => &["sha256"],
            Table::StaffSessions => &["token_hash"],
            Table::Orgs => &["name"],
            Table::Events => &["id"],
            Table::Visits => &["visit_id"],
            Table::DelegationMembers => &["delegation", "position"],
            Table::ErasedMembers => &["delegation", "name_hash"],
            Table::KioskScreenshots => &["kiosk"],
            Table::UserLinks => &["token_hash"],
            Table::EventContent => &["event_id"],
            Table::ContentDraft => &["id"],
            Table::LoginChallenges => &["token_hash"],
            Table::ConsentTexts => &["digest"],
            Table::RollupQr => &["event_id", "item", "lang", "hour", "purpose"],
        }
    }
}

/// Reading the tables as they are.
pub trait InspectStorage: Send + Sync + 'static {
    /// Every row of `table`, sorted by its key.
    fn rows(&self, table: Table) -> Result<Vec<Row>, StorageError>;
}

/// A stored blob as a row shows it.
pub fn blob_value(bytes: &[u8]) -> Value {
    match uuid::Uuid::from_slice(bytes) {
        Ok(u) => Value::String(u.to_string()),
        Err(_) => Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect()),
    }
}

/// Sorts rows by `table`'s key, the same way whichever backend read them.
pub fn sort_rows(table: Table, rows: &mut [Row]) {
    let key = table.key();
    rows.sort_by(|a, b| {
        key.iter()
            .map(|k| compare(a.get(*k), b.get(*k)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(_) => 2,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&y.as_f64().unwrap_or(0.0)),
        },
        (Some(Value::String(x)), Some(Value::String(y))) => x.as_bytes().cmp(y.as_bytes()),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_sort_by_number_then_text_byte_by_byte() {
        let mut rows: Vec<Row> = [
            json!({"kiosk": 2, "seq": 1}),
            json!({"kiosk": 10, "seq": 1}),
            json!({"kiosk": 2, "seq": 0}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        sort_rows(Table::Records, &mut rows);
        let order: Vec<_> = rows
            .iter()
            .map(|r| (r["kiosk"].clone(), r["seq"].clone()))
            .collect();
        assert_eq!(
            order,
            [
                (json!(2), json!(0)),
                (json!(2), json!(1)),
                (json!(10), json!(1))
            ]
        );
        let mut rows: Vec<Row> = ["b", "Z", "é", "a"]
            .into_iter()
            .map(|n| json!({ "name": n }).as_object().unwrap().clone())
            .collect();
        sort_rows(Table::Orgs, &mut rows);
        let names: Vec<_> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Z", "a", "b", "é"]);
    }

    #[test]
    fn ids_show_as_uuids_and_other_blobs_as_hex() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(blob_value(id.as_bytes()), json!(id.to_string()));
        assert_eq!(blob_value(&[0, 255, 16]), json!("00ff10"));
    }
}
