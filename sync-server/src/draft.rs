//! The content editor's draft as pure steps on a pack and its media, apart from HTTP: the
//! staff pages and the tests edit, check, export and publish through these, and a draft
//! exports as the same pack folder `content import` reads (`pack.toml` and `media/`).

use std::io::Write;
use std::path::Path;

use protocol::content::{Credit, ItemText, Manifest, MediaEntry, Pack};

use crate::content::{Problem, Severity};
use crate::store::Draft;

/// A draft of a published version, as its editor starts it.
pub fn start(manifest: &Manifest, user: &str, now_ms: i64) -> Draft {
    Draft {
        based_on: Some(manifest.version.clone()),
        pack: manifest.pack.clone(),
        media: manifest.media.clone(),
        updated_ms: now_ms,
        updated_by: user.to_owned(),
        revision: 0,
    }
}

/// Languages of the pack an item has no title in (the kiosk shows a fallback there).
pub fn missing_languages(pack: &Pack, item: &str) -> Vec<String> {
    let Some(item) = pack.item(item) else {
        return Vec::new();
    };
    pack.languages
        .iter()
        .filter(|l| item.text.get(*l).is_none_or(|t| t.title.trim().is_empty()))
        .cloned()
        .collect()
}

/// The item `id` of the pack, to change.
fn item_mut<'a>(pack: &'a mut Pack, id: &str) -> Result<&'a mut protocol::content::Item, String> {
    pack.items
        .iter_mut()
        .find(|i| i.id == id)
        .ok_or_else(|| format!("no item \"{id}\""))
}

/// Sets an item's text in one language. An empty title removes that language's text (the
/// kiosk falls back), except in the pack's default language, which every item needs.
pub fn set_text(draft: &mut Draft, item: &str, lang: &str, text: ItemText) -> Result<(), String> {
    if !draft.pack.languages.iter().any(|l| l == lang) {
        return Err(format!("the pack has no language \"{lang}\""));
    }
    let default = draft.pack.default_language.clone();
    let item = item_mut(&mut draft.pack, item)?;
    let clean = ItemText {
        title: text.title.trim().to_owned(),
        summary: text.summary.trim().to_owned(),
        body: text.body.trim().to_owned(),
        facts: text
            .facts
            .iter()
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect(),
        source: text
            .source
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };
    if clean.title.is_empty() {
        if lang == default {
            return Err(format!(
                "the title in {lang} is empty: every item needs one in the pack's main language"
            ));
        }
        item.text.remove(lang);
    } else {
        item.text.insert(lang.to_owned(), clean);
    }
    Ok(())
}

/// Sets a pillar's name in the pack's languages (`titles`: language → text). An empty one
/// removes that language (the kiosk falls back), except the pack's main language.
pub fn set_pillar_titles(
    draft: &mut Draft,
    pillar: &str,
    titles: &std::collections::BTreeMap<String, String>,
) -> Result<(), String> {
    let default = draft.pack.default_language.clone();
    let languages = draft.pack.languages.clone();
    let p = draft
        .pack
        .pillars
        .iter_mut()
        .find(|p| p.id == pillar)
        .ok_or_else(|| format!("no pillar \"{pillar}\""))?;
    let mut title = p.title.clone();
    for (lang, text) in titles {
        if !languages.contains(lang) {
            return Err(format!("the pack has no language \"{lang}\""));
        }
        let text = text.trim();
        if text.is_empty() {
            title.remove(lang);
        } else {
            title.insert(lang.clone(), text.to_owned());
        }
    }
    if title.get(&default).is_none_or(|t| t.is_empty()) {
        return Err(format!(
            "the pillar's name in {default} is empty: every pillar needs one in the pack's main language"
        ));
    }
    p.title = title;
    Ok(())
}

/// Moves an item before the previous (or after the next) item of its pillar: the order of
/// its pillar's page. False when it is already first (last).
pub fn move_item(draft: &mut Draft, item: &str, up: bool) -> bool {
    let items = &mut draft.pack.items;
    let Some(at) = items.iter().position(|i| i.id == item) else {
        return false;
    };
    let pillar = items[at].pillar.clone();
    let other = if up {
        items[..at].iter().rposition(|i| i.pillar == pillar)
    } else {
        items[at + 1..]
            .iter()
            .position(|i| i.pillar == pillar)
            .map(|p| at + 1 + p)
    };
    match other {
        Some(o) => {
            items.swap(at, o);
            true
        }
        None => false,
    }
}

/// Sets when an item shows (each blank: no limit), checked as `content validate` checks it.
pub fn set_window(
    draft: &mut Draft,
    item: &str,
    from: &str,
    until: &str,
    daily: &str,
) -> Result<(), String> {
    let item = item_mut(&mut draft.pack, item)?;
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut changed = item.clone();
    changed.shows_from = opt(from);
    changed.shows_until = opt(until);
    changed.daily = opt(daily);
    if let Some(why) = changed.window_problem() {
        return Err(why);
    }
    *item = changed;
    Ok(())
}

/// Sets a media file's credit and licence.
pub fn set_credit(
    draft: &mut Draft,
    path: &str,
    credit: &str,
    licence: &str,
) -> Result<(), String> {
    if !draft.pack.media_paths().contains(&path) {
        return Err(format!("no media file \"{path}\" in the draft"));
    }
    let (credit, licence) = (credit.trim(), licence.trim());
    if credit.is_empty() || licence.is_empty() {
        return Err(format!(
            "\"{path}\": give both who made it (credit) and its licence"
        ));
    }
    draft.pack.credits.insert(
        path.to_owned(),
        Credit {
            credit: credit.to_owned(),
            licence: licence.to_owned(),
        },
    );
    Ok(())
}

/// Checks an uploaded picture exactly as `content validate` checks a pack's (its format by
/// name, the pixels its header claims before any decoding, a full decode within limits) and
/// scales it down to `max_display` as `content import` does. The error names the file.
pub fn check_upload(
    file_name: &str,
    bytes: &[u8],
    max_display: (u32, u32),
) -> Result<Vec<u8>, String> {
    let name = safe_name(file_name);
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if !matches!(ext, "png" | "jpg" | "jpeg") {
        return Err(format!(
            "{file_name}: unsupported media format \"{ext}\": use PNG or JPEG"
        ));
    }
    if bytes.is_empty() {
        return Err(format!("{file_name}: the file is empty"));
    }
    let fail = |e: String| format!("{file_name}: {e}");
    let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    let path = dir.path().join(&name);
    std::fs::write(&path, bytes).map_err(|e| fail(e.to_string()))?;
    crate::content::check_image(&path).map_err(fail)?;
    Ok(
        crate::content::prescale(bytes, Path::new(&name), max_display)
            .map_err(|e| fail(e.to_string()))?
            .unwrap_or_else(|| bytes.to_vec()),
    )
}

/// A file name as the pack keeps it: its last part, lower case, letters, digits, `.`, `-`, `_`.
fn safe_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let name: String = base
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(['.', '-']).to_owned();
    if name.is_empty() {
        "upload".into()
    } else {
        name
    }
}

/// The path a stored upload takes in the pack: `media/<its name>`, numbered when another
/// file of the draft has that name already.
pub fn media_path(draft: &Draft, file_name: &str, sha256: &str) -> String {
    let name = safe_name(file_name);
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
    for n in 1.. {
        let path = if n == 1 {
            format!("media/{name}")
        } else {
            format!("media/{stem}-{n}.{ext}")
        };
        match draft.media.iter().find(|m| m.path == path) {
            Some(m) if m.sha256 != sha256 => continue,
            _ => return path,
        }
    }
    unreachable!("some name is free")
}

/// Puts a stored file in an item: replacing its picture number `slot`, or added after the
/// others. Files no item or pillar uses any more leave the draft, with their credits.
pub fn put_media(
    draft: &mut Draft,
    item: &str,
    slot: Option<usize>,
    entry: MediaEntry,
    credit: Credit,
) -> Result<(), String> {
    let it = item_mut(&mut draft.pack, item)?;
    match slot {
        Some(n) if n < it.media.len() => it.media[n] = entry.path.clone(),
        Some(n) => return Err(format!("item \"{item}\" has no picture {}", n + 1)),
        None => it.media.push(entry.path.clone()),
    }
    draft.pack.credits.insert(entry.path.clone(), credit);
    if !draft.media.iter().any(|m| m.path == entry.path) {
        draft.media.push(entry);
    }
    prune(draft);
    Ok(())
}

/// Takes picture number `slot` out of an item.
pub fn remove_media(draft: &mut Draft, item: &str, slot: usize) -> Result<(), String> {
    let it = item_mut(&mut draft.pack, item)?;
    if slot >= it.media.len() {
        return Err(format!("item \"{item}\" has no picture {}", slot + 1));
    }
    it.media.remove(slot);
    prune(draft);
    Ok(())
}

fn prune(draft: &mut Draft) {
    let used: Vec<String> = draft
        .pack
        .media_paths()
        .iter()
        .map(|p| p.to_string())
        .collect();
    draft.media.retain(|m| used.contains(&m.path));
    draft.pack.credits.retain(|p, _| used.contains(p));
}

/// The draft's `pack.toml`.
pub fn pack_toml(pack: &Pack) -> Result<String, String> {
    toml::to_string(pack).map_err(|e| format!("the draft cannot be written as TOML: {e}"))
}

/// Writes the draft as a pack folder: `pack.toml` and its media under their paths.
pub fn export_dir(draft: &Draft, dir: &Path, media_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("pack.toml"),
        pack_toml(&draft.pack).map_err(anyhow::Error::msg)?,
    )?;
    for m in &draft.media {
        let dest = dir.join(&m.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(media_dir.join(&m.sha256), &dest)?;
    }
    Ok(())
}

/// The draft as a tar archive of its pack folder (`<pack id>/pack.toml`, `<pack id>/media/…`),
/// the same bytes for the same content: sorted, no times, no owners.
pub fn export_tar(draft: &Draft, media_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let root = &draft.pack.id;
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: String, bytes: &[u8]| -> std::io::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, path, bytes)
    };
    add(
        format!("{root}/pack.toml"),
        pack_toml(&draft.pack)
            .map_err(anyhow::Error::msg)?
            .as_bytes(),
    )?;
    let mut media: Vec<&MediaEntry> = draft.media.iter().collect();
    media.sort_by(|a, b| a.path.cmp(&b.path));
    for m in media {
        let bytes = std::fs::read(media_dir.join(&m.sha256))?;
        add(format!("{root}/{}", m.path), &bytes)?;
    }
    let mut out = tar.into_inner()?;
    out.flush()?;
    Ok(out)
}

/// Every problem `content validate` finds in the draft, read from its exported folder: the
/// editor and `content import` check one format the one way.
pub fn check(draft: &Draft, media_dir: &Path) -> Vec<Problem> {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return vec![problem(format!("no room to check the draft: {e}"))],
    };
    if let Err(e) = export_dir(draft, dir.path(), media_dir) {
        return vec![problem(format!("the draft cannot be written out: {e}"))];
    }
    let (_, problems) = crate::content::validate(dir.path());
    problems
        .into_iter()
        .map(|p| Problem {
            file: p
                .file
                .strip_prefix(dir.path())
                .map(Path::to_path_buf)
                .unwrap_or(p.file),
            ..p
        })
        .collect()
}

fn problem(message: String) -> Problem {
    Problem {
        severity: Severity::Error,
        file: "pack.toml".into(),
        line: None,
        message,
    }
}

/// The version the draft publishes as (named as an import of its folder would be).
pub fn manifest(draft: &Draft) -> anyhow::Result<Manifest> {
    let mut media = draft.media.clone();
    // In the pack's order of first use, as an import lists them.
    let order = draft.pack.media_paths();
    media.sort_by_key(|m| order.iter().position(|p| *p == m.path));
    crate::content::manifest_of(draft.pack.clone(), media)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        let pack: Pack = toml::from_str(
            r#"
            id = "t"
            version = "1"
            default_language = "vi"
            languages = ["vi", "ko"]
            [[pillars]]
            id = "invest"
            title = { vi = "Đầu tư" }
            [[items]]
            id = "a"
            pillar = "invest"
            media = ["media/a.png"]
            [items.text.vi]
            title = "A"
            [[items]]
            id = "b"
            pillar = "tourism"
            [items.text.vi]
            title = "B"
            [[items]]
            id = "c"
            pillar = "invest"
            [items.text.vi]
            title = "C"
        "#,
        )
        .unwrap();
        Draft {
            based_on: None,
            pack,
            media: vec![MediaEntry {
                path: "media/a.png".into(),
                sha256: "aa".into(),
                size: 1,
            }],
            updated_ms: 0,
            updated_by: "t".into(),
            revision: 0,
        }
    }

    fn ids(d: &Draft) -> Vec<&str> {
        d.pack.items.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn items_move_within_their_pillar() {
        let mut d = draft();
        assert!(move_item(&mut d, "c", true));
        assert_eq!(ids(&d), ["c", "b", "a"]);
        assert!(!move_item(&mut d, "c", true), "already first of invest");
        assert!(!move_item(&mut d, "b", false), "the only tourism item");
        assert!(move_item(&mut d, "c", false));
        assert_eq!(ids(&d), ["a", "b", "c"]);
    }

    #[test]
    fn texts_are_set_removed_and_the_main_language_kept() {
        let mut d = draft();
        assert_eq!(missing_languages(&d.pack, "a"), ["ko"]);
        let ko = ItemText {
            title: " 롱탄 ".into(),
            summary: String::new(),
            body: String::new(),
            facts: vec!["".into(), "52".into()],
            source: Some(" ".into()),
        };
        set_text(&mut d, "a", "ko", ko.clone()).unwrap();
        let t = &d.pack.item("a").unwrap().text["ko"];
        assert_eq!(
            (t.title.as_str(), t.facts.clone(), t.source.clone()),
            ("롱탄", vec!["52".to_owned()], None)
        );
        assert!(missing_languages(&d.pack, "a").is_empty());
        let empty = ItemText {
            title: String::new(),
            ..ko
        };
        set_text(&mut d, "a", "ko", empty.clone()).unwrap();
        assert_eq!(missing_languages(&d.pack, "a"), ["ko"]);
        assert!(set_text(&mut d, "a", "vi", empty.clone()).is_err());
        assert!(
            set_text(&mut d, "a", "fr", empty)
                .unwrap_err()
                .contains("fr")
        );
    }

    #[test]
    fn replaced_media_leave_the_draft_with_their_credit() {
        let mut d = draft();
        set_credit(&mut d, "media/a.png", "Sở VHTTDL", "CC-BY-4.0").unwrap();
        assert!(set_credit(&mut d, "media/a.png", "", "x").is_err());
        let path = media_path(&d, "Ảnh Mới.PNG", "bb");
        assert_eq!(path, "media/nh-m-i.png");
        let entry = MediaEntry {
            path: "media/a.png".into(),
            sha256: "bb".into(),
            size: 2,
        };
        assert_eq!(
            media_path(&d, "a.png", "bb"),
            "media/a-2.png",
            "same name, other file"
        );
        assert_eq!(
            media_path(&d, "a.png", "aa"),
            "media/a.png",
            "the same file"
        );
        let credit = Credit {
            credit: "Trung tâm XTTM".into(),
            licence: "owned".into(),
        };
        let entry = MediaEntry {
            path: "media/a-2.png".into(),
            ..entry
        };
        put_media(&mut d, "a", Some(0), entry, credit).unwrap();
        assert_eq!(d.pack.item("a").unwrap().media, ["media/a-2.png"]);
        assert_eq!(d.media.len(), 1);
        assert_eq!(d.pack.credits.keys().collect::<Vec<_>>(), ["media/a-2.png"]);
        remove_media(&mut d, "a", 0).unwrap();
        assert!(d.media.is_empty() && d.pack.credits.is_empty());
        assert!(remove_media(&mut d, "a", 0).is_err());
    }

    #[test]
    fn pillar_names_are_set_and_the_main_language_kept() {
        let mut d = draft();
        let names = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(l, t)| (l.to_string(), t.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        set_pillar_titles(
            &mut d,
            "invest",
            &names(&[("ko", " 투자 "), ("vi", "Đầu tư")]),
        )
        .unwrap();
        assert_eq!(d.pack.pillars[0].title["ko"], "투자");
        set_pillar_titles(&mut d, "invest", &names(&[("ko", "")])).unwrap();
        assert!(!d.pack.pillars[0].title.contains_key("ko"));
        assert!(set_pillar_titles(&mut d, "invest", &names(&[("vi", " ")])).is_err());
        assert_eq!(d.pack.pillars[0].title["vi"], "Đầu tư", "nothing changed");
        assert!(set_pillar_titles(&mut d, "invest", &names(&[("fr", "x")])).is_err());
        assert!(set_pillar_titles(&mut d, "space", &names(&[])).is_err());
    }

    #[test]
    fn a_window_that_cannot_be_read_is_refused_and_nothing_changes() {
        let mut d = draft();
        set_window(&mut d, "a", "2026-11-20", "2026-11-22", "08:00-12:00").unwrap();
        assert_eq!(
            d.pack.item("a").unwrap().daily.as_deref(),
            Some("08:00-12:00")
        );
        assert!(set_window(&mut d, "a", "20/11/2026", "", "").is_err());
        assert_eq!(
            d.pack.item("a").unwrap().shows_from.as_deref(),
            Some("2026-11-20")
        );
        set_window(&mut d, "a", " ", "", "").unwrap();
        assert_eq!(d.pack.item("a").unwrap().shows_from, None);
    }

    #[test]
    fn uploads_are_checked_like_a_pack() {
        let err = check_upload("photo.webp", b"RIFF", (100, 100)).unwrap_err();
        assert!(
            err.starts_with("photo.webp:") && err.contains("PNG or JPEG"),
            "{err}"
        );
        // A PNG header claiming 100000×100000 pixels, refused before any decoding.
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bomb.extend_from_slice(&100_000u32.to_be_bytes());
        bomb.extend_from_slice(&100_000u32.to_be_bytes());
        bomb.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        let err = check_upload("bomb.png", &bomb, (100, 100)).unwrap_err();
        assert!(
            err.starts_with("bomb.png:") && err.contains("100000×100000"),
            "{err}"
        );
        let mut png = Vec::new();
        image::RgbImage::new(400, 200)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let err = check_upload("cut.png", &png[..png.len() / 2], (100, 100)).unwrap_err();
        assert!(err.starts_with("cut.png:"), "{err}");
        let scaled = check_upload("ok.png", &png, (100, 100)).unwrap();
        let img = image::load_from_memory(&scaled).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50));
    }
}
