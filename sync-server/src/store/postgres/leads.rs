//! [`LeadStorage`] on PostgreSQL: the leads table with its filters, scopes by organising unit,
//! duplicates and merging, events, units and retention, raw scans of a person.
//!
//! What a filter and a merge mean is in `store/leads.rs`, the same for both backends. A write
//! to a lead row (status, restore, merge) takes the lead's advisory lock first and checks the
//! scope in the same transaction, so an erasure on another server comes wholly before or after
//! it. Text is ordered byte by byte (`COLLATE "C"`), as SQLite orders it.

use ::postgres::GenericClient;
use ::postgres::types::ToSql;
use uuid::Uuid;

use super::PostgresStorage;
use super::sync::{erase_scans, lock_leads, pg_text};
use crate::store::leads::{self, Condition};
use crate::store::*;

const SELECT: &str = "SELECT l.lead_id, l.created_ms, l.updated_ms, COALESCE(l.event_id, ''),
    COALESCE(e.name, ''), COALESCE(e.org, ''), COALESCE(k.name, ''), COALESCE(l.item, ''),
    COALESCE(l.lang, ''), l.source, l.name, l.organisation, l.email, l.phone, l.country, l.title,
    l.interests, l.status, l.notes, l.consent
    FROM leads l LEFT JOIN events e ON e.id = l.event_id LEFT JOIN kiosks k ON k.id = l.kiosk";

const FROM: &str =
    "FROM leads l LEFT JOIN events e ON e.id = l.event_id LEFT JOIN kiosks k ON k.id = l.kiosk";

/// Retention periods are capped (in days, either way) so that `days * 86400000` cannot
/// overflow BIGINT: a period this long keeps everything, as SQLite's overflow to REAL does.
const RETENTION_CUTOFF: &str =
    "$1 - LEAST(GREATEST(o.retention_days, -100000000), 100000000) * 86400000";

fn row(r: &::postgres::Row) -> LeadRow {
    LeadRow {
        lead_id: Uuid::from_slice(r.get::<_, &[u8]>(0)).unwrap_or_default(),
        created_ms: r.get(1),
        updated_ms: r.get(2),
        event_id: r.get(3),
        event_name: r.get(4),
        org: r.get(5),
        kiosk_name: r.get(6),
        item: r.get(7),
        lang: r.get(8),
        source: r.get(9),
        contact: protocol::Contact {
            name: r.get(10),
            organisation: r.get(11),
            email: r.get(12),
            phone: r.get(13),
            country: r.get(14),
            title: r.get(15),
        },
        interests: leads::interests_of(r.get(16)),
        status: r.get(17),
        notes: r.get(18),
        consent: leads::consent_of(r.get(19)),
    }
}

/// A WHERE clause with numbered placeholders and its arguments.
struct Where {
    sql: String,
    args: Vec<Box<dyn ToSql + Sync>>,
}

impl Where {
    /// The leads in scope that pass the filter (and are not erased).
    fn new(scope: &Scope, f: &LeadFilter) -> Where {
        let mut w = Where {
            sql: String::from("l.erased_ms IS NULL"),
            args: Vec::new(),
        };
        let text = |s: String| pg_text(&s).into_owned();
        for cond in leads::conditions(scope, f) {
            match cond {
                Condition::Org(o) => w.and("e.org = ", text(o)),
                Condition::Event(e) => w.and("l.event_id = ", text(e)),
                Condition::Kiosk(k) => w.and("k.name = ", text(k)),
                Condition::CreatedFrom(ms) => w.and("l.created_ms >= ", ms),
                Condition::CreatedBefore(ms) => w.and("l.created_ms < ", ms),
                Condition::Country(c) => {
                    let p = w.arg(text(c));
                    w.sql
                        .push_str(&format!(" AND lower(l.country) = lower({p})"));
                }
                Condition::Lang(l) => w.and("l.lang = ", text(l)),
                Condition::Interest(i) => {
                    // The element as its JSON text (`json` keeps it as written, and every
                    // interests column is written by serde_json): an escaped U+0000 is
                    // compared, never converted to text, which PostgreSQL refuses.
                    let json = serde_json::to_string(&i).unwrap_or_default();
                    let p = w.arg(json);
                    w.sql.push_str(&format!(
                        " AND EXISTS (SELECT 1 FROM json_array_elements(l.interests::json) AS i(v)
                             WHERE i.v::text = {p})"
                    ));
                }
                Condition::Source(s) => w.and("l.source = ", text(s)),
                Condition::Status(s) => w.and("l.status = ", text(s)),
                Condition::Text(like) => {
                    // SQLite's LIKE ignores case: ILIKE.
                    let p = w.arg(text(like));
                    w.sql.push_str(&format!(
                        " AND (l.name ILIKE {p} ESCAPE '\\' OR l.organisation ILIKE {p} ESCAPE '\\'
                          OR l.email ILIKE {p} ESCAPE '\\' OR l.phone ILIKE {p} ESCAPE '\\'
                          OR l.notes ILIKE {p} ESCAPE '\\')"
                    ));
                }
            }
        }
        w
    }

    /// The placeholder of a new argument.
    fn arg(&mut self, v: impl ToSql + Sync + 'static) -> String {
        self.args.push(Box::new(v));
        format!("${}", self.args.len())
    }

    /// Adds `AND {left}{placeholder of v}`.
    fn and(&mut self, left: &str, v: impl ToSql + Sync + 'static) {
        let p = self.arg(v);
        self.sql.push_str(" AND ");
        self.sql.push_str(left);
        self.sql.push_str(&p);
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args.iter().map(|b| b.as_ref()).collect()
    }
}

fn rows_where(c: &mut impl GenericClient, w: &Where) -> Result<Vec<LeadRow>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE {} ORDER BY l.created_ms DESC, l.lead_id",
        w.sql
    );
    Ok(c.query(&sql, &w.refs())?.iter().map(row).collect())
}

/// A lead in scope, not erased.
fn lead_in(
    c: &mut impl GenericClient,
    scope: &Scope,
    lead_id: Uuid,
) -> Result<Option<LeadRow>, StorageError> {
    let mut w = Where::new(scope, &LeadFilter::default());
    w.and("l.lead_id = ", lead_id.as_bytes().to_vec());
    Ok(rows_where(c, &w)?.into_iter().next())
}

impl LeadStorage for PostgresStorage {
    fn leads(
        &self,
        scope: &Scope,
        filter: &LeadFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<LeadRow>, u64), StorageError> {
        let mut w = Where::new(scope, filter);
        self.with(|c| {
            let total: i64 = c
                .query_one(
                    &format!("SELECT count(*) {FROM} WHERE {}", w.sql),
                    &w.refs(),
                )?
                .get(0);
            let cond = w.sql.clone();
            let lim = w.arg(limit.min(i64::MAX as u64) as i64);
            let off = w.arg(offset.min(i64::MAX as u64) as i64);
            let sql = format!(
                "{SELECT} WHERE {cond} ORDER BY l.created_ms DESC, l.lead_id LIMIT {lim} OFFSET {off}"
            );
            let rows = c.query(&sql, &w.refs())?.iter().map(row).collect();
            Ok((rows, total as u64))
        })
    }

    fn lead(&self, scope: &Scope, lead_id: Uuid) -> Result<Option<LeadRow>, StorageError> {
        self.with(|c| lead_in(c, scope, lead_id))
    }

    fn lead_versions(
        &self,
        scope: &Scope,
        lead_id: Uuid,
    ) -> Result<Vec<LeadVersion>, StorageError> {
        self.with(|c| {
            if lead_in(c, scope, lead_id)?.is_none() {
                return Ok(Vec::new());
            }
            Ok(c.query(
                "SELECT id, replaced_ms, updated_ms, source, name, organisation, email, phone,
                        country, title
                 FROM lead_versions WHERE lead_id = $1 ORDER BY id DESC",
                &[&lead_id.as_bytes().as_slice()],
            )?
            .iter()
            .map(|r| LeadVersion {
                id: r.get(0),
                replaced_ms: r.get(1),
                updated_ms: r.get(2),
                source: r.get(3),
                contact: protocol::Contact {
                    name: r.get(4),
                    organisation: r.get(5),
                    email: r.get(6),
                    phone: r.get(7),
                    country: r.get(8),
                    title: r.get(9),
                },
            })
            .collect())
        })
    }

    fn restore_lead_version(
        &self,
        scope: &Scope,
        lead_id: Uuid,
        version: i64,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            lock_leads(&mut tx, [lead_id])?;
            if lead_in(&mut tx, scope, lead_id)?.is_none() {
                return Ok(false);
            }
            let n = tx.execute(
                "UPDATE leads SET (name, organisation, email, phone, country, title, updated_ms) =
                    (SELECT name, organisation, email, phone, country, title, $3::BIGINT
                     FROM lead_versions WHERE id = $2 AND lead_id = $1)
                 WHERE lead_id = $1 AND erased_ms IS NULL
                   AND EXISTS (SELECT 1 FROM lead_versions WHERE id = $2 AND lead_id = $1)",
                &[&lead_id.as_bytes().as_slice(), &version, &now_ms],
            )?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn update_lead(
        &self,
        scope: &Scope,
        lead_id: Uuid,
        status: &str,
        notes: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        if !LEAD_STATUSES.contains(&status) {
            return Ok(false);
        }
        self.with(|c| {
            let mut tx = c.transaction()?;
            lock_leads(&mut tx, [lead_id])?;
            if lead_in(&mut tx, scope, lead_id)?.is_none() {
                return Ok(false);
            }
            let n = tx.execute(
                "UPDATE leads SET status = $2, notes = $3, updated_ms = $4
                 WHERE lead_id = $1 AND erased_ms IS NULL",
                &[
                    &lead_id.as_bytes().as_slice(),
                    &status,
                    &pg_text(notes).as_ref(),
                    &now_ms,
                ],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn duplicates(&self, scope: &Scope) -> Result<Vec<Vec<LeadRow>>, StorageError> {
        let base = Where::new(scope, &LeadFilter::default());
        self.with(|c| {
            let mut groups = leads::DuplicateGroups::default();
            for (key, column) in [
                ("lower(l.email)", "l.email"),
                ("replace(replace(l.phone, ' ', ''), '-', '')", "l.phone"),
            ] {
                let sql = format!(
                    "SELECT COALESCE(l.event_id, ''), {key} {FROM}
                     WHERE {} AND {column} <> '' GROUP BY 1, 2 HAVING count(*) > 1
                     ORDER BY COALESCE(l.event_id, '') COLLATE \"C\", {key} COLLATE \"C\"",
                    base.sql
                );
                let keys: Vec<(String, String)> = c
                    .query(&sql, &base.refs())?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                for (event, value) in keys {
                    let mut w = Where::new(scope, &LeadFilter::default());
                    w.and("COALESCE(l.event_id, '') = ", event);
                    w.and(&format!("{key} = "), value);
                    let rows = rows_where(c, &w)?;
                    groups.add(rows);
                }
            }
            Ok(groups.into_groups())
        })
    }

    fn merge_leads(
        &self,
        scope: &Scope,
        keep: Uuid,
        others: &[Uuid],
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        let merged = self.with(|c| {
            let mut tx = c.transaction()?;
            lock_leads(&mut tx, std::iter::once(keep).chain(others.iter().copied()))?;
            let Some(mut kept) = lead_in(&mut tx, scope, keep)? else {
                return Ok(Vec::new());
            };
            let mut found = Vec::new();
            for id in others.iter().filter(|id| **id != keep) {
                found.extend(lead_in(&mut tx, scope, *id)?);
            }
            let merged = leads::merge(&mut kept, &found);
            let k = &kept.contact;
            let t = |s: &str| pg_text(s).into_owned();
            tx.execute(
                "UPDATE leads SET name = $2, organisation = $3, email = $4, phone = $5,
                 country = $6, title = $7, interests = $8, notes = $9, updated_ms = $10
                 WHERE lead_id = $1",
                &[
                    &keep.as_bytes().as_slice(),
                    &t(&k.name),
                    &t(&k.organisation),
                    &t(&k.email),
                    &t(&k.phone),
                    &t(&k.country),
                    &t(&k.title),
                    &t(&leads::interests_json(&kept.interests)),
                    &t(&kept.notes),
                    &now_ms,
                ],
            )?;
            if !merged.is_empty() {
                let ids: Vec<&[u8]> = merged.iter().map(|i| i.as_bytes().as_slice()).collect();
                tx.execute(
                    "UPDATE leads SET merged_into = $2 WHERE lead_id = ANY($1)",
                    &[&ids, &keep.as_bytes().as_slice()],
                )?;
            }
            tx.commit()?;
            Ok(merged)
        })?;
        for id in &merged {
            Storage::erase_lead(self, *id, now_ms)?;
        }
        Ok(merged.len())
    }

    fn leads_of_person(&self, email_or_phone: &str) -> Result<Vec<LeadRow>, StorageError> {
        let Some(who) = protocol::contact::PersonKey::parse(email_or_phone) else {
            return Ok(Vec::new());
        };
        self.with(|c| {
            // Emails against emails, phones against phones, each normalised the one way
            // (`protocol::contact`); never a suffix or a substring.
            let ids: Vec<Vec<u8>> = c
                .query(
                    "SELECT lead_id, email, phone FROM leads
                     WHERE erased_ms IS NULL AND (email <> '' OR phone <> '')",
                    &[],
                )?
                .iter()
                .filter(|r| who.matches(r.get(1), r.get(2)))
                .map(|r| r.get::<_, Vec<u8>>(0))
                .collect();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut w = Where {
                sql: String::from("l.erased_ms IS NULL"),
                args: Vec::new(),
            };
            let p = w.arg(ids);
            w.sql.push_str(&format!(" AND l.lead_id = ANY({p})"));
            rows_where(c, &w)
        })
    }

    fn events(&self) -> Result<Vec<EventRow>, StorageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT id, name, kind, starts, ends, venue, country, languages, org, responsible
                 FROM events ORDER BY starts COLLATE \"C\" DESC, id COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| EventRow {
                id: r.get(0),
                name: r.get(1),
                kind: r.get(2),
                starts: r.get(3),
                ends: r.get(4),
                venue: r.get(5),
                country: r.get(6),
                languages: r.get(7),
                org: r.get(8),
                responsible: r.get(9),
            })
            .collect())
        })
    }

    fn event_id_in_use(&self, id: &str) -> Result<bool, StorageError> {
        self.with(|c| {
            // rollup_kinds holds every event id that records carried, with an index.
            Ok(c.query_one(
                "SELECT EXISTS (SELECT 1 FROM rollup_kinds WHERE event_id = $1)
                        OR EXISTS (SELECT 1 FROM kiosks WHERE event_id = $1)
                        OR EXISTS (SELECT 1 FROM kiosk_events WHERE event_id = $1)
                        OR EXISTS (SELECT 1 FROM leads WHERE event_id = $1)",
                &[&pg_text(id).as_ref()],
            )?
            .get(0))
        })
    }

    fn upsert_event(&self, e: &EventRow, now_ms: i64) -> Result<(), StorageError> {
        let t = |s: &str| pg_text(s).into_owned();
        self.with(|c| {
            c.execute(
                "INSERT INTO events(id, name, kind, starts, ends, venue, country, languages, org,
                     responsible, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                 ON CONFLICT (id) DO UPDATE SET name = $2, kind = $3, starts = $4, ends = $5,
                     venue = $6, country = $7, languages = $8, org = $9, responsible = $10,
                     updated_ms = $11",
                &[
                    &t(&e.id),
                    &t(&e.name),
                    &t(&e.kind),
                    &t(&e.starts),
                    &t(&e.ends),
                    &t(&e.venue),
                    &t(&e.country),
                    &t(&e.languages),
                    &t(&e.org),
                    &t(&e.responsible),
                    &now_ms,
                ],
            )?;
            Ok(())
        })
    }

    fn orgs(&self) -> Result<Vec<(String, Option<i64>)>, StorageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT name, retention_days FROM orgs ORDER BY name COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn upsert_org(&self, name: &str, retention_days: Option<i64>) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO orgs(name, retention_days) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET retention_days = $2",
                &[&pg_text(name).as_ref(), &retention_days],
            )?;
            Ok(())
        })
    }

    fn raw_scans_of_person(&self, email_or_phone: &str) -> Result<Vec<RawScanRow>, StorageError> {
        let Some(who) = protocol::contact::PersonKey::parse(email_or_phone) else {
            return Ok(Vec::new());
        };
        self.with(|c| {
            Ok(c.query(
                "SELECT r.kiosk, r.seq, coalesce(k.name, ''), coalesce(r.event_id, ''),
                        r.corrected_ms, r.body
                 FROM records r LEFT JOIN kiosks k ON k.id = r.kiosk
                 WHERE r.kind = 'raw_scan' ORDER BY r.corrected_ms DESC, r.kiosk, r.seq",
                &[],
            )?
            .iter()
            .filter_map(|r| {
                let raw = erasure::raw_scan_text(r.get(5))?;
                erasure::scan_mentions(&raw, &who).then(|| RawScanRow {
                    kiosk: r.get(0),
                    seq: r.get(1),
                    kiosk_name: r.get(2),
                    event_id: r.get(3),
                    at_ms: r.get(4),
                    raw,
                })
            })
            .collect())
        })
    }

    fn erase_raw_scans(&self, scans: &[(i64, i64)], now_ms: i64) -> Result<usize, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = erase_scans(&mut tx, scans, now_ms)?;
            tx.commit()?;
            Ok(n)
        })
    }

    fn expire_raw_scans(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let scans: Vec<(i64, i64)> = tx
                .query(
                    &format!(
                        "SELECT r.kiosk, r.seq FROM records r LEFT JOIN events e ON e.id = r.event_id
                         JOIN orgs o ON o.name = COALESCE(e.org, $2)
                         WHERE r.kind = 'raw_scan' AND o.retention_days IS NOT NULL
                           AND r.corrected_ms < {RETENTION_CUTOFF}
                           AND r.body NOT LIKE '%\"erased_ms\"%'"
                    ),
                    &[&now_ms, &ALL_LEADS_ORG],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let n = erase_scans(&mut tx, &scans, now_ms)?;
            tx.commit()?;
            Ok(n)
        })
    }

    fn expired_leads(&self, now_ms: i64) -> Result<Vec<Uuid>, StorageError> {
        // Leads of an event no unit has registered fall under the unit that sees them all.
        self.with(|c| {
            Ok(c.query(
                &format!(
                    "SELECT l.lead_id FROM leads l LEFT JOIN events e ON e.id = l.event_id
                     JOIN orgs o ON o.name = COALESCE(e.org, $2)
                     WHERE l.erased_ms IS NULL AND o.retention_days IS NOT NULL
                       AND l.created_ms < {RETENTION_CUTOFF}"
                ),
                &[&now_ms, &ALL_LEADS_ORG],
            )?
            .iter()
            .filter_map(|r| Uuid::from_slice(r.get::<_, &[u8]>(0)).ok())
            .collect())
        })
    }

    fn consent_text(&self, digest: &str) -> Result<Option<ConsentText>, StorageError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT digest, text_id, lang, text, first_seen_ms FROM consent_texts
                 WHERE digest = $1",
                &[&pg_text(digest).as_ref()],
            )?
            .map(|r| ConsentText {
                digest: r.get(0),
                text_id: r.get(1),
                lang: r.get(2),
                text: r.get(3),
                first_seen_ms: r.get(4),
            }))
        })
    }
}

/// Keeps a consent text's version the first time a lead agrees to it (later sightings leave
/// the first one as it was).
pub(crate) fn archive_consent(
    c: &mut impl GenericClient,
    t: &ConsentText,
) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO consent_texts(digest, text_id, lang, text, first_seen_ms)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[
            &pg_text(&t.digest).as_ref(),
            &pg_text(&t.text_id).as_ref(),
            &pg_text(&t.lang).as_ref(),
            &pg_text(&t.text).as_ref(),
            &t.first_seen_ms,
        ],
    )?;
    Ok(())
}
