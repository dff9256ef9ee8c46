//! [`FleetStorage`] on PostgreSQL: the content versions staff see and republish.

use super::PostgresStorage;
use crate::store::*;

/// The version kiosks are sent: the one published last.
const CURRENT: &str = "SELECT id, published_ms FROM content_versions WHERE published_ms IS NOT NULL
     ORDER BY published_ms DESC, id DESC LIMIT 1";

impl FleetStorage for PostgresStorage {
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

    fn current_stamp(&self) -> Result<Option<(i64, i64)>, StorageError> {
        self.with(|c| Ok(c.query_opt(CURRENT, &[])?.map(|r| (r.get(0), r.get(1)))))
    }
}
