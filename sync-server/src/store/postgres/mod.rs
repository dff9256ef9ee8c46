//! The PostgreSQL backend, for when one machine is not enough: several servers share one
//! database (sessions, lockouts, audit and everything else live in it, none in a process).
//! SQL only, one file per storage trait, the migrations beside them in the same numbered steps
//! as SQLite's.
//!
//! The client is the blocking `postgres` crate: the storage traits are blocking and run on the
//! blocking pool, as the SQLite backend does, so one style of code serves both backends and no query
//! needs a live database to compile (see `docs/ARCHITECTURE.md`).
//!
//! Every storage trait is here, and the conformance suite (`sync-server/tests/conformance/`)
//! runs each against both backends with the same fixtures and the same expected values.
//! `serve --database postgres://…` (or `PROMO_DATABASE_URL`) uses it.
//!
//! Where PostgreSQL differs from SQLite, the difference is decided and tested: `TEXT` cannot
//! hold U+0000, which is stored as U+FFFD (`pg_text`); text is ordered byte by byte
//! (`COLLATE "C"`), as SQLite orders it, whatever the cluster's locale; searches ignore the case
//! of every letter (`ILIKE`), SQLite's of A–Z only; sums of BIGINT are cast back from NUMERIC.

mod fleet;
mod inspect;
mod leads;
mod phone;
mod reports;
mod staff;
mod sync;
mod visits;

use std::sync::Mutex;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use crate::store::{KioskInfo, StorageError};

/// The schema in numbered steps, the numbers SQLite's migrations have.
const MIGRATIONS: [(i64, &str, &str); 17] = [
    (1, "core", include_str!("migrations/01-core/up.sql")),
    (2, "staff", include_str!("migrations/02-staff/up.sql")),
    (
        3,
        "content-error",
        include_str!("migrations/03-content-error/up.sql"),
    ),
    (4, "phone", include_str!("migrations/04-phone/up.sql")),
    (
        5,
        "events-orgs",
        include_str!("migrations/05-events-orgs/up.sql"),
    ),
    (
        6,
        "report-rollups",
        include_str!("migrations/06-report-rollups/up.sql"),
    ),
    (7, "visits", include_str!("migrations/07-visits/up.sql")),
    (
        8,
        "erased-members",
        include_str!("migrations/08-erased-members/up.sql"),
    ),
    (
        9,
        "hardening",
        include_str!("migrations/09-hardening/up.sql"),
    ),
    (
        10,
        "kiosk-settings",
        include_str!("migrations/10-kiosk-settings/up.sql"),
    ),
    (
        11,
        "kiosk-contact",
        include_str!("migrations/11-kiosk-contact/up.sql"),
    ),
    (
        12,
        "screenshots",
        include_str!("migrations/12-screenshots/up.sql"),
    ),
    (
        13,
        "user-links",
        include_str!("migrations/13-user-links/up.sql"),
    ),
    (
        14,
        "content-targets",
        include_str!("migrations/14-content-targets/up.sql"),
    ),
    (15, "totp", include_str!("migrations/15-totp/up.sql")),
    (
        16,
        "consent-texts",
        include_str!("migrations/16-consent-texts/up.sql"),
    ),
    (17, "funnel", include_str!("migrations/17-funnel/up.sql")),
];

/// An advisory lock's key: servers starting together migrate one after the other.
const MIGRATION_LOCK: i64 = 0x7072_6f6d_6f6b_696f; // "promokio"

/// Connections kept open for reuse at most.
const POOL_MAX: usize = 16;

pub struct PostgresStorage {
    url: String,
    config: Config,
    pool: Mutex<Vec<Client>>,
}

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        match e.code() {
            Some(c) if *c == SqlState::DISK_FULL => StorageError::Full,
            Some(c)
                if *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE =>
            {
                StorageError::Conflict
            }
            _ => StorageError::Db(e.to_string()),
        }
    }
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the
    /// schema to the newest step.
    pub fn open(url: &str) -> Result<PostgresStorage, StorageError> {
        off_executor(|| PostgresStorage::open_blocking(url))
    }

    fn open_blocking(url: &str) -> Result<PostgresStorage, StorageError> {
        let config: Config = url
            .parse()
            .map_err(|e: postgres::Error| StorageError::Invalid(format!("database URL: {e}")))?;
        let mut client = config.connect(NoTls)?;
        migrate(&mut client)?;
        Ok(PostgresStorage {
            url: url.to_owned(),
            config,
            pool: Mutex::new(vec![client]),
        })
    }

    /// The URL this storage was opened with (for a second handle on the same database).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Runs `f` on a pooled connection (a new one when none is free). The client blocks: the
    /// server calls storage on the blocking pool; called on an async worker thread anyway, it
    /// steps off the executor first (`block_in_place`) rather than abort the process.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        off_executor(|| self.on_connection(f))
    }

    fn on_connection<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
        let mut client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => self.config.connect(NoTls)?,
        };
        let out = f(&mut client);
        if !client.is_closed()
            && let Ok(mut p) = self.pool.lock()
            && p.len() < POOL_MAX
        {
            p.push(client);
        }
        out
    }

    /// Every kiosk, as the dashboard lists them.
    pub(crate) fn kiosk_list(c: &mut Client) -> Result<Vec<KioskInfo>, StorageError> {
        let rows = c.query(
            "SELECT uuid, name, event_id, secret_hash IS NOT NULL, revoked_ms IS NOT NULL, next_seq,
                    last_seen_ms, app_version, content_version, backlog, free_disk_bytes, content_error,
                    settings_rev, settings, last_contact_ms, screenshot_requested_ms,
                    (SELECT taken_ms FROM kiosk_screenshots WHERE kiosk = kiosks.id)
             FROM kiosks ORDER BY id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| KioskInfo {
                uuid: uuid::Uuid::parse_str(r.get::<_, &str>(0)).unwrap_or_default(),
                name: r.get(1),
                event_id: r.get(2),
                enrolled: r.get(3),
                revoked: r.get(4),
                next_seq: r.get::<_, i64>(5) as u64,
                last_seen_ms: r.get(6),
                app_version: r.get(7),
                content_version: r.get(8),
                backlog: r.get(9),
                free_disk_bytes: r.get(10),
                content_error: r.get(11),
                settings: crate::store::settings_from_row(r.get(12), r.get(2), r.get(13)),
                last_contact_ms: r.get(14),
                screenshot_requested_ms: r.get(15),
                screenshot_ms: r.get(16),
            })
            .collect())
    }
}

impl Drop for PostgresStorage {
    /// Closing a client blocks too: off the executor when the last handle goes on an async
    /// worker thread.
    fn drop(&mut self) {
        let clients = std::mem::take(self.pool.get_mut().unwrap_or_else(|p| p.into_inner()));
        off_executor(|| drop(clients));
    }
}

/// Runs blocking client work: as it is on a plain or blocking-pool thread, and through
/// `block_in_place` on an async worker thread (where the client's own `block_on` would panic).
fn off_executor<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Applies the steps not applied yet, each in the one transaction that records it.
fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // "relation already exists, skipping" at every start is not news.
    tx.batch_execute(
        "SET LOCAL client_min_messages = warning;
         CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_ms BIGINT NOT NULL
         )",
    )?;
    let done: Option<i64> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])?
        .get(0);
    let done = done.unwrap_or(0);
    if let Some(newer) = Some(done).filter(|d| *d > MIGRATIONS.len() as i64) {
        return Err(StorageError::Invalid(format!(
            "the database is at schema step {newer}, newer than this server knows ({}): \
             run the newer server, or restore a backup taken before it",
            MIGRATIONS.len()
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > done) {
        tx.batch_execute(sql)
            .map_err(|e| StorageError::Db(format!("schema step {version} ({name}): {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations(version, name, applied_ms) VALUES ($1, $2, $3)",
            &[version, name, &protocol::now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}
