//! Content pull: the server publishes versions (a manifest plus media addressed by sha256);
//! the kiosk downloads only the files it lacks, resumes interrupted ones with HTTP Range,
//! verifies every hash, stages the new version beside the one playing, and switches by
//! replacing one pointer file. A failed or partial download never disturbs what plays.
//!
//! Layout of the cache folder:
//! - `media/<sha256>` complete, verified files; `media/<sha256>.part` a download in progress;
//! - `versions/<n>.json` the manifests; `current` the name of the playing one.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use protocol::content::Manifest;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, RANGE};
use sha2::{Digest, Sha256};

use crate::content::LoadedPack;
use crate::sync::client::{SyncClient, check_status, network};
use crate::sync::policy::SyncError;

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("content cache I/O on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "content version {version} needs {needed} bytes but the cache may hold {quota}: raise the kiosk's content quota or publish smaller media"
    )]
    DoesNotFit {
        version: String,
        needed: u64,
        quota: u64,
    },
    #[error(
        "{path} is larger than the {size} bytes the manifest says: discarded, will download again"
    )]
    TooLarge { path: String, size: u64 },
    #[error("{path} arrived with sha256 {got}, not {want}: discarded, will download again")]
    HashMismatch {
        path: String,
        want: String,
        got: String,
    },
    #[error("the server's manifest is unreadable: {0}")]
    Manifest(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// The server publishes nothing yet.
    NothingPublished,
    UpToDate(String),
    /// A new version is complete and current.
    Switched {
        version: String,
        downloaded: u64,
    },
}

pub struct ContentCache {
    root: PathBuf,
    /// Most bytes of media the cache may hold.
    pub quota_bytes: u64,
}

impl ContentCache {
    pub fn new(root: PathBuf, quota_bytes: u64) -> ContentCache {
        ContentCache { root, quota_bytes }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.root.join("media")
    }

    fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    /// The playing version's manifest, if there is one and all of its files are present.
    pub fn current(&self) -> Option<Manifest> {
        let name = std::fs::read_to_string(self.root.join("current")).ok()?;
        let text = std::fs::read_to_string(self.versions_dir().join(name.trim())).ok()?;
        let manifest: Manifest = serde_json::from_str(&text).ok()?;
        let media = self.media_dir();
        manifest
            .media
            .iter()
            .all(|m| media.join(&m.sha256).exists())
            .then_some(manifest)
    }

    pub fn current_pack(&self) -> Option<LoadedPack> {
        self.current()
            .map(|m| LoadedPack::from_manifest(m, &self.media_dir()))
    }

    /// A version's manifest kept in the cache (the current one, or the one still on screen).
    fn manifest(&self, version: &str) -> Option<Manifest> {
        let path = self
            .versions_dir()
            .join(format!("{}.json", hex_name(version)));
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Asks the server for the version to play at `event` (its own, or the default) and, if
    /// it is new, downloads what is missing, verifies it, and switches to it. `on_screen` is
    /// the version the kiosk still shows (it adopts a new one between two attract items): its
    /// files stay until [`ContentCache::release`] is told it is no longer shown.
    pub async fn update(
        &self,
        client: &SyncClient,
        event: Option<&str>,
        on_screen: Option<&str>,
    ) -> Result<Pulled, PullError> {
        let url = format!(
            "{}/api/v1/content/current",
            client.identity.server_url.trim_end_matches('/')
        );
        let query: Vec<(&str, &str)> = event.map(|e| ("event", e)).into_iter().collect();
        let resp = client
            .http
            .get(&url)
            .query(&query)
            .header(AUTHORIZATION, client.auth_header())
            .send()
            .await
            .map_err(|e| network(&e))?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(Pulled::NothingPublished);
        }
        let resp = check_status(resp).await?;
        let manifest: Manifest = resp
            .json()
            .await
            .map_err(|e| PullError::Manifest(e.to_string()))?;
        let playing = self.current();
        if playing
            .as_ref()
            .is_some_and(|c| c.version == manifest.version)
        {
            return Ok(Pulled::UpToDate(manifest.version));
        }
        let media = self.media_dir();
        std::fs::create_dir_all(&media).map_err(io(&media))?;
        let shown = on_screen
            .filter(|v| playing.as_ref().is_none_or(|p| p.version != *v))
            .and_then(|v| self.manifest(v));
        let kept: Vec<&Manifest> = playing.iter().chain(shown.iter()).collect();
        self.make_room(&manifest, &kept)?;
        let mut downloaded = 0;
        let mut seen = HashSet::new();
        for m in &manifest.media {
            // The name is checked before any file is touched: `../x` never reaches the disk.
            if !is_sha256(&m.sha256) {
                return Err(PullError::Manifest(format!("bad sha256 \"{}\"", m.sha256)));
            }
            if !seen.insert(m.sha256.as_str()) || media.join(&m.sha256).exists() {
                continue;
            }
            downloaded += self.download(client, &m.sha256, m.size).await?;
        }
        // Stage the manifest, then switch with one rename: a power cut leaves the old or the
        // new version current, never half of one.
        let versions = self.versions_dir();
        std::fs::create_dir_all(&versions).map_err(io(&versions))?;
        let name = format!("{}.json", hex_name(&manifest.version));
        let json = serde_json::to_vec(&manifest).map_err(|e| PullError::Manifest(e.to_string()))?;
        write_atomic(&versions.join(&name), &json)?;
        write_atomic(&self.root.join("current"), name.as_bytes())?;
        // The version that was current may be waiting for the app to take it (or have just
        // been taken, after `on_screen` was read): it stays until `release` is told what shows.
        let previous = playing.as_ref().map(|p| p.version.as_str());
        self.collect_garbage(&manifest, &[on_screen, previous]);
        Ok(Pulled::Switched {
            version: manifest.version,
            downloaded,
        })
    }

    /// Downloads one file into `<sha>.part`, resuming from what is there; verifies and
    /// renames it. Returns the bytes transferred.
    async fn download(&self, client: &SyncClient, sha: &str, size: u64) -> Result<u64, PullError> {
        let media = self.media_dir();
        let part = media.join(format!("{sha}.part"));
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let have = if have > size { 0 } else { have };
        let url = format!(
            "{}/api/v1/media/{sha}",
            client.identity.server_url.trim_end_matches('/')
        );
        let mut req = client
            .http
            .get(&url)
            .header(AUTHORIZATION, client.auth_header());
        if have > 0 {
            req = req.header(RANGE, format!("bytes={have}-"));
        }
        let mut resp = req.send().await.map_err(|e| network(&e))?;
        let resumed = resp.status() == StatusCode::PARTIAL_CONTENT;
        if !resumed {
            resp = check_status(resp).await?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&part)
            .map_err(io(&part))?;
        let mut transferred = 0;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    // Never more than the manifest says: a server (or a proxy) sending an
                    // endless body cannot fill the kiosk's disk.
                    if have + transferred + chunk.len() as u64 > size {
                        drop(file);
                        let _ = std::fs::remove_file(&part);
                        return Err(PullError::TooLarge {
                            path: part.display().to_string(),
                            size,
                        });
                    }
                    file.write_all(&chunk).map_err(io(&part))?;
                    transferred += chunk.len() as u64;
                }
                Ok(None) => break,
                Err(e) => {
                    // Keep what arrived: the next attempt resumes from there.
                    let _ = file.sync_data();
                    return Err(network(&e).into());
                }
            }
        }
        file.sync_all().map_err(io(&part))?;
        drop(file);
        let got = file_sha256(&part).map_err(io(&part))?;
        if got != sha {
            let _ = std::fs::remove_file(&part);
            return Err(PullError::HashMismatch {
                path: part.display().to_string(),
                want: sha.to_owned(),
                got,
            });
        }
        let dest = media.join(sha);
        std::fs::rename(&part, &dest).map_err(io(&dest))?;
        Ok(transferred)
    }

    /// Bytes of complete media in the cache.
    fn used_bytes(&self) -> u64 {
        std::fs::read_dir(self.media_dir())
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Evicts media that neither the new version nor a kept one (current, on screen) uses;
    /// fails (before any download) when the new version and the kept ones do not fit the quota.
    fn make_room(&self, next: &Manifest, kept: &[&Manifest]) -> Result<(), PullError> {
        let next_files: HashMap<&str, u64> = next
            .media
            .iter()
            .map(|m| (m.sha256.as_str(), m.size))
            .collect();
        // The kept versions' files that the new one does not share stay until nothing shows
        // them.
        let playing_only: HashMap<&str, u64> = kept
            .iter()
            .flat_map(|p| p.media.iter())
            .filter(|m| !next_files.contains_key(m.sha256.as_str()))
            .map(|m| (m.sha256.as_str(), m.size))
            .collect();
        let needed: u64 = next_files.values().sum();
        if needed + playing_only.values().sum::<u64>() > self.quota_bytes {
            return Err(PullError::DoesNotFit {
                version: next.version.clone(),
                needed,
                quota: self.quota_bytes,
            });
        }
        let keep: HashSet<String> = next_files
            .keys()
            .chain(playing_only.keys())
            .map(|s| (*s).to_owned())
            .collect();
        self.remove_media_except(&keep);
        Ok(())
    }

    fn remove_media_except(&self, keep: &HashSet<String>) {
        if let Ok(dir) = std::fs::read_dir(self.media_dir()) {
            for e in dir.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let sha = name.trim_end_matches(".part");
                if !keep.contains(sha) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// The kiosk no longer shows any version but `on_screen` (it adopted the current one, or
    /// started on it): the files and manifests of every other version but the current go.
    pub fn release(&self, on_screen: Option<&str>) {
        if let Some(current) = self.current() {
            self.collect_garbage(&current, &[on_screen]);
        }
    }

    /// Only the current version's files and manifest stay, and those of the versions named in
    /// `also` (the one on screen, one the app may be taking): a visitor on a page of the version
    /// shown never loses its pictures to a switch.
    fn collect_garbage(&self, current: &Manifest, also: &[Option<&str>]) {
        let kept: Vec<Manifest> = also
            .iter()
            .flatten()
            .filter(|v| **v != current.version)
            .filter_map(|v| self.manifest(v))
            .collect();
        let keep: HashSet<String> = current
            .media
            .iter()
            .chain(kept.iter().flat_map(|m| m.media.iter()))
            .map(|m| m.sha256.clone())
            .collect();
        self.remove_media_except(&keep);
        let names: HashSet<String> = std::iter::once(&current.version)
            .chain(kept.iter().map(|m| &m.version))
            .map(|v| format!("{}.json", hex_name(v)))
            .collect();
        if let Ok(dir) = std::fs::read_dir(self.versions_dir()) {
            for e in dir.flatten() {
                if !names.contains(e.file_name().to_string_lossy().as_ref()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        tracing::info!(
            version = %current.version,
            kept = ?kept.iter().map(|m| &m.version).collect::<Vec<_>>(),
            bytes = self.used_bytes(),
            "content cache tidied"
        );
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A file name for a version string (which may hold `@`, `+`, `/`).
fn hex_name(version: &str) -> String {
    hex::encode(Sha256::digest(version.as_bytes()))[..16].to_owned()
}

fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PullError> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
