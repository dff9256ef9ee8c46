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
        &["vi", "en", "ko", "ja", "zh-Hans"],
        &["kiosk/src", "kiosk/core/src"],
    );
    check("staff.ftl", &["vi", "en"], &["sync-server/src"]);
    check("reports.ftl", &["vi", "en"], &["sync-server/src"]);
    check(
        "phone.ftl",
        &["vi", "en", "ko", "ja", "zh-Hans"],
        &["sync-server/src"],
    );
}

#[test]
fn the_kiosk_localiser_loads_the_real_files_and_never_shows_an_id() {
    let l = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    assert_eq!(l.t("vi", "touch-to-start"), "Chạm để bắt đầu");
    assert_eq!(l.t("ko", "touch-to-start"), "화면을 터치하여 시작하세요");
    // zh-Hant falls back to zh-Hans.
    assert_eq!(l.t("zh-Hant", "back"), l.t("zh-Hans", "back"));
    assert_eq!(
        l.t_args("ja", "idle-countdown", &[("seconds", "7")]),
        "7秒後に最初の画面に戻ります。続けるには画面にタッチしてください。"
    );
}
