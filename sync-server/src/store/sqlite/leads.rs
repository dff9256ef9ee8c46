//! The SQLite implementation of [`LeadStorage`]: the leads table with its filters, scopes by
//! organising unit, duplicates and merging, events, units and retention, the audit log.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use uuid::Uuid;

use super::SqliteStorage;
use crate::store::leads::{self, Condition};
use crate::store::*;

const SELECT: &str = "SELECT l.lead_id, l.created_ms, l.updated_ms, COALESCE(l.event_id, ''),
    COALESCE(e.name, ''), COALESCE(e.org, ''), COALESCE(k.name, ''), COALESCE(l.item, ''),
    COALESCE(l.lang, ''), l.source, l.name, l.organisation, l.email, l.phone, l.country, l.title,
    l.interests, l.status, l.notes, l.consent
    FROM leads l LEFT JOIN events e ON e.id = l.event_id LEFT JOIN kiosks k ON k.id = l.kiosk";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LeadRow> {
    let id: Vec<u8> = r.get(0)?;
    let interests: String = r.get(16)?;
    let consent: Option<String> = r.get(19)?;
    Ok(LeadRow {
        lead_id: Uuid::from_slice(&id).unwrap_or_default(),
        created_ms: r.get(1)?,
        updated_ms: r.get(2)?,
        event_id: r.get(3)?,
        event_name: r.get(4)?,
        org: r.get(5)?,
        kiosk_name: r.get(6)?,
        item: r.get(7)?,
        lang: r.get(8)?,
        source: r.get(9)?,
        contact: protocol::Contact {
            name: r.get(10)?,
            organisation: r.get(11)?,
            email: r.get(12)?,
            phone: r.get(13)?,
            country: r.get(14)?,
            title: r.get(15)?,
        },
        interests: leads::interests_of(&interests),
        status: r.get(17)?,
        notes: r.get(18)?,
        consent: leads::consent_of(consent.as_deref()),
    })
}

/// The WHERE clause (after `l.erased_ms IS NULL`) and its arguments.
fn conditions(scope: &Scope, f: &LeadFilter) -> (String, Vec<Value>) {
    let mut sql = String::from("l.erased_ms IS NULL");
    let mut args: Vec<Value> = Vec::new();
    for cond in leads::conditions(scope, f) {
        let (clause, v) = match cond {
            Condition::Org(o) => ("e.org = ?", Value::Text(o)),
            Condition::Event(e) => ("l.event_id = ?", Value::Text(e)),
            Condition::Kiosk(k) => ("k.name = ?", Value::Text(k)),
            Condition::CreatedFrom(ms) => ("l.created_ms >= ?", Value::Integer(ms)),
            Condition::CreatedBefore(ms) => ("l.created_ms < ?", Value::Integer(ms)),
            Condition::Country(c) => ("l.country = ? COLLATE NOCASE", Value::Text(c)),
            Condition::Lang(l) => ("l.lang = ?", Value::Text(l)),
            Condition::Interest(i) => (
                "EXISTS (SELECT 1 FROM json_each(l.interests) WHERE json_each.value = ?)",
                Value::Text(i),
            ),
            Condition::Source(s) => ("l.source = ?", Value::Text(s)),
            Condition::Status(s) => ("l.status = ?", Value::Text(s)),
            Condition::Text(like) => {
                sql.push_str(
                    " AND (l.name LIKE ? ESCAPE '\\' OR l.organisation LIKE ? ESCAPE '\\'
              OR l.email LIKE ? ESCAPE '\\' OR l.phone LIKE ? ESCAPE '\\'
              OR l.notes LIKE ? ESCAPE '\\')",
                );
                for _ in 0..5 {
                    args.push(Value::Text(like.clone()));
                }
                continue;
            }
        };
        sql.push_str(" AND ");
        sql.push_str(clause);
        args.push(v);
    }
    (sql, args)
}

fn rows_where(
    c: &Connection,
    where_sql: &str,
    args: Vec<Value>,
) -> Result<Vec<LeadRow>, StorageError> {
    let sql = format!("{SELECT} WHERE {where_sql} ORDER BY l.created_ms DESC, l.lead_id");
    let mut q = c.prepare(&sql)?;
    let rows = q
        .query_map(params_from_iter(args), row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

impl LeadStorage for SqliteStorage {
    fn leads(
        &self,
        scope: &Scope,
        filter: &LeadFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<LeadRow>, u64), StorageError> {
        let (cond, args) = conditions(scope, filter);
        self.read(|c| {
            let total: i64 = c.query_row(
                &format!(
                    "SELECT count(*) FROM leads l LEFT JOIN events e ON e.id = l.event_id
                     LEFT JOIN kiosks k ON k.id = l.kiosk WHERE {cond}"
                ),
                params_from_iter(args.clone()),
                |r| r.get(0),
            )?;
            let mut page_args = args;
            page_args.push(Value::Integer(limit.min(i64::MAX as u64) as i64));
            page_args.push(Value::Integer(offset.min(i64::MAX as u64) as i64));
            let sql = format!(
                "{SELECT} WHERE {cond} ORDER BY l.created_ms DESC, l.lead_id LIMIT ? OFFSET ?"
            );
            let mut q = c.prepare(&sql)?;
            let rows = q
                .query_map(params_from_iter(page_args), row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rows, total as u64))
        })
    }

    fn lead(&self, scope: &Scope, lead_id: Uuid) -> Result<Option<LeadRow>, StorageError> {
        let (cond, mut args) = conditions(scope, &LeadFilter::default());
        args.push(Value::Blob(lead_id.as_bytes().to_vec()));
        self.read(|c| {
            Ok(rows_where(c, &format!("{cond} AND l.lead_id = ?"), args)?
                .into_iter()
                .next())
        })
    }

    fn lead_versions(
        &self,
        scope: &Scope,
        lead_id: Uuid,
    ) -> Result<Vec<LeadVersion>, StorageError> {
        if self.lead(scope, lead_id)?.is_none() {
            return Ok(Vec::new());
        }
        self.read(|c| {
            let mut q = c.prepare(
                "SELECT id, replaced_ms, updated_ms, source, name, organisation, email, phone, country, title
                 FROM lead_versions WHERE lead_id = ?1 ORDER BY id DESC",
            )?;
            let rows = q
                .query_map([lead_id.as_bytes().as_slice()], |r| {
                    Ok(LeadVersion {
                        id: r.get(0)?,
                        replaced_ms: r.get(1)?,
                        updated_ms: r.get(2)?,
                        source: r.get(3)?,
                        contact: protocol::Contact {
                            name: r.get(4)?,
                            organisation: r.get(5)?,
                            email: r.get(6)?,
                            phone: r.get(7)?,
                            country: r.get(8)?,
                            title: r.get(9)?,
                        },
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn restore_lead_version(
        &self,
        scope: &Scope,
        lead_id: Uuid,
        version: i64,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        if self.lead(scope, lead_id)?.is_none() {
            return Ok(false);
        }
        self.write(|c| {
            let n = c.execute(
                "UPDATE leads SET (name, organisation, email, phone, country, title, updated_ms) =
                    (SELECT name, organisation, email, phone, country, title, ?3
                     FROM lead_versions WHERE id = ?2 AND lead_id = ?1)
                 WHERE lead_id = ?1 AND erased_ms IS NULL
                   AND EXISTS (SELECT 1 FROM lead_versions WHERE id = ?2 AND lead_id = ?1)",
                params![lead_id.as_bytes().as_slice(), version, now_ms],
            )?;
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
        if !LEAD_STATUSES.contains(&status) || self.lead(scope, lead_id)?.is_none() {
            return Ok(false);
        }
        self.write(|c| {
            let n = c.execute(
                "UPDATE leads SET status = ?2, notes = ?3, updated_ms = ?4
                 WHERE lead_id = ?1 AND erased_ms IS NULL",
                params![lead_id.as_bytes().as_slice(), status, notes, now_ms],
            )?;
            Ok(n == 1)
        })
    }

    fn duplicates(&self, scope: &Scope) -> Result<Vec<Vec<LeadRow>>, StorageError> {
        let (cond, args) = conditions(scope, &LeadFilter::default());
        self.read(|c| {
            let mut groups = leads::DuplicateGroups::default();
            for key in [
                "lower(l.email)",
                "replace(replace(l.phone, ' ', ''), '-', '')",
            ] {
                let column = if key.contains("email") {
                    "l.email"
                } else {
                    "l.phone"
                };
                let sql = format!(
                    "SELECT COALESCE(l.event_id, ''), {key} FROM leads l
                     LEFT JOIN events e ON e.id = l.event_id LEFT JOIN kiosks k ON k.id = l.kiosk
                     WHERE {cond} AND {column} <> '' GROUP BY 1, 2 HAVING count(*) > 1"
                );
                let keys: Vec<(String, String)> = {
                    let mut q = c.prepare(&sql)?;
                    q.query_map(params_from_iter(args.clone()), |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<Result<_, _>>()?
                };
                for (event, value) in keys {
                    let mut a = args.clone();
                    a.push(Value::Text(event));
                    a.push(Value::Text(value));
                    let rows = rows_where(
                        c,
                        &format!("{cond} AND COALESCE(l.event_id, '') = ? AND {key} = ?"),
                        a,
                    )?;
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
        let Some(mut kept) = self.lead(scope, keep)? else {
            return Ok(0);
        };
        let mut found = Vec::new();
        for id in others.iter().filter(|id| **id != keep) {
            found.extend(self.lead(scope, *id)?);
        }
        let merged = leads::merge(&mut kept, &found);
        self.write(|c| {
            let tx = c.transaction()?;
            let k = &kept.contact;
            tx.execute(
                "UPDATE leads SET name = ?2, organisation = ?3, email = ?4, phone = ?5,
                 country = ?6, title = ?7, interests = ?8, notes = ?9, updated_ms = ?10
                 WHERE lead_id = ?1",
                params![
                    keep.as_bytes().as_slice(),
                    k.name,
                    k.organisation,
                    k.email,
                    k.phone,
                    k.country,
                    k.title,
                    leads::interests_json(&kept.interests),
                    kept.notes,
                    now_ms
                ],
            )?;
            for id in &merged {
                tx.execute(
                    "UPDATE leads SET merged_into = ?2 WHERE lead_id = ?1",
                    params![id.as_bytes().as_slice(), keep.as_bytes().as_slice()],
                )?;
            }
            tx.commit()?;
            Ok(())
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
        self.read(|c| {
            // Emails against emails, phones against phones, each normalised the one way
            // (`protocol::contact`); never a suffix or a substring.
            let mut q = c.prepare(
                "SELECT lead_id, email, phone FROM leads
                 WHERE erased_ms IS NULL AND (email != '' OR phone != '')",
            )?;
            let ids: Vec<Vec<u8>> = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .filter_map(Result::ok)
                .filter(|(_, email, phone)| who.matches(email, phone))
                .map(|(id, _, _)| id)
                .collect();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let marks = vec!["?"; ids.len()].join(",");
            rows_where(
                c,
                &format!("l.erased_ms IS NULL AND l.lead_id IN ({marks})"),
                ids.into_iter().map(Value::Blob).collect(),
            )
        })
    }

    fn events(&self) -> Result<Vec<EventRow>, StorageError> {
        self.read(|c| {
            let mut q = c.prepare(
                "SELECT id, name, kind, starts, ends, venue, country, languages, org, responsible
                 FROM events ORDER BY starts DESC, id",
            )?;
            let rows = q
                .query_map([], |r| {
                    Ok(EventRow {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        kind: r.get(2)?,
                        starts: r.get(3)?,
                        ends: r.get(4)?,
                        venue: r.get(5)?,
                        country: r.get(6)?,
                        languages: r.get(7)?,
                        org: r.get(8)?,
                        responsible: r.get(9)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn event_id_in_use(&self, id: &str) -> Result<bool, StorageError> {
        self.read(|c| {
            // rollup_kinds holds every event id that records carried, with an index.
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM rollup_kinds WHERE event_id = ?1)
                        OR EXISTS (SELECT 1 FROM kiosks WHERE event_id = ?1)
                        OR EXISTS (SELECT 1 FROM kiosk_events WHERE event_id = ?1)
                        OR EXISTS (SELECT 1 FROM leads WHERE event_id = ?1)",
            )?
            .query_row([id], |r| r.get(0))?)
        })
    }

    fn upsert_event(&self, e: &EventRow, now_ms: i64) -> Result<(), StorageError> {
        self.write(|c| {
            c.execute(
                "INSERT INTO events(id, name, kind, starts, ends, venue, country, languages, org,
                     responsible, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
                 ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, starts = ?4, ends = ?5,
                     venue = ?6, country = ?7, languages = ?8, org = ?9, responsible = ?10,
                     updated_ms = ?11",
                params![
                    e.id,
                    e.name,
                    e.kind,
                    e.starts,
                    e.ends,
                    e.venue,
                    e.country,
                    e.languages,
                    e.org,
                    e.responsible,
                    now_ms
                ],
            )?;
            Ok(())
        })
    }

    fn orgs(&self) -> Result<Vec<(String, Option<i64>)>, StorageError> {
        self.read(|c| {
            let mut q = c.prepare("SELECT name, retention_days FROM orgs ORDER BY name")?;
            let rows = q
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn upsert_org(&self, name: &str, retention_days: Option<i64>) -> Result<(), StorageError> {
        self.write(|c| {
            c.execute(
                "INSERT INTO orgs(name, retention_days) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET retention_days = ?2",
                params![name, retention_days],
            )?;
            Ok(())
        })
    }

    fn raw_scans_of_person(&self, email_or_phone: &str) -> Result<Vec<RawScanRow>, StorageError> {
        let Some(who) = protocol::contact::PersonKey::parse(email_or_phone) else {
            return Ok(Vec::new());
        };
        self.read(|c| {
            let mut q = c.prepare(
                "SELECT r.kiosk, r.seq, coalesce(k.name, ''), coalesce(r.event_id, ''), r.corrected_ms, r.body
                 FROM records r LEFT JOIN kiosks k ON k.id = r.kiosk
                 WHERE r.kind = 'raw_scan' ORDER BY r.corrected_ms DESC",
            )?;
            let rows = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })?
                .filter_map(Result::ok)
                .filter_map(|(kiosk, seq, kiosk_name, event_id, at_ms, body)| {
                    let raw = crate::store::erasure::raw_scan_text(&body)?;
                    crate::store::erasure::scan_mentions(&raw, &who).then_some(RawScanRow {
                        kiosk,
                        seq,
                        kiosk_name,
                        event_id,
                        at_ms,
                        raw,
                    })
                })
                .collect();
            Ok(rows)
        })
    }

    fn erase_raw_scans(&self, scans: &[(i64, i64)], now_ms: i64) -> Result<usize, StorageError> {
        self.write(|c| {
            let tx = c.transaction()?;
            let n = erase_scans(&tx, scans, now_ms)?;
            tx.commit()?;
            Ok(n)
        })
    }

    fn expire_raw_scans(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.write(|c| {
            let tx = c.transaction()?;
            let scans: Vec<(i64, i64)> = {
                let mut q = tx.prepare(
                    "SELECT r.kiosk, r.seq FROM records r LEFT JOIN events e ON e.id = r.event_id
                     JOIN orgs o ON o.name = COALESCE(e.org, ?2)
                     WHERE r.kind = 'raw_scan' AND o.retention_days IS NOT NULL
                       AND r.corrected_ms < ?1 - o.retention_days * 86400000
                       AND r.body NOT LIKE '%\"erased_ms\"%'",
                )?;
                q.query_map(params![now_ms, ALL_LEADS_ORG], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?
            };
            let n = erase_scans(&tx, &scans, now_ms)?;
            tx.commit()?;
            Ok(n)
        })
    }

    fn expired_leads(&self, now_ms: i64) -> Result<Vec<Uuid>, StorageError> {
        // Leads of an event no unit has registered fall under the unit that sees them all.
        self.read(|c| {
            let mut q = c.prepare(
                "SELECT l.lead_id FROM leads l LEFT JOIN events e ON e.id = l.event_id
                 JOIN orgs o ON o.name = COALESCE(e.org, ?2)
                 WHERE l.erased_ms IS NULL AND o.retention_days IS NOT NULL
                   AND l.created_ms < ?1 - o.retention_days * 86400000",
            )?;
            let ids = q
                .query_map(params![now_ms, ALL_LEADS_ORG], |r| r.get::<_, Vec<u8>>(0))?
                .filter_map(|r| r.ok())
                .filter_map(|b| Uuid::from_slice(&b).ok())
                .collect();
            Ok(ids)
        })
    }

    fn consent_text(&self, digest: &str) -> Result<Option<ConsentText>, StorageError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT digest, text_id, lang, text, first_seen_ms FROM consent_texts
                 WHERE digest = ?1",
                [digest],
                |r| {
                    Ok(ConsentText {
                        digest: r.get(0)?,
                        text_id: r.get(1)?,
                        lang: r.get(2)?,
                        text: r.get(3)?,
                        first_seen_ms: r.get(4)?,
                    })
                },
            )
            .optional()?)
        })
    }
}

/// Keeps a consent text's version the first time a lead agrees to it (later sightings leave
/// the first one as it was).
pub(crate) fn archive_consent(c: &Connection, t: &ConsentText) -> Result<(), StorageError> {
    c.prepare_cached(
        "INSERT INTO consent_texts(digest, text_id, lang, text, first_seen_ms)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        t.digest,
        t.text_id,
        t.lang,
        t.text,
        t.first_seen_ms
    ])?;
    Ok(())
}

/// Replaces raw scans' text with nothing, keeping kind, reason and when it was erased.
pub(crate) fn erase_scans(
    c: &Connection,
    scans: &[(i64, i64)],
    now_ms: i64,
) -> Result<usize, StorageError> {
    let mut n = 0;
    let mut get = c.prepare_cached(
        "SELECT body FROM records WHERE kiosk = ?1 AND seq = ?2 AND kind = 'raw_scan'",
    )?;
    let mut put = c.prepare_cached("UPDATE records SET body = ?3 WHERE kiosk = ?1 AND seq = ?2")?;
    for (kiosk, seq) in scans {
        let Some(body): Option<String> = get
            .query_row(params![kiosk, seq], |r| r.get(0))
            .optional()?
        else {
            continue;
        };
        let erased = crate::store::erasure::erased_scan_body(&body, now_ms);
        n += put.execute(params![kiosk, seq, erased])?;
    }
    Ok(n)
}
