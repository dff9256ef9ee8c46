//! The Fluent files: every file parses, every locale has every message of the reference
//! locale with the same arguments, and every message is used by the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_syntax::ast;

fn root() -> PathBuf {
    e2e::repo_root()
}

/// message id -> argument names, per locale.
fn messages(file: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let res = fluent_syntax::parser::parse(text.as_str())
        .unwrap_or_else(|(_, errs)| panic!("{}: {errs:?}", file.display()));
    let mut out = BTreeMap::new();
    for entry in res.body {
        if let ast::Entry::Message(m) = entry {
            let mut args = BTreeSet::new();
            if let Some(v) = &m.value {
                collect_args(v, &mut args);
            }
            out.insert(m.id.name.to_owned(), args);
        }
    }
    out
}

fn collect_args(p: &ast::Pattern<&str>, args: &mut BTreeSet<String>) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            collect_expr(expression, args);
        }
    }
}

fn collect_expr(e: &ast::Expression<&str>, args: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Inline(ast::InlineExpression::VariableReference { id }) => {
            args.insert(id.name.to_owned());
        }
        ast::Expression::Select { selector, variants } => {
            if let ast::InlineExpression::VariableReference { id } = selector {
                args.insert(id.name.to_owned());
            }
            for v in variants {
                collect_args(&v.value, args);
            }
        }
        _ => {}
    }
}

fn rust_sources(dir: &Path, out: &mut String) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
}

/// Checks one Fluent file name across the locales that must have it (and any that do), and
/// that the code in `code_dirs` uses every message.
fn check(file: &str, required: &[&str], code_dirs: &[&str]) {
    let locales = root().join("locales");
    let reference = messages(&locales.join("en").join(file));
    assert!(!reference.is_empty());
    let mut tags = Vec::new();
    for dir in std::fs::read_dir(&locales).unwrap().flatten() {
        let tag = dir.file_name().to_string_lossy().into_owned();
        let path = dir.path().join(file);
        if !path.exists() {
            continue;
        }
        tags.push(tag.clone());
        let msgs = messages(&path);
        for (id, args) in &reference {
            let got = msgs
                .get(id)
                .unwrap_or_else(|| panic!("{tag} lacks \"{id}\" (it would fall back to en)"));
            assert_eq!(got, args, "{tag}: \"{id}\" has different arguments");
        }
        for id in msgs.keys() {
            assert!(
                reference.contains_key(id),
                "{tag} has \"{id}\", which en lacks"
            );
        }
    }
    for r in required {
        assert!(tags.iter().any(|t| t == r), "no {r}/{file}");
    }
    let mut code = String::new();
    for d in code_dirs {
        rust_sources(&root().join(d), &mut code);
    }
    for id in reference.keys() {
        assert!(
            code.contains(&format!("\"{id}\"")),
            "\"{id}\" of {file} is not used by {code_dirs:?}"
        );
    }
}

#[test]
fn every_locale_is_complete_consistent_and_used() {
    check(
        "kiosk.ftl",
        &["vi", "en", "ko", "ja", "zh-Hans", "zh-Hant"],
        &["kiosk/src", "kiosk/core/src"],
    );
    check("staff.ftl", &["vi", "en"], &["sync-server/src"]);
    check("reports.ftl", &["vi", "en"], &["sync-server/src"]);
    check(
        "phone.ftl",
        &["vi", "en", "ko", "ja", "zh-Hans", "zh-Hant"],
        &["sync-server/src"],
    );
}

#[test]
fn the_kiosk_localiser_loads_the_real_files_and_never_shows_an_id() {
    let l = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    assert_eq!(l.t("vi", "touch-to-start"), "Chạm để bắt đầu");
    assert_eq!(l.t("ko", "touch-to-start"), "화면을 터치하여 시작하세요");
    // zh-Hant has its own words (Traditional characters), not zh-Hans's.
    assert_eq!(l.t("zh-Hant", "touch-to-start"), "觸碰螢幕開始");
    assert_ne!(
        l.t("zh-Hant", "kiosk-consent-text"),
        l.t("zh-Hans", "kiosk-consent-text")
    );
    assert_eq!(
        l.t_args("ja", "idle-countdown", &[("seconds", "7")]),
        "7秒後に最初の画面に戻ります。続けるには画面にタッチしてください。"
    );
}

/// The faces of the font collection the kiosk draws with, by family name.
fn faces(data: &[u8]) -> BTreeMap<String, ttf_parser::Face<'_>> {
    let n = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    let mut out = BTreeMap::new();
    for i in 0..n {
        let face = ttf_parser::Face::parse(data, i).expect("a face of the font");
        let families: Vec<String> = face
            .names()
            .into_iter()
            .filter(|n| {
                n.name_id == ttf_parser::name_id::FAMILY
                    || n.name_id == ttf_parser::name_id::TYPOGRAPHIC_FAMILY
            })
            .filter_map(|n| n.to_string())
            .collect();
        for f in families {
            out.entry(f).or_insert_with(|| face.clone());
        }
    }
    out
}

/// Every text the kiosk can put on screen — each message of each locale's `kiosk.ftl`, each
/// language's own name on the language buttons, every text of the demo pack — has a glyph for
/// each of its characters in the face the kiosk picks for its language: none renders as a box.
#[test]
fn every_visible_string_has_glyphs() {
    let path = kiosk_core::config::KioskConfig::default()
        .font_path()
        .expect("Noto Sans CJK is installed (scripts/install-deps.sh installs fonts-noto-cjk)");
    let data = std::fs::read(&path).unwrap();
    let faces = faces(&data);
    // The check can fail: an Egyptian hieroglyph is in no face of Noto Sans CJK.
    assert!(faces["Noto Sans CJK KR"].glyph_index('\u{13000}').is_none());
    assert!(faces["Noto Sans CJK TC"].glyph_index('繁').is_some());
    let mut checked = 0usize;
    let mut missing: BTreeMap<String, BTreeSet<char>> = BTreeMap::new();
    let mut check = |lang: &str, what: &str, text: &str| {
        let family = kiosk_core::fonts::family(lang);
        let face = faces.get(family).unwrap_or_else(|| {
            panic!(
                "{} has no face \"{family}\": {:?}",
                path.display(),
                faces.keys()
            )
        });
        for c in text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
        {
            checked += 1;
            if face.glyph_index(c).is_none() {
                missing
                    .entry(format!("{lang} ({family}) {what}"))
                    .or_default()
                    .insert(c);
            }
        }
    };
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let mut langs = Vec::new();
    for e in std::fs::read_dir(root().join("locales")).unwrap().flatten() {
        let file = e.path().join("kiosk.ftl");
        if !file.exists() {
            continue;
        }
        let lang = e.file_name().to_string_lossy().into_owned();
        for id in messages(&file).keys() {
            check(&lang, id, &l10n.t(&lang, id));
        }
        check(&lang, "native name", kiosk_core::i18n::native_name(&lang));
        langs.push(lang);
    }
    assert!(langs.len() >= 6, "{langs:?}");
    let pack = kiosk_core::content::LoadedPack::from_dir(&e2e::demo_pack_dir()).unwrap();
    let p = &pack.pack;
    let mut localised = |what: &str, l: &protocol::content::Localised| {
        for (lang, text) in l {
            check(lang, what, text);
        }
    };
    localised("pack title", &p.title);
    for pillar in &p.pillars {
        localised(&pillar.id, &pillar.title);
    }
    for event in &p.events {
        localised(&event.id, &event.name);
    }
    for d in &p.delegations {
        localised(&d.id, &d.name);
    }
    for deck in &p.decks {
        localised(&deck.id, &deck.title);
        for s in &deck.slides {
            localised(&format!("{} notes", deck.id), &s.notes);
        }
    }
    for item in &p.items {
        for (lang, t) in &item.text {
            for text in [&t.title, &t.summary, &t.body]
                .into_iter()
                .chain(&t.facts)
                .chain(&t.source)
            {
                check(lang, &item.id, text);
            }
        }
    }
    assert!(checked > 20_000, "only {checked} characters checked");
    assert!(
        missing.is_empty(),
        "characters the font draws as boxes: {missing:?}"
    );
}
