//! [`Storage`] on PostgreSQL: kiosks, enrolment, the push (ingest) and content versions.
//!
//! Several servers may push for one kiosk at once (a kiosk retrying through another server
//! behind the balancer): a push locks its kiosk's row first (`FOR UPDATE`), so one kiosk's
//! pushes run one after the other and each sees what the one before committed. Leads are
//! locked by an advisory lock on their id, taken in id order, which an erasure takes too: a
//! lead erased on one server while another ingests it stays erased, in its table and in the
//! raw records. Roll-ups are written in key order. A deadlock PostgreSQL still finds (roll-up
//! rows and their daily totals, written by triggers) aborts the push whole, and it is retried.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ::postgres::{GenericClient, Transaction};
use protocol::RecordBody;
use protocol::content::{Delegation, Manifest};
use protocol::record::VisitBody;
use protocol::sync::{Cursor, KioskSettings, PushAck};
use rand::Rng;
use uuid::Uuid;

use super::PostgresStorage;
use crate::store::codes::{new_code, normalise_code};
use crate::store::erasure;
use crate::store::ingest::{Finish, Outcome, Plan, Planned};
use crate::store::*;

/// How long an enrolment code stays valid.
const ENROL_CODE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// How many times a push aborted by a deadlock is tried again.
const CONFLICT_RETRIES: usize = 5;

/// The advisory-lock namespace of leads (xor-ed into the lead's key).
const LEAD_LOCK: i64 = 0x6c65_6164_0000_0000; // "lead"

/// Text as PostgreSQL can hold it: `TEXT` cannot hold U+0000, which JSON can carry; it is
/// stored as U+FFFD, the replacement character.
pub(crate) fn pg_text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The advisory lock of one lead.
pub(crate) fn lead_lock(id: Uuid) -> i64 {
    let (hi, lo) = id.as_u64_pair();
    ((hi ^ lo) as i64) ^ LEAD_LOCK
}

/// Takes the advisory locks of `ids` for the rest of the transaction, in key order.
pub(crate) fn lock_leads(
    tx: &mut impl GenericClient,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<(), StorageError> {
    let mut keys: Vec<i64> = ids.into_iter().map(lead_lock).collect();
    keys.sort_unstable();
    keys.dedup();
    match keys.as_slice() {
        [] => {}
        [k] => {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[k])?;
        }
        // In the array's order, which is the keys' order.
        _ => {
            tx.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k",
                &[&keys],
            )?;
        }
    }
    Ok(())
}

impl Storage for PostgresStorage {
    fn create_kiosk(
        &self,
        name: &str,
        event_id: Option<&str>,
        now_ms: i64,
    ) -> Result<NewKiosk, StorageError> {
        let uuid = Uuid::now_v7();
        let code = new_code();
        let expires_ms = now_ms + ENROL_CODE_TTL_MS;
        self.with(|c| {
            let mut tx = c.transaction()?;
            let row: i64 = tx
                .query_one(
                    "INSERT INTO kiosks(uuid, name, event_id, enrol_code_hash, enrol_expires_ms, created_ms)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[&uuid.to_string(), &name, &event_id, &sha256_hex(code.as_bytes()), &expires_ms, &now_ms],
                )?
                .get(0);
            if let Some(e) = event_id.filter(|e| !e.is_empty()) {
                note_kiosk_event(&mut tx, row, e, now_ms)?;
            }
            tx.commit()?;
            Ok(())
        })?;
        Ok(NewKiosk {
            uuid,
            code,
            expires_ms,
        })
    }

    fn enrol(&self, code: &str, app_version: &str, now_ms: i64) -> Result<Enrolled, StorageError> {
        let hash = sha256_hex(normalise_code(code).as_bytes());
        let mut rng = rand::rng();
        let secret: String = hex::encode(rng.random::<[u8; 32]>());
        let token_key = rng.random::<[u8; 32]>().to_vec();
        self.with(|c| {
            let mut tx = c.transaction()?;
            // The row is locked: of two servers offered one code at once, one enrols.
            let Some(row) = tx.query_opt(
                "SELECT id, uuid, name, event_id, revoked_ms FROM kiosks
                 WHERE enrol_code_hash = $1 AND enrol_expires_ms > $2 FOR UPDATE",
                &[&hash, &now_ms],
            )?
            else {
                return Err(StorageError::BadCode);
            };
            let (id, uuid, name, event_id, revoked): (
                i64,
                String,
                String,
                Option<String>,
                Option<i64>,
            ) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
            if revoked.is_some() {
                return Err(StorageError::Revoked);
            }
            tx.execute(
                "UPDATE kiosks SET secret_hash = $2, token_key = $3, enrol_code_hash = NULL,
                 enrolled_ms = $4, app_version = $5 WHERE id = $1",
                &[
                    &id,
                    &sha256_hex(secret.as_bytes()),
                    &token_key,
                    &now_ms,
                    &pg_text(app_version).as_ref(),
                ],
            )?;
            tx.commit()?;
            Ok(Enrolled {
                uuid: Uuid::parse_str(&uuid).map_err(|e| StorageError::Db(e.to_string()))?,
                name,
                secret: secret.clone(),
                token_key: token_key.clone(),
                event_id,
            })
        })
    }

    fn revoke_kiosk(&self, uuid: Uuid, now_ms: i64) -> Result<(), StorageError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE kiosks SET revoked_ms = $2, enrol_code_hash = NULL WHERE uuid = $1",
                &[&uuid.to_string(), &now_ms],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            Ok(())
        })
    }

    fn set_kiosk_event(&self, uuid: Uuid, event_id: Option<&str>) -> Result<(), StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let Some(row) = tx.query_opt(
                "UPDATE kiosks SET event_id = $2, settings_rev = settings_rev + 1 WHERE uuid = $1
                 RETURNING id",
                &[&uuid.to_string(), &event_id],
            )?
            else {
                return Err(StorageError::NotFound);
            };
            if let Some(e) = event_id.filter(|e| !e.is_empty()) {
                note_kiosk_event(&mut tx, row.get(0), e, protocol::now_ms())?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn set_kiosk_settings(
        &self,
        uuid: Uuid,
        settings: &KioskSettings,
    ) -> Result<u64, StorageError> {
        self.with(|c| {
            c.query_opt(
                "UPDATE kiosks SET settings = $2, settings_rev = settings_rev + 1 WHERE uuid = $1
                 RETURNING settings_rev",
                &[&uuid.to_string(), &settings_json(settings)],
            )?
            .map(|r| r.get::<_, i64>(0) as u64)
            .ok_or(StorageError::NotFound)
        })
    }

    fn kiosks(&self) -> Result<Vec<KioskInfo>, StorageError> {
        self.with(PostgresStorage::kiosk_list)
    }

    fn authenticate(&self, uuid: Uuid, secret: &str) -> Result<KioskAuth, StorageError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT id, secret_hash, event_id, revoked_ms FROM kiosks WHERE uuid = $1",
                &[&uuid.to_string()],
            )?;
            let Some(row) = row else {
                return Err(StorageError::Unauthorised);
            };
            let (id, hash, event_id, revoked): (i64, Option<String>, Option<String>, Option<i64>) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let Some(hash) = hash else {
                return Err(StorageError::Unauthorised);
            };
            if !same_hash(&sha256_hex(secret.as_bytes()), &hash) {
                return Err(StorageError::Unauthorised);
            }
            if revoked.is_some() {
                return Err(StorageError::Revoked);
            }
            Ok(KioskAuth {
                row: id,
                uuid,
                event_id,
            })
        })
    }

    fn token_key(&self, uuid: Uuid) -> Result<Vec<u8>, StorageError> {
        self.with(|c| {
            c.query_opt(
                "SELECT token_key FROM kiosks WHERE uuid = $1 AND token_key IS NOT NULL",
                &[&uuid.to_string()],
            )?
            .map(|r| r.get(0))
            .ok_or(StorageError::NotFound)
        })
    }

    fn token_kiosk(&self, uuid: Uuid) -> Result<TokenKiosk, StorageError> {
        self.with(|c| {
            let Some(row) = c.query_opt(
                "SELECT id, token_key, revoked_ms IS NOT NULL, clock_offset_ms FROM kiosks
                 WHERE uuid = $1 AND token_key IS NOT NULL",
                &[&uuid.to_string()],
            )?
            else {
                return Err(StorageError::NotFound);
            };
            let id: i64 = row.get(0);
            let events = c
                .query("SELECT event_id FROM kiosk_events WHERE kiosk = $1", &[&id])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(TokenKiosk {
                key: row.get(1),
                revoked: row.get(2),
                events,
                clock_offset_ms: row.get(3),
            })
        })
    }

    fn kiosk_stamp(&self) -> Result<[i64; 4], StorageError> {
        self.with(|c| {
            let r = c.query_one(
                "SELECT count(enrolled_ms), coalesce(max(enrolled_ms), 0),
                        count(revoked_ms), coalesce(max(revoked_ms), 0) FROM kiosks",
                &[],
            )?;
            Ok([r.get(0), r.get(1), r.get(2), r.get(3)])
        })
    }

    fn enrolled_kiosks(&self) -> Result<Vec<Uuid>, StorageError> {
        self.with(|c| {
            Ok(
                c.query("SELECT uuid FROM kiosks WHERE token_key IS NOT NULL", &[])?
                    .iter()
                    .filter_map(|r| Uuid::parse_str(r.get::<_, &str>(0)).ok())
                    .collect(),
            )
        })
    }

    fn cursor(&self, kiosk: &KioskAuth, now_ms: i64) -> Result<Cursor, StorageError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT next_seq, settings_rev, event_id, settings, last_contact_ms,
                        screenshot_requested_ms IS NOT NULL
                 FROM kiosks WHERE id = $1",
                &[&kiosk.row],
            )?;
            if contact_is_stale(row.get(4), now_ms) {
                c.execute(
                    "UPDATE kiosks SET last_contact_ms = $2 WHERE id = $1",
                    &[&kiosk.row, &now_ms],
                )?;
            }
            let rev: i64 = row.get(1);
            Ok(Cursor {
                next_seq: row.get::<_, i64>(0) as u64,
                server_time_ms: now_ms,
                // Until staff change something there is nothing to apply.
                settings: (rev > 0).then(|| settings_from_row(rev, row.get(2), row.get(3))),
                screenshot_wanted: row.get(5),
            })
        })
    }

    fn ingest(
        &self,
        kiosk: &KioskAuth,
        batch: IncomingBatch,
        now_ms: i64,
    ) -> Result<PushAck, StorageError> {
        let mut attempt = 0;
        loop {
            let plan = Plan::new(kiosk, batch.clone(), now_ms)?;
            match self.with(|c| ingest_once(c, kiosk, plan, now_ms)) {
                Err(StorageError::Conflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tracing::info!(kiosk = %kiosk.uuid, attempt, "a push met a deadlock: trying again");
                    std::thread::sleep(std::time::Duration::from_millis(
                        rand::rng().random_range(5..50) * attempt as u64,
                    ));
                }
                other => return other,
            }
        }
    }

    fn erase_lead(&self, lead_id: Uuid, now_ms: i64) -> Result<(), StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            lock_leads(&mut tx, [lead_id])?;
            let id = lead_id.as_bytes().as_slice();
            let contact = tx.query_opt(
                "SELECT email, phone FROM leads WHERE lead_id = $1 AND erased_ms IS NULL",
                &[&id],
            )?;
            // A tombstone even for a lead not seen yet, so that it never arrives later.
            tx.execute(
                "INSERT INTO leads(lead_id, source, created_ms, updated_ms, erased_ms)
                 VALUES ($1, 'erased', $2, $2, $2)
                 ON CONFLICT (lead_id) DO UPDATE SET name = '', organisation = '', email = '',
                    phone = '', title = '', notes = '', erased_ms = $2, updated_ms = $2",
                &[&id, &now_ms],
            )?;
            tx.execute("DELETE FROM lead_versions WHERE lead_id = $1", &[&id])?;
            // Raw scans that hold the lead's email or phone go with it.
            if let Some(row) = contact {
                let keys = erasure::contact_keys(row.get(0), row.get(1));
                if !keys.is_empty() {
                    let scans: Vec<(i64, i64)> = tx
                        .query(
                            "SELECT kiosk, seq, body FROM records WHERE kind = 'raw_scan'",
                            &[],
                        )?
                        .iter()
                        .filter(|r| erasure::scan_body_mentions(r.get(2), &keys))
                        .map(|r| (r.get(0), r.get(1)))
                        .collect();
                    erase_scans(&mut tx, &scans, now_ms)?;
                }
            }
            // The lead's personal fields also leave the raw records.
            let rows = tx.query(
                "SELECT kiosk, seq, body FROM records WHERE kind = 'lead' AND body LIKE $1",
                &[&format!("%{lead_id}%")],
            )?;
            for r in rows {
                if let Some(redacted) = erasure::redacted_lead_body(r.get(2), lead_id)? {
                    let (k, s): (i64, i64) = (r.get(0), r.get(1));
                    tx.execute(
                        "UPDATE records SET body = $3 WHERE kiosk = $1 AND seq = $2",
                        &[&k, &s, &redacted],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn record_media(&self, sha256: &str, size: u64, now_ms: i64) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO media(sha256, size, created_ms) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&sha256, &(size as i64), &now_ms],
            )?;
            Ok(())
        })
    }

    fn save_delegations(
        &self,
        delegations: &[Delegation],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.with(|c| save_delegations(c, delegations, now_ms))
    }

    fn publish(&self, manifest: &Manifest, now_ms: i64) -> Result<(), StorageError> {
        let json = serde_json::to_string(manifest).map_err(|e| StorageError::Db(e.to_string()))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO content_versions(version, manifest, created_ms, published_ms)
                 VALUES ($1, $2, $3, $3)
                 ON CONFLICT (version) DO UPDATE SET published_ms = $3",
                &[&manifest.version, &pg_text(&json).as_ref(), &now_ms],
            )?;
            Ok(())
        })
    }

    fn current_manifest(&self) -> Result<Option<Manifest>, StorageError> {
        self.with(|c| {
            c.query_opt(
                "SELECT manifest FROM content_versions WHERE published_ms IS NOT NULL
                 ORDER BY published_ms DESC, id DESC LIMIT 1",
                &[],
            )?
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(|e| StorageError::Db(e.to_string()))
            })
            .transpose()
        })
    }

    fn event_manifest(&self, event_id: &str) -> Result<Option<Manifest>, StorageError> {
        self.with(|c| {
            c.query_opt(
                "SELECT v.manifest FROM event_content e
                 JOIN content_versions v ON v.version = e.version WHERE e.event_id = $1",
                &[&event_id],
            )?
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(|e| StorageError::Db(e.to_string()))
            })
            .transpose()
        })
    }

    fn media_known(&self, sha256: &str) -> Result<bool, StorageError> {
        self.with(|c| {
            Ok(
                c.query_opt("SELECT 1 FROM media WHERE sha256 = $1", &[&sha256])?
                    .is_some(),
            )
        })
    }

    fn count_records(&self, kiosk: Option<Uuid>) -> Result<u64, StorageError> {
        self.with(|c| {
            let n: i64 = match kiosk {
                Some(k) => c
                    .query_one(
                        "SELECT count(*) FROM records
                         WHERE kiosk = (SELECT id FROM kiosks WHERE uuid = $1)",
                        &[&k.to_string()],
                    )?
                    .get(0),
                None => c.query_one("SELECT count(*) FROM records", &[])?.get(0),
            };
            Ok(n as u64)
        })
    }
}

/// One push, in one transaction: see the module's comment for how pushes run side by side.
fn ingest_once(
    c: &mut ::postgres::Client,
    kiosk: &KioskAuth,
    mut plan: Plan,
    now_ms: i64,
) -> Result<PushAck, StorageError> {
    let lead_ids = plan.lead_ids();
    let mut tx = c.transaction()?;
    let next_seq: i64 = tx
        .query_one(
            "SELECT next_seq FROM kiosks WHERE id = $1 FOR UPDATE",
            &[&kiosk.row],
        )?
        .get(0);
    // The boot the kiosk is in now is placed on the server's clock.
    let (boot_now, mono_now) = plan.current_boot();
    tx.execute(
        "INSERT INTO kiosk_boots(kiosk, boot_id, ref_server_ms, ref_mono_ms)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[
            &kiosk.row,
            &boot_now.as_bytes().as_slice(),
            &now_ms,
            &mono_now,
        ],
    )?;
    let boot_list: Vec<Vec<u8>> = plan
        .boot_ids()
        .iter()
        .map(|b| b.as_bytes().to_vec())
        .collect();
    let boots: HashMap<Uuid, (i64, i64)> = tx
        .query(
            "SELECT boot_id, ref_server_ms, ref_mono_ms FROM kiosk_boots
             WHERE kiosk = $1 AND boot_id = ANY($2)",
            &[&kiosk.row, &boot_list],
        )?
        .iter()
        .filter_map(|r| {
            Uuid::from_slice(r.get::<_, &[u8]>(0))
                .ok()
                .map(|b| (b, (r.get(1), r.get(2))))
        })
        .collect();
    lock_leads(&mut tx, lead_ids.iter().copied())?;
    let erased = erased_among(&mut tx, &lead_ids)?;
    plan.resolve(&boots, &erased)?;

    // Every record in one statement; those already stored (by an earlier push, or twice in
    // this one) are skipped and said so by their absence from what it returns.
    let inserted = insert_records(&mut tx, kiosk.row, &plan.records, now_ms)?;
    let mut claimed: HashSet<(i64, Uuid)> = HashSet::new();
    let new: Vec<bool> = plan
        .records
        .iter()
        .map(|r| inserted.contains(&(r.seq, r.id)) && claimed.insert((r.seq, r.id)))
        .collect();
    // The batch's new leads in one statement when each lead comes once and none is redacted
    // (the common case); otherwise, or when that statement fails, one by one below.
    let bulk_leads = {
        let leads: Vec<usize> = (0..plan.records.len())
            .filter(|&i| new[i] && plan.records[i].held.is_none())
            .filter(|&i| matches!(plan.records[i].typed, Some(RecordBody::Lead(_))))
            .collect();
        let mut ids = HashSet::new();
        let simple = leads.iter().all(|&i| match &plan.records[i].typed {
            Some(RecordBody::Lead(l)) => !l.redacted && ids.insert(l.lead_id),
            _ => false,
        });
        if simple && !leads.is_empty() {
            let mut sp = tx.savepoint("leads")?;
            match upsert_leads(&mut sp, kiosk.row, &plan.records, &leads, now_ms) {
                Ok(()) => {
                    sp.commit()?;
                    true
                }
                Err(StorageError::Full) => return Err(StorageError::Full),
                Err(StorageError::Conflict) => return Err(StorageError::Conflict),
                Err(e) => {
                    sp.rollback()?;
                    tracing::info!(kiosk = %kiosk.uuid, "the batch's leads one by one: {e}");
                    false
                }
            }
        } else {
            false
        }
    };
    for (i, is_new) in new.iter().copied().enumerate() {
        let r = &plan.records[i];
        if !is_new {
            plan.stored(i, Outcome::Duplicate);
            continue;
        }
        if bulk_leads && r.held.is_none() && matches!(r.typed, Some(RecordBody::Lead(_))) {
            plan.stored(i, Outcome::Inserted);
            continue;
        }
        if let Some(reason) = &r.held {
            hold(&mut tx, kiosk.row, r, reason, now_ms)?;
            plan.stored(i, Outcome::Inserted);
            continue;
        }
        if !matches!(
            r.typed,
            Some(RecordBody::Lead(_) | RecordBody::Visit(_) | RecordBody::Heartbeat { .. })
        ) {
            plan.stored(i, Outcome::Inserted);
            continue;
        }
        // What the record means beyond itself (a lead, a visit, a heartbeat) in a savepoint:
        // one that cannot be stored is rolled back alone and quarantined, and the batch goes on.
        let outcome = {
            let mut sp = tx.savepoint("record")?;
            match side_effects(&mut sp, kiosk.row, r, now_ms) {
                Ok(()) => {
                    sp.commit()?;
                    Outcome::Inserted
                }
                Err(StorageError::Full) => return Err(StorageError::Full),
                Err(StorageError::Conflict) => return Err(StorageError::Conflict),
                Err(e) => {
                    sp.rollback()?;
                    tracing::warn!(kiosk = %kiosk.uuid, seq = r.seq, "the record could not be stored: {e}");
                    tx.execute(
                        "UPDATE records SET kind = 'quarantined' WHERE kiosk = $1 AND seq = $2",
                        &[&kiosk.row, &r.seq],
                    )?;
                    Outcome::Failed(e.to_string())
                }
            }
        };
        let failed = matches!(outcome, Outcome::Failed(_));
        plan.stored(i, outcome);
        if failed {
            let r = &plan.records[i];
            if let Some(reason) = &r.held {
                hold(&mut tx, kiosk.row, r, reason, now_ms)?;
            }
        }
    }
    let f = {
        let exists = tx.prepare("SELECT 1 FROM records WHERE kiosk = $1 AND seq = $2")?;
        let mut q = |seq: i64| -> Result<bool, StorageError> {
            Ok(tx.query_opt(&exists, &[&kiosk.row, &seq])?.is_some())
        };
        plan.finish(next_seq, &erased, &mut q)?
    };
    write_finish(&mut tx, kiosk, &f, now_ms)?;
    tx.commit()?;
    Ok(f.ack)
}

/// Inserts the planned records, returning the (seq, id) of those that were new.
fn insert_records(
    tx: &mut Transaction<'_>,
    kiosk: i64,
    records: &[Planned],
    now_ms: i64,
) -> Result<HashSet<(i64, Uuid)>, StorageError> {
    if records.is_empty() {
        return Ok(HashSet::new());
    }
    let seq: Vec<i64> = records.iter().map(|r| r.seq).collect();
    let id: Vec<&[u8]> = records.iter().map(|r| r.id.as_bytes().as_slice()).collect();
    let kind: Vec<&str> = records.iter().map(|r| r.kind()).collect();
    let event: Vec<Option<Cow<'_, str>>> = records
        .iter()
        .map(|r| r.event_id.as_deref().map(pg_text))
        .collect();
    let event: Vec<Option<&str>> = event.iter().map(|e| e.as_deref()).collect();
    let wall: Vec<i64> = records.iter().map(|r| r.wall_ms).collect();
    let boot: Vec<&[u8]> = records
        .iter()
        .map(|r| r.boot_id.as_bytes().as_slice())
        .collect();
    let mono: Vec<i64> = records.iter().map(|r| r.mono_ms).collect();
    let clock_ok: Vec<i64> = records.iter().map(|r| i64::from(r.clock_ok)).collect();
    let corrected: Vec<i64> = records.iter().map(|r| r.corrected_ms).collect();
    let quality: Vec<&str> = records.iter().map(|r| r.quality).collect();
    let body: Vec<Cow<'_, str>> = records.iter().map(|r| pg_text(&r.body)).collect();
    let body: Vec<&str> = body.iter().map(|b| b.as_ref()).collect();
    let rows = tx.query(
        "INSERT INTO records(kiosk, seq, id, kind, event_id, wall_ms, boot_id, mono_ms, clock_ok,
            corrected_ms, time_quality, received_ms, body)
         SELECT $1, t.seq, t.id, t.kind, t.event_id, t.wall_ms, t.boot_id, t.mono_ms, t.clock_ok,
            t.corrected_ms, t.quality, $2, t.body
         FROM unnest($3::bigint[], $4::bytea[], $5::text[], $6::text[], $7::bigint[],
                     $8::bytea[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[],
                     $13::text[])
              WITH ORDINALITY AS t(seq, id, kind, event_id, wall_ms, boot_id, mono_ms, clock_ok,
                                   corrected_ms, quality, body, n)
         ORDER BY t.n
         ON CONFLICT DO NOTHING
         RETURNING seq, id",
        &[
            &kiosk, &now_ms, &seq, &id, &kind, &event, &wall, &boot, &mono, &clock_ok, &corrected,
            &quality, &body,
        ],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Uuid::from_slice(r.get::<_, &[u8]>(1))
                .ok()
                .map(|id| (r.get(0), id))
        })
        .collect())
}

/// Upserts the leads of `records[at]` (each lead once, none redacted) in one statement, as
/// [`side_effects`] does one by one.
fn upsert_leads(
    tx: &mut Transaction<'_>,
    kiosk: i64,
    records: &[Planned],
    at: &[usize],
    now_ms: i64,
) -> Result<(), StorageError> {
    let t = |s: &str| pg_text(s).into_owned();
    let mut id: Vec<&[u8]> = Vec::new();
    let mut event: Vec<Option<String>> = Vec::new();
    let mut item: Vec<Option<String>> = Vec::new();
    let mut lang: Vec<Option<String>> = Vec::new();
    let mut consent: Vec<Option<String>> = Vec::new();
    let mut text: [Vec<String>; 8] = Default::default();
    let mut created = Vec::new();
    for &i in at {
        let r = &records[i];
        let Some(RecordBody::Lead(lead)) = &r.typed else {
            continue;
        };
        let (interests, consent_json) = Planned::lead_json(lead);
        id.push(lead.lead_id.as_bytes().as_slice());
        event.push(r.event_id.as_deref().map(t));
        item.push(lead.item.as_deref().map(t));
        lang.push(lead.lang.as_deref().map(t));
        consent.push(consent_json.as_deref().map(t));
        let c = &lead.contact;
        for (col, v) in text.iter_mut().zip([
            lead.source.as_str(),
            &c.name,
            &c.organisation,
            &c.email,
            &c.phone,
            &c.country,
            &c.title,
            &interests,
        ]) {
            col.push(t(v));
        }
        created.push(r.corrected_ms);
    }
    let [source, name, org, email, phone, country, title, interests] = &text;
    tx.execute(
        "INSERT INTO leads(lead_id, kiosk, event_id, item, lang, source, name, organisation,
            email, phone, country, title, interests, consent, created_ms, updated_ms)
         SELECT t.id, $1, t.ev, t.item, t.lang, t.src, t.name, t.org, t.email, t.phone,
            t.country, t.title, t.interests, t.consent, t.created, t.created
         FROM unnest($3::bytea[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                     $15::text[], $16::bigint[])
              WITH ORDINALITY AS t(id, ev, item, lang, src, name, org, email, phone, country,
                                   title, interests, consent, created, n)
         ORDER BY t.n
         ON CONFLICT (lead_id) DO UPDATE SET
            name = excluded.name, organisation = excluded.organisation,
            email = excluded.email, phone = excluded.phone, country = excluded.country,
            title = excluded.title, interests = excluded.interests,
            consent = excluded.consent, updated_ms = $2
         WHERE leads.erased_ms IS NULL",
        &[
            &kiosk, &now_ms, &id, &event, &item, &lang, source, name, org, email, phone, country,
            title, interests, &consent, &created,
        ],
    )?;
    Ok(())
}

/// Keeps a record that cannot be counted in quarantine, with the reason.
fn hold(
    tx: &mut Transaction<'_>,
    kiosk: i64,
    r: &Planned,
    reason: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO quarantine(kiosk, seq, kind, reason, received_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
        &[
            &kiosk,
            &r.seq,
            &pg_text(&r.declared_kind()).as_ref(),
            &pg_text(reason).as_ref(),
            &now_ms,
        ],
    )?;
    Ok(())
}

/// What a new record means beyond itself: a lead, a visit, a kiosk's heartbeat.
fn side_effects(
    tx: &mut Transaction<'_>,
    kiosk: i64,
    r: &Planned,
    now_ms: i64,
) -> Result<(), StorageError> {
    match &r.typed {
        Some(RecordBody::Lead(lead)) => {
            let (interests, consent) = Planned::lead_json(lead);
            let t = |s: &str| pg_text(s).into_owned();
            tx.execute(
                "INSERT INTO leads(lead_id, kiosk, event_id, item, lang, source, name, organisation,
                    email, phone, country, title, interests, consent, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
                 ON CONFLICT (lead_id) DO UPDATE SET
                    name = excluded.name, organisation = excluded.organisation,
                    email = excluded.email, phone = excluded.phone, country = excluded.country,
                    title = excluded.title, interests = excluded.interests,
                    consent = excluded.consent, updated_ms = $16
                 WHERE leads.erased_ms IS NULL AND NOT $17",
                &[
                    &lead.lead_id.as_bytes().as_slice(),
                    &kiosk,
                    &r.event_id.as_deref().map(t),
                    &lead.item.as_deref().map(t),
                    &lead.lang.as_deref().map(t),
                    &lead.source.as_str(),
                    &t(&lead.contact.name),
                    &t(&lead.contact.organisation),
                    &t(&lead.contact.email),
                    &t(&lead.contact.phone),
                    &t(&lead.contact.country),
                    &t(&lead.contact.title),
                    &t(&interests),
                    &consent.as_deref().map(t),
                    &r.corrected_ms,
                    &now_ms,
                    &lead.redacted,
                ],
            )?;
        }
        Some(RecordBody::Visit(visit)) => insert_visit(tx, kiosk, visit, r.corrected_ms, now_ms)?,
        Some(RecordBody::Heartbeat {
            app_version,
            content_version,
            backlog,
            free_disk_bytes,
            uptime_ms,
            content_error,
        }) => {
            let content_error: Option<String> =
                content_error.as_deref().map(|e| pg_text(e).into_owned());
            tx.execute(
                "UPDATE kiosks SET app_version = $2, content_version = $3, backlog = $4,
                    free_disk_bytes = $5, uptime_ms = $6, content_error = $7 WHERE id = $1",
                &[
                    &kiosk,
                    &pg_text(app_version).as_ref(),
                    &content_version.as_deref().map(|v| pg_text(v).into_owned()),
                    &i64::try_from(*backlog).unwrap_or(i64::MAX),
                    &i64::try_from(*free_disk_bytes).unwrap_or(i64::MAX),
                    &i64::try_from(*uptime_ms).unwrap_or(i64::MAX),
                    &content_error,
                ],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Stores a visit just received (in the ingest transaction); one already stored is left as it
/// is. `corrected_ms` is the record's time: the visit's end.
fn insert_visit(
    tx: &mut Transaction<'_>,
    kiosk: i64,
    visit: &VisitBody,
    corrected_ms: i64,
    now_ms: i64,
) -> Result<(), StorageError> {
    let v = crate::store::visits::VisitColumns::of(visit, corrected_ms)?;
    tx.execute(
        "INSERT INTO visits(visit_id, kiosk, delegation, deck, started_ms, ended_ms,
            duration_ms, attendees, blank_ms, slides, qr_nonces, ended, received_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT DO NOTHING",
        &[
            &visit.visit_id.as_bytes().as_slice(),
            &kiosk,
            &pg_text(&visit.delegation).as_ref(),
            &pg_text(&visit.deck).as_ref(),
            &v.started_ms,
            &v.ended_ms,
            &v.duration_ms,
            &v.attendees,
            &v.blank_ms,
            &pg_text(&v.slides).as_ref(),
            &pg_text(&v.qr_nonces).as_ref(),
            &visit.ended.as_str(),
            &now_ms,
        ],
    )?;
    Ok(())
}

/// The leads among `ids` erased here.
fn erased_among(tx: &mut Transaction<'_>, ids: &[Uuid]) -> Result<HashSet<Uuid>, StorageError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let list: Vec<&[u8]> = ids.iter().map(|i| i.as_bytes().as_slice()).collect();
    Ok(tx
        .query(
            "SELECT lead_id FROM leads WHERE lead_id = ANY($1) AND erased_ms IS NOT NULL",
            &[&list],
        )?
        .iter()
        .filter_map(|r| Uuid::from_slice(r.get::<_, &[u8]>(0)).ok())
        .collect())
}

/// Adds an event to those a kiosk may sign QR codes for.
fn note_kiosk_event(
    tx: &mut impl GenericClient,
    kiosk: i64,
    event_id: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO kiosk_events(kiosk, event_id, first_ms) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        &[&kiosk, &pg_text(event_id).as_ref(), &now_ms],
    )?;
    Ok(())
}

/// Writes what a push's plan ends with: roll-ups (each table in one statement, in key order),
/// a declared gap, the cursor, the events served.
fn write_finish(
    tx: &mut Transaction<'_>,
    kiosk: &KioskAuth,
    f: &Finish,
    now_ms: i64,
) -> Result<(), StorageError> {
    if !f.views.is_empty() {
        let (mut events, mut items, mut langs, mut hours, mut origins) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::<i64>::new(),
            Vec::new(),
        );
        let (mut views, mut dwell) = (Vec::new(), Vec::new());
        for ((event, item, lang, hour, origin), v) in &f.views {
            events.push(pg_text(event).into_owned());
            items.push(pg_text(item).into_owned());
            langs.push(pg_text(lang).into_owned());
            hours.push(*hour);
            origins.push(pg_text(origin).into_owned());
            views.push(v.views);
            dwell.push(v.dwell_ms);
        }
        tx.execute(
            "INSERT INTO rollup_views(event_id, item, lang, hour, origin, views, dwell_ms)
             SELECT e, i, l, h, o, v, d FROM unnest($1::text[], $2::text[], $3::text[],
                 $4::bigint[], $5::text[], $6::bigint[], $7::bigint[]) WITH ORDINALITY
                 AS t(e, i, l, h, o, v, d, n) ORDER BY n
             ON CONFLICT (event_id, item, lang, hour, origin) DO UPDATE
             SET views = rollup_views.views + excluded.views,
                 dwell_ms = rollup_views.dwell_ms + excluded.dwell_ms",
            &[&events, &items, &langs, &hours, &origins, &views, &dwell],
        )?;
    }
    if !f.kinds.is_empty() {
        let (mut e, mut k, mut h, mut n) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((event, kind, hour), count) in &f.kinds {
            e.push(pg_text(event).into_owned());
            k.push(*kind);
            h.push(*hour);
            n.push(*count);
        }
        tx.execute(
            "INSERT INTO rollup_kinds(event_id, kind, hour, count)
             SELECT e, k, h, c FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                 WITH ORDINALITY AS t(e, k, h, c, n) ORDER BY n
             ON CONFLICT (event_id, kind, hour) DO UPDATE
             SET count = rollup_kinds.count + excluded.count",
            &[&e, &k, &h, &n],
        )?;
    }
    for ((event, hour), s) in &f.sessions {
        tx.execute(
            "INSERT INTO rollup_sessions(event_id, hour, started, ended, duration_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (event_id, hour) DO UPDATE
             SET started = rollup_sessions.started + excluded.started,
                 ended = rollup_sessions.ended + excluded.ended,
                 duration_ms = rollup_sessions.duration_ms + excluded.duration_ms",
            &[
                &pg_text(event).as_ref(),
                hour,
                &s.started,
                &s.ended,
                &s.duration_ms,
            ],
        )?;
    }
    for ((event, day), n) in &f.kiosk_days {
        tx.execute(
            "INSERT INTO rollup_kiosk_days(day, kiosk, event_id, records) VALUES ($1, $2, $3, $4)
             ON CONFLICT (day, kiosk, event_id) DO UPDATE
             SET records = rollup_kiosk_days.records + excluded.records",
            &[day, &kiosk.row, &pg_text(event).as_ref(), n],
        )?;
    }
    // In key order, as every roll-up: two pushes never wait on each other's rows in a cycle.
    for ((event, item, lang, hour, purpose), n) in &f.qr_shown {
        tx.execute(
            "INSERT INTO rollup_qr(event_id, item, lang, hour, purpose, shown)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (event_id, item, lang, hour, purpose) DO UPDATE
             SET shown = rollup_qr.shown + excluded.shown",
            &[
                &pg_text(event).as_ref(),
                &pg_text(item).as_ref(),
                &pg_text(lang).as_ref(),
                hour,
                &pg_text(purpose).as_ref(),
                n,
            ],
        )?;
    }
    for text in f.consent_texts.values() {
        crate::store::postgres::leads::archive_consent(tx, text)?;
    }
    if let Some((from, to)) = f.gap {
        tx.execute(
            "INSERT INTO seq_gaps(kiosk, from_seq, to_seq, noted_ms) VALUES ($1, $2, $3, $4)",
            &[&kiosk.row, &from, &to, &now_ms],
        )?;
    }
    tx.execute(
        "UPDATE kiosks SET next_seq = $2, last_seen_ms = $3, clock_offset_ms = $4 WHERE id = $1",
        &[&kiosk.row, &f.next_seq, &now_ms, &f.clock_offset_ms],
    )?;
    for e in &f.served {
        note_kiosk_event(tx, kiosk.row, e, now_ms)?;
    }
    Ok(())
}

/// Replaces raw scans' text with nothing, keeping kind, reason and when it was erased.
pub(crate) fn erase_scans(
    tx: &mut impl GenericClient,
    scans: &[(i64, i64)],
    now_ms: i64,
) -> Result<usize, StorageError> {
    let mut n = 0;
    for (kiosk, seq) in scans {
        let Some(row) = tx.query_opt(
            "SELECT body FROM records WHERE kiosk = $1 AND seq = $2 AND kind = 'raw_scan'
             FOR UPDATE",
            &[kiosk, seq],
        )?
        else {
            continue;
        };
        let erased = erasure::erased_scan_body(row.get(0), now_ms);
        n += tx.execute(
            "UPDATE records SET body = $3 WHERE kiosk = $1 AND seq = $2",
            &[kiosk, seq, &erased],
        )? as usize;
    }
    Ok(n)
}

/// See [`Storage::save_delegations`].
fn save_delegations(
    c: &mut ::postgres::Client,
    delegations: &[Delegation],
    now_ms: i64,
) -> Result<(), StorageError> {
    let mut tx = c.transaction()?;
    for d in delegations {
        let org = d.org.trim();
        // Locked: two imports at once give one owner.
        let owner = tx.query_opt(
            "SELECT kind, org FROM events WHERE id = $1 FOR UPDATE",
            &[&d.id],
        )?;
        // A fair or a meeting of another unit keeps its id: its leads stay that unit's.
        if let Some(row) = owner {
            let (kind, other): (String, String) = (row.get(0), row.get(1));
            if kind != "delegation" && other != org {
                return Err(StorageError::Invalid(format!(
                    "delegation \"{}\": the id is already the {kind} \"{}\" of {other}; \
                     give the delegation another id",
                    d.id, d.id
                )));
            }
        }
        tx.execute(
            "INSERT INTO events(id, name, kind, starts, ends, country, languages, org,
                 responsible, created_ms, updated_ms)
             VALUES ($1, $2, 'delegation', $3, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT (id) DO UPDATE SET name = $2, kind = 'delegation', starts = $3,
                 ends = $3, country = $4, languages = $5, org = $6, responsible = $7,
                 updated_ms = $8",
            &[
                &pg_text(&d.id).as_ref(),
                &pg_text(&erasure::delegation_name(d)).as_ref(),
                &pg_text(d.date.trim()).as_ref(),
                &pg_text(&d.country.trim().to_ascii_uppercase()).as_ref(),
                &pg_text(&d.languages.join(",")).as_ref(),
                &pg_text(org).as_ref(),
                &pg_text(d.host.trim()).as_ref(),
                &now_ms,
            ],
        )?;
        // A delegation with a count but no list (a pack exported from the server, where the
        // names never leave) keeps the list the server has.
        if d.members.is_empty() && d.member_count > 0 {
            continue;
        }
        tx.execute(
            "DELETE FROM delegation_members WHERE delegation = $1",
            &[&d.id],
        )?;
        for (i, m) in d.members.iter().enumerate() {
            // A member staff erased stays erased, whatever the pack still says.
            let erased = tx
                .query_opt(
                    "SELECT 1 FROM erased_members WHERE delegation = $1 AND name_hash = $2",
                    &[&d.id, &erasure::member_hash(&d.id, &m.name)],
                )?
                .is_some();
            if erased {
                continue;
            }
            tx.execute(
                "INSERT INTO delegation_members(delegation, position, name, title, organisation)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &pg_text(&d.id).as_ref(),
                    &(i as i64),
                    &pg_text(m.name.trim()).as_ref(),
                    &pg_text(m.title.trim()).as_ref(),
                    &pg_text(m.organisation.trim()).as_ref(),
                ],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}
