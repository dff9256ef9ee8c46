//! What the report pages show, and the backend-neutral part of assembling it.

use std::collections::BTreeMap;

use super::{Scope, StorageError};

/// The numbers of the staff reports, read from the roll-ups kept at ingest.
pub trait ReportStorage: Send + Sync + 'static {
    /// The events a report may be asked for, in this scope.
    fn report_events(&self, scope: &Scope) -> Result<Vec<ReportEvent>, StorageError>;
    /// The report of one event (None: every event in scope) between two times
    /// ([`StorageError::NotFound`]: no such event in scope).
    fn report(
        &self,
        scope: &Scope,
        event: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<ReportData, StorageError>;
    /// The yearly report of a calendar year (Vietnam time), unit by unit.
    fn yearly(&self, scope: &Scope, year: i32) -> Result<YearlyData, StorageError>;
}

/// How many items the yearly report lists per unit.
pub const TOP_ITEMS: usize = 10;

/// Views and dwell time of one item, pillar or language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DwellRow {
    /// The item id, pillar id (`""`: an item the current content does not know) or language tag.
    pub key: String,
    /// For an item: its pillar.
    pub pillar: String,
    /// Title per language, from the published content (items and pillars).
    pub titles: BTreeMap<String, String>,
    pub views: i64,
    pub dwell_ms: i64,
}

impl DwellRow {
    pub fn avg_ms(&self) -> f64 {
        if self.views == 0 {
            0.0
        } else {
            self.dwell_ms as f64 / self.views as f64
        }
    }
}

/// Views and dwell by how the item came on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Views {
    pub views: i64,
    pub dwell_ms: i64,
}

/// One Vietnam day of the heat map: visitor sessions started in each hour (Vietnam time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeatDay {
    pub day: i64,
    pub hours: [i64; 24],
}

/// The report of one event, or of every event in scope, over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportData {
    /// Shown by the attract loop, opened by visitors, shown by presenters.
    pub attract: Views,
    pub visitor: Views,
    pub presenter: Views,
    /// Visitor sessions started; sessions ended and their total length.
    pub sessions: i64,
    pub sessions_ended: i64,
    pub session_ms: i64,
    /// Views opened by visitors or presenters (not the attract loop), most viewed first.
    pub by_item: Vec<DwellRow>,
    pub by_pillar: Vec<DwellRow>,
    pub by_lang: Vec<DwellRow>,
    /// The funnel: QR codes shown on kiosks, opened on phones, leads left on phones.
    pub qr_shown: i64,
    pub qr_opened: i64,
    pub phone_leads: i64,
    /// Every lead (phone, kiosk form, badge), merged duplicates left out.
    pub leads: i64,
    /// Leads per country as visitors gave it (`""`: not given), most first.
    pub by_country: Vec<(String, i64)>,
    /// Days with sessions, oldest first.
    pub heat: Vec<HeatDay>,
}

impl ReportData {
    pub fn views(&self) -> i64 {
        self.attract.views + self.visitor.views + self.presenter.views
    }
    pub fn avg_session_ms(&self) -> f64 {
        if self.sessions_ended == 0 {
            0.0
        } else {
            self.session_ms as f64 / self.sessions_ended as f64
        }
    }
}

/// An event a report can be about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportEvent {
    pub id: String,
    pub name: String,
    pub org: String,
}

/// An event of the year: held (its dates fall in the year) or seen (kiosks recorded for it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearEvent {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub starts: String,
    pub ends: String,
    pub venue: String,
    pub country: String,
    pub responsible: String,
    /// Named in `events` (false: only seen in the kiosks' records).
    pub known: bool,
    pub kiosk_days: i64,
    pub sessions: i64,
    pub views: i64,
    pub leads: i64,
}

/// One organising unit's year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitYear {
    /// `""`: records and leads of events that no unit organises.
    pub org: String,
    pub events: Vec<YearEvent>,
    /// Distinct (kiosk, Vietnam day) with at least one record for the unit's events.
    pub kiosk_days: i64,
    pub sessions: i64,
    /// Views opened by visitors or presenters, and their dwell.
    pub views: i64,
    pub dwell_ms: i64,
    pub leads: i64,
    /// Leads per market (country as given), most first.
    pub by_country: Vec<(String, i64)>,
    /// The most viewed items, at most [`TOP_ITEMS`].
    pub top_items: Vec<DwellRow>,
    /// Delegations received: with at least one visit that started in the year.
    pub delegations: i64,
    /// Visits presented to delegations, and the attendees the hosts entered.
    pub visits: i64,
    pub attendees: i64,
    /// Leads of the year made for delegations (merged duplicates left out, like `leads`).
    pub delegation_leads: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearlyData {
    pub year: i32,
    pub units: Vec<UnitYear>,
}

pub(crate) fn by_views(rows: &mut [DwellRow]) {
    rows.sort_by(|a, b| {
        b.views
            .cmp(&a.views)
            .then(b.dwell_ms.cmp(&a.dwell_ms))
            .then(a.key.cmp(&b.key))
    });
}

pub(crate) fn by_count(rows: &mut [(String, i64)]) {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
}
