//! Running the real kiosk in a window under Xvfb with Mesa's software Vulkan, driven by
//! `kiosk --script`, and checking what it drew.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The kiosk binary built beside the test binary.
pub fn kiosk_bin() -> PathBuf {
    crate::workspace_bin("kiosk")
}

/// Runs a script under `xvfb-run` in a window of `w`×`h`, with its data in `dir/data`.
pub fn run(dir: &Path, script: &str, size: (u32, u32), extra: &[&str]) -> Output {
    run_with_env(dir, script, size, extra, &[])
}

/// [`run`] with these variables in the kiosk's environment only (e.g. systemd's
/// `NOTIFY_SOCKET`, which the X server would also answer to).
pub fn run_with_env(
    dir: &Path,
    script: &str,
    (w, h): (u32, u32),
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
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
        .arg("env")
        .args(env.iter().map(|(k, v)| format!("{k}={v}")))
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

/// Runs the kiosk as its systemd unit does, through `packaging/kiosk/cage-session` under
/// `cage` (Wayland), on wlroots' headless backend with the pixman renderer, with `env` in the
/// session's environment (e.g. `NOTIFY_SOCKET`). cage refuses to run as root: when the test
/// is root, the session runs as `nobody`, as the unit runs it as the `kiosk` user, and `dir`
/// is given to `nobody`.
pub fn run_under_cage(dir: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let script_path = dir.join("scenario.txt");
    std::fs::write(&script_path, script).unwrap();
    let runtime = dir.join("xdg");
    let home = dir.join("home");
    for d in [&runtime, &home] {
        std::fs::create_dir_all(d).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let session = crate::repo_root().join("packaging/kiosk/cage-session");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        let given = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(dir)
            .status()
            .expect("chown");
        assert!(given.success(), "chown -R nobody {}", dir.display());
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&session);
        c
    } else {
        Command::new(&session)
    };
    cmd.arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--script")
        .arg(&script_path)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("PROMO_KIOSK_BIN", kiosk_bin())
        .env("WLR_BACKENDS", "headless")
        .env("WLR_RENDERER", "pixman")
        .env("WLR_LIBINPUT_NO_DEVICES", "1")
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", &home)
        .env(
            "VK_ICD_FILENAMES",
            "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
        )
        .env("RUST_LOG", "warn,kiosk=info")
        .envs(env.iter().copied())
        .output()
        .expect("cage-session: scripts/install-deps.sh test installs cage and xwayland")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A screenshot of the expected size that shows something (not one flat colour).
pub fn check_png(path: &Path, (w, h): (u32, u32)) -> image::RgbImage {
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

/// A script word in quotes, escaped.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Taps the on-screen keys, one `tap-text` per character.
pub fn keys(s: &str) -> String {
    s.chars()
        .map(|c| format!("tap-text {}\n", quote(&c.to_string())))
        .collect()
}

/// Sets the staff PIN of the kiosk whose data is in `data` (`kiosk set-pin`).
pub fn set_pin(data: &Path, pin: &str) {
    use std::io::Write;
    let mut set = Command::new(kiosk_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("set-pin")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    set.stdin
        .take()
        .unwrap()
        .write_all(format!("{pin}\n").as_bytes())
        .unwrap();
    assert!(set.wait().unwrap().success());
}
