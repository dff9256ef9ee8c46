//! The kiosk's local store: one SQLite file (WAL, `synchronous=FULL`) holding every record in
//! a gap-free sequence until the server has acknowledged it, and the kiosk's identity.
//!
//! Invariants:
//! - `seq` comes from a counter in `meta`, bumped in the same transaction as the insert, so a
//!   sequence number is never reused, even after acknowledged rows are pruned.
//! - An append returns only after the transaction is durable (`synchronous=FULL`): a visitor
//!   is told "thank you" only for a lead that survives a power cut.
//! - Personal fields are deleted once the server has acknowledged the record; the record
//!   itself stays (redacted) for `keep_acked` so a server restored from backup gets it again.

use std::path::Path;
use std::sync::LazyLock;

use protocol::{Record, RecordBody};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::clock::Stamp;

/// The meta key of the event the kiosk plays (from the server's settings or chosen in the
/// overlay), read at start.
pub const EVENT_KEY: &str = "event_id";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the kiosk store could not be opened or written: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the kiosk store's schema could not be migrated: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("a stored record is unreadable (seq {seq}): {source}")]
    Corrupt { seq: u64, source: serde_json::Error },
    #[error("could not encode a record: {0}")]
    Encode(#[from] serde_json::Error),
}

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(vec![M::up(include_str!("../migrations/01-records/up.sql"))]));

/// What the kiosk knows about itself once enrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kiosk_id: Uuid,
    pub name: String,
    pub secret: String,
    pub token_key: Vec<u8>,
    pub server_url: String,
    pub public_url: String,
    /// The certificate authority (PEM) trusted for the server besides the public ones, given
    /// at enrolment (`kiosk enrol --ca FILE`) for a server with a certificate of its own.
    pub server_ca: Option<String>,
}

/// A record as stored, before the kiosk id is stamped on it at push time.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub seq: u64,
    pub id: Uuid,
    pub stamp: Stamp,
    pub event_id: Option<String>,
    pub body: RecordBody,
}

/// A stored record with its body as the JSON text it was stored as.
#[derive(Debug)]
pub struct RawStored {
    pub seq: u64,
    pub id: Uuid,
    pub stamp: Stamp,
    pub event_id: Option<String>,
    pub body: Box<RawValue>,
}

impl RawStored {
    /// The wire form of this record, for `kiosk_id`.
    pub fn as_wire(&self, kiosk_id: Uuid) -> protocol::record::RecordRef<'_> {
        protocol::record::RecordRef {
            v: protocol::RECORD_SCHEMA,
            id: self.id,
            kiosk_id,
            seq: self.seq,
            wall_ms: self.stamp.wall_ms,
            boot_id: self.stamp.boot_id,
            mono_ms: self.stamp.mono_ms,
            clock_ok: self.stamp.clock_ok,
            event_id: self.event_id.as_deref(),
            body: &self.body,
        }
    }
}

impl Stored {
    pub fn into_record(self, kiosk_id: Uuid) -> Record {
        Record {
            v: protocol::RECORD_SCHEMA,
            id: self.id,
            kiosk_id,
            seq: self.seq,
            wall_ms: self.stamp.wall_ms,
            boot_id: self.stamp.boot_id,
            mono_ms: self.stamp.mono_ms,
            clock_ok: self.stamp.clock_ok,
            event_id: self.event_id,
            body: self.body,
        }
    }
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = Connection::open(path)?;
        // The store holds the kiosk's secret, its QR signing key and leads not yet sent: only
        // the kiosk's user may read it (SQLite gives its WAL files the same mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        MIGRATIONS.to_latest(&mut conn)?;
        Ok(Store { conn })
    }

    /// Opens an existing store to read, changing nothing (no migration, no new file): for
    /// `kiosk doctor`, which may run as another user than the kiosk.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Store { conn })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        upsert_meta(&self.conn, key, value)
    }

    fn meta_u64(&self, key: &str, default: u64) -> Result<u64, StoreError> {
        Ok(self
            .meta(key)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(default))
    }

    pub fn identity(&self) -> Result<Option<Identity>, StoreError> {
        let Some(id) = self.meta("kiosk_id")? else {
            return Ok(None);
        };
        let get = |k: &str| -> Result<String, StoreError> { Ok(self.meta(k)?.unwrap_or_default()) };
        Ok(Some(Identity {
            kiosk_id: Uuid::parse_str(&id).unwrap_or_default(),
            name: get("kiosk_name")?,
            secret: get("secret")?,
            token_key: hex::decode(get("token_key")?).unwrap_or_default(),
            server_url: get("server_url")?,
            public_url: get("public_url")?,
            server_ca: Some(get("server_ca")?).filter(|pem| !pem.is_empty()),
        }))
    }

    /// Saves the identity from an enrolment, in one transaction.
    pub fn set_identity(&mut self, id: &Identity) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for (k, v) in [
            ("kiosk_id", id.kiosk_id.to_string()),
            ("kiosk_name", id.name.clone()),
            ("secret", id.secret.clone()),
            ("token_key", hex::encode(&id.token_key)),
            ("server_url", id.server_url.clone()),
            ("public_url", id.public_url.clone()),
            ("server_ca", id.server_ca.clone().unwrap_or_default()),
        ] {
            upsert_meta(&tx, k, &v)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The settings from the server applied last (none until staff set some).
    pub fn applied_settings(&self) -> Result<Option<protocol::sync::KioskSettings>, StoreError> {
        Ok(self
            .meta("settings")?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Keeps settings from the server if their revision is above the one applied last, in one
    /// transaction: the settings, the event records carry from now on, and a new staff PIN's
    /// hash (the PIN set at the kiosk stays when the server sends none). Answers whether they
    /// were new.
    pub fn save_settings_if_newer(
        &mut self,
        settings: &protocol::sync::KioskSettings,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let applied: u64 = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'settings_rev'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if settings.revision <= applied {
            return Ok(false);
        }
        upsert_meta(&tx, "settings_rev", &settings.revision.to_string())?;
        upsert_meta(&tx, "settings", &serde_json::to_string(settings)?)?;
        match settings.event_id.as_deref() {
            Some(e) => upsert_meta(&tx, EVENT_KEY, e)?,
            None => {
                tx.execute("DELETE FROM meta WHERE key = ?1", [EVENT_KEY])?;
            }
        }
        if let Some(h) = settings.staff_pin_hash.as_deref() {
            upsert_meta(&tx, "staff_pin_hash", h)?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Appends one record; durable when this returns.
    pub fn append(
        &mut self,
        stamp: Stamp,
        event_id: Option<&str>,
        body: RecordBody,
    ) -> Result<Stored, StoreError> {
        let mut out =
            self.append_many(std::iter::once((stamp, event_id.map(str::to_owned), body)))?;
        Ok(out.pop().expect("one record appended"))
    }

    /// Appends one record and deletes a meta key in the same transaction: a checkpoint that
    /// the record replaces is gone exactly when the record is there.
    pub fn append_clearing(
        &mut self,
        stamp: Stamp,
        event_id: Option<&str>,
        body: RecordBody,
        meta_key: &str,
    ) -> Result<Stored, StoreError> {
        let mut out = self.append_inner(
            std::iter::once((stamp, event_id.map(str::to_owned), body)),
            Some(meta_key),
        )?;
        Ok(out.pop().expect("one record appended"))
    }

    /// Deletes a meta key (nothing if it is not there).
    pub fn clear_meta(&self, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Appends records in one transaction (one fsync).
    pub fn append_many(
        &mut self,
        records: impl IntoIterator<Item = (Stamp, Option<String>, RecordBody)>,
    ) -> Result<Vec<Stored>, StoreError> {
        self.append_inner(records, None)
    }

    fn append_inner(
        &mut self,
        records: impl IntoIterator<Item = (Stamp, Option<String>, RecordBody)>,
        clear_meta: Option<&str>,
    ) -> Result<Vec<Stored>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(key) = clear_meta {
            tx.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        }
        let mut seq = read_next_seq(&tx)?;
        let mut out = Vec::new();
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO records(seq, id, wall_ms, boot_id, mono_ms, clock_ok, event_id, kind, body, lead_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (stamp, event_id, body) in records {
                let id = Uuid::now_v7();
                let json = serde_json::to_string(&body)?;
                let lead_id = match &body {
                    RecordBody::Lead(l) => Some(l.lead_id.as_bytes().to_vec()),
                    _ => None,
                };
                ins.execute(params![
                    seq as i64,
                    id.as_bytes().as_slice(),
                    stamp.wall_ms,
                    stamp.boot_id.as_bytes().as_slice(),
                    stamp.mono_ms as i64,
                    stamp.clock_ok,
                    event_id,
                    body.kind(),
                    json,
                    lead_id,
                ])?;
                out.push(Stored {
                    seq,
                    id,
                    stamp,
                    event_id,
                    body,
                });
                seq += 1;
            }
        }
        upsert_meta(&tx, "next_seq", &seq.to_string())?;
        tx.commit()?;
        Ok(out)
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        self.meta_u64("next_seq", 1)
    }

    /// The server's cursor as last acknowledged: every record below it is on the server.
    pub fn acked_seq(&self) -> Result<u64, StoreError> {
        self.meta_u64("server_next_seq", 1)
    }

    /// Records not yet acknowledged.
    pub fn backlog(&self) -> Result<u64, StoreError> {
        Ok(self.next_seq()?.saturating_sub(self.acked_seq()?))
    }

    /// Reads records from `from_seq` on, at most `max_records` of them and at most about
    /// `max_bytes` of JSON (always at least one, so a large record still moves).
    pub fn read_batch(
        &self,
        from_seq: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Stored>, StoreError> {
        self.read_batch_raw(from_seq, max_records, max_bytes)?
            .into_iter()
            .map(|r| {
                Ok(Stored {
                    body: serde_json::from_str(r.body.get())
                        .map_err(|source| StoreError::Corrupt { seq: r.seq, source })?,
                    seq: r.seq,
                    id: r.id,
                    stamp: r.stamp,
                    event_id: r.event_id,
                })
            })
            .collect()
    }

    /// As [`Store::read_batch`], with each body as the JSON stored: the sync client sends it
    /// without parsing it again.
    pub fn read_batch_raw(
        &self,
        from_seq: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<RawStored>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, wall_ms, boot_id, mono_ms, clock_ok, event_id, body
             FROM records WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![from_seq as i64, max_records as i64])?;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = rows.next()? {
            let seq = row.get::<_, i64>(0)? as u64;
            let body: String = row.get(7)?;
            bytes += body.len() + 120;
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            let id: Vec<u8> = row.get(1)?;
            let boot: Vec<u8> = row.get(3)?;
            let wall_ms: i64 = row.get(2)?;
            out.push(RawStored {
                seq,
                id: Uuid::from_slice(&id).unwrap_or_default(),
                stamp: Stamp {
                    wall_ms,
                    boot_id: Uuid::from_slice(&boot).unwrap_or_default(),
                    mono_ms: row.get::<_, i64>(4)? as u64,
                    clock_ok: row.get(5)?,
                    corrected_ms: wall_ms,
                },
                event_id: row.get(6)?,
                body: RawValue::from_string(body)
                    .map_err(|source| StoreError::Corrupt { seq, source })?,
            });
        }
        Ok(out)
    }

    /// Records the server's cursor after a committed push: marks everything below it as
    /// acknowledged and deletes the personal fields of those records.
    pub fn mark_acked(&mut self, server_next_seq: u64, now_ms: i64) -> Result<(), StoreError> {
        // Everything below the cursor last recorded is acknowledged already: only the range
        // since then is touched, so a long drain does not rescan what it sent.
        let since = self.acked_seq()?.min(server_next_seq) as i64;
        let tx = self.conn.transaction()?;
        let redact: Vec<(i64, String)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT seq, body FROM records
                 WHERE seq >= ?2 AND seq < ?1 AND acked_ms IS NULL AND kind IN ('lead', 'raw_scan')",
            )?;
            stmt.query_map(params![server_next_seq as i64, since], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?
        };
        for (seq, body) in redact {
            let redacted = redact_json(&body).map_err(|source| StoreError::Corrupt {
                seq: seq as u64,
                source,
            })?;
            tx.execute(
                "UPDATE records SET body = ?2 WHERE seq = ?1",
                params![seq, redacted],
            )?;
        }
        tx.execute(
            "UPDATE records SET acked_ms = ?2 WHERE seq >= ?3 AND seq < ?1 AND acked_ms IS NULL",
            params![server_next_seq as i64, now_ms, since],
        )?;
        upsert_meta(&tx, "server_next_seq", &server_next_seq.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes the personal fields of leads erased on the server.
    pub fn erase_leads(&mut self, lead_ids: &[Uuid]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for id in lead_ids {
            let rows: Vec<(i64, String)> = {
                let mut stmt =
                    tx.prepare_cached("SELECT seq, body FROM records WHERE lead_id = ?1")?;
                stmt.query_map([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?
            };
            for (seq, body) in rows {
                let redacted = redact_json(&body).map_err(|source| StoreError::Corrupt {
                    seq: seq as u64,
                    source,
                })?;
                n += tx.execute(
                    "UPDATE records SET body = ?2 WHERE seq = ?1",
                    params![seq, redacted],
                )?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Moves every record from `from` on to start at `to` (> `from`), and the counter with it.
    /// Used when the server is ahead of this store, so that no sequence number is reused.
    pub fn renumber_from(&mut self, from: u64, to: u64) -> Result<(), StoreError> {
        if to <= from {
            return Ok(());
        }
        let delta = (to - from) as i64;
        let tx = self.conn.transaction()?;
        // Two steps through negative numbers so that the primary key never collides.
        tx.execute(
            "UPDATE records SET seq = -(seq + ?2) WHERE seq >= ?1",
            params![from as i64, delta],
        )?;
        tx.execute("UPDATE records SET seq = -seq WHERE seq < 0", [])?;
        let next = read_next_seq(&tx)?.max(from) + (to - from);
        for (k, v) in [("next_seq", next), ("server_next_seq", to)] {
            upsert_meta(&tx, k, &v.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes acknowledged records older than `cutoff_ms` (by acknowledgement time).
    pub fn prune_acked(&mut self, cutoff_ms: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM records WHERE acked_ms IS NOT NULL AND acked_ms < ?1",
            [cutoff_ms],
        )?)
    }

    /// Every record still in the store, for tests and the staff overlay's export.
    pub fn all(&self) -> Result<Vec<Stored>, StoreError> {
        self.read_batch(0, usize::MAX >> 1, usize::MAX)
    }

    /// Personal data still held: leads and raw scans not yet redacted.
    pub fn personal_records(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM records WHERE kind IN ('lead','raw_scan') AND acked_ms IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

fn upsert_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

fn read_next_seq(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1))
}

/// Removes the personal fields from a lead or raw-scan body, keeping what reports need.
fn redact_json(body: &str) -> Result<String, serde_json::Error> {
    let body: RecordBody = serde_json::from_str(body)?;
    let redacted = match body {
        RecordBody::Lead(mut lead) => {
            lead.redact();
            RecordBody::Lead(lead)
        }
        RecordBody::RawScan { reason, .. } => RecordBody::RawScan {
            raw: String::new(),
            reason,
        },
        other => other,
    };
    serde_json::to_string(&redacted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_the_kiosks_user_can_read_the_store() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.sqlite");
        let store = Store::open(&path).unwrap();
        store.set_meta("secret", "s3cret").unwrap();
        for p in [path.clone(), path.with_extension("sqlite-wal")] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
    }
    use crate::clock::Clock;
    use protocol::record::{Contact, LeadBody, LeadSource};

    fn lead() -> RecordBody {
        RecordBody::Lead(Box::new(LeadBody {
            lead_id: Uuid::now_v7(),
            contact: Contact {
                name: "Nguyễn Thị Lan".into(),
                email: "lan@example.vn".into(),
                country: "VN".into(),
                ..Default::default()
            },
            interests: vec!["invest".into()],
            source: LeadSource::KioskForm,
            consent: None,
            item: None,
            lang: Some("vi".into()),
            redacted: false,
        }))
    }

    fn view(i: u64) -> RecordBody {
        RecordBody::View {
            item: format!("item-{i}"),
            lang: "en".into(),
            dwell_ms: i,
            origin: protocol::ViewOrigin::Attract,
        }
    }

    #[test]
    fn sequence_is_gap_free_and_survives_pruning_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite");
        let clock = Clock::system();
        {
            let mut s = Store::open(&path).unwrap();
            for i in 0..5 {
                assert_eq!(s.append(clock.now(), None, view(i)).unwrap().seq, i + 1);
            }
            s.mark_acked(6, 10).unwrap();
            assert_eq!(s.prune_acked(11).unwrap(), 5);
            assert_eq!(s.backlog().unwrap(), 0);
        }
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.append(clock.now(), None, view(9)).unwrap().seq, 6);
        assert_eq!(s.backlog().unwrap(), 1);
    }

    #[test]
    fn read_batch_caps_by_count_and_bytes_but_always_moves() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("k.sqlite")).unwrap();
        let clock = Clock::system();
        s.append_many((0..100).map(|i| (clock.now(), Some("e".to_owned()), view(i))))
            .unwrap();
        assert_eq!(s.read_batch(1, 10, 1 << 20).unwrap().len(), 10);
        let by_bytes = s.read_batch(1, 100, 1_000).unwrap();
        assert!(by_bytes.len() < 10 && !by_bytes.is_empty());
        assert_eq!(s.read_batch(50, 100, 1).unwrap().len(), 1);
        assert_eq!(s.read_batch(50, 100, 1).unwrap()[0].seq, 50);
        assert!(s.read_batch(101, 100, 1 << 20).unwrap().is_empty());
    }

    #[test]
    fn acknowledged_leads_lose_their_personal_fields_but_keep_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("k.sqlite")).unwrap();
        let clock = Clock::system();
        s.append(clock.now(), None, lead()).unwrap();
        s.append(clock.now(), None, lead()).unwrap();
        assert_eq!(s.personal_records().unwrap(), 2);
        s.mark_acked(2, 1).unwrap();
        assert_eq!(s.personal_records().unwrap(), 1);
        let all = s.all().unwrap();
        let RecordBody::Lead(first) = &all[0].body else {
            panic!()
        };
        assert!(first.redacted);
        assert_eq!(first.contact.name, "");
        assert_eq!(first.contact.country, "VN");
        let RecordBody::Lead(second) = &all[1].body else {
            panic!()
        };
        assert_eq!(second.contact.name, "Nguyễn Thị Lan");
        // An erasure from the server reaches a lead that has not been acknowledged yet.
        let id = second.lead_id;
        assert_eq!(s.erase_leads(&[id]).unwrap(), 1);
        let RecordBody::Lead(second) = &s.all().unwrap()[1].body else {
            panic!()
        };
        assert!(second.redacted && second.contact.email.is_empty());
    }

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
