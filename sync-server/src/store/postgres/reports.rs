//! [`ReportStorage`] on PostgreSQL: the aggregate queries of [`ReportSource`] on the roll-ups,
//! leads, QR opens, events and visits; `store::reports` puts the answers together. Sums of
//! BIGINT are NUMERIC in PostgreSQL and are cast back.

use ::postgres::Client;
use ::postgres::types::ToSql;

use super::PostgresStorage;
use crate::store::reports::*;
use crate::store::*;

type Arg = Box<dyn ToSql + Sync>;

/// A WHERE clause being built, with its numbered arguments.
struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn new(events: &Events, col: &str) -> Where {
        let mut w = Where {
            clauses: Vec::new(),
            args: Vec::new(),
        };
        match events {
            Events::One(id) => w.add(&format!("{col} = $"), Box::new(id.clone())),
            Events::Org(org) => w.add(
                &format!("{col} IN (SELECT id FROM events WHERE org = $)"),
                Box::new(org.clone()),
            ),
            Events::All => {}
        }
        w
    }

    /// Adds a clause whose one `$` is the next argument.
    fn add(&mut self, clause: &str, v: Arg) {
        self.args.push(v);
        self.clauses
            .push(clause.replacen('$', &format!("${}", self.args.len()), 1));
    }

    /// `[lo, hi)` on a column.
    fn span(mut self, col: &str, span: Span) -> Where {
        if let Some(lo) = span.lo {
            self.add(&format!("{col} >= $"), Box::new(lo));
        }
        if let Some(hi) = span.hi {
            self.add(&format!("{col} < $"), Box::new(hi));
        }
        self
    }

    fn and(mut self, clause: &str) -> Where {
        self.clauses.push(clause.to_owned());
        self
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "TRUE".into()
        } else {
            self.clauses.join(" AND ")
        }
    }

    fn args(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args.iter().map(|a| a.as_ref()).collect()
    }
}

fn pairs(
    c: &mut Client,
    sql: &str,
    args: &[&(dyn ToSql + Sync)],
) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(c.query(sql, args)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The report queries on one connection.
struct Source<'a>(&'a mut Client);

impl ReportSource for Source<'_> {
    fn published_manifest(&mut self) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .query_opt(
                "SELECT manifest FROM content_versions WHERE published_ms IS NOT NULL
                 ORDER BY published_ms DESC, id DESC LIMIT 1",
                &[],
            )?
            .map(|r| r.get(0)))
    }

    fn event_rows(&mut self) -> Result<Vec<ReportEvent>, StorageError> {
        // SQLite's order of text is by byte; "C" makes PostgreSQL's the same.
        Ok(self
            .0
            .query(
                r#"SELECT id, name, org FROM events
                   ORDER BY starts COLLATE "C" DESC, name COLLATE "C""#,
                &[],
            )?
            .iter()
            .map(|r| ReportEvent {
                id: r.get(0),
                name: r.get(1),
                org: r.get(2),
            })
            .collect())
    }

    fn rollup_event_ids(&mut self) -> Result<Vec<String>, StorageError> {
        Ok(self
            .0
            .query(
                "SELECT DISTINCT event_id FROM rollup_kiosk_days WHERE event_id <> ''",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn event_org(&mut self, id: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .query_opt("SELECT org FROM events WHERE id = $1", &[&id])?
            .map(|r| r.get(0)))
    }

    fn event_seen(&mut self, id: &str) -> Result<bool, StorageError> {
        Ok(self
            .0
            .query_opt(
                "SELECT 1 FROM events WHERE id = $1
                 UNION ALL SELECT 1 FROM rollup_kiosk_days WHERE event_id = $1
                 UNION ALL SELECT 1 FROM leads WHERE event_id = $1 LIMIT 1",
                &[&id],
            )?
            .is_some())
    }

    fn views(&mut self, events: &Events, days: Span) -> Result<Vec<ViewSum>, StorageError> {
        let w = Where::new(events, "event_id").span("day", days);
        Ok(self
            .0
            .query(
                &format!(
                    "SELECT item, lang, origin, sum(views)::BIGINT, sum(dwell_ms)::BIGINT
                     FROM rollup_views_day WHERE {} GROUP BY item, lang, origin",
                    w.sql()
                ),
                &w.args(),
            )?
            .iter()
            .map(|r| ViewSum {
                event_id: String::new(),
                item: r.get(0),
                lang: r.get(1),
                origin: r.get(2),
                views: r.get(3),
                dwell_ms: r.get(4),
            })
            .collect())
    }

    fn sessions(&mut self, events: &Events, hours: Span) -> Result<Vec<SessionSum>, StorageError> {
        let w = Where::new(events, "event_id").span("hour", hours);
        Ok(self
            .0
            .query(
                &format!(
                    "SELECT hour, sum(started)::BIGINT, sum(ended)::BIGINT,
                        sum(duration_ms)::BIGINT
                     FROM rollup_sessions WHERE {} GROUP BY hour ORDER BY hour",
                    w.sql()
                ),
                &w.args(),
            )?
            .iter()
            .map(|r| SessionSum {
                hour: r.get(0),
                started: r.get(1),
                ended: r.get(2),
                duration_ms: r.get(3),
            })
            .collect())
    }

    fn kind_count(
        &mut self,
        events: &Events,
        kind: &str,
        hours: Span,
    ) -> Result<i64, StorageError> {
        let mut w = Where::new(events, "event_id").span("hour", hours);
        w.add("kind = $", Box::new(kind.to_owned()));
        Ok(self
            .0
            .query_one(
                &format!(
                    "SELECT coalesce(sum(count), 0)::BIGINT FROM rollup_kinds WHERE {}",
                    w.sql()
                ),
                &w.args(),
            )?
            .get(0))
    }

    fn qr_opens(&mut self, events: &Events, ms: Span) -> Result<i64, StorageError> {
        let w = Where::new(events, "event_id").span("at_ms", ms);
        Ok(self
            .0
            .query_one(
                &format!("SELECT count(*) FROM qr_opens WHERE {}", w.sql()),
                &w.args(),
            )?
            .get(0))
    }

    fn lead_counts(&mut self, events: &Events, ms: Span) -> Result<Vec<LeadCount>, StorageError> {
        let w = Where::new(events, "event_id")
            .span("created_ms", ms)
            .and("merged_into IS NULL AND source <> 'erased'");
        Ok(self
            .0
            .query(
                &format!(
                    "SELECT country, source = 'phone_form', count(*) FROM leads
                     WHERE {} GROUP BY event_id, country, source",
                    w.sql()
                ),
                &w.args(),
            )?
            .iter()
            .map(|r| LeadCount {
                event_id: String::new(),
                country: r.get(0),
                phone: r.get(1),
                n: r.get(2),
            })
            .collect())
    }

    fn qr_shown_cells(
        &mut self,
        events: &Events,
        hours: Span,
    ) -> Result<Vec<FunnelCell>, StorageError> {
        let w = Where::new(events, "event_id").span("hour", hours);
        Ok(self
            .0
            .query(
                &format!(
                    "SELECT item, lang, hour, sum(shown)::BIGINT FROM rollup_qr WHERE {}
                     GROUP BY item, lang, hour",
                    w.sql()
                ),
                &w.args(),
            )?
            .iter()
            .map(funnel_cell)
            .collect())
    }

    fn qr_open_cells(
        &mut self,
        events: &Events,
        ms: Span,
    ) -> Result<Vec<FunnelCell>, StorageError> {
        let w = Where::new(events, "event_id").span("at_ms", ms);
        Ok(self
            .0
            .query(
                &format!(
                    "SELECT item, lang, floor(at_ms / 3600000.0)::BIGINT AS h, count(*)
                     FROM qr_opens WHERE {} GROUP BY item, lang, h",
                    w.sql()
                ),
                &w.args(),
            )?
            .iter()
            .map(funnel_cell)
            .collect())
    }

    fn lead_cells(
        &mut self,
        events: &Events,
        ms: Span,
    ) -> Result<Vec<(FunnelCell, bool)>, StorageError> {
        let w = Where::new(events, "event_id")
            .span("created_ms", ms)
            .and("merged_into IS NULL AND source <> 'erased'");
        Ok(self
            .0
            .query(
                &format!(
                    "SELECT coalesce(item, ''), coalesce(lang, ''),
                        floor(created_ms / 3600000.0)::BIGINT AS h, count(*),
                        source = 'phone_form'
                     FROM leads WHERE {} GROUP BY 1, 2, 3, 5",
                    w.sql()
                ),
                &w.args(),
            )?
            .iter()
            .map(|r| (funnel_cell(r), r.get(4)))
            .collect())
    }

    fn year_events(&mut self) -> Result<Vec<(String, YearEvent)>, StorageError> {
        Ok(self
            .0
            .query(
                "SELECT org, id, name, kind, starts, ends, venue, country, responsible FROM events",
                &[],
            )?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    YearEvent {
                        id: r.get(1),
                        name: r.get(2),
                        kind: r.get(3),
                        starts: r.get(4),
                        ends: r.get(5),
                        venue: r.get(6),
                        country: r.get(7),
                        responsible: r.get(8),
                        known: true,
                        ..Default::default()
                    },
                )
            })
            .collect())
    }

    fn org_names(&mut self) -> Result<Vec<String>, StorageError> {
        Ok(self
            .0
            .query("SELECT name FROM orgs", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn kiosk_days_by_event(
        &mut self,
        d0: i64,
        d1: i64,
    ) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT event_id, count(*) FROM rollup_kiosk_days WHERE day >= $1 AND day < $2
             AND event_id <> '' GROUP BY event_id",
            &[&d0, &d1],
        )
    }

    fn kiosk_days_by_org(&mut self, d0: i64, d1: i64) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT org, count(*) FROM (SELECT DISTINCT r.day, r.kiosk, COALESCE(e.org, '') AS org
                FROM rollup_kiosk_days r LEFT JOIN events e ON e.id = r.event_id
                WHERE r.day >= $1 AND r.day < $2) AS d GROUP BY org",
            &[&d0, &d1],
        )
    }

    fn sessions_by_event(&mut self, h0: i64, h1: i64) -> Result<Vec<(String, i64)>, StorageError> {
        pairs(
            self.0,
            "SELECT event_id, sum(started)::BIGINT FROM rollup_sessions
             WHERE hour >= $1 AND hour < $2 GROUP BY event_id",
            &[&h0, &h1],
        )
    }

    fn views_by_event_item(&mut self, d0: i64, d1: i64) -> Result<Vec<ViewSum>, StorageError> {
        Ok(self
            .0
            .query(
                "SELECT event_id, item, sum(views)::BIGINT, sum(dwell_ms)::BIGINT
                 FROM rollup_views_day
                 WHERE day >= $1 AND day < $2 AND origin <> 'attract' GROUP BY event_id, item",
                &[&d0, &d1],
            )?
            .iter()
            .map(|r| ViewSum {
                event_id: r.get(0),
                item: r.get(1),
                lang: String::new(),
                origin: String::new(),
                views: r.get(2),
                dwell_ms: r.get(3),
            })
            .collect())
    }

    fn leads_by_event_country(
        &mut self,
        ms0: i64,
        ms1: i64,
    ) -> Result<Vec<LeadCount>, StorageError> {
        Ok(self
            .0
            .query(
                "SELECT COALESCE(event_id, ''), country, count(*) FROM leads
                 WHERE created_ms >= $1 AND created_ms < $2 AND merged_into IS NULL
                    AND source <> 'erased'
                 GROUP BY event_id, country",
                &[&ms0, &ms1],
            )?
            .iter()
            .map(|r| LeadCount {
                event_id: r.get(0),
                country: r.get(1),
                phone: false,
                n: r.get(2),
            })
            .collect())
    }

    fn visits_by_org(&mut self, ms0: i64, ms1: i64) -> Result<Vec<VisitSum>, StorageError> {
        Ok(self
            .0
            .query(
                "SELECT COALESCE(e.org, ''), count(DISTINCT v.delegation), count(*),
                    coalesce(sum(v.attendees), 0)::BIGINT
                 FROM visits v LEFT JOIN events e ON e.id = v.delegation
                 WHERE v.started_ms >= $1 AND v.started_ms < $2 GROUP BY 1",
                &[&ms0, &ms1],
            )?
            .iter()
            .map(|r| VisitSum {
                org: r.get(0),
                delegations: r.get(1),
                visits: r.get(2),
                attendees: r.get(3),
            })
            .collect())
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
                AND l.created_ms >= $1 AND l.created_ms < $2 AND l.merged_into IS NULL
                AND l.source <> 'erased'
             GROUP BY 1",
            &[&ms0, &ms1],
        )
    }
}

impl ReportStorage for PostgresStorage {
    fn report_events(&self, scope: &Scope) -> Result<Vec<ReportEvent>, StorageError> {
        self.with(|c| report_events(&mut Source(c), scope))
    }

    fn report(
        &self,
        scope: &Scope,
        event: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<ReportData, StorageError> {
        self.with(|c| report_data(&mut Source(c), scope, event, from_ms, to_ms))
    }

    fn yearly(&self, scope: &Scope, year: i32) -> Result<YearlyData, StorageError> {
        self.with(|c| yearly_data(&mut Source(c), scope, year))
    }
}

fn funnel_cell(r: &::postgres::Row) -> FunnelCell {
    FunnelCell {
        item: r.get(0),
        lang: r.get(1),
        hour: r.get(2),
        n: r.get(3),
    }
}
