//! The SQLite backend: one file, WAL, one writer connection and a small pool of readers. SQL
//! only: one file per storage trait, the migrations beside them.

mod fleet;
mod inspect;
mod leads;
mod phone;
mod reports;
mod staff;
mod sync;
mod visits;

use std::path::Path;
use std::sync::{LazyLock, Mutex};

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::store::StorageError;

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("migrations/01-core/up.sql")),
        M::up(include_str!("migrations/02-staff/up.sql")),
        M::up(include_str!("migrations/03-content-error/up.sql")),
        M::up(include_str!("migrations/04-phone/up.sql")),
        M::up(include_str!("migrations/05-events-orgs/up.sql")),
        M::up(include_str!("migrations/06-report-rollups/up.sql")),
        M::up(include_str!("migrations/07-visits/up.sql")),
        M::up(include_str!("migrations/08-erased-members/up.sql")),
        M::up(include_str!("migrations/09-hardening/up.sql")),
        M::up(include_str!("migrations/10-kiosk-settings/up.sql")),
        M::up(include_str!("migrations/11-kiosk-contact/up.sql")),
        M::up(include_str!("migrations/12-screenshots/up.sql")),
        M::up(include_str!("migrations/13-user-links/up.sql")),
        M::up(include_str!("migrations/14-content-targets/up.sql")),
        M::up(include_str!("migrations/15-totp/up.sql")),
        M::up(include_str!("migrations/16-consent-texts/up.sql")),
        M::up(include_str!("migrations/17-funnel/up.sql")),
    ])
});

pub struct SqliteStorage {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn open_conn(path: &Path) -> Result<Connection, StorageError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 64 MiB of page cache: a batch's index pages stay in memory between batches.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<SqliteStorage, StorageError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::Db(e.to_string()))?;
        }
        let mut conn = open_conn(path)?;
        MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|e| StorageError::Db(e.to_string()))?;
        Ok(SqliteStorage {
            path: path.to_owned(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StorageError::Db("writer lock poisoned".into()))?;
        f(&mut conn)
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let conn = self.readers.lock().ok().and_then(|mut p| p.pop());
        let conn = match conn {
            Some(c) => c,
            None => open_conn(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut p) = self.readers.lock()
            && p.len() < 8
        {
            p.push(conn);
        }
        out
    }

    /// A read-only connection for reports and tests.
    pub fn connection(&self) -> Result<Connection, StorageError> {
        open_conn(&self.path)
    }
}

/// Writes a consistent copy of the database at `db` to `dest` (a new file) while the server
/// runs: `VACUUM INTO` reads one snapshot (a WAL reader does not block the writer) and writes
/// it compacted, with nothing of the write-ahead log left to replay.
pub fn snapshot(db: &Path, dest: &Path) -> Result<(), StorageError> {
    let dest = dest
        .to_str()
        .ok_or_else(|| StorageError::Invalid(format!("{} is not UTF-8", dest.display())))?;
    let c = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    c.execute("VACUUM INTO ?1", [dest])?;
    Ok(())
}

/// Whether a file is a SQLite database that passes its integrity check.
pub fn check(db: &Path) -> Result<(), StorageError> {
    let c = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let result: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if result != "ok" {
        return Err(StorageError::Invalid(format!(
            "{} fails its integrity check: {result}",
            db.display()
        )));
    }
    Ok(())
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StorageError::Full,
            _ => StorageError::Db(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
