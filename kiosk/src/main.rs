//! `kiosk`: the touchscreen app. Parses the command line, prepares everything that touches the
//! disk (store, content, fonts, locales) before the window opens, then runs the Bevy app.

// Bevy systems receive their data as parameters and queries: long signatures are the norm.
#![allow(clippy::too_many_arguments, clippy::type_complexity)]

mod app;
mod idle;
mod kiosk;
mod media;
mod scanner;
mod screens;
mod screenshot;
mod script;
mod settings;
mod staff;
mod stats;
mod theme;
mod watchdog;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kiosk_core::config::KioskConfig;

#[derive(Parser)]
#[command(name = "kiosk", version, about = "Đồng Nai promotion kiosk")]
struct Cli {
    /// TOML configuration file (see docs/configuration.md).
    #[arg(long, env = "PROMO_KIOSK_CONFIG")]
    config: Option<PathBuf>,
    /// Where the kiosk keeps its store. Default: the user's data directory.
    #[arg(long, env = "PROMO_KIOSK_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Play a content pack from this folder (no server needed). Default: the demo pack.
    #[arg(long, env = "PROMO_KIOSK_CONTENT")]
    content: Option<PathBuf>,
    /// The event to serve (its playlist and languages).
    #[arg(long, env = "PROMO_KIOSK_EVENT")]
    event: Option<String>,
    /// Run a scenario script in the real window, then exit (see docs/testing.md).
    #[arg(long)]
    script: Option<PathBuf>,
    /// Window size, e.g. 1920x1080 or 1080x1920.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    window: (u32, u32),
    /// Open in this language instead of the event's main language.
    #[arg(long)]
    lang: Option<String>,
    /// Seconds without a touch before returning to the attract loop.
    #[arg(long, env = "PROMO_KIOSK_IDLE_SECONDS")]
    idle_seconds: Option<u64>,
    /// Borderless full screen instead of a window.
    #[arg(long)]
    fullscreen: bool,
    /// Benchmark: print `first-frame` when the attract loop is on screen, and write frame times
    /// to this file on exit.
    #[arg(long, hide = true)]
    frame_stats: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exchange a one-time enrolment code from the server for this kiosk's identity.
    Enrol {
        /// The sync server's URL, e.g. https://kiosk.example.vn.
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        /// Allow plain HTTP to a server that is not on loopback.
        #[arg(long)]
        insecure: bool,
        /// Trust this certificate authority (PEM) for the server, besides the public ones:
        /// for a server whose certificate is not from a public authority. Kept in the store.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Set the staff PIN (4 to 12 digits, read from standard input); only its hash is kept.
    SetPin,
    /// Check what the kiosk needs (display, Vulkan, font, disk, clock, enrolment, the server)
    /// and print the fix for each problem. Exits 1 if one would stop the kiosk working.
    Doctor,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("\"{s}\" is not a size like 1920x1080"))?;
    let w: u32 = w.parse().map_err(|_| format!("bad width in \"{s}\""))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height in \"{s}\""))?;
    if !(320..=8192).contains(&w) || !(320..=8192).contains(&h) {
        return Err(format!(
            "\"{s}\": width and height must be between 320 and 8192"
        ));
    }
    Ok((w, h))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut config = match KioskConfig::from_file(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if cli.data_dir.is_some() {
        config.data_dir = cli.data_dir.clone();
    }
    if cli.content.is_some() {
        config.content = cli.content.clone();
    }
    if cli.event.is_some() {
        config.event = cli.event.clone();
    }
    if let Some(s) = cli.idle_seconds {
        config.idle_seconds = s.max(5);
    }
    if let Some(Command::Enrol {
        server,
        code,
        insecure,
        ca,
    }) = &cli.command
    {
        return enrol(
            &config,
            server,
            code,
            *insecure || config.insecure,
            ca.as_deref(),
        );
    }
    if let Some(Command::SetPin) = &cli.command {
        return set_pin(&config);
    }
    if let Some(Command::Doctor) = &cli.command {
        return doctor(&config);
    }
    let script = match &cli.script {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|s| kiosk_core::script::parse(&s).map_err(|e| e.to_string()))
        {
            Ok(lines) => Some((path.clone(), lines)),
            Err(e) => {
                eprintln!("script {}: {e}", path.display());
                return std::process::ExitCode::from(2);
            }
        },
        None => None,
    };
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "error: no display (neither DISPLAY nor WAYLAND_DISPLAY is set).\n\
             The kiosk needs a screen. On a machine without one, run it under a virtual display:\n  \
             xvfb-run -a -s '-screen 0 1920x1080x24' kiosk ...\n\
             (Debian: apt-get install xvfb xauth mesa-vulkan-drivers libvulkan1; software Vulkan needs\n  \
             VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json)"
        );
        return std::process::ExitCode::from(3);
    }
    let setup = match kiosk::Setup::prepare(&config, cli.lang.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut app = app::build(setup, cli.window, cli.fullscreen, script);
    if let Some(path) = cli.frame_stats.clone() {
        app.add_plugins(stats::StatsPlugin(path));
    }
    let exit = app.run();
    match exit {
        bevy::app::AppExit::Success => std::process::ExitCode::SUCCESS,
        bevy::app::AppExit::Error(code) => std::process::ExitCode::from(code.get()),
    }
}

fn enrol(
    config: &KioskConfig,
    server: &str,
    code: &str,
    insecure: bool,
    ca: Option<&std::path::Path>,
) -> std::process::ExitCode {
    let path = config.store_path();
    let run = || -> anyhow::Result<kiosk_core::store::Identity> {
        let ca = match ca {
            Some(file) => Some(std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the certificate authority {}: {e}",
                    file.display()
                )
            })?),
            None => None,
        };
        let mut store = kiosk_core::store::Store::open(&path)?;
        if let Some(existing) = store.identity()? {
            anyhow::bail!(
                "this kiosk is already enrolled as {} (\"{}\") in {}; use another --data-dir for a new kiosk",
                existing.kiosk_id,
                existing.name,
                path.display()
            );
        }
        let rt = tokio_runtime()?;
        Ok(rt.block_on(kiosk_core::sync::enrol(
            &mut store, server, code, insecure, ca,
        ))?)
    };
    match run() {
        Ok(id) => {
            println!(
                "enrolled as kiosk {} (\"{}\"), store {}",
                id.kiosk_id,
                id.name,
                path.display()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn set_pin(config: &KioskConfig) -> std::process::ExitCode {
    let run = || -> anyhow::Result<()> {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let hash = kiosk_core::pin::hash_pin(line.trim()).map_err(|e| anyhow::anyhow!(e))?;
        let store = kiosk_core::store::Store::open(&config.store_path())?;
        store.set_meta("staff_pin_hash", &hash)?;
        Ok(())
    };
    match run() {
        Ok(()) => {
            println!("staff PIN set in {}", config.store_path().display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn doctor(config: &KioskConfig) -> std::process::ExitCode {
    use kiosk_core::doctor::Status;
    let findings = match tokio_runtime() {
        Ok(rt) => rt.block_on(kiosk_core::doctor::examine(config)),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    for f in &findings {
        println!("{f}");
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let (fails, warns) = (count(Status::Fail), count(Status::Warn));
    println!(
        "{}",
        match (fails, warns) {
            (0, 0) => "ready for the fair".to_owned(),
            (0, w) => format!("it runs; {w} warning(s) to look at"),
            (f, _) => format!("{f} problem(s) to fix before the kiosk can work"),
        }
    );
    if fails > 0 {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}

fn tokio_runtime() -> std::io::Result<kiosk_core::Runtime> {
    kiosk_core::runtime()
}
