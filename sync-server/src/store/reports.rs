//! What the report pages show, and the backend-neutral part of assembling it: a backend is a
//! [`ReportSource`] that answers a few aggregate queries on the roll-ups (SQL only), and
//! [`report_data`] and [`yearly_data`] put the answers together the same way for every backend
//! (pillars from the published content, countries counted whatever their case, the heat map
//! in Vietnam time, top items, the order of units).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use protocol::content::Manifest;

use super::time::{DAY_MS, HOUR_MS, VN_OFFSET_MS, new_year_day, vn_day};
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
    /// The funnel per item (most codes shown first), per language and per hour of the day in
    /// Vietnam time (24 rows, keys `00`–`23`).
    pub funnel_items: Vec<FunnelRow>,
    pub funnel_langs: Vec<FunnelRow>,
    pub funnel_hours: Vec<FunnelRow>,
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

/// One line of the funnel: QR codes shown on kiosks → opened on phones → leads (those left on
/// phones, and every lead, kiosk form and badge included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunnelRow {
    /// The item id, language tag or Vietnam hour (`00`–`23`).
    pub key: String,
    /// For an item: its pillar and titles from the published content.
    pub pillar: String,
    pub titles: BTreeMap<String, String>,
    pub shown: i64,
    pub opened: i64,
    pub phone_leads: i64,
    pub leads: i64,
}

/// A count of one (item, language, hour since the epoch) of a funnel step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelCell {
    pub item: String,
    pub lang: String,
    pub hour: i64,
    pub n: i64,
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

// ---------------------------------------------------------------------------------------------
// What a backend answers.

/// Which events a query counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Events {
    One(String),
    /// Every event of this organising unit.
    Org(String),
    All,
}

/// A half-open range `[lo, hi)` on a column, in the column's unit (ms, hours since the epoch,
/// or Vietnam days); `None`: unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl Span {
    /// `[from_ms, to_ms)` as is.
    pub fn ms(from_ms: Option<i64>, to_ms: Option<i64>) -> Span {
        Span {
            lo: from_ms,
            hi: to_ms,
        }
    }
    /// The whole hours that touch `[from_ms, to_ms)`.
    pub fn hours(from_ms: Option<i64>, to_ms: Option<i64>) -> Span {
        Span {
            lo: from_ms.map(|f| f.div_euclid(HOUR_MS)),
            hi: to_ms.map(|t| (t + HOUR_MS - 1).div_euclid(HOUR_MS)),
        }
    }
    /// The whole Vietnam days that touch `[from_ms, to_ms)`.
    pub fn days(from_ms: Option<i64>, to_ms: Option<i64>) -> Span {
        Span {
            lo: from_ms.map(vn_day),
            hi: to_ms.map(|t| (t + VN_OFFSET_MS + DAY_MS - 1).div_euclid(DAY_MS)),
        }
    }
}

/// Views summed by item, language and origin (`rollup_views_day`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSum {
    pub event_id: String,
    pub item: String,
    pub lang: String,
    pub origin: String,
    pub views: i64,
    pub dwell_ms: i64,
}

/// Sessions summed per hour since the epoch (`rollup_sessions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSum {
    pub hour: i64,
    pub started: i64,
    pub ended: i64,
    pub duration_ms: i64,
}

/// Leads counted per event, country as given and whether they came from a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadCount {
    pub event_id: String,
    pub country: String,
    pub phone: bool,
    pub n: i64,
}

/// Delegation visits of one organising unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSum {
    pub org: String,
    pub delegations: i64,
    pub visits: i64,
    pub attendees: i64,
}

/// The aggregate queries the reports need, one per roll-up, each in SQL in its backend. Days
/// are Vietnam days, hours since the epoch; counts leave merged duplicates and erasure
/// tombstones (`source = 'erased'`) out; views per item leave the attract loop out where said.
pub trait ReportSource {
    /// The manifest kiosks are sent (JSON), if any.
    fn published_manifest(&mut self) -> Result<Option<String>, StorageError>;
    /// Every event row, latest start first, then by name.
    fn event_rows(&mut self) -> Result<Vec<ReportEvent>, StorageError>;
    /// The event ids the kiosk-day roll-up holds (not `""`).
    fn rollup_event_ids(&mut self) -> Result<Vec<String>, StorageError>;
    /// The unit an event belongs to (None: no such event row).
    fn event_org(&mut self, id: &str) -> Result<Option<String>, StorageError>;
    /// Whether an id is an event row, or seen in the kiosk-day roll-up or in leads.
    fn event_seen(&mut self, id: &str) -> Result<bool, StorageError>;
    /// Views of `events` on the days of `days`, by item, language and origin (event_id `""`).
    fn views(&mut self, events: &Events, days: Span) -> Result<Vec<ViewSum>, StorageError>;
    /// Sessions of `events` in the hours of `hours`, by hour, oldest first.
    fn sessions(&mut self, events: &Events, hours: Span) -> Result<Vec<SessionSum>, StorageError>;
    /// Records of one kind (`qr_shown`) of `events` in the hours of `hours`.
    fn kind_count(&mut self, events: &Events, kind: &str, hours: Span)
    -> Result<i64, StorageError>;
    /// QR codes of `events` opened on phones in `ms`.
    fn qr_opens(&mut self, events: &Events, ms: Span) -> Result<i64, StorageError>;
    /// Leads of `events` made in `ms` (event_id `""` for `Events` other than `All`).
    fn lead_counts(&mut self, events: &Events, ms: Span) -> Result<Vec<LeadCount>, StorageError>;
    /// QR codes of `events` shown in the hours of `hours`, per item, language and hour
    /// (`rollup_qr`).
    fn qr_shown_cells(
        &mut self,
        events: &Events,
        hours: Span,
    ) -> Result<Vec<FunnelCell>, StorageError>;
    /// QR codes of `events` opened on phones in `ms`, per item, language and hour opened.
    fn qr_open_cells(&mut self, events: &Events, ms: Span)
    -> Result<Vec<FunnelCell>, StorageError>;
    /// Leads of `events` made in `ms`, per item, language, hour made and whether left on a
    /// phone.
    fn lead_cells(
        &mut self,
        events: &Events,
        ms: Span,
    ) -> Result<Vec<(FunnelCell, bool)>, StorageError>;
    /// Every event row with its unit, for the yearly report.
    fn year_events(&mut self) -> Result<Vec<(String, YearEvent)>, StorageError>;
    /// Every organising unit's name.
    fn org_names(&mut self) -> Result<Vec<String>, StorageError>;
    /// Kiosk-days per event id (not `""`) on days `[d0, d1)`.
    fn kiosk_days_by_event(&mut self, d0: i64, d1: i64)
    -> Result<Vec<(String, i64)>, StorageError>;
    /// Distinct (day, kiosk) per unit (`""`: no event row) on days `[d0, d1)`.
    fn kiosk_days_by_org(&mut self, d0: i64, d1: i64) -> Result<Vec<(String, i64)>, StorageError>;
    /// Sessions started per event id in hours `[h0, h1)`.
    fn sessions_by_event(&mut self, h0: i64, h1: i64) -> Result<Vec<(String, i64)>, StorageError>;
    /// Views (not the attract loop's) per event and item on days `[d0, d1)` (lang, origin `""`).
    fn views_by_event_item(&mut self, d0: i64, d1: i64) -> Result<Vec<ViewSum>, StorageError>;
    /// Leads per event id (`""`: none) and country made in `[ms0, ms1)` (phone: false).
    fn leads_by_event_country(
        &mut self,
        ms0: i64,
        ms1: i64,
    ) -> Result<Vec<LeadCount>, StorageError>;
    /// Delegation visits that started in `[ms0, ms1)`, per unit.
    fn visits_by_org(&mut self, ms0: i64, ms1: i64) -> Result<Vec<VisitSum>, StorageError>;
    /// Leads made in `[ms0, ms1)` for delegations, per unit.
    fn delegation_leads_by_org(
        &mut self,
        ms0: i64,
        ms1: i64,
    ) -> Result<Vec<(String, i64)>, StorageError>;
}

// ---------------------------------------------------------------------------------------------
// Putting the answers together.

/// The published content: item → (pillar, titles), pillar → titles.
struct Content {
    items: HashMap<String, (String, BTreeMap<String, String>)>,
    pillars: HashMap<String, BTreeMap<String, String>>,
    pillar_order: Vec<String>,
}

impl Content {
    fn of(src: &mut impl ReportSource) -> Result<Content, StorageError> {
        let manifest: Option<Manifest> = src
            .published_manifest()?
            .and_then(|j| serde_json::from_str(&j).ok());
        let mut out = Content {
            items: HashMap::new(),
            pillars: HashMap::new(),
            pillar_order: Vec::new(),
        };
        if let Some(m) = manifest {
            for p in m.pack.pillars {
                out.pillar_order.push(p.id.clone());
                out.pillars.insert(p.id, p.title);
            }
            for i in m.pack.items {
                let titles = i
                    .text
                    .into_iter()
                    .map(|(lang, t)| (lang, t.title))
                    .collect();
                out.items.insert(i.id, (i.pillar, titles));
            }
        }
        Ok(out)
    }

    fn item_row(&self, item: String, views: i64, dwell_ms: i64) -> DwellRow {
        let (pillar, titles) = self.items.get(&item).cloned().unwrap_or_default();
        DwellRow {
            key: item,
            pillar,
            titles,
            views,
            dwell_ms,
        }
    }

    fn pillar_rows(&self, items: &[DwellRow]) -> Vec<DwellRow> {
        let mut by: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for r in items {
            let e = by.entry(r.pillar.as_str()).or_default();
            e.0 += r.views;
            e.1 += r.dwell_ms;
        }
        let mut rows: Vec<DwellRow> = by
            .into_iter()
            .map(|(p, (views, dwell_ms))| DwellRow {
                key: p.to_owned(),
                pillar: p.to_owned(),
                titles: self.pillars.get(p).cloned().unwrap_or_default(),
                views,
                dwell_ms,
            })
            .collect();
        let order = |p: &str| {
            self.pillar_order
                .iter()
                .position(|x| x == p)
                .unwrap_or(usize::MAX)
        };
        rows.sort_by(|a, b| {
            b.views
                .cmp(&a.views)
                .then(order(&a.key).cmp(&order(&b.key)))
        });
        rows
    }
}

/// Countries as visitors typed them, counted together whatever their case and spaces; each
/// shown in its first spelling in sort order ("Korea" before "korea").
#[derive(Default)]
struct Countries(BTreeMap<String, (String, i64)>);

impl Countries {
    fn add(&mut self, country: &str, n: i64) {
        let shown = country.trim();
        let e = self
            .0
            .entry(shown.to_lowercase())
            .or_insert_with(|| (shown.to_owned(), 0));
        if shown < e.0.as_str() {
            e.0 = shown.to_owned();
        }
        e.1 += n;
    }

    fn rows(self) -> Vec<(String, i64)> {
        let mut rows: Vec<(String, i64)> = self.0.into_values().collect();
        by_count(&mut rows);
        rows
    }
}

/// The events a staff member may report on: their unit's (every event for [`Scope::All`],
/// with the event ids seen in the roll-ups that no event row names).
pub fn report_events(
    src: &mut impl ReportSource,
    scope: &Scope,
) -> Result<Vec<ReportEvent>, StorageError> {
    let mut events = src.event_rows()?;
    match scope {
        Scope::Org(_) => events.retain(|e| scope.covers(&e.org)),
        Scope::All => {
            let known: BTreeSet<String> = events.iter().map(|e| e.id.clone()).collect();
            for id in src
                .rollup_event_ids()?
                .into_iter()
                .filter(|id| !known.contains(id))
            {
                events.push(ReportEvent {
                    name: id.clone(),
                    id,
                    org: String::new(),
                });
            }
        }
    }
    Ok(events)
}

/// The report of `event` (or of every event in `scope`) over `[from_ms, to_ms)`; days are
/// whole Vietnam days. An event outside the scope (or unknown) is [`StorageError::NotFound`].
/// Reads only roll-ups, leads, QR opens and events: never `records`.
pub fn report_data(
    src: &mut impl ReportSource,
    scope: &Scope,
    event: Option<&str>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<ReportData, StorageError> {
    let events = match (event.filter(|e| !e.is_empty()), scope) {
        (Some(id), Scope::Org(_)) => {
            if !src.event_org(id)?.is_some_and(|o| scope.covers(&o)) {
                return Err(StorageError::NotFound);
            }
            Events::One(id.to_owned())
        }
        (Some(id), Scope::All) => {
            if !src.event_seen(id)? {
                return Err(StorageError::NotFound);
            }
            Events::One(id.to_owned())
        }
        (None, Scope::Org(org)) => Events::Org(org.clone()),
        (None, Scope::All) => Events::All,
    };
    let content = Content::of(src)?;
    let mut out = ReportData::default();

    // Views by origin, and by item and language for the views visitors and presenters opened.
    let mut items: HashMap<String, (i64, i64)> = HashMap::new();
    let mut langs: HashMap<String, (i64, i64)> = HashMap::new();
    for v in src.views(&events, Span::days(from_ms, to_ms))? {
        let slot = match v.origin.as_str() {
            "attract" => &mut out.attract,
            "presenter" => &mut out.presenter,
            _ => &mut out.visitor,
        };
        slot.views += v.views;
        slot.dwell_ms += v.dwell_ms;
        if v.origin == "attract" {
            continue;
        }
        let i = items.entry(v.item).or_default();
        i.0 += v.views;
        i.1 += v.dwell_ms;
        let l = langs.entry(v.lang).or_default();
        l.0 += v.views;
        l.1 += v.dwell_ms;
    }
    out.by_item = items
        .into_iter()
        .map(|(item, (v, d))| content.item_row(item, v, d))
        .collect();
    by_views(&mut out.by_item);
    out.by_pillar = content.pillar_rows(&out.by_item);
    out.by_lang = langs
        .into_iter()
        .map(|(lang, (views, dwell_ms))| DwellRow {
            key: lang,
            views,
            dwell_ms,
            ..Default::default()
        })
        .collect();
    by_views(&mut out.by_lang);

    // Sessions, and the heat map of the hours they started in (Vietnam time).
    let hours = Span::hours(from_ms, to_ms);
    for s in src.sessions(&events, hours)? {
        out.sessions += s.started;
        out.sessions_ended += s.ended;
        out.session_ms += s.duration_ms;
        if s.started == 0 {
            continue;
        }
        let local = s.hour + 7;
        let day = local.div_euclid(24);
        if out.heat.last().is_none_or(|h| h.day != day) {
            out.heat.push(HeatDay {
                day,
                hours: [0; 24],
            });
        }
        if let Some(h) = out.heat.last_mut() {
            h.hours[local.rem_euclid(24) as usize] += s.started;
        }
    }

    // The funnel.
    out.qr_shown = src.kind_count(&events, "qr_shown", hours)?;
    let ms = Span::ms(from_ms, to_ms);
    out.qr_opened = src.qr_opens(&events, ms)?;

    // The funnel per item, language and hour of the day (Vietnam time).
    let mut items: BTreeMap<String, FunnelRow> = BTreeMap::new();
    let mut langs: BTreeMap<String, FunnelRow> = BTreeMap::new();
    let mut hours_of_day: Vec<FunnelRow> = (0..24)
        .map(|h| FunnelRow {
            key: format!("{h:02}"),
            ..Default::default()
        })
        .collect();
    let mut add = |c: &FunnelCell, step: &dyn Fn(&mut FunnelRow, i64)| {
        step(items.entry(c.item.clone()).or_default(), c.n);
        step(langs.entry(c.lang.clone()).or_default(), c.n);
        step(&mut hours_of_day[(c.hour + 7).rem_euclid(24) as usize], c.n);
    };
    for c in src.qr_shown_cells(&events, hours)? {
        add(&c, &|r, n| r.shown += n);
    }
    for c in src.qr_open_cells(&events, ms)? {
        add(&c, &|r, n| r.opened += n);
    }
    for (c, phone) in src.lead_cells(&events, ms)? {
        add(&c, &|r, n| {
            r.leads += n;
            if phone {
                r.phone_leads += n;
            }
        });
    }
    let order = |rows: &mut Vec<FunnelRow>| {
        rows.sort_by(|a, b| {
            (b.shown, b.opened, b.leads, &a.key).cmp(&(a.shown, a.opened, a.leads, &b.key))
        })
    };
    out.funnel_items = items
        .into_iter()
        .map(|(key, r)| {
            let (pillar, titles) = content.items.get(&key).cloned().unwrap_or_default();
            FunnelRow {
                key,
                pillar,
                titles,
                ..r
            }
        })
        .collect();
    order(&mut out.funnel_items);
    out.funnel_langs = langs
        .into_iter()
        .map(|(key, r)| FunnelRow { key, ..r })
        .collect();
    order(&mut out.funnel_langs);
    out.funnel_hours = hours_of_day;

    // Leads (erased ones count: their country stays for reports; merged duplicates do not).
    let mut countries = Countries::default();
    for l in src.lead_counts(&events, ms)? {
        out.leads += l.n;
        if l.phone {
            out.phone_leads += l.n;
        }
        countries.add(&l.country, l.n);
    }
    out.by_country = countries.rows();
    Ok(out)
}

/// The year (Vietnam time) per organising unit in scope: events held and seen, kiosk-days,
/// sessions, views, leads by market, top content, delegations received. From roll-ups, leads,
/// events and visits only.
pub fn yearly_data(
    src: &mut impl ReportSource,
    scope: &Scope,
    year: i32,
) -> Result<YearlyData, StorageError> {
    let day = |y| new_year_day(y).ok_or_else(|| StorageError::Invalid(format!("no year {y}")));
    let (d0, d1) = (day(year)?, day(year + 1)?);
    let (h0, h1) = (d0 * 24 - 7, d1 * 24 - 7);
    let (ms0, ms1) = (d0 * DAY_MS - VN_OFFSET_MS, d1 * DAY_MS - VN_OFFSET_MS);
    let content = Content::of(src)?;

    let mut events: BTreeMap<String, (String, YearEvent)> = BTreeMap::new();
    for (org, e) in src.year_events()? {
        events.insert(e.id.clone(), (org, e));
    }
    let org_of = |events: &BTreeMap<String, (String, YearEvent)>, id: &str| {
        events.get(id).map(|(o, _)| o.clone()).unwrap_or_default()
    };
    // An event seen in the roll-ups that `events` does not name.
    fn seen<'a>(
        events: &'a mut BTreeMap<String, (String, YearEvent)>,
        id: &str,
    ) -> &'a mut YearEvent {
        &mut events
            .entry(id.to_owned())
            .or_insert_with(|| {
                (
                    String::new(),
                    YearEvent {
                        id: id.to_owned(),
                        name: id.to_owned(),
                        ..Default::default()
                    },
                )
            })
            .1
    }

    let mut units: BTreeMap<String, UnitYear> = BTreeMap::new();
    for org in src.org_names()? {
        units.entry(org.clone()).or_insert_with(|| UnitYear {
            org,
            ..Default::default()
        });
    }
    for (id, n) in src.kiosk_days_by_event(d0, d1)? {
        seen(&mut events, &id).kiosk_days += n;
    }
    for (org, n) in src.kiosk_days_by_org(d0, d1)? {
        units.entry(org).or_default().kiosk_days += n;
    }
    for (id, n) in src.sessions_by_event(h0, h1)? {
        let org = org_of(&events, &id);
        units.entry(org).or_default().sessions += n;
        if !id.is_empty() {
            seen(&mut events, &id).sessions += n;
        }
    }
    let mut items: BTreeMap<String, HashMap<String, (i64, i64)>> = BTreeMap::new();
    for v in src.views_by_event_item(d0, d1)? {
        let org = org_of(&events, &v.event_id);
        let u = units.entry(org.clone()).or_default();
        u.views += v.views;
        u.dwell_ms += v.dwell_ms;
        let e = items.entry(org).or_default().entry(v.item).or_default();
        e.0 += v.views;
        e.1 += v.dwell_ms;
        if !v.event_id.is_empty() {
            seen(&mut events, &v.event_id).views += v.views;
        }
    }
    let mut countries: BTreeMap<String, Countries> = BTreeMap::new();
    for l in src.leads_by_event_country(ms0, ms1)? {
        let org = org_of(&events, &l.event_id);
        units.entry(org.clone()).or_default().leads += l.n;
        countries.entry(org).or_default().add(&l.country, l.n);
        if !l.event_id.is_empty() {
            seen(&mut events, &l.event_id).leads += l.n;
        }
    }

    // Delegations: the visits that started in the year, and the leads made for delegations.
    for v in src.visits_by_org(ms0, ms1)? {
        let u = units.entry(v.org).or_default();
        u.delegations += v.delegations;
        u.visits += v.visits;
        u.attendees += v.attendees;
    }
    for (org, n) in src.delegation_leads_by_org(ms0, ms1)? {
        units.entry(org).or_default().delegation_leads += n;
    }

    let year_prefix = format!("{year:04}-");
    for (_, (org, e)) in events {
        let dated = e.starts.starts_with(&year_prefix)
            || e.ends.starts_with(&year_prefix)
            || (e.starts.as_str() < year_prefix.as_str()
                && e.ends.as_str() > year_prefix.as_str()
                && !e.starts.is_empty());
        let active = e.kiosk_days > 0 || e.sessions > 0 || e.views > 0 || e.leads > 0;
        if dated || active {
            units.entry(org).or_default().events.push(e);
        }
    }
    let mut out = YearlyData {
        year,
        units: Vec::new(),
    };
    for (org, mut u) in units {
        if !scope.covers(&org) {
            continue;
        }
        u.org = org.clone();
        if org.is_empty()
            && u.events.is_empty()
            && u.kiosk_days == 0
            && u.sessions == 0
            && u.views == 0
            && u.leads == 0
            && u.visits == 0
        {
            continue;
        }
        u.events.sort_by(|a, b| {
            (a.starts.is_empty(), &a.starts, &a.id).cmp(&(b.starts.is_empty(), &b.starts, &b.id))
        });
        u.by_country = countries.remove(&org).unwrap_or_default().rows();
        let mut top: Vec<DwellRow> = items
            .remove(&org)
            .unwrap_or_default()
            .into_iter()
            .map(|(item, (v, d))| content.item_row(item, v, d))
            .collect();
        by_views(&mut top);
        top.truncate(TOP_ITEMS);
        u.top_items = top;
        out.units.push(u);
    }
    // The unassigned unit last.
    out.units
        .sort_by(|a, b| (a.org.is_empty(), &a.org).cmp(&(b.org.is_empty(), &b.org)));
    Ok(out)
}
