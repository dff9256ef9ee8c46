//! Content packs on the server: `content validate DIR` reports every problem with its file
//! (and line, for `pack.toml`); `content import DIR` stores media by sha256 and publishes a
//! version that kiosks pull.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use protocol::content::{Manifest, MediaEntry, PILLARS, Pack};
use sha2::{Digest, Sha256};

use crate::storage::Storage;

/// Images whose header claims more pixels than this are refused before decoding.
pub const MAX_PIXELS: u64 = 40_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{}:{}: {sev}: {}", self.file.display(), l, self.message),
            None => write!(f, "{}: {sev}: {}", self.file.display(), self.message),
        }
    }
}

/// The 1-based line of the first occurrence of `needle` at or after line `from`.
fn line_of(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
}

/// Reads and checks a pack. Returns the pack when it parsed, and every problem found.
pub fn validate(dir: &Path) -> (Option<Pack>, Vec<Problem>) {
    let toml_path = dir.join("pack.toml");
    let mut problems = Vec::new();
    let err = |file: &Path, line: Option<usize>, message: String| Problem {
        severity: Severity::Error,
        file: file.to_owned(),
        line,
        message,
    };
    let text = match std::fs::read_to_string(&toml_path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(err(&toml_path, None, format!("cannot read the pack: {e}")));
            return (None, problems);
        }
    };
    let pack: Pack = match toml::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            let line = e.span().map(|s| text[..s.start].lines().count().max(1));
            problems.push(err(&toml_path, line, e.message().to_owned()));
            return (None, problems);
        }
    };
    let item_line = |id: &str| line_of(&text, &format!("id = \"{id}\""), 1);
    let mut seen = HashSet::new();
    for p in &pack.pillars {
        if !PILLARS.contains(&p.id.as_str()) {
            problems.push(err(
                &toml_path,
                item_line(&p.id),
                format!(
                    "unknown pillar \"{}\": use one of {}",
                    p.id,
                    PILLARS.join(", ")
                ),
            ));
        }
        if !seen.insert(format!("pillar:{}", p.id)) {
            problems.push(err(
                &toml_path,
                item_line(&p.id),
                format!("duplicate pillar id \"{}\"", p.id),
            ));
        }
    }
    let pillar_ids: HashSet<&str> = pack.pillars.iter().map(|p| p.id.as_str()).collect();
    for item in &pack.items {
        let at = item_line(&item.id);
        if item.id.trim().is_empty() {
            problems.push(err(&toml_path, at, "an item has an empty id".into()));
        }
        if !seen.insert(format!("item:{}", item.id)) {
            problems.push(err(
                &toml_path,
                at,
                format!("duplicate item id \"{}\"", item.id),
            ));
        }
        if !pillar_ids.contains(item.pillar.as_str()) {
            let line = line_of(
                &text,
                &format!("pillar = \"{}\"", item.pillar),
                at.unwrap_or(1),
            );
            problems.push(err(
                &toml_path,
                line,
                format!(
                    "item \"{}\" names unknown pillar \"{}\": use one of the pack's pillars ({})",
                    item.id,
                    item.pillar,
                    pack.pillars
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        for lang in &pack.languages {
            if !item.text.contains_key(lang) {
                let fallback = fallback_for(lang, &pack);
                problems.push(Problem {
                    severity: Severity::Warning,
                    file: toml_path.clone(),
                    line: at,
                    message: format!(
                        "item \"{}\" has no text in {lang}: {fallback} will show",
                        item.id
                    ),
                });
            }
        }
        if item.text.is_empty() {
            problems.push(err(
                &toml_path,
                at,
                format!("item \"{}\" has no text in any language", item.id),
            ));
        }
    }
    let item_ids: HashSet<&str> = pack.items.iter().map(|i| i.id.as_str()).collect();
    for pl in &pack.playlists {
        for i in &pl.items {
            if !item_ids.contains(i.as_str()) {
                problems.push(err(
                    &toml_path,
                    line_of(&text, &format!("\"{i}\""), item_line(&pl.id).unwrap_or(1)),
                    format!("playlist \"{}\" names unknown item \"{i}\"", pl.id),
                ));
            }
        }
    }
    for ev in &pack.events {
        if pack.playlist(&ev.playlist).is_none() {
            problems.push(err(
                &toml_path,
                item_line(&ev.id),
                format!(
                    "event \"{}\" names unknown playlist \"{}\"",
                    ev.id, ev.playlist
                ),
            ));
        }
    }
    for media in pack.media_paths() {
        check_media(dir, media, &text, &mut problems);
    }
    (Some(pack), problems)
}

fn fallback_for(lang: &str, pack: &Pack) -> String {
    if lang.starts_with("zh") && pack.languages.iter().any(|l| l == "zh-Hans") && lang != "zh-Hans"
    {
        return "zh-Hans".into();
    }
    if lang != "en" && pack.languages.iter().any(|l| l == "en") {
        return "en".into();
    }
    pack.default_language.clone()
}

fn check_media(dir: &Path, media: &str, text: &str, problems: &mut Vec<Problem>) {
    let path = dir.join(media);
    let toml_path = dir.join("pack.toml");
    let at = line_of(text, &format!("\"{media}\""), 1);
    if media.contains("..") || Path::new(media).is_absolute() {
        problems.push(Problem {
            severity: Severity::Error,
            file: toml_path,
            line: at,
            message: format!("media path \"{media}\" must stay inside the pack folder"),
        });
        return;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "png" | "jpg" | "jpeg") {
        problems.push(Problem {
            severity: Severity::Error,
            file: path,
            line: None,
            message: format!("unsupported media format \"{ext}\": use PNG or JPEG"),
        });
        return;
    }
    if !path.exists() {
        problems.push(Problem {
            severity: Severity::Error,
            file: path,
            line: None,
            message: format!(
                "missing media file (referenced in pack.toml line {})",
                at.unwrap_or(0)
            ),
        });
        return;
    }
    if let Err(message) = check_image(&path) {
        problems.push(Problem {
            severity: Severity::Error,
            file: path,
            line: None,
            message,
        });
    }
}

/// Reads the header first and refuses decompression bombs before decoding; then decodes.
pub fn check_image(path: &Path) -> Result<(u32, u32), String> {
    if let Some((w, h)) = protocol::content::png_file_dimensions(path)
        && w as u64 * h as u64 > MAX_PIXELS
    {
        return Err(format!(
            "the image claims {w}×{h} pixels, more than the limit of {MAX_PIXELS}: scale it down"
        ));
    }
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("cannot open the image: {e}"))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("corrupt or unsupported image header: {e}"))?;
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(format!(
            "the image claims {w}×{h} pixels, more than the limit of {MAX_PIXELS}: scale it down"
        ));
    }
    let mut reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("cannot open the image: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (1 << 20));
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("corrupt or truncated image: {e}"))?;
    Ok((w, h))
}

/// Scales an image down to fit `max` (width, height) and re-encodes it in its own format;
/// `None` when it already fits.
pub fn prescale(bytes: &[u8], rel: &Path, max: (u32, u32)) -> anyhow::Result<Option<Vec<u8>>> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    let format = reader.format();
    let (w, h) = reader.into_dimensions()?;
    if w <= max.0 && h <= max.1 {
        return Ok(None);
    }
    let img =
        image::load_from_memory(bytes)?.resize(max.0, max.1, image::imageops::FilterType::Lanczos3);
    let mut out = std::io::Cursor::new(Vec::new());
    match format {
        Some(image::ImageFormat::Jpeg) => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88)
                .encode_image(&img.to_rgb8())?
        }
        _ => img.write_to(&mut out, image::ImageFormat::Png)?,
    }
    tracing::info!(file = %rel.display(), from = %format!("{w}×{h}"), to = %format!("{}×{}", img.width(), img.height()), "scaled down for the kiosks' screens");
    Ok(Some(out.into_inner()))
}

/// A progress bar on a terminal; a line every tenth of the way otherwise (logs, CI).
struct Progress {
    total: usize,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        use std::io::IsTerminal;
        Progress {
            total,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn step(&self, done: usize) {
        let width = 30;
        let filled = done * width / self.total.max(1);
        if self.tty {
            eprint!(
                "\r[{}{}] {done}/{} media",
                "#".repeat(filled),
                ".".repeat(width - filled),
                self.total
            );
            if done == self.total {
                eprintln!();
            }
        } else if done == self.total || done.is_multiple_of((self.total / 10).max(1)) {
            eprintln!(
                "[{}{}] {done}/{} media",
                "#".repeat(filled),
                ".".repeat(width - filled),
                self.total
            );
        }
    }
}

/// Imports a valid pack: images larger than `max_display` scaled down to it, media stored by
/// sha256 in `media_dir`, the manifest published.
pub fn import(
    dir: &Path,
    storage: &dyn Storage,
    media_dir: &Path,
    max_display: (u32, u32),
) -> anyhow::Result<Manifest> {
    let (pack, problems) = validate(dir);
    let errors: Vec<_> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    let Some(pack) = pack.filter(|_| errors.is_empty()) else {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::bail!(
            "the pack has errors; nothing was imported:\n{}",
            list.join("\n")
        );
    };
    std::fs::create_dir_all(media_dir)?;
    let now = protocol::now_ms();
    let paths = pack.media_paths();
    let mut media = Vec::with_capacity(paths.len());
    let progress = Progress::new(paths.len());
    for (n, rel) in paths.iter().enumerate() {
        let original = std::fs::read(dir.join(rel))?;
        let bytes = prescale(&original, Path::new(rel), max_display)?.unwrap_or(original);
        let sha = hex::encode(Sha256::digest(&bytes));
        let dest = media_dir.join(&sha);
        if !dest.exists() {
            let tmp = media_dir.join(format!(".{sha}.tmp"));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &dest)?;
        }
        storage.record_media(&sha, bytes.len() as u64, now)?;
        media.push(MediaEntry {
            path: (*rel).to_owned(),
            sha256: sha,
            size: bytes.len() as u64,
        });
        progress.step(n + 1);
    }
    let digest = {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&pack)?);
        for m in &media {
            h.update(m.sha256.as_bytes());
        }
        hex::encode(&h.finalize()[..4])
    };
    let manifest = Manifest {
        version: format!("{}@{}+{digest}", pack.id, pack.version),
        pack,
        media,
    };
    storage.publish(&manifest, now)?;
    Ok(manifest)
}
