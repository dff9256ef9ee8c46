//! `kiosk doctor`: what a kiosk needs to run at a fair, checked one by one, each problem with
//! the fix to make. The checks read the machine (display, Vulkan, font, disk, clock) and ask the
//! server; the verdicts are pure functions of what was read, tested without any of it.

use std::path::Path;
use std::time::Duration;

use crate::config::KioskConfig;
use crate::store::Store;
use crate::sync::{SyncClient, SyncConfig, SyncError};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// The kiosk runs, but not as it should at a fair.
    Warn,
    /// The kiosk cannot do its work until this is fixed.
    Fail,
}

/// One check's outcome: what was found and, for a problem, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn problem(
        check: &'static str,
        status: Status,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            status,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.status {
            Status::Ok => "ok  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        write!(f, "{tag}  {:<10} {}", self.check, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n      fix: {fix}")?;
        }
        Ok(())
    }
}

/// Free space below which records are at risk (the store, content versions, screenshots).
pub const DISK_FAIL_BYTES: u64 = 200 << 20;
/// Free space below which a new content version may not fit.
pub const DISK_WARN_BYTES: u64 = 2 << 30;
/// A clock this far from the server's is corrected in records, but its QR codes and date
/// windows are off until it is fixed.
pub const CLOCK_WARN_MS: i64 = 5 * 60 * 1000;
/// Text every face must draw: Vietnamese, Korean, Japanese, Simplified and Traditional Chinese.
pub const FONT_SAMPLE: &str = "Đồng Nai Nguyễn Hường 동나이 ドンナイ 同奈省 同奈們";

/// The display the window would open on, as winit picks it: the Wayland compositor whose
/// socket `WAYLAND_DISPLAY` names in `XDG_RUNTIME_DIR` (cage), else the X server `DISPLAY`
/// names. The doctor reads its own environment: run it as the kiosk is run.
pub fn display(x11: Option<&str>, wayland: Option<&str>, runtime_dir: Option<&str>) -> Finding {
    const FIX: &str = "run the doctor as the kiosk runs, in its graphical session (a desktop, or \
                       under cage: `systemd-run --pty -p User=kiosk ... cage -- kiosk doctor`); \
                       to try it without a screen: `xvfb-run -a -s '-screen 0 1920x1080x24' kiosk ...`";
    // winit takes Wayland first when WAYLAND_DISPLAY is set, as under cage.
    if let Some(w) = wayland.filter(|w| !w.is_empty()) {
        let socket = if w.starts_with('/') {
            Some(std::path::PathBuf::from(w))
        } else {
            runtime_dir
                .filter(|d| !d.is_empty())
                .map(|d| Path::new(d).join(w))
        };
        return match socket {
            Some(s) if s.exists() => Finding::ok("display", format!("Wayland {w}")),
            Some(s) => Finding::problem(
                "display",
                Status::Fail,
                format!(
                    "WAYLAND_DISPLAY={w} but no compositor listens on {}",
                    s.display()
                ),
                FIX,
            ),
            None => Finding::problem(
                "display",
                Status::Fail,
                format!("WAYLAND_DISPLAY={w} but XDG_RUNTIME_DIR, where its socket is, is not set"),
                FIX,
            ),
        };
    }
    let Some(x) = x11.filter(|x| !x.is_empty()) else {
        return Finding::problem(
            "display",
            Status::Fail,
            "no display: neither WAYLAND_DISPLAY nor DISPLAY is set",
            FIX,
        );
    };
    // ":0", ":99.0" or "localhost:10.0": a local display has its socket in /tmp/.X11-unix.
    let local = x
        .strip_prefix(':')
        .and_then(|n| n.split('.').next())
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()));
    match local {
        Some(n) if !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() => Finding::problem(
            "display",
            Status::Fail,
            format!("DISPLAY={x} but no X server listens on /tmp/.X11-unix/X{n}"),
            FIX,
        ),
        _ => Finding::ok("display", format!("X11 {x}")),
    }
}

/// The Vulkan drivers installed (their ICD manifests' file names), whether the loader is, and
/// how many GPU render nodes (`/dev/dri/renderD*`) this user can open: Mesa installs the
/// manifests of every GPU it supports, so a manifest alone does not mean there is a GPU, and a
/// user outside the `render` group cannot use the one there is.
pub fn vulkan(loader: bool, drivers: &[String], render_nodes: usize) -> Finding {
    const INSTALL: &str = "apt-get install libvulkan1 mesa-vulkan-drivers";
    if !loader {
        return Finding::problem(
            "vulkan",
            Status::Fail,
            "the Vulkan loader (libvulkan.so.1) is not installed",
            INSTALL,
        );
    }
    if drivers.is_empty() {
        return Finding::problem(
            "vulkan",
            Status::Fail,
            "no Vulkan driver is installed",
            INSTALL,
        );
    }
    let hardware: Vec<&String> = drivers.iter().filter(|d| !d.contains("lvp")).collect();
    if hardware.is_empty() || render_nodes == 0 {
        return Finding::problem(
            "vulkan",
            Status::Warn,
            "only software rendering (lavapipe): about 6 frames a second at 1080p on two cores",
            "use a machine with a GPU and its Mesa driver (mesa-vulkan-drivers covers Intel, AMD \
             and the Raspberry Pi 5), and put the kiosk's user in the `render` group; the kiosk \
             works meanwhile, slowly",
        );
    }
    Finding::ok(
        "vulkan",
        hardware
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// The font: it must load and draw every language the kiosk offers.
pub fn font(path: Option<&Path>, bytes: Option<&[u8]>) -> Finding {
    const INSTALL: &str = "apt-get install fonts-noto-cjk, or set `font` in the configuration to a Noto Sans CJK .ttc";
    let Some(path) = path else {
        return Finding::problem(
            "font",
            Status::Fail,
            "no Noto Sans CJK font found: Vietnamese and CJK text would render as boxes",
            INSTALL,
        );
    };
    let Some(bytes) = bytes else {
        return Finding::problem(
            "font",
            Status::Fail,
            format!("{} cannot be read", path.display()),
            INSTALL,
        );
    };
    let faces = ttf_parser::fonts_in_collection(bytes).unwrap_or(1);
    let mut missing: Vec<char> = Vec::new();
    let mut readable = false;
    for c in FONT_SAMPLE.chars().filter(|c| !c.is_whitespace()) {
        let drawn = (0..faces).any(|i| {
            ttf_parser::Face::parse(bytes, i).is_ok_and(|f| {
                readable = true;
                f.glyph_index(c).is_some()
            })
        });
        if !drawn && !missing.contains(&c) {
            missing.push(c);
        }
    }
    if !readable {
        return Finding::problem(
            "font",
            Status::Fail,
            format!("{} is not a font file", path.display()),
            INSTALL,
        );
    }
    if !missing.is_empty() {
        return Finding::problem(
            "font",
            Status::Fail,
            format!(
                "{} has no glyph for {}",
                path.display(),
                missing.iter().collect::<String>()
            ),
            INSTALL,
        );
    }
    Finding::ok(
        "font",
        format!("{} ({faces} faces, draws vi ko ja zh)", path.display()),
    )
}

/// The data directory: writable, with room for records and content.
pub fn disk(dir: &Path, writable: Result<(), String>, free_bytes: u64) -> Finding {
    if let Err(e) = writable {
        return Finding::problem(
            "disk",
            Status::Fail,
            format!("cannot write in {}: {e}", dir.display()),
            "give the kiosk's user that directory (chown), or set `data_dir` in the configuration",
        );
    }
    let free = format!(
        "{:.1} GB free in {}",
        free_bytes as f64 / 1e9,
        dir.display()
    );
    let fix = "free space on that disk (old logs, downloads), or set `data_dir` to a larger one";
    if free_bytes < DISK_FAIL_BYTES {
        Finding::problem("disk", Status::Fail, free, fix)
    } else if free_bytes < DISK_WARN_BYTES {
        Finding::problem(
            "disk",
            Status::Warn,
            format!("{free}: a new content version may not fit"),
            fix,
        )
    } else {
        Finding::ok("disk", free)
    }
}

/// The system clock against the server's (`None`: the server was not asked).
pub fn clock(system_ms: i64, server_ms: Option<i64>) -> Finding {
    const NTP: &str = "turn on time synchronisation: `timedatectl set-ntp true` (needs network \
                       at start), or set the date with `date -s`";
    // Earlier than the project itself: the battery of the clock is flat.
    const FLOOR_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    if system_ms < FLOOR_MS {
        return Finding::problem(
            "clock",
            Status::Fail,
            format!("the system clock says {}, before 2026", utc(system_ms)),
            NTP,
        );
    }
    match server_ms {
        Some(s) if (system_ms - s).abs() > CLOCK_WARN_MS => Finding::problem(
            "clock",
            Status::Warn,
            format!(
                "the system clock is {} s off the server's (records are corrected; QR codes and \
                 date windows are not)",
                (system_ms - s) / 1000
            ),
            NTP,
        ),
        Some(s) => Finding::ok(
            "clock",
            format!("{} ms from the server's", (system_ms - s).abs()),
        ),
        None => Finding::ok(
            "clock",
            format!("{} (not compared with a server's)", utc(system_ms)),
        ),
    }
}

/// Enrolment and the server, from what the store holds and what the server answered.
pub fn server(enrolled: Option<(&str, &str)>, answer: Option<Result<(), SyncError>>) -> Finding {
    let Some((name, url)) = enrolled else {
        return Finding::problem(
            "server",
            Status::Warn,
            "not enrolled: the kiosk plays its content but sends no leads or figures",
            "ask staff for an enrolment code on the server's Kiosks page, then run \
             `kiosk enrol --server URL --code CODE`",
        );
    };
    match answer {
        None | Some(Ok(())) => {
            Finding::ok("server", format!("enrolled as \"{name}\", {url} answers"))
        }
        Some(Err(SyncError::Revoked)) => Finding::problem(
            "server",
            Status::Fail,
            format!("{url} revoked this kiosk (\"{name}\"); its records stay here"),
            "ask staff to enrol it again, then run `kiosk enrol` with a new --data-dir or after \
             moving the old store aside",
        ),
        Some(Err(SyncError::Insecure(u))) => Finding::problem(
            "server",
            Status::Fail,
            format!("{u} is plain HTTP and not loopback"),
            "use the server's https address, or set `insecure = true` for a closed network",
        ),
        Some(Err(e)) if certificate_time(&e.to_string()) => Finding::problem(
            "server",
            Status::Fail,
            format!("{url} refused by TLS: {e}"),
            "the server's certificate is not valid at this kiosk's time: check the clock \
             (`timedatectl`), then the certificate's dates",
        ),
        Some(Err(e)) if unknown_authority(&e.to_string()) => Finding::problem(
            "server",
            Status::Fail,
            format!("{url} refused by TLS: {e}"),
            "the server's certificate is not from a public authority: enrol again with `kiosk enrol --ca FILE` (its authority's PEM, from the server's administrator), or give the server a certificate from a public authority",
        ),
        Some(Err(SyncError::Trust(why))) => Finding::problem(
            "server",
            Status::Fail,
            format!("the certificate authority kept for {url} cannot be used: {why}"),
            "enrol again with `kiosk enrol --ca FILE` and a PEM file",
        ),
        Some(Err(e)) => Finding::problem(
            "server",
            Status::Warn,
            format!("{url} did not answer: {e}"),
            "check the network (cable, Wi-Fi, the fair's firewall allows HTTPS out); the kiosk \
             keeps everything and sends it when the server answers",
        ),
    }
}

/// Whether a connection error says the certificate is not valid now (a wrong clock, most often).
fn certificate_time(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("certificate")
        && (e.contains("expired") || e.contains("not valid yet") || e.contains("notvalidyet"))
}

/// Whether a connection error says the certificate's authority is not one the kiosk trusts.
fn unknown_authority(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("certificate") && (e.contains("unknownissuer") || e.contains("unknown issuer"))
}

/// Every check, in order, on this machine. Nothing is created or changed: a data directory
/// or a store that does not exist yet is reported, not made.
pub async fn examine(config: &KioskConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let env = |k: &str| std::env::var(k).ok();
    out.push(display(
        env("DISPLAY").as_deref(),
        env("WAYLAND_DISPLAY").as_deref(),
        env("XDG_RUNTIME_DIR").as_deref(),
    ));
    out.push(vulkan(vulkan_loader(), &vulkan_drivers(), render_nodes()));
    let font_path = config.font_path();
    let bytes = font_path.as_deref().and_then(|p| std::fs::read(p).ok());
    out.push(font(font_path.as_deref(), bytes.as_deref()));
    let dir = config.data_dir();
    // The kiosk makes its directory at first start; until then its nearest parent must do.
    let existing = dir
        .ancestors()
        .find(|d| d.exists())
        .unwrap_or(Path::new("/"))
        .to_owned();
    out.push(disk(
        &existing,
        try_write(&existing),
        crate::config::free_disk_bytes(&existing),
    ));
    let store = config.store_path();
    let identity = store
        .exists()
        .then(|| Store::open_read_only(&store).ok())
        .flatten()
        .and_then(|s| s.identity().ok().flatten());
    let (answer, server_ms) = match &identity {
        Some(id) => ask_server(id.clone(), config.insecure).await,
        None => (None, None),
    };
    out.push(clock(protocol::now_ms(), server_ms));
    out.push(server(
        identity
            .as_ref()
            .map(|i| (i.name.as_str(), i.server_url.as_str())),
        answer,
    ));
    out
}

/// A time as `YYYY-MM-DD HH:MM UTC` (the civil calendar from days since 1970).
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Writes and removes a probe file: the only trace the doctor leaves, for a moment.
fn try_write(dir: &Path) -> Result<(), String> {
    let probe = dir.join(".doctor-probe");
    std::fs::write(&probe, b"ok").map_err(|e| e.to_string())?;
    std::fs::remove_file(&probe).map_err(|e| e.to_string())
}

/// The GPU render nodes this user can open for reading and writing, as the driver does.
fn render_nodes() -> usize {
    std::fs::read_dir("/dev/dri")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("renderD"))
                .filter(|e| {
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(e.path())
                        .is_ok()
                })
                .count()
        })
        .unwrap_or(0)
}

fn vulkan_loader() -> bool {
    [
        "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
        "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
        "/usr/lib/libvulkan.so.1",
        "/usr/lib64/libvulkan.so.1",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
}

/// The drivers' manifests: those `VK_ICD_FILENAMES` names, else the system's.
fn vulkan_drivers() -> Vec<String> {
    if let Ok(list) = std::env::var("VK_ICD_FILENAMES") {
        return list
            .split(':')
            .filter(|p| Path::new(p).exists())
            .filter_map(|p| Path::new(p).file_name()?.to_str().map(str::to_owned))
            .collect();
    }
    let mut found = Vec::new();
    for dir in ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if let Some(name) = e.file_name().to_str().filter(|n| n.ends_with(".json")) {
                    found.push(name.to_owned());
                }
            }
        }
    }
    found.sort();
    found
}

/// The server's answer to the kiosk's own cursor request (which proves its secret), and the
/// server's clock from the same answer.
async fn ask_server(
    identity: crate::store::Identity,
    insecure: bool,
) -> (Option<Result<(), SyncError>>, Option<i64>) {
    let config = SyncConfig {
        insecure,
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let client = match SyncClient::new(identity, crate::clock::Clock::system(), config) {
        Ok(c) => c,
        Err(e) => return (Some(Err(e)), None),
    };
    match client.cursor().await {
        Ok(cursor) => (Some(Ok(())), Some(cursor.server_time_ms)),
        Err(e) => (Some(Err(e)), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_display_and_a_display_with_no_server_fail_with_the_fix() {
        let none = display(None, None, None);
        assert_eq!(none.status, Status::Fail);
        assert!(none.fix.as_deref().unwrap().contains("xvfb-run"));
        let gone = display(Some(":4242"), None, None);
        assert_eq!(gone.status, Status::Fail, "{gone}");
        assert!(gone.detail.contains("X4242"));
        // Wayland first, as winit does: its socket is in the runtime directory.
        let runtime = tempfile::tempdir().unwrap();
        let dir = runtime.path().to_str().unwrap();
        let absent = display(Some(":0"), Some("wayland-1"), Some(dir));
        assert_eq!(absent.status, Status::Fail, "{absent}");
        assert!(absent.detail.contains("no compositor listens"), "{absent}");
        let _socket =
            std::os::unix::net::UnixListener::bind(runtime.path().join("wayland-1")).unwrap();
        let cage = display(None, Some("wayland-1"), Some(dir));
        assert_eq!(cage.status, Status::Ok, "{cage}");
        assert!(cage.detail.contains("Wayland"), "{cage}");
        assert_eq!(
            display(None, Some("wayland-1"), None).status,
            Status::Fail,
            "no runtime directory"
        );
        // A remote X display is not second-guessed.
        assert_eq!(display(Some("host:10.0"), None, None).status, Status::Ok);
    }

    #[test]
    fn software_vulkan_is_a_warning_and_none_a_failure() {
        assert_eq!(vulkan(false, &[], 1).status, Status::Fail);
        assert_eq!(vulkan(true, &[], 1).status, Status::Fail);
        let lvp = vulkan(true, &["lvp_icd.x86_64.json".into()], 1);
        assert_eq!(lvp.status, Status::Warn);
        assert!(lvp.detail.contains("software"));
        let mesa = [
            "lvp_icd.x86_64.json".into(),
            "radeon_icd.x86_64.json".into(),
        ];
        let gpu = vulkan(true, &mesa, 1);
        assert_eq!(gpu.status, Status::Ok);
        assert_eq!(gpu.detail, "radeon_icd.x86_64.json");
        // Mesa's manifests on a machine with no GPU: software after all.
        assert_eq!(vulkan(true, &mesa, 0).status, Status::Warn);
    }

    #[test]
    fn a_missing_corrupt_or_latin_only_font_fails() {
        let p = Path::new("/f.ttc");
        assert_eq!(font(None, None).status, Status::Fail);
        assert!(font(None, None).fix.unwrap().contains("fonts-noto-cjk"));
        assert_eq!(font(Some(p), None).status, Status::Fail);
        let junk = font(Some(p), Some(b"not a font at all"));
        assert_eq!(junk.status, Status::Fail);
        assert!(junk.detail.contains("not a font"), "{junk}");
        let real = Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
        if let Ok(bytes) = std::fs::read(real) {
            let f = font(Some(real), Some(&bytes));
            assert_eq!(f.status, Status::Ok, "{f}");
        }
        let latin = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if let Ok(bytes) = std::fs::read(latin) {
            let f = font(Some(latin), Some(&bytes));
            assert_eq!(f.status, Status::Fail, "{f}");
            assert!(f.detail.contains('동'), "{f}");
        }
    }

    #[test]
    fn disk_and_clock_thresholds() {
        let d = Path::new("/data");
        assert_eq!(disk(d, Ok(()), 100 << 20).status, Status::Fail);
        assert_eq!(disk(d, Ok(()), 1 << 30).status, Status::Warn);
        assert_eq!(disk(d, Ok(()), 20 << 30).status, Status::Ok);
        let ro = disk(d, Err("Permission denied".into()), 20 << 30);
        assert_eq!(ro.status, Status::Fail);
        assert!(ro.detail.contains("Permission denied"));

        let now = 1_796_000_000_000; // 2026-11
        assert_eq!(clock(0, None).status, Status::Fail);
        assert!(clock(0, None).detail.contains("1970"), "{}", clock(0, None));
        assert_eq!(clock(now, Some(now + 2_000)).status, Status::Ok);
        let off = clock(now, Some(now + 3_600_000));
        assert_eq!(off.status, Status::Warn);
        assert!(off.detail.contains("-3600 s"), "{off}");
        assert_eq!(clock(now, None).status, Status::Ok);
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_796_083_200_000), "2026-12-01 00:00 UTC");
        assert_eq!(utc(951_782_400_000 + 3_723_000), "2000-02-29 01:02 UTC");
    }

    #[test]
    fn enrolment_and_the_server_answer_say_what_to_do() {
        let unenrolled = server(None, None);
        assert_eq!(unenrolled.status, Status::Warn);
        assert!(unenrolled.fix.unwrap().contains("kiosk enrol"));
        let id = Some(("Hall A", "https://k.example"));
        assert_eq!(server(id, Some(Ok(()))).status, Status::Ok);
        let revoked = server(id, Some(Err(SyncError::Revoked)));
        assert_eq!(revoked.status, Status::Fail);
        assert!(revoked.fix.unwrap().contains("enrol it again"));
        let offline = server(id, Some(Err(SyncError::Network("refused".into()))));
        assert_eq!(offline.status, Status::Warn);
        assert!(offline.detail.contains("refused"));
        let tls = server(
            id,
            Some(Err(SyncError::Network(
                "invalid peer certificate: Expired".into(),
            ))),
        );
        assert_eq!(tls.status, Status::Fail);
        assert!(tls.fix.as_deref().unwrap().contains("clock"), "{tls}");
        // As the kiosk's client says it (tests/tests/tls.rs), for a server whose certificate
        // comes from an authority the kiosk was not given.
        let stranger = server(
            id,
            Some(Err(SyncError::Network(
                "error sending request for url (https://127.0.0.1:34877/api/v1/sync/cursor): \
                 client error (Connect): invalid peer certificate: UnknownIssuer"
                    .into(),
            ))),
        );
        assert_eq!(stranger.status, Status::Fail);
        assert!(
            stranger.fix.as_deref().unwrap().contains("--ca FILE"),
            "{stranger}"
        );
        let line = offline.to_string();
        assert!(line.starts_with("WARN  server"), "{line}");
        assert!(line.contains("\n      fix: check the network"), "{line}");
    }
}
