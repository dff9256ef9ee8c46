//! Content packs on the server: `content validate DIR` reports every problem with its file
//! (and line, for `pack.toml`); `content import DIR` stores media by sha256 and publishes a
//! version that kiosks pull.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use protocol::content::{Manifest, MediaEntry, PILLARS, Pack};
use sha2::{Digest, Sha256};

use crate::store::Storage;

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
    // The wire types ignore keys they do not know (an older kiosk reads a newer manifest);
    // in a pack an unknown key is a mistake to fix: collected here and refused.
    let mut unknown: Vec<String> = Vec::new();
    let parsed = toml::Deserializer::parse(&text)
        .and_then(|de| serde_ignored::deserialize(de, |path| unknown.push(path.to_string())));
    let pack: Pack = match parsed {
        Ok(p) => p,
        Err(e) => {
            let line = e.span().map(|s| text[..s.start].lines().count().max(1));
            problems.push(err(&toml_path, line, e.message().to_owned()));
            return (None, problems);
        }
    };
    for path in &unknown {
        let key = path.rsplit('.').next().unwrap_or(path);
        let line = line_of(&text, &format!("{key} ="), 1)
            .or_else(|| line_of(&text, &format!("{key}="), 1))
            .or_else(|| line_of(&text, key, 1));
        problems.push(err(
            &toml_path,
            line,
            format!(
                "unknown key `{key}` (at {path}): a misspelt or misplaced key; use exactly the keys of the content guide"
            ),
        ));
    }
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
        if let Some(why) = item.window_problem() {
            problems.push(err(&toml_path, at, format!("item \"{}\": {why}", item.id)));
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
    check_delegations(&pack, &text, &toml_path, &mut problems);
    check_decks(&pack, &text, &toml_path, &mut problems);
    for media in pack.media_paths() {
        check_media(dir, media, &text, &mut problems);
    }
    check_credits(&pack, &text, &toml_path, &mut problems);
    (Some(pack), problems)
}

/// Every media file carries its credit and licence (warned, not refused: a pack without them
/// still plays); a credit for a file the pack does not use is a leftover.
fn check_credits(pack: &Pack, text: &str, toml_path: &Path, problems: &mut Vec<Problem>) {
    let used = pack.media_paths();
    for media in &used {
        let credit = pack.credits.get(*media);
        if credit.is_none_or(|c| c.credit.trim().is_empty() || c.licence.trim().is_empty()) {
            problems.push(Problem {
                severity: Severity::Warning,
                file: toml_path.to_owned(),
                line: line_of(text, &format!("\"{media}\""), 1),
                message: format!(
                    "\"{media}\" has no credit and licence: add [credits.\"{media}\"] with credit = \"who made it\" and licence = \"its terms\""
                ),
            });
        }
    }
    for path in pack.credits.keys() {
        if !used.contains(&path.as_str()) {
            problems.push(Problem {
                severity: Severity::Warning,
                file: toml_path.to_owned(),
                line: line_of(text, &format!("[credits.\"{path}\"]"), 1),
                message: format!("a credit for \"{path}\", which no item or pillar uses"),
            });
        }
    }
}

/// The 1-based line of the `n`-th (0-based) `[[header]]` table at or after line `from`.
fn table_line(text: &str, header: &str, n: usize, from: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .filter(|(_, l)| l.trim() == header)
        .nth(n)
        .map(|(i, _)| i + 1)
}

/// Whether an id can be printed in a QR code (the kiosk's tokens keep 64 characters of it)
/// and typed in a URL: 1 to 64 ASCII letters, digits, dashes or underscores.
fn plain_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Delegations: ids plain, unique and not an event's; the deck exists; languages are the
/// pack's; the date is a real `YYYY-MM-DD`; an organising unit; a two-letter country code.
fn check_delegations(pack: &Pack, text: &str, toml_path: &Path, problems: &mut Vec<Problem>) {
    let mut err = |line: Option<usize>, message: String| {
        problems.push(Problem {
            severity: Severity::Error,
            file: toml_path.to_owned(),
            line,
            message,
        })
    };
    let mut seen = HashSet::new();
    for (n, d) in pack.delegations.iter().enumerate() {
        let start = table_line(text, "[[delegations]]", n, 1);
        let from = start.unwrap_or(1);
        // A field's line within this delegation's table (else the table's own line).
        let at = |key: &str| {
            line_of(text, &format!("{key} ="), from)
                .filter(|l| {
                    table_line(text, "[[delegations]]", n + 1, 1).is_none_or(|next| *l < next)
                })
                .or(start)
        };
        let id_at = line_of(text, &format!("id = \"{}\"", d.id), from).or(start);
        if !plain_id(&d.id) {
            err(
                id_at,
                format!(
                    "delegation id \"{}\" must be 1 to 64 letters, digits, dashes or underscores \
                     (it is printed in the QR codes)",
                    d.id
                ),
            );
        }
        if !seen.insert(d.id.as_str()) {
            err(id_at, format!("duplicate delegation id \"{}\"", d.id));
        }
        if pack.event(&d.id).is_some() {
            err(
                id_at,
                format!(
                    "delegation id \"{}\" is also an event's id: records and leads would mix",
                    d.id
                ),
            );
        }
        if pack.deck(&d.deck).is_none() {
            err(
                at("deck"),
                format!("delegation \"{}\" names unknown deck \"{}\"", d.id, d.deck),
            );
        }
        for lang in &d.languages {
            if !pack.languages.contains(lang) {
                err(
                    at("languages"),
                    format!(
                        "delegation \"{}\" has language \"{lang}\", which is not one of the pack's \
                         languages ({})",
                        d.id,
                        pack.languages.join(", ")
                    ),
                );
            }
        }
        let date_ok = d.date.len() == 10
            && time::Date::parse(
                &d.date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .is_ok();
        if !date_ok {
            err(
                at("date"),
                format!(
                    "delegation \"{}\" has date \"{}\": write a real date as YYYY-MM-DD",
                    d.id, d.date
                ),
            );
        }
        if d.org.trim().is_empty() {
            err(
                at("org"),
                format!(
                    "delegation \"{}\" has no organising unit (org): its staff see its visits and leads",
                    d.id
                ),
            );
        }
        if d.country.len() != 2 || !d.country.chars().all(|c| c.is_ascii_alphabetic()) {
            err(
                at("country"),
                format!(
                    "delegation \"{}\" has country \"{}\": use the two-letter ISO code (KR, JP, …)",
                    d.id, d.country
                ),
            );
        }
    }
}

/// Decks: ids unique, at least one slide, every slide's item known and its picture one the
/// item has.
fn check_decks(pack: &Pack, text: &str, toml_path: &Path, problems: &mut Vec<Problem>) {
    let mut err = |line: Option<usize>, message: String| {
        problems.push(Problem {
            severity: Severity::Error,
            file: toml_path.to_owned(),
            line,
            message,
        })
    };
    let mut seen = HashSet::new();
    for (n, deck) in pack.decks.iter().enumerate() {
        let start = table_line(text, "[[decks]]", n, 1);
        let from = start.unwrap_or(1);
        let id_at = line_of(text, &format!("id = \"{}\"", deck.id), from).or(start);
        if !seen.insert(deck.id.as_str()) {
            err(id_at, format!("duplicate deck id \"{}\"", deck.id));
        }
        if deck.slides.is_empty() {
            err(id_at, format!("deck \"{}\" has no slides", deck.id));
        }
        for (i, slide) in deck.slides.iter().enumerate() {
            // `[[decks.slides]]` tables, else an inline list: the slide's `item = "…"`.
            let at = table_line(text, "[[decks.slides]]", i, from)
                .and_then(|l| line_of(text, "item =", l))
                .or_else(|| line_of(text, &format!("\"{}\"", slide.item), from))
                .or(id_at);
            match pack.item(&slide.item) {
                None => err(
                    at,
                    format!(
                        "deck \"{}\" slide {} names unknown item \"{}\"",
                        deck.id,
                        i + 1,
                        slide.item
                    ),
                ),
                Some(item) if slide.media >= item.media.len() => err(
                    at,
                    format!(
                        "deck \"{}\" slide {} asks for media = {} of item \"{}\", which has {} \
                         picture(s) (media = 0 is the first)",
                        deck.id,
                        i + 1,
                        slide.media,
                        slide.item,
                        item.media.len()
                    ),
                ),
                Some(_) => {}
            }
        }
    }
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
    // A symbolic link could make the import read any file the server can read.
    let mut walked = dir.to_path_buf();
    for part in Path::new(media).components() {
        walked.push(part);
        if std::fs::symlink_metadata(&walked).is_ok_and(|m| m.file_type().is_symlink()) {
            problems.push(Problem {
                severity: Severity::Error,
                file: walked.clone(),
                line: at,
                message: format!(
                    "media path \"{media}\" goes through a symbolic link: copy the file itself into the pack folder"
                ),
            });
            return;
        }
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
/// sha256 in `media_dir`, the delegations mirrored into the database (events and members),
/// the manifest published without the members' names.
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
        let (sha256, size) = store_media(&bytes, media_dir, storage, now)?;
        media.push(MediaEntry {
            path: (*rel).to_owned(),
            sha256,
            size,
        });
        progress.step(n + 1);
    }
    // The members' names stay on the server; kiosks get the delegations without them. The
    // version is the digest of what kiosks get: a change of names alone is not a new version.
    storage.save_delegations(&pack.delegations, now)?;
    let pack = Pack {
        delegations: pack.delegations.iter().map(|d| d.for_kiosks()).collect(),
        ..pack
    };
    let manifest = manifest_of(pack, media)?;
    storage.publish(&manifest, now)?;
    Ok(manifest)
}

/// The version kiosks get of a pack (already without members' names) and its media: named
/// by the pack's id and version and a digest of both, so the same content is the same
/// version however it arrived (imported, or published from the editor).
pub fn manifest_of(pack: Pack, media: Vec<MediaEntry>) -> anyhow::Result<Manifest> {
    let digest = {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&pack)?);
        for m in &media {
            h.update(m.sha256.as_bytes());
        }
        hex::encode(&h.finalize()[..4])
    };
    Ok(Manifest {
        version: format!("{}@{}+{digest}", pack.id, pack.version),
        pack,
        media,
    })
}

/// Stores one media file by its sha256 in `media_dir` (written whole, then renamed).
pub fn store_media(
    bytes: &[u8],
    media_dir: &Path,
    storage: &dyn Storage,
    now_ms: i64,
) -> anyhow::Result<(String, u64)> {
    std::fs::create_dir_all(media_dir)?;
    let sha = hex::encode(Sha256::digest(bytes));
    let dest = media_dir.join(&sha);
    if !dest.exists() {
        let tmp = media_dir.join(format!(".{sha}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &dest)?;
    }
    storage.record_media(&sha, bytes.len() as u64, now_ms)?;
    Ok((sha, bytes.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pack with one item of two pictures, an event, a deck and a delegation; `extra` is
    /// appended to `pack.toml`.
    fn pack_dir(extra: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("media")).unwrap();
        for name in ["a-1.png", "a-2.png"] {
            image::RgbImage::new(4, 3)
                .save(dir.path().join("media").join(name))
                .unwrap();
        }
        let text = format!(
            r#"id = "p"
version = "1"
default_language = "vi"
languages = ["vi", "en", "ko"]

[[pillars]]
id = "invest"
[pillars.title]
vi = "Đầu tư"
en = "Investment"

[[items]]
id = "a"
pillar = "invest"
media = ["media/a-1.png", "media/a-2.png"]
[items.text.vi]
title = "A"
[items.text.en]
title = "A"
[items.text.ko]
title = "A"

[[playlists]]
id = "loop"
items = ["a"]

[[events]]
id = "fair-2026"
playlist = "loop"
languages = ["vi"]

[credits."media/a-1.png"]
credit = "Sở Văn hóa, Thể thao và Du lịch"
licence = "CC-BY-4.0"
[credits."media/a-2.png"]
credit = "Sở Văn hóa, Thể thao và Du lịch"
licence = "CC-BY-4.0"

[[decks]]
id = "invest"
[[decks.slides]]
item = "a"
[[decks.slides]]
item = "a"
media = 1

[[delegations]]
id = "kr-2026"
country = "KR"
languages = ["ko", "vi"]
date = "2026-03-11"
org = "Department of Foreign Affairs"
deck = "invest"
[delegations.name]
vi = "Đoàn Gyeonggi"
[[delegations.members]]
name = "Kim Minji"
{extra}"#
        );
        std::fs::write(dir.path().join("pack.toml"), &text).unwrap();
        (dir, text)
    }

    /// The 1-based line holding `marker`.
    fn line(text: &str, marker: &str) -> usize {
        text.lines()
            .position(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("no {marker}"))
            + 1
    }

    #[cfg(unix)]
    #[test]
    fn media_through_a_symbolic_link_is_refused_and_nothing_is_imported() {
        let (dir, _) = pack_dir("");
        let secret = tempfile::tempdir().unwrap();
        image::RgbImage::new(4, 3)
            .save(secret.path().join("secret.png"))
            .unwrap();
        let link = dir.path().join("media").join("a-2.png");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(secret.path().join("secret.png"), &link).unwrap();
        let (_, problems) = validate(dir.path());
        assert!(
            problems
                .iter()
                .any(|p| p.severity == Severity::Error && p.message.contains("symbolic link")),
            "{problems:#?}"
        );
        // A linked folder too.
        let (dir, _) = pack_dir("");
        std::fs::remove_dir_all(dir.path().join("media")).unwrap();
        std::os::unix::fs::symlink(secret.path(), dir.path().join("media")).unwrap();
        let (_, problems) = validate(dir.path());
        assert!(problems.iter().any(|p| p.message.contains("symbolic link")));
    }

    #[test]
    fn a_misspelt_key_is_refused_at_its_line() {
        let (dir, text) = pack_dir("titel = \"Dr\"\n");
        let (_, problems) = validate(dir.path());
        let typo: Vec<_> = problems
            .iter()
            .filter(|p| p.message.contains("unknown key `titel`"))
            .collect();
        assert_eq!(typo.len(), 1, "{problems:?}");
        assert_eq!(typo[0].severity, Severity::Error);
        assert_eq!(typo[0].line, Some(line(&text, "titel =")));
        assert!(
            typo[0].message.contains("delegations.0.members.0.titel"),
            "{}",
            typo[0].message
        );
    }

    #[test]
    fn a_pack_with_a_delegation_and_its_deck_is_valid() {
        let (dir, _) = pack_dir("");
        let (pack, problems) = validate(dir.path());
        assert!(problems.is_empty(), "{problems:#?}");
        let pack = pack.unwrap();
        assert_eq!(pack.delegations[0].members.len(), 1);
        assert_eq!(pack.decks[0].slides.len(), 2);
    }

    #[test]
    fn every_delegation_and_deck_error_is_named_at_its_line() {
        let extra = r#"
[[delegations]]
id = "kr-2026"                            # dup-delegation
country = "KOR"                           # country
languages = ["vi", "th"]                  # language
date = "2026-02-30"                       # date
org = " "                                 # org
deck = "nope"                             # deck

[[delegations]]
id = "fair-2026"                          # event-id
country = "jp"
languages = ["vi"]
date = "2026-3-1"                         # short-date
org = "Department of Foreign Affairs"
deck = "invest"

[[delegations]]
id = "bad id!"                            # plain-id
country = "K1"                            # digit-country
languages = []
date = "2026-12-01"
org = "Department of Foreign Affairs"
deck = "invest"

[[decks]]
id = "invest"                             # dup-deck
[[decks.slides]]
item = "ghost"                            # unknown-item
[[decks.slides]]
item = "a"                                # media-index
media = 2

[[decks]]
id = "empty"                              # no-slides
slides = []
"#;
        let (dir, text) = pack_dir(extra);
        let (_, problems) = validate(dir.path());
        let found = |marker: &str, message: &str| {
            let at = line(&text, marker);
            assert!(
                problems.iter().any(|p| p.severity == Severity::Error
                    && p.line == Some(at)
                    && p.message.contains(message)
                    && p.file.ends_with("pack.toml")),
                "no error \"{message}\" at line {at} ({marker}): {problems:#?}"
            );
        };
        found("# dup-delegation", "duplicate delegation id \"kr-2026\"");
        found(
            "# country",
            "has country \"KOR\": use the two-letter ISO code",
        );
        found("# digit-country", "has country \"K1\"");
        found(
            "# language",
            "has language \"th\", which is not one of the pack's languages (vi, en, ko)",
        );
        found(
            "# date",
            "has date \"2026-02-30\": write a real date as YYYY-MM-DD",
        );
        found("# short-date", "has date \"2026-3-1\"");
        found("# org", "has no organising unit (org)");
        found("# deck", "names unknown deck \"nope\"");
        found(
            "# event-id",
            "delegation id \"fair-2026\" is also an event's id",
        );
        found(
            "# plain-id",
            "delegation id \"bad id!\" must be 1 to 64 letters, digits, dashes or underscores",
        );
        found("# dup-deck", "duplicate deck id \"invest\"");
        found(
            "# unknown-item",
            "deck \"invest\" slide 1 names unknown item \"ghost\"",
        );
        found(
            "# media-index",
            "deck \"invest\" slide 2 asks for media = 2 of item \"a\", which has 2 picture(s)",
        );
        found("# no-slides", "deck \"empty\" has no slides");
        assert_eq!(
            problems.len(),
            14,
            "nothing else is reported: {problems:#?}"
        );
    }
}
