//! `sync-server content validate`: the demo pack is clean; a broken pack gets every problem
//! named with its file (and line, for `pack.toml`), and a non-zero exit.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    e2e::repo_root()
}

#[test]
fn the_demo_pack_validates_without_warnings() {
    let (pack, problems) = sync_server::content::validate(&root().join("assets").join("demo-pack"));
    assert!(problems.is_empty(), "{problems:#?}");
    let pack = pack.unwrap();
    assert!(pack.items.len() >= 24, "{} items", pack.items.len());
    for pillar in protocol::content::PILLARS {
        assert!(
            pack.items.iter().any(|i| i.pillar == pillar),
            "no item in {pillar}"
        );
    }
    for item in &pack.items {
        for lang in ["vi", "en", "ko", "ja", "zh-Hans"] {
            assert!(item.text.contains_key(lang), "{} lacks {lang}", item.id);
        }
    }
}

#[test]
fn the_demo_art_generator_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("assets/demo-pack/pack.toml"),
        dir.path().join("pack.toml"),
    )
    .unwrap();
    let out = Command::new(e2e::workspace_bin("gen_demo_art"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = "media/cat-tien-1.png";
    let generated = std::fs::read(dir.path().join(name)).unwrap();
    let committed = std::fs::read(root().join("assets/demo-pack").join(name)).unwrap();
    assert!(
        generated == committed,
        "{name} differs from the committed file"
    );
}

/// CRC-32 (IEEE), for a hand-made PNG chunk.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `w`×`h` pixels, with no image data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    png
}

#[test]
fn a_broken_pack_names_each_problem_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let good = root().join("assets/demo-pack/media/cat-tien-1.png");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(media.join("truncated.png"), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(media.join("bomb.png"), png_header(100_000, 100_000)).unwrap();
    std::fs::copy(&good, media.join("ok.png")).unwrap();
    std::fs::write(
        dir.path().join("pack.toml"),
        r#"id = "broken"
version = "1"
default_language = "vi"
languages = ["vi", "en"]

[[pillars]]
id = "tourism"
[pillars.title]
vi = "Du lịch"
en = "Tourism"

[[items]]
id = "a"
pillar = "tourism"
media = ["media/truncated.png", "media/bomb.png"]
[items.text.vi]
title = "A"
[items.text.en]
title = "A"

[[items]]
id = "b"
pillar = "space"
media = ["media/ok.png", "media/missing.png"]
[items.text.vi]
title = "B"
"#,
    )
    .unwrap();
    let out = Command::new(e2e::workspace_bin("sync-server"))
        .args(["content", "validate"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    let has = |needle: &str| text.lines().any(|l| l.contains(needle));
    assert!(
        has("truncated.png: error: corrupt or truncated image"),
        "{text}"
    );
    assert!(
        has("bomb.png: error: the image claims 100000×100000 pixels"),
        "{text}"
    );
    assert!(has("missing.png: error: missing media file"), "{text}");
    assert!(
        has("pack.toml:23: error: item \"b\" names unknown pillar \"space\""),
        "{text}"
    );
    assert!(
        has("pack.toml:22: warning: item \"b\" has no text in en"),
        "{text}"
    );
    // A good picture is not an error; only its missing rights are said.
    assert!(
        has("warning: \"media/ok.png\" has no credit and licence"),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.contains("ok.png") && !l.contains("has no credit and licence")),
        "{text}"
    );
}

#[test]
fn import_scales_images_down_to_the_largest_screen_and_publishes_them_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let server = e2e::TestServer::start(&dir.path().join("server"));
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(pack.join("media")).unwrap();
    std::fs::copy(
        root().join("assets/demo-pack/media/cat-tien-1.png"),
        pack.join("media/big.png"),
    )
    .unwrap();
    std::fs::write(
        pack.join("pack.toml"),
        "id = \"p\"\nversion = \"1\"\ndefault_language = \"en\"\nlanguages = [\"en\"]\n\n\
         [[pillars]]\nid = \"tourism\"\n[pillars.title]\nen = \"Tourism\"\n\n\
         [[items]]\nid = \"x\"\npillar = \"tourism\"\nmedia = [\"media/big.png\"]\n[items.text.en]\ntitle = \"X\"\n",
    )
    .unwrap();
    let media_dir = server.state.media_dir();
    let m = sync_server::content::import(&pack, server.storage().as_ref(), &media_dir, (640, 360))
        .unwrap();
    assert_eq!(m.media.len(), 1);
    let stored = media_dir.join(&m.media[0].sha256);
    // Stored by hash, without an extension: the format is read from the bytes.
    let img = image::ImageReader::open(&stored)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!((img.width(), img.height()), (640, 360));
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), m.media[0].size);
    assert_eq!(server.storage().current_manifest().unwrap().unwrap(), m);
}

#[test]
fn the_example_pack_in_the_authoring_guide_validates() {
    let guide = std::fs::read_to_string(root().join("docs/content-authoring.md")).unwrap();
    let example = guide
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("id = "))
        .expect("a complete pack.toml example");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pack.toml"), example).unwrap();
    let pack: protocol::content::Pack = toml_pack(example);
    for rel in pack.media_paths() {
        let dest = dir.path().join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(root().join("assets/demo-pack/media/cat-tien-1.png"), dest).unwrap();
    }
    let (_, problems) = sync_server::content::validate(dir.path());
    assert!(problems.is_empty(), "{problems:#?}");
}

fn toml_pack(text: &str) -> protocol::content::Pack {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pack.toml"), text).unwrap();
    kiosk_core::content::LoadedPack::from_dir(dir.path())
        .unwrap()
        .pack
}
