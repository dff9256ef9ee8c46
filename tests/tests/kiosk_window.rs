//! The real kiosk in a real window (Xvfb, Mesa's software Vulkan), driven by `kiosk --script`:
//! every screen in vi, en and ko, landscape and portrait, each with a screenshot checked for
//! its expected text; the QR code decoded from a screenshot; the runner's failure reporting.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::RowExt;
use e2e::window::{check_png, keys, kiosk_bin, quote, run, run_under_cage, run_with_env, stderr};
use kiosk_core::content::LoadedPack;

/// The scenario line a badge scanner types for Kim Minjun's vCard 4 (a name, an organisation
/// and a phone), ending with its Enter.
const KIM_BADGE: &str = "type \"BEGIN:VCARD\\nVERSION:4.0\\nFN:김민준\\nORG:Hanwha\\n\
                         TEL;VALUE=uri:tel:+82-2-555-0100\\nEND:VCARD\\n\"\n";

fn root() -> PathBuf {
    e2e::repo_root()
}

fn pack() -> LoadedPack {
    LoadedPack::from_dir(&root().join("assets").join("demo-pack")).unwrap()
}

/// The status of a GET, from a small runtime of its own.
fn http_status(url: &str) -> u16 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().status().as_u16() })
}

#[test]
fn every_screen_in_three_languages_landscape_and_portrait() {
    let pack = pack();
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let pillar = &pack.pack.pillars[0];
    let item = pack.items_in(&pillar.id, protocol::now_ms())[0];
    for (w, h) in [(1920, 1080), (1080, 1920)] {
        for lang in ["vi", "en", "ko"] {
            let dir = tempfile::tempdir().unwrap();
            let shots = dir.path().join("shots");
            let pillar_title = pack.localised(&pillar.title, lang);
            let item_title = &pack.text(item, lang).unwrap().title;
            let script = format!(
                "wait 2s\n\
                 screenshot {attract}\n\
                 expect-text {touch_any}\n\
                 tap {cx} {cy}\n\
                 wait 1s\n\
                 tap-text {native}\n\
                 wait 1s\n\
                 expect-text {home_title}\n\
                 screenshot {home}\n\
                 tap-text {pillar}\n\
                 wait 1s\n\
                 expect-text {item_title}\n\
                 screenshot {pillar_shot}\n\
                 tap-text {item_title}\n\
                 wait 2s\n\
                 expect-text {facts}\n\
                 expect-text {item_title}\n\
                 screenshot {item_shot}\n\
                 tap-text {back}\n\
                 wait 1s\n\
                 expect-text {pillar}\n\
                 quit\n",
                attract = shots.join("attract.png").display(),
                // The attract loop opens on its first item, titled in the event's main language.
                touch_any = quote(
                    &pack
                        .text(
                            pack.playlist(None, protocol::now_ms()).0[0],
                            &pack.languages(None)[0]
                        )
                        .unwrap()
                        .title
                ),
                cx = w / 2,
                cy = h / 3,
                native = quote(kiosk_core::i18n::native_name(lang)),
                home_title = quote(&l10n.t(lang, "home-title")),
                home = shots.join("home.png").display(),
                pillar = quote(pillar_title),
                item_title = quote(item_title),
                pillar_shot = shots.join("pillar.png").display(),
                facts = quote(&l10n.t(lang, "key-facts")),
                item_shot = shots.join("item.png").display(),
                back = quote(&l10n.t(lang, "back")),
            );
            let out = run(dir.path(), &script, (w, h), &[]);
            assert!(out.status.success(), "{lang} {w}x{h}: {}", stderr(&out));
            for shot in ["attract", "home", "pillar", "item"] {
                check_png(&shots.join(format!("{shot}.png")), (w, h));
            }
            if lang == "ko" {
                let keep = std::env::var_os("PROMO_KEEP_SHOTS").map(PathBuf::from);
                if let Some(keep) = keep {
                    for shot in ["attract", "home", "pillar", "item"] {
                        let _ = std::fs::create_dir_all(&keep);
                        let _ = std::fs::copy(
                            shots.join(format!("{shot}.png")),
                            keep.join(format!("{shot}-{lang}-{w}x{h}.png")),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_failing_script_exits_non_zero_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "wait 1s\n# a comment\nexpect-text \"this text is nowhere\"\nquit\n",
        (1280, 720),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(":3: `expect-text \"this text is nowhere\"`"),
        "{}",
        stderr(&out)
    );

    // A script that does not parse fails before a window opens, naming the line.
    let out = run(dir.path(), "wait 1s\nfly 1 2\n", (1280, 720), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
}

#[test]
fn without_a_display_the_kiosk_says_how_to_run_it() {
    let out = Command::new(kiosk_bin())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("xvfb-run"), "{}", stderr(&out));
}

#[test]
fn the_qr_code_on_an_item_page_decodes_to_a_token_the_server_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let server = e2e::TestServer::start(&dir.path().join("server"));
    let identity = e2e::enrol_store(
        &server,
        &dir.path().join("data").join("kiosk.sqlite"),
        &server.url(),
    );
    e2e::publish(&server, &e2e::demo_pack_dir());
    let pack = pack();
    let item = &pack.pack.items[0];
    let title = &pack.text(item, "ja").unwrap().title;
    let shot = dir.path().join("item.png");
    let script = format!(
        "wait 2s\ntap 960 400\nwait 1s\ntap-text \"日本語\"\nwait 1s\ntap-text {pillar}\nwait 1s\ntap-text {title}\nwait 2s\nscreenshot {shot}\nquit\n",
        pillar = quote(
            pack.localised(
                &pack
                    .pack
                    .pillars
                    .iter()
                    .find(|p| p.id == item.pillar)
                    .unwrap()
                    .title,
                "ja"
            )
        ),
        title = quote(title),
        shot = shot.display(),
    );
    let out = run(dir.path(), &script, (1920, 1080), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image::open(&shot).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert!(grids.len() >= 2, "found {} QR codes", grids.len());
    let key = server.storage().token_key(identity.kiosk_id).unwrap();
    let mut purposes = Vec::new();
    for g in grids {
        let (_, url) = g.decode().unwrap();
        assert!(url.starts_with("http://127.0.0.1"), "{url}");
        let token = url.rsplit('/').next().unwrap();
        let t = protocol::token::QrToken::verify(token, &key).unwrap();
        assert_eq!(t.kiosk_id, identity.kiosk_id);
        assert_eq!(t.item, item.id);
        assert_eq!(t.lang, "ja");
        purposes.push(url.split('/').nth(3).unwrap().to_owned());
        // The server accepts the URL and attributes the open to this kiosk, item and language.
        assert_eq!(http_status(&url), 200, "{url}");
    }
    let kiosk = server.kiosk_key(identity.kiosk_id);
    let opens = server.count(e2e::Table::QrOpens, |r| {
        r.text("item") == item.id && r.text("lang") == "ja" && r["kiosk"] == kiosk
    });
    assert_eq!(opens, 2);
    purposes.sort();
    assert_eq!(purposes, ["i", "p"]);
}

fn leads(data: &Path) -> Vec<protocol::record::LeadBody> {
    kiosk_core::store::Store::open(&data.join("kiosk.sqlite"))
        .unwrap()
        .all()
        .unwrap()
        .into_iter()
        .filter_map(|s| match s.body {
            protocol::RecordBody::Lead(l) => Some(*l),
            _ => None,
        })
        .collect()
}

fn raw_scans(data: &Path) -> Vec<(String, String)> {
    kiosk_core::store::Store::open(&data.join("kiosk.sqlite"))
        .unwrap()
        .all()
        .unwrap()
        .into_iter()
        .filter_map(|s| match s.body {
            protocol::RecordBody::RawScan { raw, reason } => Some((raw, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_form_the_badge_and_the_thank_you_in_three_languages_landscape_and_portrait() {
    let pack = pack();
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let pillar = &pack.pack.pillars[0];
    let item = pack.items_in(&pillar.id, protocol::now_ms())[0];
    for (w, h) in [(1920, 1080), (1080, 1920)] {
        for lang in ["vi", "en", "ko"] {
            let dir = tempfile::tempdir().unwrap();
            let shots = dir.path().join("shots");
            let t = |id: &str| quote(&l10n.t(lang, id));
            let script = format!(
                "wait 2s\ntap {cx} {cy}\nwait 1s\ntap-text {native}\nwait 1s\n\
                 tap-text {pillar}\nwait 1s\ntap-text {item_title}\nwait 2s\n\
                 tap-text {leave}\nwait 1s\nexpect-text {form_title}\n\
                 tap-text {send}\nwait 1s\nexpect-text {err_name}\nexpect-text {err_consent}\n\
                 screenshot {form_errors}\n\
                 tap-text {name_label}\nwait 1s\ntap-text \"⇧\"\n{name_keys}tap-text \"ã\"\n\
                 tap-text {email_label}\n{email_keys}tap-text \".com\"\n\
                 tap-text {done}\nwait 1s\ntap-text {consent}\nwait 1s\nexpect-text \"Nguyễn\"\nscreenshot {form}\n\
                 tap-text {send}\nwait 1s\nexpect-text {thanks}\nscreenshot {thanks_shot}\n\
                 {kim}wait 1s\nexpect-text {hello}\nexpect-text \"+82-2-555-0100\"\nscreenshot {badge}\n\
                 tap-text {yes}\nwait 1s\nexpect-text {thanks_kim}\nquit\n",
                cx = w / 2,
                cy = h / 3,
                native = quote(kiosk_core::i18n::native_name(lang)),
                pillar = quote(pack.localised(&pillar.title, lang)),
                item_title = quote(&pack.text(item, lang).unwrap().title),
                leave = t("leave-contact"),
                kim = KIM_BADGE,
                form_title = t("form-title"),
                send = t("form-submit"),
                err_name = t("form-error-name"),
                err_consent = t("form-error-consent"),
                form_errors = shots.join("form-errors.png").display(),
                name_keys = keys("Nguyên"),
                name_label = t("form-name"),
                email_label = t("form-email"),
                email_keys = keys("hoa@dongnai"),
                done = t("form-keyboard-done"),
                consent = t("form-consent"),
                form = shots.join("form.png").display(),
                thanks = quote(&l10n.t_args(lang, "thanks-title", &[("name", "Nguyễn")])),
                thanks_shot = shots.join("thanks.png").display(),
                hello = quote(&l10n.t_args(lang, "badge-hello", &[("name", "김민준")])),
                badge = shots.join("badge.png").display(),
                yes = t("badge-yes"),
                thanks_kim = quote(&l10n.t_args(lang, "thanks-title", &[("name", "김민준")])),
            );
            let out = run(dir.path(), &script, (w, h), &[]);
            assert!(out.status.success(), "{lang} {w}x{h}: {}", stderr(&out));
            for shot in ["form-errors", "form", "thanks", "badge"] {
                check_png(&shots.join(format!("{shot}.png")), (w, h));
            }
            // Both leads are in the store, each with its source, language and consent.
            let leads = leads(&dir.path().join("data"));
            assert_eq!(leads.len(), 2, "{lang} {w}x{h}");
            let form = &leads[0];
            assert_eq!(form.source, protocol::record::LeadSource::KioskForm);
            assert_eq!(form.contact.name, "Nguyễn");
            assert_eq!(form.contact.email, "hoa@dongnai.com");
            assert_eq!(form.item.as_deref(), Some(item.id.as_str()));
            assert_eq!(form.lang.as_deref(), Some(lang));
            // Each consent carries the words its screen showed, in the visitor's language.
            let consent = form.consent.as_ref().unwrap();
            assert_eq!(consent.text_id, kiosk_core::form::CONSENT_ID);
            assert_eq!(consent.lang, lang);
            assert_eq!(
                consent.verified_text(),
                Some(
                    kiosk_core::form::consent_words(&l10n, kiosk_core::form::CONSENT_ID, lang)
                        .as_str()
                )
            );
            let badge = &leads[1];
            assert_eq!(badge.source, protocol::record::LeadSource::Badge);
            assert_eq!(badge.contact.name, "김민준");
            assert_eq!(badge.contact.phone, "+82-2-555-0100");
            let consent = badge.consent.as_ref().unwrap();
            assert_eq!(
                consent.verified_text(),
                Some(
                    kiosk_core::form::consent_words(
                        &l10n,
                        kiosk_core::form::BADGE_CONSENT_ID,
                        lang
                    )
                    .as_str()
                )
            );
        }
    }
}

#[test]
fn badge_input_that_does_not_parse_never_blocks_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let long = "A".repeat(100_000);
    let script = format!(
        "wait 2s\ntap 960 300\nwait 1s\ntap-text \"English\"\nwait 1s\n\
         type \"this is not a badge\\n\"\nwait 1s\nexpect-text {unreadable}\n\
         type \"{long}\\n\"\nwait 1s\n\
         type \"\\u{{1b}}[31m\\u{{0}}\\u{{7f}}not a badge either\\n\"\nwait 1s\n\
         type \"BEGIN:VCARD\\nVERSION:3.0\\nNOTE:no name here\\nEND:VCARD\\n\"\nwait 1s\n\
         type \"MECARD:N:Tanaka,Hiroshi;EMAIL:h.tanaka@example.jp;;\\n\"\nwait 1s\n\
         expect-text \"Hiroshi Tanaka\"\ntap-text {no}\nwait 1s\nexpect-text {home}\nquit\n",
        unreadable = quote("We could not read this badge"),
        no = quote(&l10n.t("en", "badge-no")),
        home = quote(&l10n.t("en", "home-title")),
    );
    let out = run(dir.path(), &script, (1280, 720), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let scans = raw_scans(&dir.path().join("data"));
    let reasons: Vec<&str> = scans.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(
        reasons,
        ["malformed", "too_long", "malformed", "no_contact"],
        "{scans:?}"
    );
    // Control characters are kept visibly replaced, never raw.
    assert!(scans[2].0.contains('\u{fffd}') || !scans[2].0.chars().any(char::is_control));
    assert!(scans.iter().all(|(raw, _)| raw.chars().count() <= 2048));
    // "No" keeps nothing of the badge.
    assert!(leads(&dir.path().join("data")).is_empty());
}

#[test]
fn the_staff_overlay_needs_the_pin_shows_the_state_and_sets_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    e2e::window::set_pin(&data, "482916");
    let hash = kiosk_core::store::Store::open(&data.join("kiosk.sqlite"))
        .unwrap()
        .meta("staff_pin_hash")
        .unwrap()
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("482916"));
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let t = |id: &str| quote(&l10n.t("vi", id));
    let pack = pack();
    let event = &pack.pack.events[1];
    let taps = "tap 40 40\n".repeat(5);
    let script = format!(
        "wait 2s\n{taps}wait 1s\nexpect-text {pin}\n{wrong}tap-text {ok}\nwait 2s\nexpect-text {wrong_msg}\n\
         {taps_again}{right}tap-text {ok}\nwait 2s\nexpect-text {backlog}\nexpect-text {server}\n\
         screenshot {shot}\ntap-text {event}\nwait 2s\n{taps}wait 1s\n{right}tap-text {ok}\nwait 2s\n\
         tap-text {quit}\nwait 5s\n",
        pin = t("staff-pin"),
        wrong = keys("1111"),
        ok = t("staff-ok"),
        wrong_msg = t("staff-pin-wrong"),
        taps_again = "",
        right = keys("482916"),
        backlog = t("staff-backlog"),
        server = t("staff-untried"),
        shot = dir.path().join("staff.png").display(),
        event = quote(pack.localised(&event.name, "vi")),
        quit = t("staff-quit"),
    );
    let out = run(dir.path(), &script, (1920, 1080), &[]);
    // Staff quit the kiosk before the script's end: a clean exit.
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("completed"), "{}", stderr(&out));
    check_png(&dir.path().join("staff.png"), (1920, 1080));
    let store = kiosk_core::store::Store::open(&data.join("kiosk.sqlite")).unwrap();
    assert_eq!(
        store.meta("event_id").unwrap().as_deref(),
        Some(event.id.as_str())
    );
    // Staff at work are not a visitor: the corner taps, the PIN pad and the overlay's buttons
    // started no session and opened no page.
    let records = store.all().unwrap();
    assert!(
        !records.iter().any(|r| matches!(
            r.body,
            protocol::RecordBody::Session { .. }
                | protocol::RecordBody::View {
                    origin: protocol::ViewOrigin::Visitor,
                    ..
                }
        )),
        "{:?}",
        records.iter().map(|r| r.body.kind()).collect::<Vec<_>>()
    );
}

#[test]
fn at_4k_the_layout_scales_and_text_renders() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack();
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let pillar = &pack.pack.pillars[1];
    let item = pack.items_in(&pillar.id, protocol::now_ms())[0];
    let shot = dir.path().join("item-4k.png");
    let script = format!(
        "wait 3s\ntap 1920 700\nwait 1s\ntap-text \"한국어\"\nwait 1s\nexpect-text {home}\n\
         tap-text {pillar}\nwait 1s\ntap-text {item}\nwait 3s\nexpect-text {facts}\nscreenshot {shot}\nquit\n",
        home = quote(&l10n.t("ko", "home-title")),
        pillar = quote(pack.localised(&pillar.title, "ko")),
        item = quote(&pack.text(item, "ko").unwrap().title),
        facts = quote(&l10n.t("ko", "key-facts")),
        shot = shot.display(),
    );
    let out = run(dir.path(), &script, (3840, 2160), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    check_png(&shot, (3840, 2160));
}

/// A visitor reads in Japanese and walks away: the attract loop comes back in the kiosk's
/// language (the first of its event's, Korean for the demo pack's first event), its views are
/// recorded in it, and the next visitor starts in it.
#[test]
fn language_resets_between_visitors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let title = |l: &str| quote(&l10n.t(l, "home-title"));
    let pack = pack();
    let kiosk_lang = pack.pack.events[0].languages[0].clone();
    assert_ne!(kiosk_lang, "ja");
    let (attract, home) = (dir.path().join("attract.png"), dir.path().join("home.png"));
    let script = format!(
        "wait 2s\ntap 960 400\nwait 1s\ntap-text \"日本語\"\nwait 1s\nexpect-text {ja}\n\
         tap-text {large}\nwait 1s\ntap-text {contrast}\nwait 1s\nscreenshot {ja_home}\n\
         wait 9s\nexpect-no-text {ja}\nscreenshot {attract}\nwait 2s\n\
         tap 960 400\nwait 1s\nexpect-text {kiosk}\nexpect-no-text {ja}\nscreenshot {home}\nquit\n",
        ja = title("ja"),
        kiosk = title(&kiosk_lang),
        large = quote(&l10n.t("ja", "large-text")),
        contrast = quote(&l10n.t("ja", "high-contrast")),
        ja_home = dir.path().join("ja-home.png").display(),
        attract = attract.display(),
        home = home.display(),
    );
    let out = run(dir.path(), &script, (1920, 1080), &["--idle-seconds", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    check_png(&attract, (1920, 1080));
    // The Japanese visitor's high contrast (a black background) is not the next visitor's.
    let ja_home = check_png(&dir.path().join("ja-home.png"), (1920, 1080));
    assert_eq!(*ja_home.get_pixel(2, 2), image::Rgb([0, 0, 0]));
    let next_home = check_png(&home, (1920, 1080));
    assert_ne!(*next_home.get_pixel(2, 2), image::Rgb([0, 0, 0]));
    let bodies: Vec<protocol::RecordBody> =
        kiosk_core::store::Store::open(&data.join("kiosk.sqlite"))
            .unwrap()
            .all()
            .unwrap()
            .into_iter()
            .map(|s| s.body)
            .collect();
    use protocol::record::{SessionEnd, SessionPhase};
    let chose = bodies
        .iter()
        .position(
            |b| matches!(b, protocol::RecordBody::LanguageSelected { lang, .. } if lang == "ja"),
        )
        .expect("the visitor chose Japanese");
    let idle = bodies
        .iter()
        .position(|b| {
            matches!(
                b,
                protocol::RecordBody::Session {
                    phase: SessionPhase::End {
                        reason: SessionEnd::Idle,
                        ..
                    },
                    ..
                }
            )
        })
        .expect("the idle timeout ended the visit");
    assert!(chose < idle);
    // Both toggles were counted, and the next visitor's session turned neither on.
    for target in ["look:large-text:on", "look:high-contrast:on"] {
        let at = bodies
            .iter()
            .position(
                |b| matches!(b, protocol::RecordBody::Interaction { target: t, .. } if t == target),
            )
            .unwrap_or_else(|| panic!("{target} was not recorded"));
        assert!(chose < at && at < idle, "{target}");
    }
    let attract_langs: Vec<&str> = bodies[idle..]
        .iter()
        .filter_map(|b| match b {
            protocol::RecordBody::View {
                lang,
                origin: protocol::ViewOrigin::Attract,
                ..
            } => Some(lang.as_str()),
            _ => None,
        })
        .collect();
    assert!(!attract_langs.is_empty(), "{bodies:?}");
    assert!(
        attract_langs.iter().all(|l| *l == kiosk_lang),
        "the attract loop after the Japanese visitor: {attract_langs:?}"
    );
    assert!(
        !bodies[idle..]
            .iter()
            .any(|b| matches!(b, protocol::RecordBody::LanguageSelected { .. })),
        "the next visitor did not have to choose the kiosk's language again"
    );
    if let Ok(keep) = std::env::var("PROMO_KEEP_SHOTS") {
        let to = std::path::Path::new(&keep).join("language-reset");
        std::fs::create_dir_all(&to).unwrap();
        for p in [&attract, &home] {
            std::fs::copy(p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// The demo pack offering zh-Hant too (its texts fall back to zh-Hans), in a folder of its own.
fn pack_with_zh_hant(to: &Path) -> PathBuf {
    let from = root().join("assets").join("demo-pack");
    let dir = to.join("pack");
    std::fs::create_dir_all(dir.join("media")).unwrap();
    for entry in std::fs::read_dir(from.join("media")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("media").join(entry.file_name())).unwrap();
    }
    let toml = std::fs::read_to_string(from.join("pack.toml")).unwrap();
    let offered: String = toml
        .lines()
        .map(|l| match l.strip_prefix("languages = ") {
            Some(list) => format!("languages = {}", list.replace("]", ", \"zh-Hant\"]")),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(offered, toml);
    std::fs::write(dir.join("pack.toml"), offered).unwrap();
    dir
}

#[test]
fn no_text_overflows_and_controls_are_in_reach() {
    let pack = pack();
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let pillar = &pack.pack.pillars[0];
    let item = pack.items_in(&pillar.id, protocol::now_ms())[0];
    let keep = std::env::var_os("PROMO_KEEP_SHOTS").map(PathBuf::from);
    let badge = KIM_BADGE;
    // One copy of the pack for every run.
    let packs = tempfile::tempdir().unwrap();
    let content = pack_with_zh_hant(packs.path());
    for (w, h) in [(1080, 1920), (1920, 1080)] {
        for lang in ["vi", "en", "ko", "ja", "zh-Hans", "zh-Hant"] {
            let dir = tempfile::tempdir().unwrap();
            let shots = dir.path().join("shots");
            let t = |id: &str| quote(&l10n.t(lang, id));
            let shot = |name: &str| format!("screenshot {}\n", shots.join(name).display());
            // Every visitor screen, checked as laid out: once as everybody sees it, once
            // with large text and high contrast on.
            let visit = |tag: &str| {
                format!(
                    "tap-text {pillar}\nwait 1s\nexpect-layout\n{s_pillar}\
                     tap-text {item_title}\nwait 2s\nexpect-layout\n{s_item}\
                     tap-text {leave}\nwait 1s\nexpect-layout\n{s_form}\
                     tap-text {send}\nwait 1s\nexpect-text {err_name}\nexpect-layout\n\
                     tap-text {name_label}\nwait 1s\n\
                     tap-text {done}\nwait 1s\nexpect-layout\n{s_review}\
                     {badge}wait 1s\nexpect-text {yes}\nexpect-layout\n{s_badge}\
                     tap-text {yes}\nwait 1s\nexpect-layout\n{s_thanks}\
                     tap-text {home}\nwait 1s\n",
                    pillar = quote(pack.localised(&pillar.title, lang)),
                    item_title = quote(&pack.text(item, lang).unwrap().title),
                    leave = t("leave-contact"),
                    done = t("form-keyboard-done"),
                    send = t("form-submit"),
                    err_name = t("form-error-name"),
                    name_label = t("form-name"),
                    yes = t("badge-yes"),
                    home = t("home"),
                    s_pillar = shot(&format!("pillar{tag}.png")),
                    s_item = shot(&format!("item{tag}.png")),
                    s_form = shot(&format!("form{tag}.png")),
                    s_review = shot(&format!("form-review{tag}.png")),
                    s_badge = shot(&format!("badge{tag}.png")),
                    s_thanks = shot(&format!("thanks{tag}.png")),
                )
            };
            let script = format!(
                "wait 2s\nexpect-layout\ntap {cx} {cy}\nwait 1s\ntap-text {native}\nwait 1s\n\
                 expect-text {home_title}\nexpect-layout\n{s_home}{normal}\
                 tap-text {large}\nwait 1s\ntap-text {contrast}\nwait 1s\nexpect-layout\n\
                 {s_home_large}{large_visit}quit\n",
                cx = w / 2,
                cy = h / 3,
                native = quote(kiosk_core::i18n::native_name(lang)),
                home_title = t("home-title"),
                s_home = shot("home.png"),
                normal = visit(""),
                large = t("large-text"),
                contrast = t("high-contrast"),
                s_home_large = shot("home-large.png"),
                large_visit = visit("-large"),
            );
            let out = run(
                dir.path(),
                &script,
                (w, h),
                &["--content", content.to_str().unwrap()],
            );
            assert!(out.status.success(), "{lang} {w}x{h}: {}", stderr(&out));
            let screens = [
                "home",
                "pillar",
                "item",
                "form",
                "form-review",
                "badge",
                "thanks",
            ];
            for s in screens {
                let normal = check_png(&shots.join(format!("{s}.png")), (w, h));
                // White and yellow on black covers less of the screen: 0.5 % of it drawn.
                let large = image::open(shots.join(format!("{s}-large.png")))
                    .unwrap()
                    .to_rgb8();
                assert_eq!((large.width(), large.height()), (w, h));
                let drawn = large.pixels().filter(|p| p.0 != [0, 0, 0]).count();
                assert!(drawn > (w * h / 200) as usize, "{s}-large {lang} is blank");
                // High contrast paints the background black; the usual one is not.
                assert_ne!(*normal.get_pixel(2, 2), image::Rgb([0, 0, 0]), "{s} {lang}");
                assert_eq!(*large.get_pixel(2, 2), image::Rgb([0, 0, 0]), "{s} {lang}");
            }
            if let Some(keep) = &keep {
                let to = keep.join("layout").join(format!("{lang}-{w}x{h}"));
                std::fs::create_dir_all(&to).unwrap();
                for entry in std::fs::read_dir(&shots).unwrap() {
                    let entry = entry.unwrap();
                    std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
                }
            }
        }
    }
}

/// The test plays systemd's side (its own `NOTIFY_SOCKET` and `WATCHDOG_USEC`): READY comes once
/// the attract loop is on screen, pings come from the render loop, and they stop while the loop
/// is frozen (a test-only `stall`), so systemd would restart a frozen kiosk.
#[test]
fn the_watchdog_hears_ready_then_pings_that_stop_while_the_render_loop_is_frozen() {
    use std::os::unix::net::UnixDatagram;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listening = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut heard = Vec::new();
            let mut buf = [0u8; 512];
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                if let Ok(n) = socket.recv(&mut buf) {
                    let m = String::from_utf8_lossy(&buf[..n]).trim_end().to_owned();
                    heard.push((Instant::now(), m));
                }
            }
            heard
        })
    };
    // Waits of a second each after the stall: the first frame after it may end a longer one
    // early, as its clock jumps.
    let script = "wait 4s\nstall 5s\nwait 1s\nwait 1s\nwait 1s\nwait 1s\nquit\n";
    let out = run_with_env(
        dir.path(),
        script,
        (1280, 720),
        &[],
        &[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    done.store(true, std::sync::atomic::Ordering::Release);
    let heard = listening.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said: Vec<&str> = heard.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(said.first(), Some(&"READY=1"), "{said:?}");
    assert_eq!(
        said.iter().filter(|m| **m == "READY=1").count(),
        1,
        "{said:?}"
    );
    let pings: Vec<Instant> = heard
        .iter()
        .filter(|(_, m)| m == "WATCHDOG=1")
        .map(|(t, _)| *t)
        .collect();
    let gaps: Vec<f32> = pings
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f32())
        .collect();
    assert!(pings.len() >= 8, "{} pings: {gaps:?}", pings.len());
    // One long silence, the frozen loop; otherwise a ping about every half second.
    let frozen = gaps.iter().filter(|&&g| g >= 4.0).count();
    assert_eq!(frozen, 1, "{gaps:?}");
    let longest_other = gaps
        .iter()
        .filter(|&&g| g < 4.0)
        .fold(0.0f32, |a, &g| a.max(g));
    assert!(longest_other < 3.0, "{gaps:?}");
    // Pings come on both sides of the silence.
    let at = gaps.iter().position(|&g| g >= 4.0).unwrap();
    assert!(at >= 2 && gaps.len() - at >= 3, "{gaps:?}");
}

/// The appliance's own way to the screen: `packaging/kiosk/cage-session` (the unit's
/// `ExecStart`) under cage on Wayland. The window opens on Wayland and fills cage's output,
/// the layout follows its size, a visitor's taps work, and systemd hears one READY (from the
/// kiosk, not from the Xwayland that cage starts) and the kiosk's pings.
#[test]
fn the_kiosk_under_cage_on_wayland_draws_its_screens_says_ready_and_pings() {
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let notify = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&notify).unwrap();
    {
        // The session runs as another user, who must be able to write to it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&notify, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listening = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut heard = Vec::new();
            let mut buf = [0u8; 512];
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                if let Ok(n) = socket.recv(&mut buf) {
                    heard.push(String::from_utf8_lossy(&buf[..n]).trim_end().to_owned());
                }
            }
            heard
        })
    };
    let shots = dir.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = format!(
        "wait 3s\nscreenshot {attract}\ntap 640 360\nexpect-text \"English\"\n\
         tap-text \"한국어\"\nexpect-text \"투자\"\nexpect-layout\nscreenshot {home}\n\
         tap-text \"투자\"\nwait 1s\nexpect-layout\nscreenshot {pillar}\nwait 1s\n",
        attract = shots.join("attract.png").display(),
        home = shots.join("home-ko.png").display(),
        pillar = shots.join("pillar-ko.png").display(),
    );
    let out = run_under_cage(
        dir.path(),
        &script,
        &[
            ("NOTIFY_SOCKET", notify.to_str().unwrap()),
            ("WATCHDOG_USEC", "2000000"),
        ],
    );
    done.store(true, std::sync::atomic::Ordering::Release);
    let heard = listening.join().unwrap();
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    // cage does not pass on its client's exit status: the runner says how the script ended.
    assert!(log.contains(": completed"), "{log}");
    assert!(log.contains("window opened on Wayland"), "{log}");
    // cage's output is the window's size, not the 1920x1080 the kiosk asks for by default,
    // and the layout follows it.
    let (w, h) = image::image_dimensions(shots.join("attract.png")).unwrap();
    assert!(w >= 640 && h >= 480 && (w, h) != (1920, 1080), "{w}x{h}");
    assert!(log.contains("the layout follows"), "{log}");
    check_png(&shots.join("attract.png"), (w, h));
    check_png(&shots.join("home-ko.png"), (w, h));
    check_png(&shots.join("pillar-ko.png"), (w, h));
    assert_eq!(
        heard.iter().filter(|m| *m == "READY=1").count(),
        1,
        "{heard:?}"
    );
    assert_eq!(
        heard.first().map(String::as_str),
        Some("READY=1"),
        "{heard:?}"
    );
    let pings = heard.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!(pings >= 3, "{pings} pings: {heard:?}");
    if let Some(keep) = std::env::var_os("PROMO_KEEP_SHOTS") {
        let to = std::path::Path::new(&keep).join("cage");
        std::fs::create_dir_all(&to).unwrap();
        for f in ["attract.png", "home-ko.png", "pillar-ko.png"] {
            std::fs::copy(shots.join(f), to.join(f)).unwrap();
        }
    }
}
