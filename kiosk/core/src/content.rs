//! Content on the kiosk: a pack read from a folder (`kiosk --content DIR`, or the demo pack in
//! `assets/`), with text looked up along the language fallback chain.

use std::path::{Path, PathBuf};

use protocol::content::{Item, ItemText, Pack};

use crate::i18n::fallback_chain;

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("cannot read {path}: {source}. Check --content, or run `sync-server content validate`")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid pack: {message}. Run `sync-server content validate` for details"
    )]
    Invalid { path: String, message: String },
}

/// A pack ready to play: the document and where its media files are.
#[derive(Debug, Clone)]
pub struct LoadedPack {
    pub pack: Pack,
    root: PathBuf,
    /// For a version pulled from the server: pack path → file in the content cache.
    cached: Option<std::collections::HashMap<String, PathBuf>>,
    /// Content version shown to staff and reported in heartbeats.
    pub version: String,
}

impl LoadedPack {
    /// Reads `DIR/pack.toml`.
    pub fn from_dir(dir: &Path) -> Result<LoadedPack, ContentError> {
        let path = dir.join("pack.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| ContentError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let pack: Pack = toml::from_str(&text).map_err(|e| ContentError::Invalid {
            path: path.display().to_string(),
            message: e.message().to_owned(),
        })?;
        let version = format!("{}@{}", pack.id, pack.version);
        Ok(LoadedPack {
            pack,
            root: dir.to_owned(),
            cached: None,
            version,
        })
    }

    /// A version from the content cache: media files are named by their sha256.
    pub fn from_manifest(manifest: protocol::content::Manifest, media_dir: &Path) -> LoadedPack {
        let cached = manifest
            .media
            .iter()
            .map(|m| (m.path.clone(), media_dir.join(&m.sha256)))
            .collect();
        LoadedPack {
            pack: manifest.pack,
            root: media_dir.to_owned(),
            cached: Some(cached),
            version: manifest.version,
        }
    }

    /// The file of a media path of the pack.
    pub fn media_path(&self, rel: &str) -> PathBuf {
        match &self.cached {
            Some(map) => map
                .get(rel)
                .cloned()
                .unwrap_or_else(|| self.root.join("missing")),
            None => self.root.join(rel),
        }
    }

    /// Item text in `lang`, or along its fallback chain, or in the pack's default language.
    pub fn text<'a>(&self, item: &'a Item, lang: &str) -> Option<&'a ItemText> {
        fallback_chain(lang)
            .iter()
            .chain(std::iter::once(&self.pack.default_language))
            .find_map(|l| item.text.get(l.as_str()))
            .or_else(|| item.text.values().next())
    }

    /// A localised map (titles) in `lang` with fallback.
    pub fn localised<'a>(
        &self,
        map: &'a std::collections::BTreeMap<String, String>,
        lang: &str,
    ) -> &'a str {
        fallback_chain(lang)
            .iter()
            .chain(std::iter::once(&self.pack.default_language))
            .find_map(|l| map.get(l.as_str()))
            .or_else(|| map.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The event to serve: the named one, else the first.
    pub fn event(&self, id: Option<&str>) -> Option<&protocol::content::Event> {
        id.and_then(|id| self.pack.event(id))
            .or_else(|| self.pack.events.first())
    }

    /// The kiosk's languages for an event (main language first), else the pack's.
    pub fn languages(&self, event: Option<&str>) -> Vec<String> {
        self.event(event)
            .map(|e| e.languages.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| self.pack.languages.clone())
    }

    /// The attract loop's items for an event at `now_ms` (corrected time): its playlist's
    /// items that show then (every item when it names no playlist). When none of them shows,
    /// the pack's items that do; then the playlist's items whose window has not ended (outside
    /// their hours, or not begun); only when nothing else is left, the whole playlist: never a
    /// blank loop, and an ended fair's item only as the very last resort.
    pub fn playlist(&self, event: Option<&str>, now_ms: i64) -> (Vec<&Item>, f32) {
        let pl = self
            .event(event)
            .and_then(|e| self.pack.playlist(&e.playlist))
            .or_else(|| self.pack.playlists.first());
        let (all, secs): (Vec<&Item>, f32) = match pl {
            Some(pl) => (
                pl.items.iter().filter_map(|i| self.pack.item(i)).collect(),
                pl.seconds_per_item.max(2.0),
            ),
            None => (self.pack.items.iter().collect(), 8.0),
        };
        let showing: Vec<&Item> = all.iter().copied().filter(|i| i.shows_at(now_ms)).collect();
        if !showing.is_empty() {
            return (showing, secs);
        }
        let any: Vec<&Item> = self
            .pack
            .items
            .iter()
            .filter(|i| i.shows_at(now_ms))
            .collect();
        if !any.is_empty() {
            return (any, secs);
        }
        let not_ended: Vec<&Item> = all
            .iter()
            .copied()
            .filter(|i| !i.ended_at(now_ms))
            .collect();
        (if not_ended.is_empty() { all } else { not_ended }, secs)
    }

    /// A pillar's items that show at `now_ms` (corrected time), in the pack's order.
    pub fn items_in(&self, pillar: &str, now_ms: i64) -> Vec<&Item> {
        self.pack
            .items
            .iter()
            .filter(|i| i.pillar == pillar && i.shows_at(now_ms))
            .collect()
    }
}

/// The demo pack shipped in `assets/` (next to the binary's workspace, or in the current
/// directory), used when no content is configured.
pub fn default_pack_dir() -> PathBuf {
    // As for the locales: the running package's directory (set by cargo at run time) before
    // the path compiled in, which may name another checkout sharing the target directory.
    let running = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let candidates = [
        std::env::var_os("PROMO_ASSETS_DIR").map(PathBuf::from),
        running.as_ref().map(|d| d.join("assets")),
        running.as_ref().map(|d| d.join("../assets")),
        running.as_ref().map(|d| d.join("../../assets")),
        Some(PathBuf::from("assets")),
        // Installed from the package: /usr/bin/kiosk → /usr/share/promo-kiosk/demo-pack.
        installed("promo-kiosk"),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets"
        ))),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|p| p.join("demo-pack"))
        .find(|p| p.join("pack.toml").exists())
        .unwrap_or_else(|| PathBuf::from("assets/demo-pack"))
}

/// `share/<package>` beside the running binary's `bin/` (`/usr/share/<package>` for
/// `/usr/bin`), where the `.deb` puts what the program reads.
pub fn installed(package: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("share").join(package))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::schedule::vietnam_ms;

    fn pack() -> LoadedPack {
        let pack: Pack = toml::from_str(
            r#"
            id = "t"
            version = "1"
            default_language = "vi"
            languages = ["vi"]
            [[items]]
            id = "always"
            pillar = "events"
            [items.text.vi]
            title = "A"
            [[items]]
            id = "fair-morning"
            pillar = "events"
            shows_from = "2026-12-08"
            shows_until = "2026-12-10"
            daily = "08:00-12:00"
            [items.text.vi]
            title = "F"
            [[playlists]]
            id = "fair"
            items = ["fair-morning"]
            [[events]]
            id = "korea"
            playlist = "fair"
            languages = ["vi"]
        "#,
        )
        .unwrap();
        LoadedPack {
            pack,
            root: PathBuf::new(),
            cached: None,
            version: "t@1".into(),
        }
    }

    fn ids(items: Vec<&Item>) -> Vec<&str> {
        items.into_iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn the_schedule_decides_what_plays_and_the_loop_is_never_empty() {
        let p = pack();
        let at = |s: &str| vietnam_ms(s, false).unwrap();
        let morning = at("2026-12-09 09:00");
        assert_eq!(ids(p.playlist(Some("korea"), morning).0), ["fair-morning"]);
        assert_eq!(
            ids(p.items_in("events", morning)),
            ["always", "fair-morning"]
        );
        // In the afternoon the fair's item rests: the loop plays what shows.
        let afternoon = at("2026-12-09 15:00");
        assert_eq!(ids(p.playlist(Some("korea"), afternoon).0), ["always"]);
        assert_eq!(ids(p.items_in("events", afternoon)), ["always"]);
        // Nothing else to show: the playlist's own item outside its hours, not a blank loop.
        let mut own = pack();
        own.pack.items.retain(|i| i.id == "fair-morning");
        assert_eq!(
            ids(own.playlist(Some("korea"), afternoon).0),
            ["fair-morning"]
        );
        // After the fair: what shows, never the ended item, while anything else is left.
        let after = at("2026-12-11 09:00");
        assert_eq!(ids(p.playlist(Some("korea"), after).0), ["always"]);
        // Nothing at all left: the playlist itself rather than a blank screen.
        assert_eq!(ids(own.playlist(Some("korea"), after).0), ["fair-morning"]);
    }
}
