//! Localisation for the kiosk and the server's pages: Fluent files in `locales/<tag>/*.ftl`, a fallback chain per language
//! (e.g. zh-Hant → zh-Hans → en → vi), and no raw message id ever shown.

use std::collections::HashMap;
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The languages the kiosk offers, in their own names and scripts.
pub const LANGUAGES: [(&str, &str); 6] = [
    ("vi", "Tiếng Việt"),
    ("en", "English"),
    ("ko", "한국어"),
    ("ja", "日本語"),
    ("zh-Hans", "简体中文"),
    ("zh-Hant", "繁體中文"),
];

/// The language of last resort: every message exists in it (a test checks this).
pub const REFERENCE: &str = "en";

pub fn native_name(lang: &str) -> &str {
    LANGUAGES
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, n)| *n)
        .unwrap_or(lang)
}

/// The chain of languages tried for `lang`, best first.
pub fn fallback_chain(lang: &str) -> Vec<String> {
    let mut chain = vec![lang.to_owned()];
    if lang.starts_with("zh") && lang != "zh-Hans" {
        chain.push("zh-Hans".into());
    }
    for l in [REFERENCE, "vi"] {
        if !chain.iter().any(|c| c == l) {
            chain.push(l.to_owned());
        }
    }
    chain
}

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} has Fluent syntax errors: {errors}")]
    Syntax { path: String, errors: String },
}

pub struct Localiser {
    bundles: HashMap<String, FluentBundle<FluentResource>>,
}

impl Localiser {
    /// Loads every `locales/<tag>/*.ftl`. Syntax errors are returned, not skipped.
    pub fn load(dir: &Path) -> Result<Localiser, I18nError> {
        let mut bundles = HashMap::new();
        let entries = std::fs::read_dir(dir).map_err(|source| I18nError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            let tag = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() {
                continue;
            }
            let langid: LanguageIdentifier = tag.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            let mut files: Vec<_> = std::fs::read_dir(entry.path())
                .map_err(|source| I18nError::Io {
                    path: entry.path().display().to_string(),
                    source,
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
                .collect();
            if files.is_empty() {
                continue;
            }
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| I18nError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                let res = FluentResource::try_new(text).map_err(|(_, errs)| I18nError::Syntax {
                    path: path.display().to_string(),
                    errors: errs
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                })?;
                bundle.add_resource_overriding(res);
            }
            bundles.insert(tag, bundle);
        }
        Ok(Localiser { bundles })
    }

    pub fn languages(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.bundles.keys().map(String::as_str).collect();
        v.sort();
        v
    }

    /// The message in the first language of the chain that has it; never the raw id.
    pub fn t(&self, lang: &str, id: &str) -> String {
        self.t_args(lang, id, &[])
    }

    pub fn t_args(&self, lang: &str, id: &str, args: &[(&str, &str)]) -> String {
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, FluentValue::from(*v));
        }
        for l in fallback_chain(lang) {
            let Some(bundle) = self.bundles.get(&l) else {
                continue;
            };
            let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let s = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
            if !errors.is_empty() {
                tracing::warn!(lang = %l, id, ?errors, "message formatted with errors");
            }
            return s.into_owned();
        }
        tracing::error!(lang, id, "message missing in every language");
        String::new()
    }

    /// Whether `lang` itself (not a fallback) has the message.
    pub fn has(&self, lang: &str, id: &str) -> bool {
        self.bundles
            .get(lang)
            .is_some_and(|b| b.get_message(id).is_some())
    }
}

/// `share/<package>/locales` beside the running binary's `bin/`.
fn installed(package: &str) -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(
        exe.parent()?
            .parent()?
            .join("share")
            .join(package)
            .join("locales"),
    )
}

/// The `locales/` folder of this workspace (the folder of this crate), the installed one, or
/// `PROMO_LOCALES_DIR`.
pub fn default_dir() -> std::path::PathBuf {
    // Under `cargo run` and `cargo test`, cargo sets CARGO_MANIFEST_DIR at run time to the
    // package being run, in the checkout being built: it wins over the path compiled in,
    // which may name another checkout when a target directory is shared.
    let running = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from);
    [
        std::env::var_os("PROMO_LOCALES_DIR").map(std::path::PathBuf::from),
        running.as_ref().map(|d| d.join("locales")),
        running.as_ref().map(|d| d.join("../locales")),
        running.as_ref().map(|d| d.join("../../locales")),
        Some(std::path::PathBuf::from("locales")),
        // Installed from a package: /usr/bin/X → /usr/share/<package>/locales.
        installed("promo-kiosk"),
        installed("promo-sync-server"),
        Some(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.join("en").is_dir())
    .unwrap_or_else(|| std::path::PathBuf::from("locales"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_end_in_english_then_vietnamese() {
        assert_eq!(
            fallback_chain("zh-Hant"),
            ["zh-Hant", "zh-Hans", "en", "vi"]
        );
        assert_eq!(fallback_chain("ko"), ["ko", "en", "vi"]);
        assert_eq!(fallback_chain("en"), ["en", "vi"]);
        assert_eq!(fallback_chain("vi"), ["vi", "en"]);
    }

    #[test]
    fn falls_back_and_never_shows_an_id() {
        let dir = tempfile::tempdir().unwrap();
        for (tag, body) in [
            ("en", "hello = Hello\nonly-en = Only { $x }\n"),
            ("ko", "hello = 안녕하세요\n"),
        ] {
            std::fs::create_dir_all(dir.path().join(tag)).unwrap();
            std::fs::write(dir.path().join(tag).join("kiosk.ftl"), body).unwrap();
        }
        let l = Localiser::load(dir.path()).unwrap();
        assert_eq!(l.t("ko", "hello"), "안녕하세요");
        assert_eq!(l.t_args("ko", "only-en", &[("x", "1")]), "Only 1");
        assert_eq!(l.t("ko", "nope"), "");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        std::fs::write(
            dir.path().join("en").join("kiosk.ftl"),
            "good = ok\nbad = {\n",
        )
        .unwrap();
        assert!(matches!(
            Localiser::load(dir.path()),
            Err(I18nError::Syntax { .. })
        ));
    }
}
