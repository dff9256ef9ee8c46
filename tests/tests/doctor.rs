//! `kiosk doctor` as staff run it on a kiosk: the real binary, a real server on loopback, and
//! the machine's own display, Vulkan, font and disk (or deliberately broken stand-ins).

use std::path::Path;
use std::process::{Command, Output};

use e2e::{TestServer, enrol_store, workspace_bin};

fn doctor(data: &Path, config: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(workspace_bin("kiosk"));
    cmd.arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("doctor")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("PROMO_KIOSK_CONFIG")
        .env_remove("PROMO_KIOSK_DATA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run kiosk doctor")
}

fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(6..).is_some_and(|r| r.starts_with(check)))
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{out}"))
}

#[test]
fn kiosk_doctor_names_each_problem_and_its_fix() {
    let dir = tempfile::tempdir().unwrap();

    // A kiosk unpacked on a machine with no display, a broken font file and no enrolment.
    let bad_font = dir.path().join("broken.ttc");
    std::fs::write(&bad_font, b"this is not a font").unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!("font = {:?}\n", bad_font.display().to_string()),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = doctor(&data, &config, &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(line(&text, "display").starts_with("FAIL"), "{text}");
    assert!(
        text.contains("fix: run the doctor as the kiosk runs"),
        "{text}"
    );
    assert!(line(&text, "font").starts_with("FAIL"), "{text}");
    assert!(line(&text, "font").contains("is not a font file"), "{text}");
    assert!(
        text.contains("fix: apt-get install fonts-noto-cjk"),
        "{text}"
    );
    assert!(line(&text, "server").starts_with("WARN"), "{text}");
    assert!(
        text.contains("kiosk enrol --server URL --code CODE"),
        "{text}"
    );
    assert!(line(&text, "disk").starts_with("ok"), "{text}");
    assert!(line(&text, "clock").contains("not compared"), "{text}");
    assert!(text.contains("problem(s) to fix"), "{text}");
    // Every problem comes with its fix, on the next line.
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("FAIL") || l.starts_with("WARN") {
            assert!(
                lines
                    .get(i + 1)
                    .is_some_and(|n| n.starts_with("      fix: ")),
                "no fix after {l:?}:\n{text}"
            );
        }
    }

    // Enrolled with a server that answers, on a display that is only named: the server and
    // the clock are fine, the display is not.
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(server_dir.path());
    let identity = enrol_store(&server, &data.join("kiosk.sqlite"), &server.url());
    std::fs::write(&config, "").unwrap();
    let out = doctor(&data, &config, &[("DISPLAY", ":4242")]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(line(&text, "server").starts_with("ok"), "{text}");
    assert!(line(&text, "server").contains("test kiosk"), "{text}");
    assert!(line(&text, "clock").contains("from the server's"), "{text}");
    assert!(line(&text, "display").contains("X4242"), "{text}");
    assert_eq!(out.status.code(), Some(1), "{text}");

    // The server revoked it (a stolen or retired kiosk): a failure that says what to do.
    server
        .storage()
        .revoke_kiosk(identity.kiosk_id, protocol::now_ms())
        .unwrap();
    let out = doctor(&data, &config, &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(line(&text, "server").starts_with("FAIL"), "{text}");
    assert!(text.contains("revoked this kiosk"), "{text}");
    assert!(text.contains("fix: ask staff to enrol it again"), "{text}");

    // The server gone: a warning (the kiosk keeps everything), not a failure.
    server.stop();
    let out = doctor(&data, &config, &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(line(&text, "server").starts_with("WARN"), "{text}");
    assert!(line(&text, "server").contains("did not answer"), "{text}");
}
