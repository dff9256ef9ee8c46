//! The real kiosk in a real window (Xvfb, Mesa's software Vulkan), driven by `kiosk --script`:
//! every screen in vi, en and ko, landscape and portrait, each with a screenshot checked for
//! its expected text; the QR code decoded from a screenshot; the runner's failure reporting.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiosk_core::content::LoadedPack;

fn kiosk_bin() -> PathBuf {
    // target/release/deps/kiosk_window-… → target/release/kiosk
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("kiosk");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --release --workspace --bins` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn pack() -> LoadedPack {
    LoadedPack::from_dir(&root().join("assets").join("demo-pack")).unwrap()
}

/// Runs a script under `xvfb-run` in a window of `w`×`h`.
fn run(dir: &Path, script: &str, (w, h): (u32, u32), extra: &[&str]) -> Output {
    let script_path = dir.join("scenario.txt");
    std::fs::write(&script_path, script).unwrap();
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    Command::new("xvfb-run")
        .args(["-a", "-s", &format!("-screen 0 {w}x{h}x24")])
        .arg(kiosk_bin())
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--script")
        .arg(&script_path)
        .arg("--window")
        .arg(format!("{w}x{h}"))
        .args(extra)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env(
            "VK_ICD_FILENAMES",
            "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
        )
        .env("RUST_LOG", "warn")
        .output()
        .expect("xvfb-run is missing: scripts/install-deps.sh test installs it")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A screenshot of the expected size that shows something (not one flat colour).
fn check_png(path: &Path, (w, h): (u32, u32)) -> image::RgbImage {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!((img.width(), img.height()), (w, h), "{}", path.display());
    let first = *img.get_pixel(0, 0);
    let differing = img.pixels().filter(|p| **p != first).count();
    assert!(
        differing > (w * h / 50) as usize,
        "{} is nearly blank",
        path.display()
    );
    img
}

/// The status of a GET, from a small runtime of its own.
fn http_status(url: &str) -> u16 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().status().as_u16() })
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn every_screen_in_three_languages_landscape_and_portrait() {
    let pack = pack();
    let l10n = kiosk_core::i18n::Localiser::load(&root().join("locales")).unwrap();
    let pillar = &pack.pack.pillars[0];
    let item = pack.items_in(&pillar.id)[0];
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
                        .text(pack.playlist(None).0[0], &pack.languages(None)[0])
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
    let conn = rusqlite::Connection::open(dir.path().join("server").join("server.sqlite")).unwrap();
    let opens: i64 = conn
        .query_row(
            "SELECT count(*) FROM qr_opens WHERE item = ?1 AND lang = 'ja'
             AND kiosk = (SELECT id FROM kiosks WHERE uuid = ?2)",
            [item.id.clone(), identity.kiosk_id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(opens, 2);
    purposes.sort();
    assert_eq!(purposes, ["i", "p"]);
}
