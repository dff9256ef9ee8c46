//! `sync-server backup DIR` and `sync-server restore DIR`: the database and the media in one
//! folder, and back.
//!
//! A backup folder holds `server.sqlite` (SQLite: a consistent copy taken while the server
//! runs) or `database.pgdump` (PostgreSQL: `pg_dump`'s custom format, from the package
//! `postgresql-client`), the media in `media/<sha256>`, and `backup.toml` saying which. The
//! database is copied first and the media after: media are written before the database names
//! them and never change, so every file the copied database names is in the copy.
//!
//! A restored server is older than its kiosks: each kiosk's cursor on the server is where it
//! was at the backup, so at their next sync the kiosks send again every record since (they
//! keep what was acknowledged for that, see `docs/ARCHITECTURE.md`), and nothing is counted
//! twice because records are stored by (kiosk, seq).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::ServerConfig;

const MANIFEST: &str = "backup.toml";
const SQLITE_FILE: &str = "server.sqlite";
const PG_FILE: &str = "database.pgdump";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub created_ms: i64,
    /// Media files copied.
    pub media: u64,
    /// The server that wrote it.
    pub server_version: String,
}

fn media_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        // Only content-addressed files: a part being written (`.part`) is not media yet.
        if name.len() == 64
            && name.bytes().all(|b| b.is_ascii_hexdigit())
            && e.file_type()?.is_file()
        {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Copies the media files of `from` missing from `to` (a file is named by its hash: one of
/// the same name is the same file).
fn copy_media(from: &Path, to: &Path) -> anyhow::Result<u64> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut n = 0;
    for f in media_files(from)? {
        let dest = to.join(f.file_name().expect("a file name"));
        if dest.exists() {
            continue;
        }
        // Through a temporary name: a copy cut short is never taken for the file.
        let part = dest.with_extension("part");
        std::fs::copy(&f, &part).with_context(|| format!("cannot copy {}", f.display()))?;
        std::fs::rename(&part, &dest)?;
        n += 1;
    }
    Ok(n)
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().map_err(|e| {
        anyhow::anyhow!(
            "cannot run {what}: {e}; install Debian's postgresql-client (the same major version as the server or newer)"
        )
    })?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Writes a backup of the configured server into `dest`, a folder that does not exist or is
/// empty. The server may be running.
pub fn backup(config: &ServerConfig, dest: &Path) -> anyhow::Result<BackupInfo> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .with_context(|| format!("cannot read {}", dest.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: give a new folder for the backup",
            dest.display()
        );
    }
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let backend = match &config.database {
        Some(url) => {
            run(
                Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--file")
                    .arg(dest.join(PG_FILE))
                    .arg("--dbname")
                    .arg(url),
                "pg_dump",
            )?;
            "postgres"
        }
        None => {
            let db = config.data_dir.join(SQLITE_FILE);
            if !db.exists() {
                bail!("there is no database at {}", db.display());
            }
            crate::store::sqlite::snapshot(&db, &dest.join(SQLITE_FILE))?;
            "sqlite"
        }
    };
    let media = copy_media(&config.data_dir.join("media"), &dest.join("media"))?;
    let info = BackupInfo {
        backend: backend.into(),
        created_ms: protocol::now_ms(),
        media,
        server_version: env!("CARGO_PKG_VERSION").into(),
    };
    std::fs::write(dest.join(MANIFEST), toml::to_string(&info)?)?;
    Ok(info)
}

/// Reads what a backup folder holds.
pub fn info(src: &Path) -> anyhow::Result<BackupInfo> {
    let path = src.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a backup of this server (no {MANIFEST})",
            src.display()
        )
    })?;
    toml::from_str(&text).with_context(|| format!("{} cannot be read", path.display()))
}

/// Replaces the configured server's database with the backup in `src` and adds the backup's
/// media. The server must be stopped.
pub fn restore(config: &ServerConfig, src: &Path) -> anyhow::Result<BackupInfo> {
    let info = info(src)?;
    match (info.backend.as_str(), &config.database) {
        ("postgres", Some(url)) => {
            run(
                Command::new("pg_restore")
                    .arg("--clean")
                    .arg("--if-exists")
                    .arg("--no-owner")
                    .arg("--single-transaction")
                    .arg("--dbname")
                    .arg(url)
                    .arg(src.join(PG_FILE)),
                "pg_restore",
            )?;
        }
        ("sqlite", None) => {
            let from = src.join(SQLITE_FILE);
            // A damaged copy is refused before anything of the server is touched.
            crate::store::sqlite::check(&from)?;
            std::fs::create_dir_all(&config.data_dir)?;
            let db = config.data_dir.join(SQLITE_FILE);
            let part = config.data_dir.join("server.sqlite.restoring");
            std::fs::copy(&from, &part)
                .with_context(|| format!("cannot copy {}", from.display()))?;
            for f in ["server.sqlite-wal", "server.sqlite-shm"] {
                match std::fs::remove_file(config.data_dir.join(f)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).context(format!("cannot remove {f}")),
                }
            }
            std::fs::rename(&part, &db)?;
        }
        ("postgres", None) => bail!(
            "this backup is of a PostgreSQL database: restore it with --database postgres://…"
        ),
        ("sqlite", Some(_)) => bail!(
            "this backup is of a SQLite server: restore it without --database, into a data directory"
        ),
        (other, _) => bail!("this backup's backend \"{other}\" is unknown"),
    }
    copy_media(&src.join("media"), &config.data_dir.join("media"))?;
    Ok(info)
}
