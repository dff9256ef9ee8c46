//! [`Storage`] on SQLite: kiosks, enrolment, the push (ingest) and content versions.

use std::collections::{HashMap, HashSet};

use protocol::RecordBody;
use protocol::content::Manifest;
use protocol::sync::{Cursor, KioskSettings, PushAck};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::SqliteStorage;
use crate::store::codes::{new_code, normalise_code};
use crate::store::erasure;
use crate::store::ingest::{Finish, Outcome, Plan, Planned};
use crate::store::*;

/// How long an enrolment code stays valid.
const ENROL_CODE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

impl Storage for SqliteStorage {
    fn create_kiosk(
        &self,
        name: &str,
        event_id: Option<&str>,
        now_ms: i64,
    ) -> Result<NewKiosk, StorageError> {
        let uuid = Uuid::now_v7();
        let code = new_code();
        let expires_ms = now_ms + ENROL_CODE_TTL_MS;
        self.write(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO kiosks(uuid, name, event_id, enrol_code_hash, enrol_expires_ms, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![uuid.to_string(), name, event_id, sha256_hex(code.as_bytes()), expires_ms, now_ms],
            )?;
            if let Some(e) = event_id.filter(|e| !e.is_empty()) {
                note_kiosk_event(&tx, tx.last_insert_rowid(), e, now_ms)?;
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
        // A wrong code is answered from a reader: guessing never takes the writer lock.
        let known = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM kiosks WHERE enrol_code_hash = ?1 AND enrol_expires_ms > ?2",
            )?
            .exists(params![hash, now_ms])?)
        })?;
        if !known {
            return Err(StorageError::BadCode);
        }
        let mut rng = rand::rng();
        let secret: String = hex::encode(rng.random::<[u8; 32]>());
        let token_key = rng.random::<[u8; 32]>().to_vec();
        self.write(|c| {
            let tx = c.transaction()?;
            type Row = (i64, String, String, Option<String>, Option<i64>);
            let row: Option<Row> = tx
                .query_row(
                    "SELECT id, uuid, name, event_id, revoked_ms FROM kiosks
                     WHERE enrol_code_hash = ?1 AND enrol_expires_ms > ?2",
                    params![hash, now_ms],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((id, uuid, name, event_id, revoked)) = row else {
                return Err(StorageError::BadCode);
            };
            if revoked.is_some() {
                return Err(StorageError::Revoked);
            }
            tx.execute(
                "UPDATE kiosks SET secret_hash = ?2, token_key = ?3, enrol_code_hash = NULL,
                 enrolled_ms = ?4, app_version = ?5 WHERE id = ?1",
                params![
                    id,
                    sha256_hex(secret.as_bytes()),
                    token_key,
                    now_ms,
                    app_version
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
        self.write(|c| {
            let n = c.execute(
                "UPDATE kiosks SET revoked_ms = ?2, enrol_code_hash = NULL WHERE uuid = ?1",
                params![uuid.to_string(), now_ms],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            Ok(())
        })
    }

    fn set_kiosk_event(&self, uuid: Uuid, event_id: Option<&str>) -> Result<(), StorageError> {
        self.write(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE kiosks SET event_id = ?2, settings_rev = settings_rev + 1 WHERE uuid = ?1",
                params![uuid.to_string(), event_id],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            if let Some(e) = event_id.filter(|e| !e.is_empty()) {
                let row: i64 = tx.query_row(
                    "SELECT id FROM kiosks WHERE uuid = ?1",
                    [uuid.to_string()],
                    |r| r.get(0),
                )?;
                note_kiosk_event(&tx, row, e, protocol::now_ms())?;
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
        self.write(|c| {
            c.query_row(
                "UPDATE kiosks SET settings = ?2, settings_rev = settings_rev + 1 WHERE uuid = ?1
                 RETURNING settings_rev",
                params![uuid.to_string(), settings_json(settings)],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|r| r as u64)
            .ok_or(StorageError::NotFound)
        })
    }

    fn kiosks(&self) -> Result<Vec<KioskInfo>, StorageError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT uuid, name, event_id, secret_hash IS NOT NULL, revoked_ms IS NOT NULL, next_seq,
                        last_seen_ms, app_version, content_version, backlog, free_disk_bytes, content_error,
                        settings_rev, settings, last_contact_ms, screenshot_requested_ms,
                        (SELECT taken_ms FROM kiosk_screenshots WHERE kiosk = kiosks.id)
                 FROM kiosks ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(KioskInfo {
                    uuid: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                    name: r.get(1)?,
                    event_id: r.get(2)?,
                    enrolled: r.get(3)?,
                    revoked: r.get(4)?,
                    next_seq: r.get::<_, i64>(5)? as u64,
                    last_seen_ms: r.get(6)?,
                    app_version: r.get(7)?,
                    content_version: r.get(8)?,
                    backlog: r.get(9)?,
                    free_disk_bytes: r.get(10)?,
                    content_error: r.get(11)?,
                    settings: settings_from_row(
                        r.get(12)?,
                        r.get(2)?,
                        r.get::<_, Option<String>>(13)?.as_deref(),
                    ),
                    last_contact_ms: r.get(14)?,
                    screenshot_requested_ms: r.get(15)?,
                    screenshot_ms: r.get(16)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn authenticate(&self, uuid: Uuid, secret: &str) -> Result<KioskAuth, StorageError> {
        self.read(|c| {
            type Row = (i64, Option<String>, Option<String>, Option<i64>);
            let row: Option<Row> = c
                .query_row(
                    "SELECT id, secret_hash, event_id, revoked_ms FROM kiosks WHERE uuid = ?1",
                    [uuid.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((row, Some(hash), event_id, revoked)) = row else {
                return Err(StorageError::Unauthorised);
            };
            if !same_hash(&sha256_hex(secret.as_bytes()), &hash) {
                return Err(StorageError::Unauthorised);
            }
            if revoked.is_some() {
                return Err(StorageError::Revoked);
            }
            Ok(KioskAuth {
                row,
                uuid,
                event_id,
            })
        })
    }

    fn token_key(&self, uuid: Uuid) -> Result<Vec<u8>, StorageError> {
        self.read(|c| {
            c.query_row(
                "SELECT token_key FROM kiosks WHERE uuid = ?1 AND token_key IS NOT NULL",
                [uuid.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StorageError::NotFound)
        })
    }

    fn token_kiosk(&self, uuid: Uuid) -> Result<TokenKiosk, StorageError> {
        self.read(|c| {
            let row: Option<(i64, Vec<u8>, bool, Option<i64>)> = c
                .query_row(
                    "SELECT id, token_key, revoked_ms IS NOT NULL, clock_offset_ms FROM kiosks
                     WHERE uuid = ?1 AND token_key IS NOT NULL",
                    [uuid.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((row, key, revoked, clock_offset_ms)) = row else {
                return Err(StorageError::NotFound);
            };
            let mut q = c.prepare_cached("SELECT event_id FROM kiosk_events WHERE kiosk = ?1")?;
            let events = q
                .query_map([row], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(TokenKiosk {
                key,
                revoked,
                events,
                clock_offset_ms,
            })
        })
    }

    fn kiosk_stamp(&self) -> Result<[i64; 4], StorageError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT count(enrolled_ms), coalesce(max(enrolled_ms), 0),
                        count(revoked_ms), coalesce(max(revoked_ms), 0) FROM kiosks",
                [],
                |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
            )?)
        })
    }

    fn enrolled_kiosks(&self) -> Result<Vec<Uuid>, StorageError> {
        self.read(|c| {
            let mut q = c.prepare("SELECT uuid FROM kiosks WHERE token_key IS NOT NULL")?;
            let ids = q
                .query_map([], |r| r.get::<_, String>(0))?
                .filter_map(|r| r.ok().and_then(|s| Uuid::parse_str(&s).ok()))
                .collect();
            Ok(ids)
        })
    }

    fn cursor(&self, kiosk: &KioskAuth, now_ms: i64) -> Result<Cursor, StorageError> {
        type Row = (i64, i64, Option<String>, Option<String>, Option<i64>, bool);
        let (next, rev, event, json, contact, screenshot): Row = self.read(|c| {
            Ok(c.query_row(
                "SELECT next_seq, settings_rev, event_id, settings, last_contact_ms,
                        screenshot_requested_ms IS NOT NULL
                 FROM kiosks WHERE id = ?1",
                [kiosk.row],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )?)
        })?;
        // A write only when the contact noted is old: the cursor stays a read most of the time.
        if contact_is_stale(contact, now_ms) {
            self.write(|c| {
                c.execute(
                    "UPDATE kiosks SET last_contact_ms = ?2 WHERE id = ?1",
                    params![kiosk.row, now_ms],
                )?;
                Ok(())
            })?;
        }
        Ok(Cursor {
            next_seq: next as u64,
            server_time_ms: now_ms,
            // Until staff change something there is nothing to apply.
            settings: (rev > 0).then(|| settings_from_row(rev, event, json.as_deref())),
            screenshot_wanted: screenshot,
        })
    }

    fn ingest(
        &self,
        kiosk: &KioskAuth,
        batch: IncomingBatch,
        now_ms: i64,
    ) -> Result<PushAck, StorageError> {
        let mut plan = Plan::new(kiosk, batch, now_ms)?;
        let lead_ids = plan.lead_ids();
        self.write(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let next_seq: i64 = tx.query_row(
                "SELECT next_seq FROM kiosks WHERE id = ?1",
                [kiosk.row],
                |r| r.get(0),
            )?;
            // The boot the kiosk is in now is placed on the server's clock.
            let (boot_now, mono_now) = plan.current_boot();
            tx.execute(
                "INSERT OR IGNORE INTO kiosk_boots(kiosk, boot_id, ref_server_ms, ref_mono_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![kiosk.row, boot_now.as_bytes().as_slice(), now_ms, mono_now],
            )?;
            let mut boots = HashMap::new();
            {
                let mut q = tx.prepare_cached(
                    "SELECT ref_server_ms, ref_mono_ms FROM kiosk_boots WHERE kiosk = ?1 AND boot_id = ?2",
                )?;
                for b in plan.boot_ids() {
                    if let Some(reference) = q
                        .query_row(params![kiosk.row, b.as_bytes().as_slice()], |x| {
                            Ok((x.get(0)?, x.get(1)?))
                        })
                        .optional()?
                    {
                        boots.insert(b, reference);
                    }
                }
            }
            let erased = erased_among(&tx, &lead_ids)?;
            plan.resolve(&boots, &erased)?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO records(kiosk, seq, id, kind, event_id, wall_ms, boot_id, mono_ms,
                        clock_ok, corrected_ms, time_quality, received_ms, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )?;
                let mut lead_upsert = tx.prepare_cached(
                    "INSERT INTO leads(lead_id, kiosk, event_id, item, lang, source, name, organisation,
                        email, phone, country, title, interests, consent, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
                     ON CONFLICT(lead_id) DO UPDATE SET
                        name = excluded.name, organisation = excluded.organisation,
                        email = excluded.email, phone = excluded.phone, country = excluded.country,
                        title = excluded.title, interests = excluded.interests,
                        consent = excluded.consent, updated_ms = ?16
                     WHERE leads.erased_ms IS NULL AND ?17 = 0",
                )?;
                let mut hold = tx.prepare_cached(
                    "INSERT OR IGNORE INTO quarantine(kiosk, seq, kind, reason, received_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                let mut heartbeat = tx.prepare_cached(
                    "UPDATE kiosks SET app_version = ?2, content_version = ?3, backlog = ?4,
                        free_disk_bytes = ?5, uptime_ms = ?6, content_error = ?7 WHERE id = ?1",
                )?;
                for i in 0..plan.records.len() {
                    let r = &plan.records[i];
                    let mut insert = |kind: &str| {
                        ins.execute(params![
                            kiosk.row,
                            r.seq,
                            r.id.as_bytes().as_slice(),
                            kind,
                            r.event_id,
                            r.wall_ms,
                            r.boot_id.as_bytes().as_slice(),
                            r.mono_ms,
                            r.clock_ok,
                            r.corrected_ms,
                            r.quality,
                            now_ms,
                            r.body,
                        ])
                    };
                    // A record that writes nothing beyond its own row (a view, a session, a
                    // held one) needs no savepoint: its insert fails only with the database.
                    if r.held.is_some()
                        || !matches!(
                            r.typed,
                            Some(
                                RecordBody::Lead(_)
                                    | RecordBody::Visit(_)
                                    | RecordBody::Heartbeat { .. }
                            )
                        )
                    {
                        let n = insert(r.kind())?;
                        if n > 0
                            && let Some(reason) = &r.held
                        {
                            hold.execute(params![kiosk.row, r.seq, r.declared_kind(), reason, now_ms])?;
                        }
                        plan.stored(
                            i,
                            if n == 0 {
                                Outcome::Duplicate
                            } else {
                                Outcome::Inserted
                            },
                        );
                        continue;
                    }
                    // A lead, a visit or a heartbeat in its own savepoint: one that cannot be
                    // stored is rolled back alone and quarantined, and the batch goes on.
                    tx.execute_batch("SAVEPOINT record")?;
                    let stored = (|| -> Result<usize, StorageError> {
                        let n = insert(r.kind())?;
                        if n == 0 {
                            return Ok(0);
                        }
                        if let Some(reason) = &r.held {
                            hold.execute(params![kiosk.row, r.seq, r.declared_kind(), reason, now_ms])?;
                            return Ok(n);
                        }
                        match &r.typed {
                            Some(RecordBody::Lead(lead)) => {
                                let (interests, consent) = Planned::lead_json(lead);
                                lead_upsert.execute(params![
                                    lead.lead_id.as_bytes().as_slice(),
                                    kiosk.row,
                                    r.event_id,
                                    lead.item,
                                    lead.lang,
                                    lead.source.as_str(),
                                    lead.contact.name,
                                    lead.contact.organisation,
                                    lead.contact.email,
                                    lead.contact.phone,
                                    lead.contact.country,
                                    lead.contact.title,
                                    interests,
                                    consent,
                                    r.corrected_ms,
                                    now_ms,
                                    lead.redacted,
                                ])?;
                            }
                            Some(RecordBody::Visit(visit)) => {
                                crate::store::sqlite::visits::insert_visit(
                                    &tx, kiosk.row, visit, r.corrected_ms, now_ms,
                                )?;
                            }
                            Some(RecordBody::Heartbeat {
                                app_version,
                                content_version,
                                backlog,
                                free_disk_bytes,
                                uptime_ms,
                                content_error,
                            }) => {
                                heartbeat.execute(params![
                                    kiosk.row,
                                    app_version,
                                    content_version,
                                    i64::try_from(*backlog).unwrap_or(i64::MAX),
                                    i64::try_from(*free_disk_bytes).unwrap_or(i64::MAX),
                                    i64::try_from(*uptime_ms).unwrap_or(i64::MAX),
                                    content_error
                                ])?;
                            }
                            _ => {}
                        }
                        Ok(n)
                    })();
                    let outcome = match stored {
                        Ok(0) => {
                            tx.execute_batch("RELEASE record")?;
                            Outcome::Duplicate
                        }
                        Ok(_) => {
                            tx.execute_batch("RELEASE record")?;
                            Outcome::Inserted
                        }
                        // The disk is full: nothing of the batch is kept, the kiosk retries.
                        Err(StorageError::Full) => return Err(StorageError::Full),
                        Err(e) => {
                            tx.execute_batch("ROLLBACK TO record; RELEASE record")?;
                            tracing::warn!(kiosk = %kiosk.uuid, seq = r.seq, "the record could not be stored: {e}");
                            if insert("quarantined")? > 0 {
                                Outcome::Failed(e.to_string())
                            } else {
                                Outcome::Duplicate
                            }
                        }
                    };
                    let failed = matches!(outcome, Outcome::Failed(_));
                    plan.stored(i, outcome);
                    let r = &plan.records[i];
                    if let (true, Some(reason)) = (failed, &r.held) {
                        hold.execute(params![kiosk.row, r.seq, r.declared_kind(), reason, now_ms])?;
                    }
                }
            }
            let f = {
                let mut exists =
                    tx.prepare_cached("SELECT 1 FROM records WHERE kiosk = ?1 AND seq = ?2")?;
                plan.finish(next_seq, &erased, |seq| Ok(exists.exists(params![kiosk.row, seq])?))?
            };
            write_finish(&tx, kiosk, &f, now_ms)?;
            tx.commit()?;
            Ok(f.ack)
        })
    }

    fn erase_lead(&self, lead_id: Uuid, now_ms: i64) -> Result<(), StorageError> {
        self.write(|c| {
            let tx = c.transaction()?;
            let contact: Option<(String, String)> = tx
                .query_row(
                    "SELECT email, phone FROM leads WHERE lead_id = ?1 AND erased_ms IS NULL",
                    [lead_id.as_bytes().as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            // A tombstone even for a lead not seen yet, so that it never arrives later.
            tx.execute(
                "INSERT INTO leads(lead_id, source, created_ms, updated_ms, erased_ms)
                 VALUES (?1, 'erased', ?2, ?2, ?2)
                 ON CONFLICT(lead_id) DO UPDATE SET name = '', organisation = '', email = '',
                    phone = '', title = '', notes = '', erased_ms = ?2, updated_ms = ?2",
                params![lead_id.as_bytes().as_slice(), now_ms],
            )?;
            tx.execute(
                "DELETE FROM lead_versions WHERE lead_id = ?1",
                [lead_id.as_bytes().as_slice()],
            )?;
            // Raw scans that hold the lead's email or phone go with it.
            if let Some((email, phone)) = contact {
                let keys = erasure::contact_keys(&email, &phone);
                if !keys.is_empty() {
                    let scans: Vec<(i64, i64)> = {
                        let mut q = tx.prepare(
                            "SELECT kiosk, seq, body FROM records WHERE kind = 'raw_scan'",
                        )?;
                        q.query_map([], |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, String>(2)?,
                            ))
                        })?
                        .filter_map(Result::ok)
                        .filter(|(_, _, body)| erasure::scan_body_mentions(body, &keys))
                        .map(|(k, s, _)| (k, s))
                        .collect()
                    };
                    crate::store::sqlite::leads::erase_scans(&tx, &scans, now_ms)?;
                }
            }
            // The lead's personal fields also leave the raw records.
            let rows: Vec<(i64, i64, String)> = {
                let mut q = tx.prepare(
                    "SELECT kiosk, seq, body FROM records WHERE kind = 'lead' AND body LIKE ?1",
                )?;
                q.query_map([format!("%{lead_id}%")], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<_, _>>()?
            };
            for (kiosk, seq, body) in rows {
                if let Some(redacted) = erasure::redacted_lead_body(&body, lead_id)? {
                    tx.execute(
                        "UPDATE records SET body = ?3 WHERE kiosk = ?1 AND seq = ?2",
                        params![kiosk, seq, redacted],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn record_media(&self, sha256: &str, size: u64, now_ms: i64) -> Result<(), StorageError> {
        self.write(|c| {
            c.execute(
                "INSERT OR IGNORE INTO media(sha256, size, created_ms) VALUES (?1, ?2, ?3)",
                params![sha256, size as i64, now_ms],
            )?;
            Ok(())
        })
    }

    fn save_delegations(
        &self,
        delegations: &[protocol::content::Delegation],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.write(|c| crate::store::sqlite::visits::save_delegations(c, delegations, now_ms))
    }

    fn publish(&self, manifest: &Manifest, now_ms: i64) -> Result<(), StorageError> {
        let json = serde_json::to_string(manifest).map_err(|e| StorageError::Db(e.to_string()))?;
        self.write(|c| {
            c.execute(
                "INSERT INTO content_versions(version, manifest, created_ms, published_ms)
                 VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT(version) DO UPDATE SET published_ms = ?3",
                params![manifest.version, json, now_ms],
            )?;
            Ok(())
        })
    }

    fn current_manifest(&self) -> Result<Option<Manifest>, StorageError> {
        self.read(|c| {
            let json: Option<String> = c
                .query_row(
                    "SELECT manifest FROM content_versions WHERE published_ms IS NOT NULL
                     ORDER BY published_ms DESC, id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            json.map(|j| serde_json::from_str(&j).map_err(|e| StorageError::Db(e.to_string())))
                .transpose()
        })
    }

    fn event_manifest(&self, event_id: &str) -> Result<Option<Manifest>, StorageError> {
        self.read(|c| {
            let json: Option<String> = c
                .query_row(
                    "SELECT v.manifest FROM event_content e
                     JOIN content_versions v ON v.version = e.version WHERE e.event_id = ?1",
                    [event_id],
                    |r| r.get(0),
                )
                .optional()?;
            json.map(|j| serde_json::from_str(&j).map_err(|e| StorageError::Db(e.to_string())))
                .transpose()
        })
    }

    fn media_known(&self, sha256: &str) -> Result<bool, StorageError> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT 1 FROM media WHERE sha256 = ?1")?
                .exists([sha256])?)
        })
    }

    fn count_records(&self, kiosk: Option<Uuid>) -> Result<u64, StorageError> {
        self.read(|c| {
            let n: i64 = match kiosk {
                Some(k) => c.query_row(
                    "SELECT count(*) FROM records WHERE kiosk = (SELECT id FROM kiosks WHERE uuid = ?1)",
                    [k.to_string()],
                    |r| r.get(0),
                )?,
                None => c.query_row("SELECT count(*) FROM records", [], |r| r.get(0))?,
            };
            Ok(n as u64)
        })
    }
}

/// Adds an event to those a kiosk may sign QR codes for.
fn note_kiosk_event(
    c: &Connection,
    kiosk: i64,
    event_id: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO kiosk_events(kiosk, event_id, first_ms) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![kiosk, event_id, now_ms])?;
    Ok(())
}

/// The leads among `ids` erased here.
fn erased_among(c: &Connection, ids: &[Uuid]) -> Result<HashSet<Uuid>, StorageError> {
    let mut q =
        c.prepare_cached("SELECT 1 FROM leads WHERE lead_id = ?1 AND erased_ms IS NOT NULL")?;
    let mut out = HashSet::new();
    for id in ids {
        if q.exists([id.as_bytes().as_slice()])? {
            out.insert(*id);
        }
    }
    Ok(out)
}

/// Writes what a push's plan ends with: roll-ups, a declared gap, the cursor, events served.
fn write_finish(
    c: &Connection,
    kiosk: &KioskAuth,
    f: &Finish,
    now_ms: i64,
) -> Result<(), StorageError> {
    let mut up_views = c.prepare_cached(
        "INSERT INTO rollup_views(event_id, item, lang, hour, origin, views, dwell_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO UPDATE SET views = views + excluded.views,
            dwell_ms = dwell_ms + excluded.dwell_ms",
    )?;
    for ((event, item, lang, hour, origin), v) in &f.views {
        up_views.execute(params![
            event, item, lang, hour, origin, v.views, v.dwell_ms
        ])?;
    }
    let mut up_kinds = c.prepare_cached(
        "INSERT INTO rollup_kinds(event_id, kind, hour, count) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET count = count + excluded.count",
    )?;
    for ((event, kind, hour), n) in &f.kinds {
        up_kinds.execute(params![event, kind, hour, n])?;
    }
    let mut sessions = c.prepare_cached(
        "INSERT INTO rollup_sessions(event_id, hour, started, ended, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET started = started + excluded.started,
            ended = ended + excluded.ended, duration_ms = duration_ms + excluded.duration_ms",
    )?;
    for ((event, hour), s) in &f.sessions {
        sessions.execute(params![event, hour, s.started, s.ended, s.duration_ms])?;
    }
    let mut days = c.prepare_cached(
        "INSERT INTO rollup_kiosk_days(day, kiosk, event_id, records) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET records = records + excluded.records",
    )?;
    for ((event, day), n) in &f.kiosk_days {
        days.execute(params![day, kiosk.row, event, n])?;
    }
    let mut qr = c.prepare_cached(
        "INSERT INTO rollup_qr(event_id, item, lang, hour, purpose, shown)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET shown = shown + excluded.shown",
    )?;
    for ((event, item, lang, hour, purpose), n) in &f.qr_shown {
        qr.execute(params![event, item, lang, hour, purpose, n])?;
    }
    for text in f.consent_texts.values() {
        crate::store::sqlite::leads::archive_consent(c, text)?;
    }
    if let Some((from, to)) = f.gap {
        c.execute(
            "INSERT INTO seq_gaps(kiosk, from_seq, to_seq, noted_ms) VALUES (?1, ?2, ?3, ?4)",
            params![kiosk.row, from, to, now_ms],
        )?;
    }
    c.execute(
        "UPDATE kiosks SET next_seq = ?2, last_seen_ms = ?3, clock_offset_ms = ?4 WHERE id = ?1",
        params![kiosk.row, f.next_seq, now_ms, f.clock_offset_ms],
    )?;
    for e in &f.served {
        note_kiosk_event(c, kiosk.row, e, now_ms)?;
    }
    Ok(())
}
