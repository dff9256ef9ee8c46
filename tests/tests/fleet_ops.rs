//! Staff run the kiosks from the browser: settings and the event reach a running kiosk in the
//! answer to its next sync round and apply without a restart.
//!
//! Needs Chromium and chromedriver, `xvfb-run` and Mesa's software Vulkan
//! (`scripts/install-deps.sh test`); without them these tests fail, never pass silently.

use std::path::Path;
use std::time::{Duration, Instant};

use e2e::browser::*;
use e2e::window::{check_png, keys, quote, run, set_pin, stderr};
use e2e::{RowExt, Table, TestServer};

const PASSWORD: &str = "a long staff password";
const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const HOME: &str = "dong-nai-home";
const KOREA: &str = "korea-investment-2026";

/// An admin and the demo pack's two events, as the staff pages know them.
fn fleet_fixture(dir: &Path) -> TestServer {
    fleet_fixture_with(dir, |_| {})
}

fn fleet_fixture_with(
    dir: &Path,
    configure: impl FnOnce(&mut sync_server::config::ServerConfig),
) -> TestServer {
    let server = TestServer::start_with(&dir.join("server"), configure);
    // On today (Vietnam time): a silent kiosk needs someone now.
    let today = sync_server::store::time::vn_day(protocol::now_ms());
    let day = sync_server::store::time::day_label;
    e2e::admin_and_fairs(
        &server,
        "admin@dn.example",
        PASSWORD,
        ITTPC,
        &[
            (HOME, "Khám phá Đồng Nai"),
            (KOREA, "Korea Investment Forum 2026"),
        ],
        Some((day(today - 1), day(today + 1))),
    );
    server
}

/// Waits until the server has a record from the kiosk: it is up and syncing.
fn wait_for_first_push(
    server: &TestServer,
    kiosk: uuid::Uuid,
    window: &std::thread::JoinHandle<std::process::Output>,
    within: Duration,
) {
    let until = Instant::now() + within;
    while server.records_of(kiosk).is_empty() {
        assert!(
            !window.is_finished(),
            "the kiosk window ended before it synced"
        );
        assert!(
            Instant::now() < until,
            "the kiosk pushed nothing in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn settings_and_a_new_event_from_the_staff_page_reach_a_running_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let server = fleet_fixture(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let identity = e2e::enrol_store(&server, &data.join("kiosk.sqlite"), &server.url());
    let kiosk = identity.kiosk_id;
    server.storage().set_kiosk_event(kiosk, Some(HOME)).unwrap();
    set_pin(&data, "482916");
    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, "sync_interval_seconds = 1\nidle_seconds = 60\n").unwrap();

    let l10n = kiosk_core::i18n::Localiser::load(&e2e::repo_root().join("locales")).unwrap();
    let t = |id: &str| quote(&l10n.t("vi", id));
    let pack = kiosk_core::content::LoadedPack::from_dir(&e2e::demo_pack_dir()).unwrap();
    let korea_name = pack.localised(&pack.pack.event(KOREA).unwrap().name, "vi");
    let taps = "tap 40 40\n".repeat(5);
    // PROMO_KEEP_SHOTS=DIR keeps the screenshots to look at.
    let shots = std::env::var_os("PROMO_KEEP_SHOTS")
        .map(|d| std::path::PathBuf::from(d).join("fleet"))
        .unwrap_or_else(|| dir.path().join("shots"));
    let investor_first = pack.playlist(Some(KOREA), protocol::now_ms()).0[0];
    let investor_first_ja = &pack.text(investor_first, "ja").unwrap().title;
    // The kiosk: the staff overlay open while staff work in the browser; the new event shows
    // in it within a sync round. The attract loop under it held still (staff are no visitor)
    // and now plays the new event's playlist from its first item; a visitor's tap opens a home
    // screen that offers the new languages only, and the new idle timeout (15 s, not the
    // configuration's 60 s) brings the attract loop back, in the first of them, where it was.
    let script = format!(
        "wait 2s\n{taps}wait 1s\n{pin}tap-text {ok}\nwait 1s\n\
         expect-text {event_line} 150s\nwait 1s\nscreenshot {overlay}\ntap-text {close}\nwait 1s\n\
         tap 1900 1060\nwait 1s\nexpect-text \"日本語\"\nexpect-text \"English\"\n\
         expect-no-text \"Tiếng Việt\"\nexpect-no-text \"한국어\"\nscreenshot {home}\n\
         wait 18s\nexpect-no-text \"日本語\"\nexpect-text {attract_title}\nscreenshot {attract}\nquit\n",
        pin = keys("482916"),
        ok = t("staff-ok"),
        event_line = quote(&format!("{}: {korea_name}", l10n.t("vi", "staff-event"))),
        overlay = shots.join("overlay.png").display(),
        close = t("staff-close"),
        home = shots.join("home.png").display(),
        attract_title = quote(investor_first_ja),
        attract = shots.join("attract.png").display(),
    );
    let window_dir = dir.path().to_owned();
    let config_arg = config.display().to_string();
    let kiosk_run = std::thread::spawn(move || {
        run(
            &window_dir,
            &script,
            (1920, 1080),
            &["--config", &config_arg],
        )
    });

    wait_for_first_push(&server, kiosk, &kiosk_run, Duration::from_secs(120));
    let url = server.url();
    with_browser(
        dir.path(),
        Screen::Desktop {
            width: 1366,
            height: 768,
        },
        move |c| async move {
            sign_in(&c, &url, "admin@dn.example", PASSWORD).await;
            c.goto(&format!("{url}/staff/kiosks")).await.unwrap();
            click(&c, &format!("a[href='/staff/kiosks/{kiosk}']")).await;
            // Settings first, the event last: the event showing on the kiosk means that the
            // newest revision arrived.
            fill(&c, "#settings-form input[name=idle_seconds]", "15").await;
            fill(&c, "#settings-form input[name=languages]", "ja, en").await;
            click(&c, "#settings-form button[type=submit]").await;
            find(&c, "#done").await;
            choose(&c, "#event-form select[name=event]", KOREA).await;
            click(&c, "#event-form button[type=submit]").await;
            wait_url(&c, "the kiosk page after assigning", |u| {
                u.query().is_some_and(|q| q.contains("done=event"))
            })
            .await;
            let facts = find(&c, "#kiosk-facts").await.text().await.unwrap();
            assert!(facts.contains("Korea Investment Forum 2026"), "{facts}");
            // A picture of the kiosk's screen, on request.
            click(&c, "#screenshot-form button[type=submit]").await;
            find(&c, "#screenshot-asked").await;
            let until = Instant::now() + Duration::from_secs(60);
            loop {
                c.goto(&format!("{url}/staff/kiosks/{kiosk}"))
                    .await
                    .unwrap();
                let shown = js(
                    &c,
                    "const i = document.getElementById('screenshot'); \
                     return i && i.complete ? i.naturalWidth : 0",
                )
                .await;
                if shown.as_u64().unwrap_or(0) == 960 {
                    break;
                }
                assert!(Instant::now() < until, "no screenshot on the page in 60 s");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let caption = find(&c, "#screenshot-time").await.text().await.unwrap();
            assert!(caption.contains("(UTC+7)"), "{caption}");
            keep_shot(&c, "kiosk-vi").await;
            c.goto(&format!("{url}/staff/kiosks/{kiosk}?lang=en"))
                .await
                .unwrap();
            wait_lang(&c, "en").await;
            keep_shot(&c, "kiosk-en").await;
        },
    );

    let out = kiosk_run.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for shot in ["overlay", "home", "attract"] {
        check_png(&shots.join(format!("{shot}.png")), (1920, 1080));
    }
    // The kiosk kept the settings (they hold after a restart) ...
    let store = kiosk_core::store::Store::open(&data.join("kiosk.sqlite")).unwrap();
    let kept = store.applied_settings().unwrap().expect("settings kept");
    assert_eq!(kept.event_id.as_deref(), Some(KOREA));
    assert_eq!(kept.idle_seconds, Some(15));
    assert_eq!(kept.languages, Some(vec!["ja".to_owned(), "en".to_owned()]));
    assert_eq!(store.meta("event_id").unwrap().as_deref(), Some(KOREA));
    // ... and what it recorded after the change carries the new event: the visitor session
    // the script started, pushed to the server.
    let until = Instant::now() + Duration::from_secs(30);
    let row = server.storage().kiosks().unwrap();
    let row = row.iter().find(|k| k.uuid == kiosk).unwrap();
    assert_eq!(row.settings.revision, 3, "event at start, settings, event");
    let sessions = |event: &str| {
        server.count(Table::Records, |r| {
            r.text("kind") == "session" && r.text("event_id") == event
        })
    };
    while sessions(KOREA) == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(250));
    }
    // The corner taps that opened the overlay woke the kiosk under the old event; the idle end
    // of that session came after the change.
    assert!(
        sessions(KOREA) >= 1,
        "the session's idle end carries the new event"
    );
    let audit = server.rows(Table::Audit);
    for action in ["kiosk-settings", "kiosk-event", "kiosk-screenshot"] {
        assert!(
            audit.iter().any(|r| r.text("action") == action),
            "{action} is audited"
        );
    }
    // The screenshot is the kiosk's screen, small, and the request is done.
    let (_, jpeg) = server.state.fleet.screenshot(kiosk).unwrap().unwrap();
    let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (960, 540));
    let first = *img.get_pixel(0, 0);
    assert!(
        img.pixels().filter(|p| **p != first).count() > 960 * 540 / 20,
        "the screenshot shows the screen, not a blank"
    );
    let row = server.storage().kiosks().unwrap();
    let row = row.iter().find(|k| k.uuid == kiosk).unwrap();
    assert_eq!(row.screenshot_requested_ms, None);
}

#[test]
fn a_screenshot_nobody_asked_for_or_that_is_not_a_jpeg_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = fleet_fixture(dir.path());
    let identity = e2e::enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    let kiosk = identity.kiosk_id;
    let auth = protocol::sync::bearer(kiosk, &identity.secret);
    let url = format!("{}/api/v1/sync/screenshot", server.url());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let post = |body: Vec<u8>, auth: &str| {
        let (url, auth) = (url.clone(), auth.to_owned());
        rt.block_on(async move {
            let r = reqwest::Client::new()
                .post(&url)
                .header("authorization", auth)
                .header("content-type", "image/jpeg")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        })
    };
    let frame = image::RgbaImage::from_pixel(1920, 1080, image::Rgba([10, 120, 200, 255]));
    let jpeg = kiosk_core::media::screenshot_jpeg(&frame).unwrap();
    // A stolen key cannot fill the database: only a picture staff asked for is kept.
    let (status, body) = post(jpeg.clone(), &auth);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no screenshot was asked for"), "{body}");
    assert!(post(jpeg.clone(), "Bearer nobody.x").0 == 401);
    server
        .state
        .fleet
        .request_screenshot(kiosk, protocol::now_ms())
        .unwrap();
    // Not a JPEG, a truncated one, one far too large: refused, the request stays.
    let (status, body) = post(b"<html>not a picture</html>".to_vec(), &auth);
    assert_eq!(status, 400, "{body}");
    assert_eq!(post(jpeg[..jpeg.len() / 2].to_vec(), &auth).0, 400);
    assert_eq!(post(vec![0xff; 2 << 20], &auth).0, 413);
    let pending = |s: &TestServer| {
        s.storage()
            .kiosks()
            .unwrap()
            .into_iter()
            .find(|k| k.uuid == kiosk)
            .unwrap()
            .screenshot_requested_ms
    };
    assert!(pending(&server).is_some());
    assert_eq!(server.state.fleet.screenshot(kiosk).unwrap(), None);
    // The real one is kept, once.
    assert_eq!(post(jpeg.clone(), &auth).0, 204);
    assert!(pending(&server).is_none());
    assert_eq!(
        server.state.fleet.screenshot(kiosk).unwrap().unwrap().1,
        jpeg
    );
    assert_eq!(post(jpeg, &auth).0, 400, "asked once, kept once");
}

/// The `data-live` of the kiosk's row on the kiosks page, and the dashboard's list of kiosks
/// silent during their event, after a reload.
async fn fleet_state(c: &Client, url: &str, kiosk: uuid::Uuid) -> (String, String) {
    c.goto(&format!("{url}/staff/kiosks")).await.unwrap();
    let live = find(c, &format!("tr[data-kiosk='{kiosk}'] td.live"))
        .await
        .attr("data-live")
        .await
        .unwrap()
        .unwrap_or_default();
    c.goto(&format!("{url}/staff")).await.unwrap();
    let attention = js(
        c,
        "const a = document.getElementById('attention'); return a ? a.textContent : ''",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned();
    (live, attention)
}

#[test]
fn a_kiosk_that_stops_shows_late_then_offline() {
    let dir = tempfile::tempdir().unwrap();
    let server = fleet_fixture_with(dir.path(), |c| {
        c.fleet_late_seconds = 15;
        c.fleet_offline_seconds = 25;
    });
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = e2e::enrol_store(&server, &store_path, &server.url());
    let kiosk = identity.kiosk_id;
    server
        .storage()
        .set_kiosk_event(kiosk, Some(KOREA))
        .unwrap();
    // One sync round, then the kiosk goes quiet (unplugged).
    let mut store = kiosk_core::store::Store::open(&store_path).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut client = kiosk_core::sync::SyncClient::new(
        identity,
        kiosk_core::clock::Clock::system(),
        Default::default(),
    )
    .unwrap();
    rt.block_on(client.round(&mut store)).unwrap();
    let stopped = Instant::now();
    let url = server.url();
    with_browser(
        dir.path(),
        Screen::Desktop {
            width: 1366,
            height: 768,
        },
        move |c| async move {
            sign_in(&c, &url, "admin@dn.example", PASSWORD).await;
            let (live, attention) = fleet_state(&c, &url, kiosk).await;
            assert_eq!(live, "online");
            assert_eq!(attention, "", "nothing to look at yet");
            let mut seen = vec![live];
            while stopped.elapsed() < Duration::from_secs(60) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let (live, attention) = fleet_state(&c, &url, kiosk).await;
                if live != "online" {
                    assert!(
                        attention.contains("test kiosk")
                            && attention.contains("Korea Investment Forum 2026"),
                        "the dashboard flags the silent kiosk of a running event: {attention:?}"
                    );
                }
                if seen.last() != Some(&live) {
                    let at = stopped.elapsed();
                    eprintln!("{live} after {at:?}");
                    match live.as_str() {
                        "late" => assert!(at >= Duration::from_secs(15), "late at {at:?}"),
                        "offline" => assert!(at >= Duration::from_secs(25), "offline at {at:?}"),
                        other => panic!("unexpected state {other}"),
                    }
                    seen.push(live.clone());
                    keep_shot(&c, &format!("dashboard-{live}-vi")).await;
                }
                if live == "offline" {
                    break;
                }
            }
            assert_eq!(seen, ["online", "late", "offline"]);
            let text = find(&c, "#attention").await.text().await.unwrap();
            assert!(text.contains("mất kết nối từ"), "{text}");
            c.goto(&format!("{url}/staff/kiosks?lang=en"))
                .await
                .unwrap();
            wait_lang(&c, "en").await;
            keep_shot(&c, "kiosks-offline-en").await;
        },
    );
}
