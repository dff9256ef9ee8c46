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
