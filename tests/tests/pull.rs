//! Content pull: an update cut at random points and resumed always leaves the kiosk with a
//! complete version; a new version is staged beside the playing one, whose files stay while
//! it is on screen; a version that does
//! not fit the cache is refused and reported, and the old one keeps playing.

use std::path::Path;
use std::time::Duration;

use e2e::proxy::{Fault, FaultProxy};
use e2e::{TestServer, enrol_store};
use kiosk_core::clock::Clock;
use kiosk_core::content::LoadedPack;
use kiosk_core::pull::{ContentCache, PullError, Pulled};
use kiosk_core::sync::{SyncClient, SyncConfig};
use sha2::{Digest, Sha256};

/// The playing version, checked file by file against its hashes.
fn assert_complete(cache: &ContentCache) -> Option<String> {
    let m = cache.current()?;
    for media in &m.media {
        let bytes = std::fs::read(cache.media_dir().join(&media.sha256)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            media.sha256,
            "{}",
            media.path
        );
    }
    Some(m.version)
}

fn copy_pack(to: &Path) {
    let from = e2e::demo_pack_dir();
    std::fs::create_dir_all(to.join("media")).unwrap();
    std::fs::copy(from.join("pack.toml"), to.join("pack.toml")).unwrap();
    for e in std::fs::read_dir(from.join("media")).unwrap().flatten() {
        std::fs::copy(e.path(), to.join("media").join(e.file_name())).unwrap();
    }
}

#[test]
fn an_update_cut_at_random_points_resumes_and_always_plays_a_complete_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let pack_dir = dir.path().join("pack");
    copy_pack(&pack_dir);
    let v1 = e2e::publish(&server, &pack_dir);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let schedule = [
        (Fault::Pass, 40),
        (Fault::DropMidResponse, 35),
        (Fault::Reset, 10),
        (Fault::Answer503, 10),
        (Fault::Delay, 5),
    ];
    let proxy = rt.block_on(FaultProxy::start(server.addr, 7, &schedule));
    let mut identity = enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    identity.server_url = proxy.url();
    let client = SyncClient::new(identity, Clock::system(), SyncConfig::default()).unwrap();
    let cache = ContentCache::new(dir.path().join("cache"), 1 << 30);

    let update_until_switched = |expect_playing: Option<&str>| -> u32 {
        for attempt in 1..=2_000 {
            let r = rt.block_on(cache.update(&client, None, expect_playing));
            let playing = assert_complete(&cache);
            match r {
                Ok(Pulled::Switched { .. }) => return attempt,
                Ok(other) => panic!("{other:?}"),
                Err(e) => {
                    assert!(
                        !matches!(
                            e,
                            PullError::DoesNotFit { .. } | PullError::HashMismatch { .. }
                        ),
                        "{e}"
                    );
                    assert_eq!(
                        playing.as_deref(),
                        expect_playing,
                        "a failed update changed what plays"
                    );
                }
            }
        }
        panic!("the update never completed");
    };

    let attempts = update_until_switched(None);
    assert_eq!(
        assert_complete(&cache).as_deref(),
        Some(v1.version.as_str())
    );
    assert!(
        attempts > 3,
        "the schedule should have cut the download ({attempts} attempts)"
    );
    assert!(
        proxy
            .fault_counts()
            .get("DropMidResponse")
            .copied()
            .unwrap_or(0)
            > 3
    );
    assert_eq!(
        rt.block_on(cache.update(&client, None, None)).unwrap(),
        Pulled::UpToDate(v1.version.clone())
    );

    // A new version, with one image changed, is staged beside the playing one.
    let changed = pack_dir.join("media/cat-tien-1.png");
    let mut img = image::open(&changed).unwrap().to_rgb8();
    img.put_pixel(0, 0, image::Rgb([1, 2, 3]));
    img.save(&changed).unwrap();
    let text = std::fs::read_to_string(pack_dir.join("pack.toml")).unwrap();
    std::fs::write(
        pack_dir.join("pack.toml"),
        text.replacen("version = \"2026.11.26\"", "version = \"2026.11.27\"", 1),
    )
    .unwrap();
    let v2 = e2e::publish(&server, &pack_dir);
    assert_ne!(v1.version, v2.version);
    update_until_switched(Some(&v1.version));
    assert_eq!(
        assert_complete(&cache).as_deref(),
        Some(v2.version.as_str())
    );
    // The version still on screen keeps its files (a visitor may be on one of its pages)...
    let media_files = || -> std::collections::HashSet<String> {
        std::fs::read_dir(cache.media_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let of = |m: &protocol::content::Manifest| -> std::collections::HashSet<String> {
        m.media.iter().map(|m| m.sha256.clone()).collect()
    };
    let old_only: Vec<String> = of(&v1).difference(&of(&v2)).cloned().collect();
    assert_eq!(old_only.len(), 1, "one picture changed");
    assert_eq!(media_files(), &of(&v1) | &of(&v2));
    let on_screen = LoadedPack::from_manifest(v1.clone(), &cache.media_dir());
    for m in &v1.media {
        assert!(on_screen.media_path(&m.path).exists(), "{}", m.path);
    }
    // A third version arrives while the app still shows v1 and v2 waits to be taken (or is
    // being taken as v3 downloads): v2's files stay too.
    let changed = pack_dir.join("media/tri-an-lake-1.png");
    let mut img = image::open(&changed).unwrap().to_rgb8();
    img.put_pixel(0, 0, image::Rgb([4, 5, 6]));
    img.save(&changed).unwrap();
    let text = std::fs::read_to_string(pack_dir.join("pack.toml")).unwrap();
    std::fs::write(
        pack_dir.join("pack.toml"),
        text.replacen("version = \"2026.11.27\"", "version = \"2026.11.28\"", 1),
    )
    .unwrap();
    let v3 = e2e::publish(&server, &pack_dir);
    // Through the same faulty proxy: tried until it switches.
    let switched = (0..2_000).any(|_| {
        matches!(
            rt.block_on(cache.update(&client, None, Some(&v1.version))),
            Ok(Pulled::Switched { .. })
        )
    });
    assert!(switched, "v3 never arrived");
    assert_eq!(media_files(), &(&of(&v1) | &of(&v2)) | &of(&v3));
    // ...until the kiosk shows the newest one: then only the playing version's files stay.
    cache.release(Some(&v3.version));
    assert_eq!(media_files(), of(&v3));
    // The kiosk plays it from the cache.
    let pack = cache.current_pack().unwrap();
    assert_eq!(pack.version, v3.version);
    for item in &pack.pack.items {
        for m in &item.media {
            assert!(pack.media_path(m).exists(), "{m}");
        }
    }
}

#[test]
fn a_version_that_does_not_fit_is_refused_and_the_old_one_keeps_playing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let pack_dir = dir.path().join("pack");
    copy_pack(&pack_dir);
    let v1 = e2e::publish(&server, &pack_dir);
    let identity = enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    let client = SyncClient::new(identity, Clock::system(), SyncConfig::default()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let total = v1.total_bytes();

    let small = ContentCache::new(dir.path().join("small"), total / 2);
    let err = rt.block_on(small.update(&client, None, None)).unwrap_err();
    assert!(matches!(err, PullError::DoesNotFit { .. }), "{err}");
    assert!(err.to_string().contains("raise the kiosk's content quota"));
    assert!(small.current().is_none());

    let cache = ContentCache::new(dir.path().join("cache"), total + total / 2);
    assert!(matches!(
        rt.block_on(cache.update(&client, None, None)).unwrap(),
        Pulled::Switched { .. }
    ));
    // Every image replaced: the new version and the old one together exceed the quota.
    for e in std::fs::read_dir(pack_dir.join("media")).unwrap().flatten() {
        let mut img = image::open(e.path()).unwrap().to_rgba8();
        img.put_pixel(1, 1, image::Rgba([9, 9, 9, 255]));
        img.save(e.path()).unwrap();
    }
    let text = std::fs::read_to_string(pack_dir.join("pack.toml")).unwrap();
    std::fs::write(
        pack_dir.join("pack.toml"),
        text.replacen("version = \"2026.11.26\"", "version = \"2026.12.01\"", 1),
    )
    .unwrap();
    e2e::publish(&server, &pack_dir);
    let err = rt.block_on(cache.update(&client, None, None)).unwrap_err();
    assert!(matches!(err, PullError::DoesNotFit { .. }), "{err}");
    assert_eq!(
        assert_complete(&cache).as_deref(),
        Some(v1.version.as_str())
    );
    std::thread::sleep(Duration::from_millis(10));
}
