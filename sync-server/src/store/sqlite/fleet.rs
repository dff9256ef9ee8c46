//! The SQLite implementation of [`FleetStorage`]: content versions and publishing.

use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use crate::store::*;

impl FleetStorage for SqliteStorage {
    fn request_screenshot(&self, uuid: uuid::Uuid, now_ms: i64) -> Result<(), StorageError> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE kiosks SET screenshot_requested_ms = ?2 WHERE uuid = ?1",
                params![uuid.to_string(), now_ms],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            Ok(())
        })
    }

    fn save_screenshot(
        &self,
        kiosk: &KioskAuth,
        jpeg: &[u8],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.write(|c| {
            let tx = c.transaction()?;
            // Only a picture staff asked for: a stolen key cannot fill the database.
            let asked = tx.execute(
                "UPDATE kiosks SET screenshot_requested_ms = NULL
                 WHERE id = ?1 AND screenshot_requested_ms IS NOT NULL",
                [kiosk.row],
            )?;
            if asked == 0 {
                return Err(StorageError::Invalid(NOT_ASKED.into()));
            }
            tx.execute(
                "INSERT INTO kiosk_screenshots(kiosk, taken_ms, jpeg) VALUES (?1, ?2, ?3)
                 ON CONFLICT(kiosk) DO UPDATE SET taken_ms = excluded.taken_ms, jpeg = excluded.jpeg",
                params![kiosk.row, now_ms, jpeg],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn screenshot(&self, uuid: uuid::Uuid) -> Result<Option<(i64, Vec<u8>)>, StorageError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT s.taken_ms, s.jpeg FROM kiosk_screenshots s JOIN kiosks k ON k.id = s.kiosk
                 WHERE k.uuid = ?1",
                [uuid.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    fn content_versions(&self) -> Result<Vec<ContentVersion>, StorageError> {
        self.read(|c| {
            let current: Option<i64> = c
                .query_row(
                    "SELECT id FROM content_versions WHERE published_ms IS NOT NULL
                     ORDER BY published_ms DESC, id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .ok();
            let mut q = c.prepare(
                "SELECT id, version, created_ms, published_ms, manifest FROM content_versions
                 ORDER BY created_ms DESC, id DESC",
            )?;
            let rows = q
                .query_map([], |r| {
                    let id: i64 = r.get(0)?;
                    let manifest: String = r.get(4)?;
                    let m: Option<protocol::content::Manifest> =
                        serde_json::from_str(&manifest).ok();
                    Ok(ContentVersion {
                        version: r.get(1)?,
                        created_ms: r.get(2)?,
                        published_ms: r.get(3)?,
                        items: m.as_ref().map_or(0, |m| m.pack.items.len()),
                        media: m.as_ref().map_or(0, |m| m.media.len()),
                        current: Some(id) == current,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn republish(&self, version: &str, now_ms: i64) -> Result<bool, StorageError> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE content_versions SET published_ms = ?2 WHERE version = ?1",
                params![version, now_ms],
            )?;
            Ok(n == 1)
        })
    }

    fn current_stamp(&self) -> Result<Option<(i64, i64)>, StorageError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT id, published_ms FROM content_versions WHERE published_ms IS NOT NULL
                 ORDER BY published_ms DESC, id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }
}
