//! [`VisitStorage`] on PostgreSQL: the visits pages, over the delegations and visits kept at
//! import and ingest (`save_delegations` and `insert_visit`, in `sync.rs`).
//!
//! A visit's QR nonces are a JSON array in `visits.qr_nonces`; the opens through them are
//! found in Rust rather than with `json_array_elements_text`, which cannot give text holding
//! U+0000 (a nonce of a kiosk's may): the nonces are read from the JSON and looked for as
//! `pg_text` stored them in `qr_opens`. Texts are ordered as SQLite orders them, byte by byte
//! (`COLLATE "C"`), whatever the database's locale. An erasure of members locks the
//! delegation's event row, as an import does: an import and an erasure at once run one after
//! the other, and an erased member stays erased.

use std::collections::{BTreeSet, HashMap};

use ::postgres::GenericClient;
use protocol::content::Member;
use uuid::Uuid;

use super::PostgresStorage;
use super::sync::pg_text;
use crate::store::erasure::member_hash;
use crate::store::visits;
use crate::store::*;

/// The delegations' rows with their counts but the QR opens; `$1` narrows to a unit, `$2` to
/// one delegation.
const DELEGATIONS: &str = "
    WITH d(id) AS (
        SELECT id FROM events WHERE kind = 'delegation'
        UNION SELECT delegation FROM visits
    )
    SELECT d.id, COALESCE(e.name, d.id), COALESCE(e.starts, ''), COALESCE(e.country, ''),
        COALESCE(e.languages, ''), COALESCE(e.responsible, ''), COALESCE(e.org, ''),
        (SELECT count(*) FROM visits v WHERE v.delegation = d.id),
        (SELECT coalesce(sum(attendees), 0)::BIGINT FROM visits v WHERE v.delegation = d.id),
        (SELECT count(*) FROM leads l WHERE l.event_id = d.id AND l.erased_ms IS NULL)
    FROM d LEFT JOIN events e ON e.id = d.id
    WHERE ($1::TEXT IS NULL OR COALESCE(e.org, '') = $1) AND ($2::TEXT IS NULL OR d.id = $2)
    ORDER BY COALESCE(e.starts, '') COLLATE \"C\" DESC, d.id COLLATE \"C\"";

/// The delegations in `org` (None: every unit), or the one `id`, with their counts.
fn delegation_rows(
    c: &mut impl GenericClient,
    org: Option<&str>,
    id: Option<&str>,
) -> Result<Vec<DelegationRow>, StorageError> {
    let org = org.map(|o| pg_text(o).into_owned());
    let id = id.map(|i| pg_text(i).into_owned());
    let mut rows: Vec<DelegationRow> = c
        .query(DELEGATIONS, &[&org, &id])?
        .iter()
        .map(|r| DelegationRow {
            id: r.get(0),
            name: r.get(1),
            date: r.get(2),
            country: r.get(3),
            languages: r.get(4),
            host: r.get(5),
            org: r.get(6),
            visits: r.get(7),
            attendees: r.get(8),
            qr_opens: 0,
            leads: r.get(9),
        })
        .collect();
    if rows.is_empty() {
        return Ok(rows);
    }
    // Each delegation's nonces once, and the opens through any of them.
    let pairs = nonces(c, id.as_deref())?;
    let (names, codes): (Vec<&str>, Vec<&str>) =
        pairs.iter().map(|(d, n)| (d.as_str(), n.as_str())).unzip();
    let opens: HashMap<String, i64> = c
        .query(
            "SELECT n.delegation, count(*)::BIGINT
             FROM unnest($1::text[], $2::text[]) AS n(delegation, nonce)
             JOIN qr_opens o ON o.nonce = n.nonce
             GROUP BY n.delegation",
            &[&names, &codes],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for row in &mut rows {
        row.qr_opens = opens.get(&row.id).copied().unwrap_or(0);
    }
    Ok(rows)
}

/// The visits' QR nonces as `qr_opens` holds them, each once per delegation: every
/// delegation's, or the one `delegation`'s (given as stored).
fn nonces(
    c: &mut impl GenericClient,
    delegation: Option<&str>,
) -> Result<BTreeSet<(String, String)>, StorageError> {
    Ok(c.query(
        "SELECT delegation, qr_nonces FROM visits WHERE $1::TEXT IS NULL OR delegation = $1",
        &[&delegation],
    )?
    .iter()
    .flat_map(|r| {
        let d: String = r.get(0);
        visits::stored_nonces(r.get(1))
            .into_iter()
            .map(move |n| (d.clone(), pg_text(&n).into_owned()))
    })
    .collect())
}

/// Takes the lock an import of `delegation` takes, for the rest of the transaction.
fn lock_delegation(tx: &mut impl GenericClient, delegation: &str) -> Result<(), StorageError> {
    tx.execute(
        "SELECT 1 FROM events WHERE id = $1 FOR UPDATE",
        &[&pg_text(delegation).as_ref()],
    )?;
    Ok(())
}

impl VisitStorage for PostgresStorage {
    fn delegations(&self, scope: &Scope) -> Result<Vec<DelegationRow>, StorageError> {
        self.with(|c| delegation_rows(c, scope.org(), None))
    }

    fn delegation_report(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<DelegationReport>, StorageError> {
        self.with(|c| {
            let Some(delegation) = delegation_rows(c, scope.org(), Some(id))?
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            let id = pg_text(id);
            let id = id.as_ref();
            let members = c
                .query(
                    "SELECT name, title, organisation FROM delegation_members
                     WHERE delegation = $1 ORDER BY position",
                    &[&id],
                )?
                .iter()
                .map(|r| Member {
                    name: r.get(0),
                    title: r.get(1),
                    organisation: r.get(2),
                })
                .collect();
            let visits = c
                .query(
                    "SELECT v.visit_id, COALESCE(k.name, ''), v.deck, v.started_ms, v.ended_ms,
                        v.duration_ms, v.attendees, v.blank_ms, v.slides, v.qr_nonces, v.ended
                     FROM visits v LEFT JOIN kiosks k ON k.id = v.kiosk
                     WHERE v.delegation = $1 ORDER BY v.started_ms, v.visit_id",
                    &[&id],
                )?
                .iter()
                .map(|r| VisitRow {
                    visit_id: Uuid::from_slice(r.get::<_, &[u8]>(0)).unwrap_or_default(),
                    kiosk_name: r.get(1),
                    deck: r.get(2),
                    started_ms: r.get(3),
                    ended_ms: r.get(4),
                    duration_ms: r.get(5),
                    attendees: r.get(6),
                    blank_ms: r.get(7),
                    slides: visits::stored_slides(r.get(8)),
                    qr_nonces: visits::stored_nonces(r.get(9)),
                    ended: r.get(10),
                })
                .collect();
            let codes: Vec<String> = nonces(c, Some(id))?.into_iter().map(|(_, n)| n).collect();
            let opens = c
                .query(
                    "SELECT o.at_ms, o.nonce, COALESCE(k.name, ''), o.lang, o.purpose
                     FROM qr_opens o LEFT JOIN kiosks k ON k.id = o.kiosk
                     WHERE o.nonce = ANY($1)
                     ORDER BY o.at_ms, o.id",
                    &[&codes],
                )?
                .iter()
                .map(|r| VisitOpen {
                    at_ms: r.get(0),
                    nonce: r.get(1),
                    kiosk_name: r.get(2),
                    lang: r.get(3),
                    purpose: r.get(4),
                })
                .collect();
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
        self.with(|c| {
            let mut tx = c.transaction()?;
            lock_delegation(&mut tx, delegation)?;
            if delegation_rows(&mut tx, scope.org(), Some(delegation))?.is_empty() {
                return Ok(false);
            }
            let stored = pg_text(delegation);
            let n = tx.execute(
                "DELETE FROM delegation_members WHERE delegation = $1 AND trim(name) = $2",
                &[&stored.as_ref(), &pg_text(name.trim()).as_ref()],
            )?;
            if n > 0 {
                tx.execute(
                    "INSERT INTO erased_members(delegation, name_hash, erased_ms)
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&stored.as_ref(), &member_hash(delegation, name), &now_ms],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn expire_members(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            // The delegations' event rows locked, in id order, as an import locks them.
            let expired: Vec<(String, String)> = tx
                .query(
                    "SELECT m.delegation, m.name, e.starts, o.retention_days
                     FROM delegation_members m
                     JOIN events e ON e.id = m.delegation
                     JOIN orgs o ON o.name = e.org
                     WHERE o.retention_days IS NOT NULL AND e.starts <> ''
                     ORDER BY m.delegation, m.position
                     FOR UPDATE OF e",
                    &[],
                )?
                .iter()
                .filter(|r| visits::members_expired(r.get(2), r.get(3), now_ms))
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            for (delegation, name) in &expired {
                tx.execute(
                    "INSERT INTO erased_members(delegation, name_hash, erased_ms)
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[delegation, &member_hash(delegation, name), &now_ms],
                )?;
                tx.execute(
                    "DELETE FROM delegation_members WHERE delegation = $1 AND name = $2",
                    &[delegation, name],
                )?;
            }
            tx.commit()?;
            Ok(expired.len())
        })
    }
}
