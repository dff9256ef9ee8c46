//! The SQLite side of delegation visits (migration 07): delegations mirrored from a content
//! pack into `events` and `delegation_members` at import, a `visits` row per visit kept at
//! ingest, and [`VisitStorage`] for the visits pages. The `visits` table is small (a few
//! visits a week), so its queries scan it freely; QR opens are found by nonce (indexed).

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use protocol::content::{Delegation, Member};
use protocol::record::VisitBody;

use super::SqliteStorage;
use crate::store::visits;
use crate::store::*;

/// Stores a visit just received (in the ingest transaction). A visit already stored (the
/// same visit pushed again, or sent once more by a kiosk restored from a backup) is left as
/// it is. `corrected_ms` is the record's time: the visit's end.
pub(crate) fn insert_visit(
    tx: &Connection,
    kiosk: i64,
    visit: &VisitBody,
    corrected_ms: i64,
    now_ms: i64,
) -> Result<(), StorageError> {
    let v = crate::store::visits::VisitColumns::of(visit, corrected_ms)?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO visits(visit_id, kiosk, delegation, deck, started_ms, ended_ms,
            duration_ms, attendees, blank_ms, slides, qr_nonces, ended, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        visit.visit_id.as_bytes().as_slice(),
        kiosk,
        visit.delegation,
        visit.deck,
        v.started_ms,
        v.ended_ms,
        v.duration_ms,
        v.attendees,
        v.blank_ms,
        v.slides,
        v.qr_nonces,
        visit.ended.as_str(),
        now_ms,
    ])?;
    Ok(())
}

use crate::store::erasure::{delegation_name, member_hash};

/// See [`Storage::save_delegations`].
pub(crate) fn save_delegations(
    c: &mut Connection,
    delegations: &[Delegation],
    now_ms: i64,
) -> Result<(), StorageError> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut existing = tx.prepare_cached("SELECT kind, org FROM events WHERE id = ?1")?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO events(id, name, kind, starts, ends, country, languages, org,
                 responsible, created_ms, updated_ms)
             VALUES (?1, ?2, 'delegation', ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT(id) DO UPDATE SET name = ?2, kind = 'delegation', starts = ?3,
                 ends = ?3, country = ?4, languages = ?5, org = ?6, responsible = ?7,
                 updated_ms = ?8",
        )?;
        let mut clear =
            tx.prepare_cached("DELETE FROM delegation_members WHERE delegation = ?1")?;
        let mut member = tx.prepare_cached(
            "INSERT INTO delegation_members(delegation, position, name, title, organisation)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut erased = tx.prepare_cached(
            "SELECT 1 FROM erased_members WHERE delegation = ?1 AND name_hash = ?2",
        )?;
        for d in delegations {
            let org = d.org.trim();
            let owner: Option<(String, String)> = existing
                .query_row([&d.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            // A fair or a meeting of another unit keeps its id: its leads stay that unit's.
            if let Some((kind, other)) = owner
                && kind != "delegation"
                && other != org
            {
                return Err(StorageError::Invalid(format!(
                    "delegation \"{}\": the id is already the {kind} \"{}\" of {other}; \
                     give the delegation another id",
                    d.id, d.id
                )));
            }
            upsert.execute(params![
                d.id,
                delegation_name(d),
                d.date.trim(),
                d.country.trim().to_ascii_uppercase(),
                d.languages.join(","),
                org,
                d.host.trim(),
                now_ms
            ])?;
            // A delegation with a count but no list (a pack exported from the server, where
            // the names never leave) keeps the list the server has.
            if d.members.is_empty() && d.member_count > 0 {
                continue;
            }
            clear.execute([&d.id])?;
            for (i, m) in d.members.iter().enumerate() {
                // A member staff erased stays erased, whatever the pack still says.
                if erased.exists(params![d.id, member_hash(&d.id, &m.name)])? {
                    continue;
                }
                member.execute(params![
                    d.id,
                    i as i64,
                    m.name.trim(),
                    m.title.trim(),
                    m.organisation.trim()
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// The delegations' rows with their counts; `id` narrows to one delegation.
const DELEGATIONS: &str = "
    WITH d(id) AS (
        SELECT id FROM events WHERE kind = 'delegation'
        UNION SELECT delegation FROM visits
    )
    SELECT d.id, COALESCE(e.name, d.id), COALESCE(e.starts, ''), COALESCE(e.country, ''),
        COALESCE(e.languages, ''), COALESCE(e.responsible, ''), COALESCE(e.org, ''),
        (SELECT count(*) FROM visits v WHERE v.delegation = d.id),
        (SELECT coalesce(sum(attendees), 0) FROM visits v WHERE v.delegation = d.id),
        (SELECT count(*) FROM qr_opens o WHERE o.nonce IN (SELECT j.value
            FROM visits v, json_each(v.qr_nonces) j WHERE v.delegation = d.id)),
        (SELECT count(*) FROM leads l WHERE l.event_id = d.id AND l.erased_ms IS NULL)
    FROM d LEFT JOIN events e ON e.id = d.id
    WHERE (?1 IS NULL OR COALESCE(e.org, '') = ?1) AND (?2 IS NULL OR d.id = ?2)
    ORDER BY COALESCE(e.starts, '') DESC, d.id";

fn delegation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DelegationRow> {
    Ok(DelegationRow {
        id: r.get(0)?,
        name: r.get(1)?,
        date: r.get(2)?,
        country: r.get(3)?,
        languages: r.get(4)?,
        host: r.get(5)?,
        org: r.get(6)?,
        visits: r.get(7)?,
        attendees: r.get(8)?,
        qr_opens: r.get(9)?,
        leads: r.get(10)?,
    })
}

fn visit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VisitRow> {
    let id: Vec<u8> = r.get(0)?;
    let slides: String = r.get(8)?;
    let nonces: String = r.get(9)?;
    Ok(VisitRow {
        visit_id: Uuid::from_slice(&id).unwrap_or_default(),
        kiosk_name: r.get(1)?,
        deck: r.get(2)?,
        started_ms: r.get(3)?,
        ended_ms: r.get(4)?,
        duration_ms: r.get(5)?,
        attendees: r.get(6)?,
        blank_ms: r.get(7)?,
        slides: visits::stored_slides(&slides),
        qr_nonces: visits::stored_nonces(&nonces),
        ended: r.get(10)?,
    })
}

impl VisitStorage for SqliteStorage {
    fn delegations(&self, scope: &Scope) -> Result<Vec<DelegationRow>, StorageError> {
        self.read(|c| {
            let mut q = c.prepare_cached(DELEGATIONS)?;
            let rows = q
                .query_map(params![scope.org(), None::<String>], delegation_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn delegation_report(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<DelegationReport>, StorageError> {
        self.read(|c| {
            let Some(delegation) = c
                .prepare_cached(DELEGATIONS)?
                .query_row(params![scope.org(), id], delegation_row)
                .optional()?
            else {
                return Ok(None);
            };
            let members = c
                .prepare_cached(
                    "SELECT name, title, organisation FROM delegation_members
                     WHERE delegation = ?1 ORDER BY position",
                )?
                .query_map([id], |r| {
                    Ok(Member {
                        name: r.get(0)?,
                        title: r.get(1)?,
                        organisation: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let visits = c
                .prepare_cached(
                    "SELECT v.visit_id, COALESCE(k.name, ''), v.deck, v.started_ms, v.ended_ms,
                        v.duration_ms, v.attendees, v.blank_ms, v.slides, v.qr_nonces, v.ended
                     FROM visits v LEFT JOIN kiosks k ON k.id = v.kiosk
                     WHERE v.delegation = ?1 ORDER BY v.started_ms, v.visit_id",
                )?
                .query_map([id], visit_row)?
                .collect::<Result<Vec<_>, _>>()?;
            let opens = c
                .prepare_cached(
                    "SELECT o.at_ms, o.nonce, COALESCE(k.name, ''), o.lang, o.purpose
                     FROM qr_opens o LEFT JOIN kiosks k ON k.id = o.kiosk
                     WHERE o.nonce IN (SELECT j.value FROM visits v, json_each(v.qr_nonces) j
                        WHERE v.delegation = ?1)
                     ORDER BY o.at_ms, o.id",
                )?
                .query_map([id], |r| {
                    Ok(VisitOpen {
                        at_ms: r.get(0)?,
                        nonce: r.get(1)?,
                        kiosk_name: r.get(2)?,
                        lang: r.get(3)?,
                        purpose: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(DelegationReport {
                delegation,
                members,
                visits,
                opens,
            }))
        })
    }

    fn erase_member(
        &self,
        scope: &Scope,
        delegation: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let in_scope = tx
                .prepare_cached(DELEGATIONS)?
                .query_row(params![scope.org(), delegation], |_| Ok(()))
                .optional()?
                .is_some();
            if !in_scope {
                return Ok(false);
            }
            let n = tx.execute(
                "DELETE FROM delegation_members WHERE delegation = ?1 AND trim(name) = ?2",
                params![delegation, name.trim()],
            )?;
            if n > 0 {
                tx.execute(
                    "INSERT OR IGNORE INTO erased_members(delegation, name_hash, erased_ms)
                     VALUES (?1, ?2, ?3)",
                    params![delegation, member_hash(delegation, name), now_ms],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn expire_members(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut expired: Vec<(String, String)> = Vec::new();
            {
                let mut q = tx.prepare(
                    "SELECT m.delegation, m.name, e.starts, o.retention_days
                     FROM delegation_members m
                     JOIN events e ON e.id = m.delegation
                     JOIN orgs o ON o.name = e.org
                     WHERE o.retention_days IS NOT NULL AND e.starts <> ''",
                )?;
                let mut rows = q.query([])?;
                while let Some(r) = rows.next()? {
                    let starts: String = r.get(2)?;
                    if visits::members_expired(&starts, r.get(3)?, now_ms) {
                        expired.push((r.get(0)?, r.get(1)?));
                    }
                }
            }
            for (delegation, name) in &expired {
                tx.execute(
                    "INSERT OR IGNORE INTO erased_members(delegation, name_hash, erased_ms)
                     VALUES (?1, ?2, ?3)",
                    params![delegation, member_hash(delegation, name), now_ms],
                )?;
                tx.execute(
                    "DELETE FROM delegation_members WHERE delegation = ?1 AND name = ?2",
                    params![delegation, name],
                )?;
            }
            tx.commit()?;
            Ok(expired.len())
        })
    }
}

#[cfg(test)]
mod tests {
    /// The day is read as SQLite's `strftime('%s', …)` reads it, which the SQLite backend
    /// used to decide in SQL.
    #[test]
    fn days_are_read_as_sqlite_reads_them() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        for s in [
            "2026-03-01",
            "2026-03-01 ",
            "2026-03-01T",
            " 2026-03-01",
            "2026-02-29",
            "2026-02-31",
            "2026-02-32",
            "2026-13-01",
            "2026-00-10",
            "2026-3-01",
            "0000-01-01",
            "1969-12-31",
            "9999-12-31",
            "2026-03-01 10:00",
            "2026-03-01T10:00:59.999",
            "2026-03-01 24:00",
            "2026-03-01 10:60",
            "2026-03-01 10:00Z",
            "2026-03-01 10:00 +07:00",
            "2026-03-01 03:00-11:30 ",
            "2026-03-01 03:00+15:00",
            "2026-03-01Z",
            "2026-03-01x",
            "2026-03-01 10",
            "10:00",
            "",
            "now",
            "2461000.5",
            "01/03/2026",
        ] {
            let sqlite: Option<i64> = db
                .query_row(
                    "SELECT CAST(strftime('%s', ?1) AS INTEGER) * 1000",
                    [s],
                    |r| r.get(0),
                )
                .unwrap();
            if ["now", "2461000.5", "10:00"].contains(&s) {
                // Not a day: SQLite reads them as today, a Julian day number and a time on
                // 2000-01-01; no visit day.
                assert_eq!(crate::store::visits::day_ms(s), None, "{s:?}");
                continue;
            }
            assert_eq!(crate::store::visits::day_ms(s), sqlite, "{s:?}");
        }
    }

    /// The migration's back-fill (visits a newer kiosk pushed before it, kept as records)
    /// gives every column of the rows ingest gives: a visit pushed twice and a visit sent
    /// again in a new record count once, its first version kept. Records a server without the
    /// kind stored as unknown are found too.
    #[test]
    fn the_migration_back_fill_gives_the_visits_ingest_gives() {
        use protocol::RecordBody;
        use protocol::record::{SlideShown, VisitBody, VisitEnd};
        use rusqlite::Connection;
        use uuid::Uuid;

        use crate::store::{IncomingBatch, IncomingRecord, Storage};

        const T0: i64 = 1_780_000_000_000;
        const MIN: u64 = 60_000;
        let dir = tempfile::tempdir().unwrap();
        let s = super::SqliteStorage::open(&dir.path().join("server.sqlite")).unwrap();
        let k = s
            .create_kiosk("kiosk", Some("kr-gyeonggi-2026"), T0)
            .unwrap();
        let e = s.enrol(&k.code, "1.0", T0).unwrap();
        let kiosk = s.authenticate(e.uuid, &e.secret).unwrap();
        let slide = |slide: u32, item: Option<&str>, shown_ms: u64| SlideShown {
            slide,
            item: item.map(str::to_owned),
            shown_ms,
        };
        let first = VisitBody {
            visit_id: Uuid::now_v7(),
            delegation: "kr-gyeonggi-2026".into(),
            deck: "invest-deck".into(),
            duration_ms: 45 * MIN,
            attendees: 12,
            slides: vec![
                slide(0, Some("long-thanh-airport"), 90_000),
                slide(1, Some("cat-tien"), 60_000),
                slide(2, None, 120_000),
            ],
            blank_ms: 5_000,
            qr_nonces: vec!["00112233445566778899aabbccddeeff".into()],
            ended: VisitEnd::Host,
        };
        let again = VisitBody {
            attendees: 99,
            ended: VisitEnd::Interrupted,
            ..first.clone()
        };
        let second = VisitBody {
            visit_id: Uuid::now_v7(),
            duration_ms: 10 * MIN,
            attendees: 3,
            slides: vec![slide(0, Some("long-thanh-airport"), 20_000)],
            blank_ms: 0,
            qr_nonces: vec![],
            ended: VisitEnd::Interrupted,
            ..first.clone()
        };
        let boot = Uuid::now_v7();
        let record = |seq: u64, body: RecordBody| IncomingRecord {
            id: Uuid::now_v7(),
            kiosk_id: kiosk.uuid,
            seq,
            wall_ms: T0 + seq as i64 * 60_000,
            boot_id: boot,
            mono_ms: 1_000 + seq * 60_000,
            clock_ok: true,
            event_id: Some("kr-gyeonggi-2026".into()),
            body: serde_json::value::RawValue::from_string(serde_json::to_string(&body).unwrap())
                .unwrap(),
        };
        let push = |records: &[IncomingRecord], now_ms: i64| {
            let mono = records.iter().map(|r| r.mono_ms).max().unwrap() + 1_000;
            let batch = IncomingBatch {
                clock: protocol::sync::ClockSample {
                    boot_id: boot,
                    mono_ms: mono,
                    wall_ms: T0 + mono as i64,
                },
                pruned_below: 0,
                records: records.to_vec(),
            };
            s.ingest(&kiosk, batch, now_ms).unwrap()
        };
        let view = RecordBody::View {
            item: "cat-tien".into(),
            lang: "ko".into(),
            dwell_ms: 60_000,
            origin: protocol::ViewOrigin::Presenter,
        };
        let batch = [
            record(0, view),
            record(1, RecordBody::Visit(Box::new(first))),
        ];
        push(&batch, T0 + 3 * 60_000);
        // The same records once more (an answer the kiosk never got): all duplicates.
        let ack = push(&batch, T0 + 4 * 60_000);
        assert_eq!((ack.inserted, ack.duplicates), (0, 2), "{ack:?}");
        push(
            &[
                record(2, RecordBody::Visit(Box::new(again))),
                record(3, RecordBody::Visit(Box::new(second))),
            ],
            T0 + 5 * 60_000,
        );

        let conn = s.connection().unwrap();
        let dump = |conn: &Connection| -> Vec<String> {
            let mut q = conn
                .prepare("SELECT * FROM visits ORDER BY visit_id")
                .unwrap();
            let n = q.column_count();
            q.query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        };
        let from_ingest = dump(&conn);
        assert_eq!(from_ingest.len(), 2);
        let migration = include_str!("migrations/07-visits/up.sql");
        let (_, backfill) = migration
            .split_once("-- Visits a newer kiosk pushed before this migration")
            .unwrap();
        let backfill = &backfill[backfill.find('\n').unwrap()..];
        conn.execute("DELETE FROM visits", []).unwrap();
        conn.execute_batch(backfill).unwrap();
        assert_eq!(dump(&conn), from_ingest);
        // Records a server without the kind stored as unknown are found too.
        conn.execute_batch(
            "DELETE FROM visits; UPDATE records SET kind = 'unknown' WHERE kind = 'visit';",
        )
        .unwrap();
        conn.execute_batch(backfill).unwrap();
        assert_eq!(dump(&conn), from_ingest);
    }
}
