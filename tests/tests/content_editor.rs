//! Staff edit the content in the browser: a Korean caption and a photo changed in a draft,
//! bad uploads refused naming the file, the draft published to one event; a kiosk of that event
//! plays the new text in its window while a kiosk of another event keeps its version; the
//! draft exports as a pack folder that imports back as the same version, byte for byte.
//!
//! Needs Chromium and chromedriver, `xvfb-run` and Mesa's software Vulkan
//! (`scripts/install-deps.sh test`); without them these tests fail, never pass silently.

use std::path::Path;

use e2e::browser::*;
use e2e::window::{check_png, quote, run, stderr};
use e2e::{RowExt, Table, TestServer};
use kiosk_core::clock::Clock;
use kiosk_core::pull::{ContentCache, Pulled};
use kiosk_core::sync::{SyncClient, SyncConfig};
use sync_server::store::Role;

const PASSWORD: &str = "a long staff password";
const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const HOME: &str = "dong-nai-home";
const KOREA: &str = "korea-investment-2026";
/// The first item of the Korea event's attract loop, whose Korean caption staff change.
const ITEM: &str = "economy-overview";
const NEW_TITLE: &str = "동나이 경제 한눈에 보기";
const PILLAR_KO: &str = "투자 기회";

fn fixture(dir: &Path) -> (TestServer, protocol::content::Manifest) {
    let server = TestServer::start(&dir.join("server"));
    e2e::admin_and_fairs(
        &server,
        "admin@dn.example",
        PASSWORD,
        ITTPC,
        &[
            (HOME, "Khám phá Đồng Nai"),
            (KOREA, "Korea Investment Forum 2026"),
        ],
        None,
    );
    let v1 = e2e::publish(&server, &e2e::demo_pack_dir());
    (server, v1)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 160])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A PNG whose header claims 100000×100000 pixels.
fn bomb() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&100_000u32.to_be_bytes());
    b.extend_from_slice(&100_000u32.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// Uploads `file` as the replacement of the item's first picture, with its credit.
async fn replace_first_picture(c: &Client, file: &Path) {
    find(c, "#replace-0")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    fill(
        c,
        "#picture-0 form[enctype] input[name=credit]",
        "Trung tâm Xúc tiến",
    )
    .await;
    fill(
        c,
        "#picture-0 form[enctype] input[name=licence]",
        "owned by the city",
    )
    .await;
    click(c, "#replace-submit-0").await;
}

#[test]
fn a_caption_and_a_photo_edited_in_the_browser_reach_only_the_kiosks_of_their_event() {
    let dir = tempfile::tempdir().unwrap();
    let (server, v1) = fixture(dir.path());
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let photo = files.join("Ảnh kinh tế.png");
    let photo_bytes = png(1280, 720);
    std::fs::write(&photo, &photo_bytes).unwrap();
    let cut = files.join("cut-photo.png");
    std::fs::write(&cut, &photo_bytes[..photo_bytes.len() / 2]).unwrap();
    let huge = files.join("huge.png");
    std::fs::write(&huge, bomb()).unwrap();

    let url = server.url();
    let (photo_p, cut_p, huge_p) = (photo.clone(), cut.clone(), huge.clone());
    let cookie_jar = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let jar = cookie_jar.clone();
    with_browser(
        dir.path(),
        Screen::Desktop {
            width: 1366,
            height: 768,
        },
        move |c| async move {
            sign_in(&c, &url, "admin@dn.example", PASSWORD).await;
            c.goto(&format!("{url}/staff/content")).await.unwrap();
            click(&c, "#open-editor").await;
            keep_shot(&c, "editor-start-vi").await;
            click(&c, "#start").await;
            find(&c, "#draft-info").await;
            let table = find(&c, &format!("#item-{ITEM}"))
                .await
                .text()
                .await
                .unwrap();
            assert!(!table.is_empty());
            keep_shot(&c, "editor-draft-vi").await;
            c.goto(&format!("{url}/staff/content/draft/items/{ITEM}?text=ko"))
                .await
                .unwrap();
            // Side by side with Vietnamese.
            let vi = find(&c, ".side .vi").await.text().await.unwrap();
            assert!(!vi.is_empty(), "the Vietnamese title beside the Korean");
            fill(&c, "#text-form input[name=title]", NEW_TITLE).await;
            click(&c, "#save-text").await;
            find(&c, "#done").await;
            // Bad uploads: refused, naming the file, the draft as it was.
            for (bad, why) in [(&cut_p, "cut-photo.png"), (&huge_p, "100000×100000")] {
                replace_first_picture(&c, bad).await;
                let msg = find(&c, "#done.err").await.text().await.unwrap();
                let name = bad.file_name().unwrap().to_string_lossy().into_owned();
                assert!(msg.contains(&name) && msg.contains(why), "{msg}");
                c.goto(&format!("{url}/staff/content/draft/items/{ITEM}?text=ko"))
                    .await
                    .unwrap();
            }
            replace_first_picture(&c, &photo_p).await;
            wait_url(&c, "the item after the upload", |u| {
                u.query().is_some_and(|q| q.contains("done=upload"))
            })
            .await;
            let caption = find(&c, "#picture-0 figcaption")
                .await
                .text()
                .await
                .unwrap();
            assert!(caption.starts_with("media/"), "{caption}");
            keep_shot(&c, "editor-item-vi").await;
            c.goto(&format!(
                "{url}/staff/content/draft/items/{ITEM}?text=ko&ui=en"
            ))
            .await
            .unwrap();
            wait_lang(&c, "en").await;
            keep_shot(&c, "editor-item-en").await;
            // The kiosk's layout at both screen shapes.
            for size in ["1920x1080", "1080x1920"] {
                c.goto(&format!(
                    "{url}/staff/content/draft/preview?item={ITEM}&text=ko&size={size}"
                ))
                .await
                .unwrap();
                let h1 = find(&c, "h1").await.text().await.unwrap();
                assert_eq!(h1, NEW_TITLE);
                let w = js(&c, "return document.querySelector('.screen').offsetWidth").await;
                assert_eq!(
                    w.as_u64(),
                    Some(size[..4].trim_end_matches('x').parse().unwrap())
                );
                keep_shot(&c, &format!("editor-preview-{size}")).await;
            }
            c.goto(&format!(
                "{url}/staff/content/draft/preview?attract=1&size=1920x1080"
            ))
            .await
            .unwrap();
            keep_shot(&c, "editor-preview-attract").await;
            // The pillar's Korean name, on the draft page.
            c.goto(&format!("{url}/staff/content/draft")).await.unwrap();
            click(&c, "#pillar-invest summary").await;
            fill(&c, "#pillar-invest input[name='t.ko']", PILLAR_KO).await;
            click(&c, "#pillar-invest button[type=submit]").await;
            wait_url(&c, "the draft after the pillar", |u| {
                u.query().is_some_and(|q| q.contains("done=pillar"))
            })
            .await;
            // Published to the Korea event only.
            c.goto(&format!("{url}/staff/content/draft")).await.unwrap();
            keep_shot(&c, "editor-draft-en").await;
            choose(&c, "#publish-form select[name=target]", KOREA).await;
            click(&c, "#publish").await;
            wait_url(&c, "the content page after publishing", |u| {
                u.query().is_some_and(|q| q.contains("done=published"))
            })
            .await;
            let versions = find(&c, "#versions").await.text().await.unwrap();
            assert!(
                versions.contains("Korea Investment Forum 2026"),
                "{versions}"
            );
            keep_shot(&c, "content-en").await;
            c.goto(&format!("{url}/staff/content?ui=vi")).await.unwrap();
            wait_lang(&c, "vi").await;
            keep_shot(&c, "content-vi").await;
            let cookies = c.get_all_cookies().await.unwrap();
            *jar.lock().unwrap() = cookies
                .iter()
                .map(|k| format!("{}={}", k.name(), k.value()))
                .collect::<Vec<_>>()
                .join("; ");
        },
    );

    // The version of the Korea event, and the default unchanged.
    let storage = server.storage();
    let korea = storage.manifest_for(Some(KOREA)).unwrap().unwrap();
    assert_ne!(korea.version, v1.version);
    assert_eq!(
        storage.manifest_for(Some(HOME)).unwrap().unwrap().version,
        v1.version
    );
    let item = korea.pack.item(ITEM).unwrap();
    assert_eq!(item.text["ko"].title, NEW_TITLE);
    let first = korea
        .media
        .iter()
        .find(|m| m.path == item.media[0])
        .unwrap();
    assert_eq!(
        first.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&photo_bytes))
    );
    assert_eq!(
        korea.pack.credits[&item.media[0]].licence,
        "owned by the city"
    );
    let invest = korea
        .pack
        .pillars
        .iter()
        .find(|p| p.id == "invest")
        .unwrap();
    assert_eq!(invest.title["ko"], PILLAR_KO);
    let audit = server.rows(Table::Audit);
    assert!(audit.iter().any(|r| r.text("action") == "content-draft"));
    assert!(
        audit
            .iter()
            .any(|r| r.text("action") == "publish" && r.text("detail").contains(KOREA))
    );

    // The draft exports as a pack folder; imported, it is the same version, and exports again
    // byte for byte.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cookie = cookie_jar.lock().unwrap().clone();
    let tar = rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}/staff/content/draft/export", server.url()))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.bytes().await.unwrap().to_vec()
    });
    let unpacked = dir.path().join("exported");
    tar::Archive::new(&tar[..]).unpack(&unpacked).unwrap();
    let folder = unpacked.join(&korea.pack.id);
    let (_, problems) = sync_server::content::validate(&folder);
    assert!(problems.is_empty(), "{problems:?}");
    let again = e2e::publish(&server, &folder);
    assert_eq!(
        again.version, korea.version,
        "the same content is the same version"
    );
    assert_eq!(again.pack, korea.pack);
    let redraft = sync_server::draft::start(&again, "t", 0);
    let tar2 = sync_server::draft::export_tar(&redraft, &server.state.media_dir()).unwrap();
    assert!(tar2 == tar, "the re-imported pack exports byte for byte");
    // The import made it the default again: back to v1 for the other event's test below.
    assert!(
        server
            .state
            .fleet
            .republish(&v1.version, protocol::now_ms())
            .unwrap()
    );

    // A kiosk of another event keeps its version (its own pull, as it runs on a kiosk).
    let other = e2e::enrol_store(&server, &dir.path().join("other.sqlite"), &server.url());
    let client = SyncClient::new(other, Clock::system(), SyncConfig::default()).unwrap();
    let cache = ContentCache::new(dir.path().join("other-cache"), 1 << 30);
    match rt
        .block_on(cache.update(&client, Some(HOME), None))
        .unwrap()
    {
        Pulled::Switched { version, .. } => assert_eq!(version, v1.version),
        other => panic!("{other:?}"),
    }

    // A kiosk of the Korea event plays the new caption in its window (Korean first there).
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let identity = e2e::enrol_store(&server, &data.join("kiosk.sqlite"), &server.url());
    server
        .storage()
        .set_kiosk_event(identity.kiosk_id, Some(KOREA))
        .unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        "sync_interval_seconds = 1\ncontent_pull_seconds = 5\n",
    )
    .unwrap();
    let shots = std::env::var_os("PROMO_KEEP_SHOTS")
        .map(|d| std::path::PathBuf::from(d).join("fleet"))
        .unwrap_or_else(|| dir.path().join("shots"));
    let shot = shots.join("edited-caption.png");
    let script = format!(
        "wait 2s\nexpect-text {} 180s\nexpect-text {}\nwait 3s\nscreenshot {}\nquit\n",
        quote(NEW_TITLE),
        quote(PILLAR_KO),
        shot.display()
    );
    let out = run(
        dir.path(),
        &script,
        (1920, 1080),
        &["--config", &config.display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    check_png(&shot, (1920, 1080));
    // The new photo behind it (blue, dark at the top left), not the demo's artwork.
    let img = image::open(&shot).unwrap().to_rgb8();
    let [r, _, b] = img.get_pixel(200, 100).0;
    assert!(
        r < 80 && b > 120,
        "the uploaded photo shows: pixel {:?}",
        img.get_pixel(200, 100)
    );
    let playing = ContentCache::new(data.join("content"), 1 << 30)
        .current()
        .unwrap();
    assert_eq!(playing.version, korea.version);
}

/// The editor as someone who should not use it sees it: staff who are not admins, a forged
/// upload, a flood of bytes, a path that asks for another file. Nothing of the draft changes.
#[test]
fn the_editor_refuses_who_and_what_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let (server, v1) = fixture(dir.path());
    let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
    server
        .state
        .staff
        .add_user(
            "staff@dn.example",
            &hash,
            Role::Staff,
            ITTPC,
            protocol::now_ms(),
        )
        .unwrap();
    let draft = sync_server::draft::start(&v1, "admin@dn.example", 0);
    assert!(server.state.fleet.save_draft(&draft).unwrap());
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let upload = |http: reqwest::Client, csrf: String, bytes: Vec<u8>| {
            let url = url.clone();
            async move {
                let form = reqwest::multipart::Form::new()
                    .text("csrf", csrf)
                    .text("credit", "x")
                    .text("licence", "y")
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(bytes).file_name("p.png"),
                    );
                // A server that refuses before reading the whole body may close the
                // connection while the client still writes: that is a refusal too (0).
                match http
                    .post(format!("{url}/staff/content/draft/items/{ITEM}/upload"))
                    .multipart(form)
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(e) if e.is_request() => 0,
                    Err(e) => panic!("{e}"),
                }
            }
        };
        // Nobody signed in: the sign-in page, never the draft.
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for path in ["/staff/content/draft", "/staff/content/draft/export"] {
            let r = anon.get(format!("{url}{path}")).send().await.unwrap();
            assert_eq!(r.headers()["location"], "/staff/login", "{path}");
        }
        // Staff of a unit, not admins: refused.
        let staff = e2e::pages::sign_in(&url, "staff@dn.example", PASSWORD).await;
        for path in ["/staff/content/draft", "/staff/content/draft/export"] {
            let (status, _) = e2e::pages::get(&staff, &format!("{url}{path}")).await;
            assert_eq!(status, 403, "{path}");
        }
        let (_, html) = e2e::pages::get(&staff, &format!("{url}/staff")).await;
        let staff_csrf = e2e::pages::csrf(&html);
        assert!(matches!(
            upload(staff, staff_csrf, png(64, 64)).await,
            403 | 0
        ));
        // An admin's session without the form's token (a forged cross-site upload): refused.
        let admin = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        assert_eq!(
            upload(admin.clone(), "forged".into(), png(64, 64)).await,
            403
        );
        // More than the largest upload: refused before it is all read (from its own client:
        // the server closes that connection rather than read the rest).
        let flooder = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (_, html) = e2e::pages::get(&flooder, &format!("{url}/staff/content/draft")).await;
        let flood = vec![0u8; sync_server::http::staff::MAX_UPLOAD_BYTES + (1 << 20)];
        let status = upload(flooder, e2e::pages::csrf(&html), flood).await;
        assert!(matches!(status, 413 | 0), "{status}");
        let (_, html) = e2e::pages::get(&admin, &format!("{url}/staff/content/draft")).await;
        let csrf = e2e::pages::csrf(&html);
        // Only the draft's own files are served, whatever the path asks for.
        for path in [
            format!("/staff/content/draft/media/{}", "ab".repeat(32)),
            "/staff/content/draft/media/..%2F..%2Fstaff.sqlite".to_owned(),
        ] {
            let (status, _) = e2e::pages::get(&admin, &format!("{url}{path}")).await;
            assert_eq!(status, 404, "{path}");
        }
        // And the server still answers, with the draft as it was.
        assert_eq!(upload(admin, csrf, png(64, 64)).await, 303);
    });
    let after = server.state.fleet.draft().unwrap().unwrap();
    let first = &after.pack.item(ITEM).unwrap().media;
    assert_eq!(
        first.len(),
        draft.pack.item(ITEM).unwrap().media.len() + 1,
        "only the good upload landed"
    );
}
