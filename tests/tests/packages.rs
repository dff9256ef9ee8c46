//! The Debian packages: `scripts/package.sh` builds both, lintian finds no error in them, and
//! each holds its binary, its systemd unit, its configuration and what the program reads, with
//! the dependencies and the maintainer script that make it an appliance.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn deb(dir: &Path, name: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{name}_")) && n.ends_with(".deb"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found.into_iter().next().unwrap()
}

/// The paths a package installs (`dpkg-deb -c`), without the leading `.`.
fn contents(deb: &Path) -> Vec<String> {
    run(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').to_owned())
        .collect()
}

fn field(deb: &Path, name: &str) -> String {
    run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name))
        .trim()
        .to_owned()
}

/// A control file of the package (`postinst`, `conffiles`).
fn control(deb: &Path, file: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-e").arg(deb).arg(dir.path()));
    std::fs::read_to_string(dir.path().join(file)).unwrap_or_default()
}

#[test]
fn packages_build_lintian_clean_with_their_units_binaries_and_users() {
    let out = tempfile::tempdir().unwrap();
    // The binaries are built already (scripts/test.sh builds them before the tests).
    run(Command::new(e2e::repo_root().join("scripts/package.sh"))
        .env("PACKAGE_OUT", out.path())
        .env("PACKAGE_NO_BUILD", "1"));

    let kiosk = deb(out.path(), "promo-kiosk");
    let files = contents(&kiosk);
    for want in [
        "/usr/bin/kiosk",
        "/usr/lib/promo-kiosk/cage-session",
        "/usr/lib/promo-kiosk/kiosk-session",
        "/usr/lib/systemd/system/promo-kiosk.service",
        "/etc/promo-kiosk/kiosk.toml",
        "/usr/share/promo-kiosk/locales/ko/kiosk.ftl",
        "/usr/share/promo-kiosk/locales/zh-Hant/phone.ftl",
        "/usr/share/promo-kiosk/demo-pack/pack.toml",
        "/usr/share/doc/promo-kiosk/deployment.md",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} not in {files:#?}");
    }
    let media = files
        .iter()
        .filter(|f| f.starts_with("/usr/share/promo-kiosk/demo-pack/media/") && !f.ends_with('/'))
        .count();
    assert!(media >= 27, "{media} demo media files");
    let depends = field(&kiosk, "Depends");
    for want in [
        "cage",
        "xwayland",
        "fonts-noto-cjk",
        "mesa-vulkan-drivers",
        "adduser",
    ] {
        assert!(depends.contains(want), "{want} not in {depends}");
    }
    assert!(control(&kiosk, "conffiles").contains("/etc/promo-kiosk/kiosk.toml"));
    let postinst = control(&kiosk, "postinst");
    assert!(postinst.contains("adduser --system"), "{postinst}");
    assert!(
        postinst.contains("promo-kiosk.service"),
        "enabled: {postinst}"
    );

    let server = deb(out.path(), "promo-sync-server");
    let files = contents(&server);
    for want in [
        "/usr/bin/sync-server",
        "/usr/lib/systemd/system/promo-sync-server.service",
        "/etc/promo-sync/server.toml",
        "/usr/share/promo-sync-server/locales/vi/staff.ftl",
        "/usr/share/doc/promo-sync-server/deployment.md",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} not in {files:#?}");
    }
    assert!(control(&server, "conffiles").contains("/etc/promo-sync/server.toml"));
    let postinst = control(&server, "postinst");
    assert!(
        postinst.contains("adduser --system --group --home /var/lib/promo-sync"),
        "{postinst}"
    );
    assert!(
        postinst.contains("promo-sync-server.service"),
        "enabled: {postinst}"
    );
    // Both units as shipped.
    let root = tempfile::tempdir().unwrap();
    for p in [&kiosk, &server] {
        run(Command::new("dpkg-deb").arg("-x").arg(p).arg(root.path()));
    }
    let unit = std::fs::read_to_string(
        root.path()
            .join("usr/lib/systemd/system/promo-sync-server.service"),
    )
    .unwrap();
    for want in [
        "Type=notify",
        "WatchdogSec=",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecReload=",
    ] {
        assert!(unit.contains(want), "{want} not in the server's unit");
    }
    let unit = std::fs::read_to_string(
        root.path()
            .join("usr/lib/systemd/system/promo-kiosk.service"),
    )
    .unwrap();
    for want in [
        "Type=notify",
        "NotifyAccess=all",
        "WatchdogSec=",
        "Restart=always",
        "TTYPath=/dev/tty1",
        "User=kiosk",
    ] {
        assert!(unit.contains(want), "{want} not in the kiosk's unit");
    }
}
