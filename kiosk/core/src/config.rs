//! Kiosk configuration: a TOML file, environment variables and flags (see
//! `docs/configuration.md`). With no configuration at all the kiosk plays the demo pack and
//! keeps its store in the user's data directory.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Where the store lives. Default: the user's data directory (e.g. ~/.local/share/promo-kiosk).
    pub data_dir: Option<PathBuf>,
    /// A content pack folder to play with no server. Default: the demo pack.
    pub content: Option<PathBuf>,
    /// The event whose playlist and languages to use. Default: the pack's first event.
    pub event: Option<String>,
    /// Seconds without a touch before the kiosk returns to the attract loop.
    pub idle_seconds: u64,
    /// Seconds of countdown shown before that.
    pub countdown_seconds: u64,
    /// Allow plain HTTP to a server that is not on loopback.
    pub insecure: bool,
    /// Seconds between sync rounds when idle.
    pub sync_interval_seconds: u64,
    /// Seconds between asks for new content (a change of event asks at once).
    pub content_pull_seconds: u64,
    /// Where the Fluent files are. Default: `locales/` of the installation.
    pub locales: Option<PathBuf>,
    /// A font file that covers Vietnamese and CJK. Default: Noto Sans CJK from the system.
    pub font: Option<PathBuf>,
    /// Most megabytes of media the content cache may hold.
    pub content_quota_mb: u64,
    /// The argon2 hash of the staff PIN (`kiosk set-pin` stores one in the store instead,
    /// which wins).
    pub staff_pin_hash: Option<String>,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            data_dir: None,
            content: None,
            event: None,
            idle_seconds: 60,
            countdown_seconds: 10,
            insecure: false,
            sync_interval_seconds: 15,
            content_pull_seconds: 300,
            locales: None,
            font: None,
            content_quota_mb: 2048,
            staff_pin_hash: None,
        }
    }
}

impl KioskConfig {
    pub fn from_file(path: Option<&std::path::Path>) -> Result<KioskConfig, String> {
        let Some(path) = path else {
            return Ok(KioskConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the configuration {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            format!(
                "the configuration {} is invalid: {}",
                path.display(),
                e.message()
            )
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            directories::ProjectDirs::from("vn", "dongnai", "promo-kiosk")
                .map(|d| d.data_dir().to_owned())
                .unwrap_or_else(|| PathBuf::from("kiosk-data"))
        })
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir().join("kiosk.sqlite")
    }

    /// Where content pulled from the server is kept.
    pub fn content_cache_dir(&self) -> PathBuf {
        self.data_dir().join("content")
    }

    pub fn content_dir(&self) -> PathBuf {
        self.content
            .clone()
            .unwrap_or_else(crate::content::default_pack_dir)
    }

    pub fn locales_dir(&self) -> PathBuf {
        self.locales.clone().unwrap_or_else(default_locales_dir)
    }

    /// The font: configured, else the first Noto Sans CJK found on the system.
    pub fn font_path(&self) -> Option<PathBuf> {
        if let Some(f) = &self.font {
            return Some(f.clone());
        }
        [
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    }
}

pub fn default_locales_dir() -> PathBuf {
    locales::default_dir()
}

/// Free bytes on the disk holding `dir`, for heartbeats.
pub fn free_disk_bytes(dir: &std::path::Path) -> u64 {
    fs4::available_space(dir).unwrap_or(0)
}
