//! Presenter mode end to end: the real kiosk in a window (Xvfb + lavapipe), enrolled with a real
//! server that published the demo pack. A host unlocks the staff overlay, picks the Korean
//! delegation and runs its whole deck with PageDown, Right, Left, PageUp, Space, two swipes,
//! Home and B (blank); the captions are checked in Vietnamese and Korean, then (a second visit)
//! in Vietnamese and Japanese; the closing slide's QR code is decoded from the screenshot and a
//! member leaves a contact through it. On the server: the visits with every slide in order,
//! the attendees the host entered, the member's lead tagged with the delegation. A third run
//! stops mid-visit; the next start records the visit as interrupted, once.

use std::path::Path;

use e2e::window::{check_png, keys, quote, run, set_pin, stderr};
use e2e::{RowExt, Table};
use kiosk_core::content::LoadedPack;
use kiosk_core::i18n::Localiser;
use protocol::content::Delegation;

const PIN: &str = "2468";

fn pack() -> LoadedPack {
    LoadedPack::from_dir(&e2e::demo_pack_dir()).unwrap()
}

/// The script that opens the staff overlay, enters the PIN and picks the delegation.
fn open_presenter(l10n: &Localiser, d: &Delegation, pack: &LoadedPack) -> String {
    format!(
        "wait 2s\n{taps}wait 1s\n{pin}tap-text {ok}\nwait 2s\ntap-text {name}\nwait 2s\n",
        taps = "tap 40 40\n".repeat(5),
        pin = keys(PIN),
        ok = quote(&l10n.t("vi", "staff-ok")),
        name = quote(pack.localised(&d.name, "vi")),
    )
}

/// `expect-text` lines for slide `n`'s caption in Vietnamese and in `lang`.
fn captions(pack: &LoadedPack, deck: &str, n: usize, lang: &str) -> String {
    let slide = &pack.pack.deck(deck).unwrap().slides[n];
    let item = pack.pack.item(&slide.item).unwrap();
    ["vi", lang]
        .iter()
        .map(|l| {
            format!(
                "expect-text {}\n",
                quote(&pack.text(item, l).unwrap().title)
            )
        })
        .collect()
}

/// Rows of a pixel band that are not the band's background: text was drawn there.
fn inked_rows(img: &image::RgbImage, top: u32, bottom: u32) -> u32 {
    (top..bottom)
        .filter(|&y| {
            let first = *img.get_pixel(0, y);
            (0..img.width())
                .filter(|&x| *img.get_pixel(x, y) != first)
                .count()
                > 20
        })
        .count() as u32
}

/// A visit as the server holds it: delegation, attendees, slide positions, QR nonces, ended.
type ServerVisit = (String, i64, Vec<u32>, Vec<String>, String);

/// The server's visits, in the order they started.
fn visits(server: &e2e::TestServer) -> Vec<ServerVisit> {
    let mut rows = server.rows(Table::Visits);
    rows.sort_by_key(|r| r.int("started_ms"));
    rows.iter()
        .map(|r| {
            let slides: Vec<protocol::SlideShown> = serde_json::from_str(r.text("slides")).unwrap();
            (
                r.text("delegation").to_owned(),
                r.int("attendees"),
                slides.iter().map(|s| s.slide).collect(),
                serde_json::from_str(r.text("qr_nonces")).unwrap(),
                r.text("ended").to_owned(),
            )
        })
        .collect()
}

/// Waits (up to 30 s) until the server has `n` visits.
fn wait_for_visits(server: &e2e::TestServer, n: usize) {
    for _ in 0..60 {
        if visits(server).len() >= n {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("the server has {} visits, not {n}", visits(server).len());
}

#[test]
fn a_host_presents_to_two_delegations_and_the_visits_and_a_members_lead_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = e2e::TestServer::start(&dir.path().join("server"));
    let identity = e2e::enrol_store(&server, &data.join("kiosk.sqlite"), &server.url());
    e2e::publish(&server, &e2e::demo_pack_dir());
    set_pin(&data, PIN);
    let l10n = Localiser::load(&e2e::repo_root().join("locales")).unwrap();
    let pack = pack();
    let korean = pack.pack.delegation("kr-gyeonggi-demo").unwrap().clone();
    let japanese = pack.pack.delegation("jp-tourism-demo").unwrap().clone();
    assert_eq!(korean.caption_language(), "ko");
    assert_eq!(japanese.caption_language(), "ja");
    let deck = korean.deck.as_str();
    let slides = pack.pack.deck(deck).unwrap().slides.len();
    assert_eq!(
        slides, 4,
        "the script below walks the demo's investment deck"
    );
    // PROMO_KEEP_SHOTS=DIR keeps the screenshots for a person to look at.
    let shots = std::env::var_os("PROMO_KEEP_SHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().to_owned());
    std::fs::create_dir_all(&shots).unwrap();
    let shot = |name: &str| shots.join(name);
    let t = |l: &str, id: &str| quote(&l10n.t(l, id));

    // ── Visit 1: Korean, every control ──
    let script = format!(
        "{open}{c0}screenshot {s0}\n\
         key PageDown\nwait 1s\n{c1}\
         key Right\nwait 1s\n{c2}screenshot {s2}\n\
         key Left\nwait 500ms\nkey PageUp\nwait 1s\n{c0}\
         key Space\nwait 500ms\nswipe 1500 400 300 400\nwait 1s\n{c2}\
         swipe 300 400 1500 400\nwait 1s\n{c1}\
         key Home\nwait 1s\n{c0}\
         key B\nwait 1s\nscreenshot {blank}\nkey B\nwait 1s\n{c0}\
         key PageDown\nwait 300ms\nkey PageDown\nwait 300ms\nkey PageDown\nwait 300ms\nkey PageDown\nwait 2s\n\
         expect-text {closing_vi}\nexpect-text {closing_ko}\nscreenshot {closing}\n\
         key PageDown\nwait 500ms\n\
         key Escape\nwait 1s\nexpect-text {attendees}\ntap-text \"+1\"\nwait 500ms\n\
         tap-text {save}\nwait 3s\nwait 3s\nquit\n",
        open = open_presenter(&l10n, &korean, &pack),
        c0 = captions(&pack, deck, 0, "ko"),
        c1 = captions(&pack, deck, 1, "ko"),
        c2 = captions(&pack, deck, 2, "ko"),
        s0 = shot("ko-0.png").display(),
        s2 = shot("ko-2.png").display(),
        blank = shot("ko-blank.png").display(),
        closing = shot("ko-closing.png").display(),
        closing_vi = t("vi", "presenter-closing-title"),
        closing_ko = t("ko", "presenter-closing-title"),
        attendees = t("vi", "presenter-attendees"),
        save = t("vi", "presenter-save"),
    );
    let out = run(dir.path(), &script, (1920, 1080), &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The captions were drawn: two languages, each a title and a summary line, at the bottom.
    for name in ["ko-0.png", "ko-2.png"] {
        let img = check_png(&shot(name), (1920, 1080));
        assert!(
            inked_rows(&img, 700, 1080) > 100,
            "{name}: the caption band has too little text"
        );
    }
    // Blank is black.
    let blank = image::open(shot("ko-blank.png")).unwrap().to_rgb8();
    let lit = blank
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c > 16))
        .count();
    assert!(lit < 100, "the blanked screen shows {lit} lit pixels");

    // The closing slide's QR code: signed by this kiosk for the delegation, in Korean.
    let img = image::open(shot("ko-closing.png")).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the closing slide");
    let (_, url) = grids[0].decode().unwrap();
    let key = server.storage().token_key(identity.kiosk_id).unwrap();
    let token = protocol::token::QrToken::verify(url.rsplit('/').next().unwrap(), &key).unwrap();
    assert_eq!(
        (token.event.as_str(), token.lang.as_str()),
        (korean.id.as_str(), "ko")
    );

    // A member leaves a contact through it from a phone.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let page = http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), 200, "{url}");
        let r = http
            .post(&url)
            .form(&[
                ("name", "Kim Min-jun"),
                ("organisation", "Demo Electronics"),
                ("email", "minjun@example.kr"),
                ("country", "KR"),
                ("interest_invest", "1"),
                ("consent", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });

    // On the server: the visit with every slide as shown, the host's count (3 members + 1).
    wait_for_visits(&server, 1);
    let v = visits(&server);
    let (delegation, attendees, shown, nonces, ended) = &v[0];
    assert_eq!(delegation, &korean.id);
    assert_eq!(*attendees, 4);
    assert_eq!(
        shown,
        &[0, 1, 2, 1, 0, 1, 2, 1, 0, 0, 1, 2, 3, 4],
        "every slide in the order the host showed them; the blank split slide 0 in two"
    );
    assert_eq!(nonces, &[token.nonce_hex()]);
    assert_eq!(ended, "host");
    let leads = server.rows_where(Table::Leads, |r| {
        r.text("event_id") == korean.id && r.opt_int("erased_ms").is_none()
    });
    let name = leads
        .iter()
        .map(|r| r.text("name"))
        .max()
        .unwrap_or_default();
    assert_eq!((leads.len(), name), (1, "Kim Min-jun"));
    let presenter_views = server.count(Table::Records, |r| {
        r.text("kind") == "view"
            && r.text("event_id") == korean.id
            && r.text("body").contains("\"origin\":\"presenter\"")
    });
    assert_eq!(
        presenter_views, 13,
        "one view per slide shown (not the closing slide)"
    );

    // ── Visit 2: Japanese, on the same kiosk ──
    let jdeck = japanese.deck.as_str();
    let n = pack.pack.deck(jdeck).unwrap().slides.len();
    let script = format!(
        "{open}{c0}screenshot {s0}\nkey PageDown\nwait 1s\n{c1}screenshot {s1}\n{forward}wait 1s\n\
         expect-text {closing_ja}\nkey Escape\nwait 1s\ntap-text {save}\nwait 3s\nwait 3s\nquit\n",
        open = open_presenter(&l10n, &japanese, &pack),
        c0 = captions(&pack, jdeck, 0, "ja"),
        c1 = captions(&pack, jdeck, 1, "ja"),
        s0 = shot("ja-0.png").display(),
        s1 = shot("ja-1.png").display(),
        forward = "key PageDown\nwait 300ms\n".repeat(n - 1),
        closing_ja = t("ja", "presenter-closing-title"),
        save = t("vi", "presenter-save"),
    );
    let out = run(dir.path(), &script, (1920, 1080), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["ja-0.png", "ja-1.png"] {
        let img = check_png(&shot(name), (1920, 1080));
        assert!(
            inked_rows(&img, 700, 1080) > 100,
            "{name}: captions missing"
        );
    }
    wait_for_visits(&server, 2);
    let v = visits(&server);
    assert_eq!(v[1].0, japanese.id);
    assert_eq!(
        v[1].1, 2,
        "the members' count when the host changes nothing"
    );
    assert_eq!(v[1].2, (0..=n as u32).collect::<Vec<_>>());

    // ── Visit 3: the kiosk stops mid-visit; the next start records it, once ──
    let script = format!(
        "{open}key PageDown\nwait 1s\nquit\n",
        open = open_presenter(&l10n, &japanese, &pack)
    );
    let out = run(dir.path(), &script, (1920, 1080), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let store = kiosk_core::store::Store::open(&data.join("kiosk.sqlite")).unwrap();
    assert!(
        store
            .meta(kiosk_core::presenter::CHECKPOINT_KEY)
            .unwrap()
            .is_some(),
        "a visit in progress is checkpointed"
    );
    drop(store);
    for _ in 0..2 {
        let out = run(dir.path(), "wait 4s\nquit\n", (1280, 720), &[]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    wait_for_visits(&server, 3);
    let v = visits(&server);
    assert_eq!(v.len(), 3, "recorded once, not at every start");
    assert_eq!(
        (v[2].0.as_str(), v[2].4.as_str()),
        (japanese.id.as_str(), "interrupted")
    );
    assert_eq!(v[2].2, [0, 1]);
    check_no_member_names_on_the_kiosk(&data);
}

/// Member names stay on the server: the kiosk's content cache has only their number.
fn check_no_member_names_on_the_kiosk(data: &Path) {
    let mut found = Vec::new();
    for entry in walk(data) {
        if let Ok(bytes) = std::fs::read(&entry) {
            let text = String::from_utf8_lossy(&bytes);
            if text.contains("Kim Min-jun (demo)") {
                found.push(entry);
            }
        }
    }
    assert!(found.is_empty(), "member names on the kiosk: {found:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
