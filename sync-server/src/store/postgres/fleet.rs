//! [`FleetStorage`] on PostgreSQL: the content versions staff see and republish.

use super::PostgresStorage;
use crate::store::*;

/// The version kiosks are sent: the one published last.
const CURRENT: &str = "SELECT id, published_ms FROM content_versions WHERE published_ms IS NOT NULL
     ORDER BY published_ms DESC, id DESC LIMIT 1";

impl FleetStorage for PostgresStorage {
    fn request_screenshot(&self, uuid: uuid::Uuid, now_ms: i64) -> Result<(), StorageError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE kiosks SET screenshot_requested_ms = $2 WHERE uuid = $1",
                &[&uuid.to_string(), &now_ms],
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
        self.with(|c| {
            let mut tx = c.transaction()?;
            // Only a picture staff asked for: a stolen key cannot fill the database.
            let asked = tx.execute(
                "UPDATE kiosks SET screenshot_requested_ms = NULL
                 WHERE id = $1 AND screenshot_requested_ms IS NOT NULL",
                &[&kiosk.row],
            )?;
            if asked == 0 {
                return Err(StorageError::Invalid(NOT_ASKED.into()));
            }
            tx.execute(
                "INSERT INTO kiosk_screenshots(kiosk, taken_ms, jpeg) VALUES ($1, $2, $3)
                 ON CONFLICT (kiosk) DO UPDATE SET taken_ms = excluded.taken_ms, jpeg = excluded.jpeg",
                &[&kiosk.row, &now_ms, &jpeg],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn screenshot(&self, uuid: uuid::Uuid) -> Result<Option<(i64, Vec<u8>)>, StorageError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT s.taken_ms, s.jpeg FROM kiosk_screenshots s
                     JOIN kiosks k ON k.id = s.kiosk WHERE k.uuid = $1",
                &[&uuid.to_string()],
            )?
            .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn content_versions(&self) -> Result<Vec<ContentVersion>, StorageError> {
        self.with(|c| {
            let current: Option<i64> = c.query_opt(CURRENT, &[])?.map(|r| r.get(0));
            Ok(c.query(
                "SELECT id, version, created_ms, published_ms, manifest FROM content_versions
                 ORDER BY created_ms DESC, id DESC",
                &[],
            )?
            .iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let m: Option<protocol::content::Manifest> =
                    serde_json::from_str(r.get::<_, &str>(4)).ok();
                ContentVersion {
                    version: r.get(1),
                    created_ms: r.get(2),
                    published_ms: r.get(3),
                    items: m.as_ref().map_or(0, |m| m.pack.items.len()),
                    media: m.as_ref().map_or(0, |m| m.media.len()),
                    current: Some(id) == current,
                }
            })
            .collect())
        })
    }

    fn republish(&self, version: &str, now_ms: i64) -> Result<bool, StorageError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE content_versions SET published_ms = $2 WHERE version = $1",
                &[&version, &now_ms],
            )?;
            Ok(n == 1)
        })
    }

    fn version_manifest(&self, version: &str) -> Result<Option<Manifest>, StorageError> {
        self.with(|c| {
            c.query_opt(
                "SELECT manifest FROM content_versions WHERE version = $1",
                &[&version],
            )?
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(|e| StorageError::Db(e.to_string()))
            })
            .transpose()
        })
    }

    fn add_version(&self, manifest: &Manifest, now_ms: i64) -> Result<bool, StorageError> {
        let json = serde_json::to_string(manifest).map_err(|e| StorageError::Db(e.to_string()))?;
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO content_versions(version, manifest, created_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (version) DO NOTHING",
                &[
                    &manifest.version,
                    &super::sync::pg_text(&json).as_ref(),
                    &now_ms,
                ],
            )?;
            Ok(n == 1)
        })
    }

    fn publish_to_event(
        &self,
        version: &str,
        event_id: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        self.with(|c| {
            let known = c
                .query_opt(
                    "SELECT 1 FROM content_versions WHERE version = $1",
                    &[&version],
                )?
                .is_some();
            if known {
                c.execute(
                    "INSERT INTO event_content(event_id, version, published_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (event_id) DO UPDATE SET version = $2, published_ms = $3",
                    &[&event_id, &version, &now_ms],
                )?;
            }
            Ok(known)
        })
    }

    fn unpublish_event(&self, event_id: &str) -> Result<bool, StorageError> {
        self.with(|c| {
            Ok(c.execute(
                "DELETE FROM event_content WHERE event_id = $1",
                &[&event_id],
            )? == 1)
        })
    }

    fn event_contents(&self) -> Result<Vec<EventContent>, StorageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT event_id, version, published_ms FROM event_content ORDER BY event_id",
                &[],
            )?
            .iter()
            .map(|r| EventContent {
                event_id: r.get(0),
                version: r.get(1),
                published_ms: r.get(2),
            })
            .collect())
        })
    }

    fn draft(&self) -> Result<Option<Draft>, StorageError> {
        self.with(|c| {
            c.query_opt(
                "SELECT based_on, pack, media, updated_ms, updated_by, revision FROM content_draft",
                &[],
            )?
            .map(|r| draft_from(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
            .transpose()
        })
    }

    fn save_draft(&self, draft: &Draft) -> Result<bool, StorageError> {
        let (pack, media) = draft_json(draft)?;
        let (pack, media) = (super::sync::pg_text(&pack), super::sync::pg_text(&media));
        self.with(|c| {
            let n = if draft.revision == 0 {
                c.execute(
                    "INSERT INTO content_draft(id, based_on, pack, media, updated_ms, updated_by, revision)
                     VALUES (1, $1, $2, $3, $4, $5, 1) ON CONFLICT (id) DO NOTHING",
                    &[
                        &draft.based_on,
                        &pack.as_ref(),
                        &media.as_ref(),
                        &draft.updated_ms,
                        &draft.updated_by,
                    ],
                )?
            } else {
                c.execute(
                    "UPDATE content_draft SET based_on = $1, pack = $2, media = $3,
                         updated_ms = $4, updated_by = $5, revision = revision + 1
                     WHERE id = 1 AND revision = $6",
                    &[
                        &draft.based_on,
                        &pack.as_ref(),
                        &media.as_ref(),
                        &draft.updated_ms,
                        &draft.updated_by,
                        &draft.revision,
                    ],
                )?
            };
            Ok(n == 1)
        })
    }

    fn discard_draft(&self) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute("DELETE FROM content_draft", &[])?;
            Ok(())
        })
    }

    fn current_stamp(&self) -> Result<Option<(i64, i64)>, StorageError> {
        self.with(|c| Ok(c.query_opt(CURRENT, &[])?.map(|r| (r.get(0), r.get(1)))))
    }
}
