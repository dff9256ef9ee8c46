//! The numbers of the staff reports, from the roll-ups kept at ingest and never from `records`
//! (which holds millions of rows): `rollup_views_day` (migration 06: kept from `rollup_views`
//! by triggers), `rollup_sessions` and `rollup_kiosk_days` (migration 06: filled by
//! the ingest plan, `store::ingest`), `rollup_kinds`, `qr_opens`, `leads`,
//! `events` and `visits` (migration 07: one row per delegation visit). Items are put in their pillars by the published content
//! manifest.
//!
//! Days are Vietnam days (UTC+7): `(corrected_ms + 7 h) / 24 h`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use protocol::content::Manifest;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::SqliteStorage;
use crate::store::reports::*;
use crate::store::time::{DAY_MS, HOUR_MS, VN_OFFSET_MS, new_year_day, vn_day};
use crate::store::*;

// ---------------------------------------------------------------------------------------------
// What the reports show.

/// Which events a query counts.
enum Events {
    One(String),
    Org(String),
    All,
}

/// A WHERE clause being built, with its arguments.
struct Where {
    clauses: Vec<String>,
    args: Vec<Value>,
}

#[derive(Clone, Copy)]
enum Unit {
    Ms,
    Hour,
    Day,
}

impl Where {
    fn new(events: &Events, col: &str) -> Where {
        let mut w = Where {
            clauses: Vec::new(),
            args: Vec::new(),
        };
        match events {
            Events::One(id) => w.add(&format!("{col} = ?"), Value::Text(id.clone())),
            Events::Org(org) => w.add(
                &format!("{col} IN (SELECT id FROM events WHERE org = ?)"),
                Value::Text(org.clone()),
            ),
            Events::All => {}
        }
        w
    }

    fn add(&mut self, clause: &str, v: Value) {
        self.clauses.push(clause.to_owned());
        self.args.push(v);
    }

    /// `[from_ms, to_ms)` on a column in ms, hours or Vietnam days (whole hours and days
    /// that touch the period).
    fn period(mut self, col: &str, unit: Unit, from_ms: Option<i64>, to_ms: Option<i64>) -> Where {
        let (lo, hi) = match unit {
            Unit::Ms => (from_ms, to_ms),
            Unit::Hour => (
                from_ms.map(|f| f.div_euclid(HOUR_MS)),
                to_ms.map(|t| (t + HOUR_MS - 1).div_euclid(HOUR_MS)),
            ),
            Unit::Day => (
                from_ms.map(vn_day),
                to_ms.map(|t| (t + VN_OFFSET_MS + DAY_MS - 1).div_euclid(DAY_MS)),
            ),
        };
        if let Some(lo) = lo {
            self.add(&format!("{col} >= ?"), Value::Integer(lo));
        }
        if let Some(hi) = hi {
            self.add(&format!("{col} < ?"), Value::Integer(hi));
        }
        self
    }

    fn and(mut self, clause: &str) -> Where {
        self.clauses.push(clause.to_owned());
        self
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1".into()
        } else {
            self.clauses.join(" AND ")
        }
    }
}

/// The published content: item → (pillar, titles), pillar → titles.
struct Content {
    items: HashMap<String, (String, BTreeMap<String, String>)>,
    pillars: HashMap<String, BTreeMap<String, String>>,
    pillar_order: Vec<String>,
}

fn content(c: &Connection) -> Result<Content, StorageError> {
    let json: Option<String> = c
        .query_row(
            "SELECT manifest FROM content_versions WHERE published_ms IS NOT NULL
             ORDER BY published_ms DESC, id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let manifest: Option<Manifest> = json.and_then(|j| serde_json::from_str(&j).ok());
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

impl Content {
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

fn query_map<T>(
    c: &Connection,
    sql: &str,
    args: &[Value],
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StorageError> {
    let mut q = c.prepare(sql)?;
    let rows = q
        .query_map(params_from_iter(args.iter()), f)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The events a staff member may report on: their unit's (every event for [`Scope::All`],
/// with the event ids seen in the roll-ups that no event row names).
pub fn report_events(c: &Connection, scope: &Scope) -> Result<Vec<ReportEvent>, StorageError> {
    let mut events = query_map(
        c,
        "SELECT id, name, org FROM events ORDER BY starts DESC, name",
        &[],
        |r| {
            Ok(ReportEvent {
                id: r.get(0)?,
                name: r.get(1)?,
                org: r.get(2)?,
            })
        },
    )?;
    match scope {
        Scope::Org(_) => events.retain(|e| scope.covers(&e.org)),
        Scope::All => {
            let known: BTreeSet<String> = events.iter().map(|e| e.id.clone()).collect();
            let seen = query_map(
                c,
                "SELECT DISTINCT event_id FROM rollup_kiosk_days WHERE event_id <> ''",
                &[],
                |r| r.get::<_, String>(0),
            )?;
            for id in seen.into_iter().filter(|id| !known.contains(id)) {
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
    conn: &Connection,
    scope: &Scope,
    event: Option<&str>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<ReportData, StorageError> {
    let c = conn;
    let events = match (event.filter(|e| !e.is_empty()), scope) {
        (Some(id), Scope::Org(_)) => {
            let owner: Option<String> = c
                .query_row("SELECT org FROM events WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            if !owner.is_some_and(|o| scope.covers(&o)) {
                return Err(StorageError::NotFound);
            }
            Events::One(id.to_owned())
        }
        (Some(id), Scope::All) => {
            let known = c
                .prepare_cached(
                    "SELECT 1 FROM events WHERE id = ?1
                     UNION ALL SELECT 1 FROM rollup_kiosk_days WHERE event_id = ?1
                     UNION ALL SELECT 1 FROM leads WHERE event_id = ?1 LIMIT 1",
                )?
                .exists([id])?;
            if !known {
                return Err(StorageError::NotFound);
            }
            Events::One(id.to_owned())
        }
        (None, Scope::Org(org)) => Events::Org(org.clone()),
        (None, Scope::All) => Events::All,
    };
    let content = content(c)?;
    let mut out = ReportData::default();

    // Views by origin, and by item and language for the views visitors and presenters opened.
    let w = Where::new(&events, "event_id").period("day", Unit::Day, from_ms, to_ms);
    let rows = query_map(
        c,
        &format!(
            "SELECT item, lang, origin, sum(views), sum(dwell_ms) FROM rollup_views_day
             WHERE {} GROUP BY item, lang, origin",
            w.sql()
        ),
        &w.args,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        },
    )?;
    let mut items: HashMap<String, (i64, i64)> = HashMap::new();
    let mut langs: HashMap<String, (i64, i64)> = HashMap::new();
    for (item, lang, origin, views, dwell) in rows {
        let slot = match origin.as_str() {
            "attract" => &mut out.attract,
            "presenter" => &mut out.presenter,
            _ => &mut out.visitor,
        };
        slot.views += views;
        slot.dwell_ms += dwell;
        if origin == "attract" {
            continue;
        }
        let i = items.entry(item).or_default();
        i.0 += views;
        i.1 += dwell;
        let l = langs.entry(lang).or_default();
        l.0 += views;
        l.1 += dwell;
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
    let w = Where::new(&events, "event_id").period("hour", Unit::Hour, from_ms, to_ms);
    let rows = query_map(
        c,
        &format!(
            "SELECT hour, sum(started), sum(ended), sum(duration_ms) FROM rollup_sessions
             WHERE {} GROUP BY hour ORDER BY hour",
            w.sql()
        ),
        &w.args,
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        },
    )?;
    for (hour, started, ended, ms) in rows {
        out.sessions += started;
        out.sessions_ended += ended;
        out.session_ms += ms;
        if started == 0 {
            continue;
        }
        let local = hour + 7;
        let day = local.div_euclid(24);
        if out.heat.last().is_none_or(|h| h.day != day) {
            out.heat.push(HeatDay {
                day,
                hours: [0; 24],
            });
        }
        if let Some(h) = out.heat.last_mut() {
            h.hours[local.rem_euclid(24) as usize] += started;
        }
    }

    // The funnel.
    let w = Where::new(&events, "event_id")
        .period("hour", Unit::Hour, from_ms, to_ms)
        .and("kind = 'qr_shown'");
    out.qr_shown = c.query_row(
        &format!(
            "SELECT coalesce(sum(count), 0) FROM rollup_kinds WHERE {}",
            w.sql()
        ),
        params_from_iter(w.args.iter()),
        |r| r.get(0),
    )?;
    let w = Where::new(&events, "event_id").period("at_ms", Unit::Ms, from_ms, to_ms);
    out.qr_opened = c.query_row(
        &format!("SELECT count(*) FROM qr_opens WHERE {}", w.sql()),
        params_from_iter(w.args.iter()),
        |r| r.get(0),
    )?;

    // Leads (erased ones count: their country stays for reports; merged duplicates do not).
    let w = Where::new(&events, "event_id")
        .period("created_ms", Unit::Ms, from_ms, to_ms)
        .and("merged_into IS NULL AND source <> 'erased'");
    let rows = query_map(
        c,
        &format!(
            "SELECT country, source = 'phone_form', count(*) FROM leads INDEXED BY leads_report
             WHERE {} GROUP BY event_id, country, source",
            w.sql()
        ),
        &w.args,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
    )?;
    let mut countries = Countries::default();
    for (country, phone, n) in rows {
        out.leads += n;
        if phone {
            out.phone_leads += n;
        }
        countries.add(&country, n);
    }
    out.by_country = countries.rows();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The yearly report.

/// The year (Vietnam time) per organising unit in scope: events held and seen, kiosk-days,
/// sessions, views, leads by market, top content, delegations received. From roll-ups, leads,
/// events and visits only.
pub fn yearly_data(c: &Connection, scope: &Scope, year: i32) -> Result<YearlyData, StorageError> {
    let day = |y| new_year_day(y).ok_or_else(|| StorageError::Invalid(format!("no year {y}")));
    let (d0, d1) = (day(year)?, day(year + 1)?);
    let (h0, h1) = (d0 * 24 - 7, d1 * 24 - 7);
    let (ms0, ms1) = (d0 * DAY_MS - VN_OFFSET_MS, d1 * DAY_MS - VN_OFFSET_MS);
    let content = content(c)?;
    let in_scope = |org: &str| scope.covers(org);

    let mut events: BTreeMap<String, (String, YearEvent)> = BTreeMap::new();
    for (org, e) in query_map(
        c,
        "SELECT org, id, name, kind, starts, ends, venue, country, responsible FROM events",
        &[],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                YearEvent {
                    id: r.get(1)?,
                    name: r.get(2)?,
                    kind: r.get(3)?,
                    starts: r.get(4)?,
                    ends: r.get(5)?,
                    venue: r.get(6)?,
                    country: r.get(7)?,
                    responsible: r.get(8)?,
                    known: true,
                    ..Default::default()
                },
            ))
        },
    )? {
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
    for org in query_map(c, "SELECT name FROM orgs", &[], |r| r.get::<_, String>(0))? {
        units.entry(org.clone()).or_insert_with(|| UnitYear {
            org,
            ..Default::default()
        });
    }
    let args = [Value::Integer(d0), Value::Integer(d1)];
    for (id, n) in query_map(
        c,
        "SELECT event_id, count(*) FROM rollup_kiosk_days WHERE day >= ?1 AND day < ?2
         AND event_id <> '' GROUP BY event_id",
        &args,
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
        seen(&mut events, &id).kiosk_days += n;
    }
    for (org, n) in query_map(
        c,
        "SELECT org, count(*) FROM (SELECT DISTINCT r.day, r.kiosk, COALESCE(e.org, '') AS org
            FROM rollup_kiosk_days r LEFT JOIN events e ON e.id = r.event_id
            WHERE r.day >= ?1 AND r.day < ?2) GROUP BY org",
        &args,
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
        units.entry(org.clone()).or_default().kiosk_days += n;
    }
    for (id, n) in query_map(
        c,
        "SELECT event_id, sum(started) FROM rollup_sessions WHERE hour >= ?1 AND hour < ?2
         GROUP BY event_id",
        &[Value::Integer(h0), Value::Integer(h1)],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
        let org = org_of(&events, &id);
        units.entry(org).or_default().sessions += n;
        if !id.is_empty() {
            seen(&mut events, &id).sessions += n;
        }
    }
    let mut items: BTreeMap<String, HashMap<String, (i64, i64)>> = BTreeMap::new();
    for (id, item, views, dwell) in query_map(
        c,
        "SELECT event_id, item, sum(views), sum(dwell_ms) FROM rollup_views_day
         WHERE day >= ?1 AND day < ?2 AND origin <> 'attract' GROUP BY event_id, item",
        &args,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        },
    )? {
        let org = org_of(&events, &id);
        let u = units.entry(org.clone()).or_default();
        u.views += views;
        u.dwell_ms += dwell;
        let e = items.entry(org).or_default().entry(item).or_default();
        e.0 += views;
        e.1 += dwell;
        if !id.is_empty() {
            seen(&mut events, &id).views += views;
        }
    }
    let mut countries: BTreeMap<String, Countries> = BTreeMap::new();
    for (id, country, n) in query_map(
        c,
        "SELECT COALESCE(event_id, ''), country, count(*) FROM leads INDEXED BY leads_report
         WHERE created_ms >= ?1 AND created_ms < ?2 AND merged_into IS NULL AND source <> 'erased'
         GROUP BY event_id, country",
        &[Value::Integer(ms0), Value::Integer(ms1)],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
    )? {
        let org = org_of(&events, &id);
        units.entry(org.clone()).or_default().leads += n;
        countries.entry(org).or_default().add(&country, n);
        if !id.is_empty() {
            seen(&mut events, &id).leads += n;
        }
    }

    // Delegations: the visits that started in the year (a small table), and the leads made
    // for delegations (their ids are events of kind `delegation`, or named by visits).
    for (org, delegations, visits, attendees) in query_map(
        c,
        "SELECT COALESCE(e.org, ''), count(DISTINCT v.delegation), count(*),
            coalesce(sum(v.attendees), 0)
         FROM visits v LEFT JOIN events e ON e.id = v.delegation
         WHERE v.started_ms >= ?1 AND v.started_ms < ?2 GROUP BY 1",
        &[Value::Integer(ms0), Value::Integer(ms1)],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        },
    )? {
        let u = units.entry(org).or_default();
        u.delegations += delegations;
        u.visits += visits;
        u.attendees += attendees;
    }
    for (org, n) in query_map(
        c,
        "SELECT COALESCE(e.org, ''), count(*) FROM leads l LEFT JOIN events e ON e.id = l.event_id
         WHERE l.event_id IN (SELECT id FROM events WHERE kind = 'delegation'
                UNION SELECT delegation FROM visits)
            AND l.created_ms >= ?1 AND l.created_ms < ?2 AND l.merged_into IS NULL
            AND l.source <> 'erased'
         GROUP BY 1",
        &[Value::Integer(ms0), Value::Integer(ms1)],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
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
        if !in_scope(&org) {
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

impl ReportStorage for SqliteStorage {
    fn report_events(&self, scope: &Scope) -> Result<Vec<ReportEvent>, StorageError> {
        self.read(|c| report_events(c, scope))
    }

    fn report(
        &self,
        scope: &Scope,
        event: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<ReportData, StorageError> {
        self.read(|c| report_data(c, scope, event, from_ms, to_ms))
    }

    fn yearly(&self, scope: &Scope, year: i32) -> Result<YearlyData, StorageError> {
        self.read(|c| yearly_data(c, scope, year))
    }
}
