//! The numbers of the staff reports, from the roll-ups kept at ingest and never from `records`
//! (which holds millions of rows): `rollup_views_day` (migration 06: kept from `rollup_views`
//! by triggers), `rollup_sessions` and `rollup_kiosk_days` (migration 06: filled by
//! the ingest plan, `store::ingest`), `rollup_kinds`, `qr_opens`, `leads`,
//! `events` and `visits` (migration 07: one row per delegation visit). The numbers are put together in `store::reports`; this
//! file only answers its [`ReportSource`] queries.
//!
//! Days are Vietnam days (UTC+7): `(corrected_ms + 7 h) / 24 h`.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::SqliteStorage;
use crate::store::reports::*;
use crate::store::*;

/// A WHERE clause being built, with its arguments.
struct Where {
    clauses: Vec<String>,
    args: Vec<Value>,
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

    /// `[lo, hi)` on a column.
    fn span(mut self, col: &str, span: Span) -> Where {
        if let Some(lo) = span.lo {
            self.add(&format!("{col} >= ?"), Value::Integer(lo));
        }
        if let Some(hi) = span.hi {
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

fn funnel_cell(r: &rusqlite::Row<'_>) -> rusqlite::Result<FunnelCell> {
    Ok(FunnelCell {
        item: r.get(0)?,
        lang: r.get(1)?,
        hour: r.get(2)?,
        n: r.get(3)?,
    })
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

fn pairs(c: &Connection, sql: &str, args: &[Value]) -> Result<Vec<(String, i64)>, StorageError> {
    query_map(c, sql, args, |r| Ok((r.get(0)?, r.get(1)?)))
}

/// The report queries on one read connection.
pub(crate) struct Source<'a>(pub &'a Connection);

impl ReportSource for Source<'_> {
    fn published_manifest(&mut self) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .query_row(
                "SELECT manifest FROM content_versions WHERE published_ms IS NOT NULL
                 ORDER BY published_ms DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn event_rows(&mut self) -> Result<Vec<ReportEvent>, StorageError> {
        query_map(
            self.0,
            "SELECT id, name, org FROM events ORDER BY starts DESC, name",
            &[],
            |r| {
                Ok(ReportEvent {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    org: r.get(2)?,
                })
            },
        )
    }

    fn rollup_event_ids(&mut self) -> Result<Vec<String>, StorageError> {
        query_map(
            self.0,
            "SELECT DISTINCT event_id FROM rollup_kiosk_days WHERE event_id <> ''",
            &[],
            |r| r.get(0),
        )
    }

    fn event_org(&mut self, id: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .query_row("SELECT org FROM events WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    fn event_seen(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT 1 FROM events WHERE id = ?1
                 UNION ALL SELECT 1 FROM rollup_kiosk_days WHERE event_id = ?1
                 UNION ALL SELECT 1 FROM leads WHERE event_id = ?1 LIMIT 1",
            )?
            .exists([id])?)
    }

    fn views(&mut self, events: &Events, days: Span) -> Result<Vec<ViewSum>, StorageError> {
        let w = Where::new(events, "event_id").span("day", days);
        query_map(
            self.0,
            &format!(
                "SELECT item, lang, origin, sum(views), sum(dwell_ms) FROM rollup_views_day
                 WHERE {} GROUP BY item, lang, origin",
                w.sql()
            ),
            &w.args,
            |r| {
                Ok(ViewSum {
                    event_id: String::new(),
                    item: r.get(0)?,
                    lang: r.get(1)?,
                    origin: r.get(2)?,
                    views: r.get(3)?,
                    dwell_ms: r.get(4)?,
                })
            },
        )
    }

    fn sessions(&mut self, events: &Events, hours: Span) -> Result<Vec<SessionSum>, StorageError> {
        let w = Where::new(events, "event_id").span("hour", hours);
        query_map(
            self.0,
            &format!(
                "SELECT hour, sum(started), sum(ended), sum(duration_ms) FROM rollup_sessions
                 WHERE {} GROUP BY hour ORDER BY hour",
                w.sql()
            ),
            &w.args,
            |r| {
                Ok(SessionSum {
                    hour: r.get(0)?,
                    started: r.get(1)?,
                    ended: r.get(2)?,
                    duration_ms: r.get(3)?,
                })
            },
        )
    }

    fn kind_count(
        &mut self,
        events: &Events,
        kind: &str,
        hours: Span,
    ) -> Result<i64, StorageError> {
        let mut w = Where::new(events, "event_id").span("hour", hours);
        w.add("kind = ?", Value::Text(kind.to_owned()));
        Ok(self.0.query_row(
            &format!(
                "SELECT coalesce(sum(count), 0) FROM rollup_kinds WHERE {}",
                w.sql()
            ),
            params_from_iter(w.args.iter()),
            |r| r.get(0),
        )?)
    }

    fn qr_opens(&mut self, events: &Events, ms: Span) -> Result<i64, StorageError> {
        let w = Where::new(events, "event_id").span("at_ms", ms);
        Ok(self.0.query_row(
            &format!("SELECT count(*) FROM qr_opens WHERE {}", w.sql()),
            params_from_iter(w.args.iter()),
            |r| r.get(0),
        )?)
    }

    fn lead_counts(&mut self, events: &Events, ms: Span) -> Result<Vec<LeadCount>, StorageError> {
        let w = Where::new(events, "event_id")
            .span("created_ms", ms)
            .and("merged_into IS NULL AND source <> 'erased'");
        query_map(
            self.0,
            &format!(
                "SELECT country, source = 'phone_form', count(*) FROM leads INDEXED BY leads_report
                 WHERE {} GROUP BY event_id, country, source",
                w.sql()
            ),
            &w.args,
            |r| {
                Ok(LeadCount {
                    event_id: String::new(),
                    country: r.get(0)?,
                    phone: r.get(1)?,
                    n: r.get(2)?,
                })
            },
        )
    }

    fn qr_shown_cells(
        &mut self,
        events: &Events,
        hours: Span,
    ) -> Result<Vec<FunnelCell>, StorageError> {
        let w = Where::new(events, "event_id").span("hour", hours);
        query_map(
            self.0,
            &format!(
                "SELECT item, lang, hour, sum(shown) FROM rollup_qr WHERE {}
                 GROUP BY item, lang, hour",
                w.sql()
            ),
            &w.args,
            funnel_cell,
        )
    }

    fn qr_open_cells(
        &mut self,
        events: &Events,
        ms: Span,
    ) -> Result<Vec<FunnelCell>, StorageError> {
        let w = Where::new(events, "event_id").span("at_ms", ms);
        query_map(
            self.0,
            &format!(
                "SELECT item, lang, at_ms / 3600000 AS h, count(*) FROM qr_opens WHERE {}
                 GROUP BY item, lang, h",
                w.sql()
            ),
            &w.args,
            funnel_cell,
        )
    }

    fn lead_cells(
        &mut self,
        events: &Events,
        ms: Span,
    ) -> Result<Vec<(FunnelCell, bool)>, StorageError> {
        let w = Where::new(events, "event_id")
            .span("created_ms", ms)
            .and("merged_into IS NULL AND source <> 'erased'");
        query_map(
            self.0,
            &format!(
                "SELECT coalesce(item, ''), coalesce(lang, ''), created_ms / 3600000 AS h,
                    count(*), source = 'phone_form'
                 FROM leads WHERE {} GROUP BY 1, 2, 3, 5",
                w.sql()
            ),
            &w.args,
            |r| Ok((funnel_cell(r)?, r.get(4)?)),
        )
    }

    fn year_events(&mut self) -> Result<Vec<(String, YearEvent)>, StorageError> {
        query_map(
            self.0,
            "SELECT org, id, name, kind, starts, ends, venue, country, responsible FROM events",
            &[],
            |r| {
                Ok((
                    r.get(0)?,
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
        )
    }

    fn org_names(&mut self) -> Result<Vec<String>, StorageError> {
        query_map(self.0, "SELECT name FROM orgs", &[], |r| r.get(0))
    }

    fn kiosk_days_by_event(
        &mut self,
        d0: i64,
        d1: i64,
    ) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT event_id, count(*) FROM rollup_kiosk_days WHERE day >= ?1 AND day < ?2
             AND event_id <> '' GROUP BY event_id",
            &[Value::Integer(d0), Value::Integer(d1)],
        )
    }

    fn kiosk_days_by_org(&mut self, d0: i64, d1: i64) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT org, count(*) FROM (SELECT DISTINCT r.day, r.kiosk, COALESCE(e.org, '') AS org
                FROM rollup_kiosk_days r LEFT JOIN events e ON e.id = r.event_id
                WHERE r.day >= ?1 AND r.day < ?2) GROUP BY org",
            &[Value::Integer(d0), Value::Integer(d1)],
        )
    }

    fn sessions_by_event(&mut self, h0: i64, h1: i64) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT event_id, sum(started) FROM rollup_sessions WHERE hour >= ?1 AND hour < ?2
             GROUP BY event_id",
            &[Value::Integer(h0), Value::Integer(h1)],
        )
    }

    fn views_by_event_item(&mut self, d0: i64, d1: i64) -> Result<Vec<ViewSum>, StorageError> {
        query_map(
            self.0,
            "SELECT event_id, item, sum(views), sum(dwell_ms) FROM rollup_views_day
             WHERE day >= ?1 AND day < ?2 AND origin <> 'attract' GROUP BY event_id, item",
            &[Value::Integer(d0), Value::Integer(d1)],
            |r| {
                Ok(ViewSum {
                    event_id: r.get(0)?,
                    item: r.get(1)?,
                    lang: String::new(),
                    origin: String::new(),
                    views: r.get(2)?,
                    dwell_ms: r.get(3)?,
                })
            },
        )
    }

    fn leads_by_event_country(
        &mut self,
        ms0: i64,
        ms1: i64,
    ) -> Result<Vec<LeadCount>, StorageError> {
        query_map(
            self.0,
            "SELECT COALESCE(event_id, ''), country, count(*) FROM leads INDEXED BY leads_report
             WHERE created_ms >= ?1 AND created_ms < ?2 AND merged_into IS NULL
                AND source <> 'erased'
             GROUP BY event_id, country",
            &[Value::Integer(ms0), Value::Integer(ms1)],
            |r| {
                Ok(LeadCount {
                    event_id: r.get(0)?,
                    country: r.get(1)?,
                    phone: false,
                    n: r.get(2)?,
                })
            },
        )
    }

    fn visits_by_org(&mut self, ms0: i64, ms1: i64) -> Result<Vec<VisitSum>, StorageError> {
        query_map(
            self.0,
            "SELECT COALESCE(e.org, ''), count(DISTINCT v.delegation), count(*),
                coalesce(sum(v.attendees), 0)
             FROM visits v LEFT JOIN events e ON e.id = v.delegation
             WHERE v.started_ms >= ?1 AND v.started_ms < ?2 GROUP BY 1",
            &[Value::Integer(ms0), Value::Integer(ms1)],
            |r| {
                Ok(VisitSum {
                    org: r.get(0)?,
                    delegations: r.get(1)?,
                    visits: r.get(2)?,
                    attendees: r.get(3)?,
                })
            },
        )
    }

    fn delegation_leads_by_org(
        &mut self,
        ms0: i64,
        ms1: i64,
    ) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT COALESCE(e.org, ''), count(*) FROM leads l LEFT JOIN events e ON e.id = l.event_id
             WHERE l.event_id IN (SELECT id FROM events WHERE kind = 'delegation'
                    UNION SELECT delegation FROM visits)
                AND l.created_ms >= ?1 AND l.created_ms < ?2 AND l.merged_into IS NULL
                AND l.source <> 'erased'
             GROUP BY 1",
            &[Value::Integer(ms0), Value::Integer(ms1)],
        )
    }
}

impl ReportStorage for SqliteStorage {
    fn report_events(&self, scope: &Scope) -> Result<Vec<ReportEvent>, StorageError> {
        self.read(|c| report_events(&mut Source(c), scope))
    }

    fn report(
        &self,
        scope: &Scope,
        event: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<ReportData, StorageError> {
        self.read(|c| report_data(&mut Source(c), scope, event, from_ms, to_ms))
    }

    fn yearly(&self, scope: &Scope, year: i32) -> Result<YearlyData, StorageError> {
        self.read(|c| yearly_data(&mut Source(c), scope, year))
    }
}
