//! `sync-server`: serve the kiosk API, and the staff's command-line tools.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sync_server::store::{AuditAction, Role};
use sync_server::{ServerConfig, content, open_state};

#[derive(Parser)]
#[command(name = "sync-server", version, about = "promo-kiosk's sync server")]
struct Cli {
    /// TOML configuration file (see docs/configuration.md).
    #[arg(long, global = true, env = "PROMO_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Where the database and media live.
    #[arg(long, global = true, env = "PROMO_SERVER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL database, postgres://user:password@host:port/name, instead of the
    /// embedded SQLite file in the data directory.
    #[arg(
        long,
        global = true,
        env = "PROMO_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until interrupted.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long, env = "PROMO_SERVER_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Base URL that phones reach this server at (goes into QR codes).
        #[arg(long, env = "PROMO_SERVER_PUBLIC_URL")]
        public_url: Option<String>,
        /// A reverse proxy (address or CIDR range) whose Forwarded / X-Forwarded-For headers
        /// name the client; repeatable. Without it those headers are ignored.
        #[arg(long = "trusted-proxy", env = "PROMO_TRUSTED_PROXIES", value_delimiter = ',',
              value_parser = sync_server::http::client_ip::parse_net)]
        trusted_proxy: Vec<ipnet::IpNet>,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. Read again at
        /// SIGHUP.
        #[arg(long, env = "PROMO_SERVER_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, env = "PROMO_SERVER_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Manage kiosks.
    #[command(subcommand)]
    Kiosk(KioskCmd),
    /// Validate and import content packs.
    #[command(subcommand)]
    Content(ContentCmd),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Act on leads.
    #[command(subcommand)]
    Lead(LeadCmd),
    /// Copy the database and the media into a new folder, while the server runs (SQLite: a
    /// consistent copy; PostgreSQL: pg_dump, from the package postgresql-client).
    Backup { dir: PathBuf },
    /// Replace the database with a backup and add its media. Stop the server first; kiosks
    /// send again, at their next sync, every record the backup lacks.
    Restore { dir: PathBuf },
}

#[derive(Subcommand)]
enum LeadCmd {
    /// Erase a lead: its personal fields go, a tombstone stays so that no kiosk brings it back.
    Erase { id: uuid::Uuid },
    /// A person's request: erase every lead and raw badge scan with this email or phone.
    ErasePerson {
        /// An email, or a phone number (digits with the country code, or 0… for Vietnam).
        who: String,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Change a staff member's password (read from standard input); every session of the
    /// account ends, and a sign-in lockout is lifted.
    Passwd {
        #[arg(long)]
        email: String,
    },
    /// Lift an account's sign-in lockout (admins can also do it on /staff/audit).
    Unlock {
        #[arg(long)]
        email: String,
    },
    /// Create a staff account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin or staff.
        #[arg(long, default_value = "staff")]
        role: String,
        /// The organisation, e.g. "Investment, Trade and Tourism Promotion Centre".
        #[arg(long)]
        org: String,
        /// Succeed without change when the account exists (for scripts).
        #[arg(long)]
        if_missing: bool,
    },
}

#[derive(Subcommand)]
enum KioskCmd {
    /// Create a kiosk and print its one-time enrolment code (also as a QR code).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        event: Option<String>,
        /// Print only the code (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List kiosks and their health.
    List,
    /// Revoke a kiosk: its next push fails with 401.
    Revoke { id: uuid::Uuid },
}

#[derive(Subcommand)]
enum ContentCmd {
    /// Check a pack folder and report every problem with its file and line.
    Validate { dir: PathBuf },
    /// Import a pack folder and publish it to the kiosks.
    Import { dir: PathBuf },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Reads a new staff password from standard input (at least 10 characters) and hashes it.
fn read_password_hash() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 10 {
        anyhow::bail!("the password must have at least 10 characters");
    }
    sync_server::http::staff::hash_password(password).map_err(|e| anyhow::anyhow!(e))
}

fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let mut config = ServerConfig::from_file(cli.config.as_deref())?;
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    if let Some(url) = cli.database {
        config.database = Some(url);
    }
    match cli.command {
        Command::Serve {
            listen,
            public_url,
            trusted_proxy,
            tls_cert,
            tls_key,
        } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
                config.tls = Some(sync_server::tls::TlsFiles { cert, key });
            }
            if !trusted_proxy.is_empty() {
                config.trusted_proxies =
                    sync_server::http::client_ip::TrustedProxies::new(trusted_proxy);
            }
            match public_url {
                Some(u) => config.public_url = u,
                None if cli.config.is_none() => {
                    let scheme = if config.tls.is_some() {
                        "https"
                    } else {
                        "http"
                    };
                    config.public_url = format!("{scheme}://{}", config.listen)
                }
                None => {}
            }
            // A certificate that cannot be read stops the start, before anything listens.
            let certificates = match &config.tls {
                Some(files) => Some(sync_server::tls::Certificates::open(files.clone())?),
                None => None,
            };
            let state = open_state(config.clone())?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(config.listen)
                    .await
                    .with_context(|| format!("cannot listen on {}", config.listen))?;
                tracing::info!(
                    addr = %listener.local_addr()?,
                    data = %config.data_dir.display(),
                    database = if config.database.is_some() { "postgres" } else { "sqlite" },
                    tls = certificates.is_some(),
                    "serving"
                );
                // SIGHUP reads the certificate again (and never ends the server, TLS or not).
                if let Some(hangups) = sync_server::tls::hangups() {
                    tokio::spawn(sync_server::tls::reload_on_hangup(
                        hangups,
                        certificates.clone(),
                    ));
                }
                // Leads past their unit's retention period are erased now and every hour.
                let sweeper = state.clone();
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
                    loop {
                        every.tick().await;
                        let s = sweeper.clone();
                        let done = tokio::task::spawn_blocking(move || {
                            sync_server::retention::sweep_retention(&s, protocol::now_ms())
                        })
                        .await;
                        match done {
                            Ok(Ok(0)) => {}
                            Ok(Ok(n)) => tracing::info!(erased = n, "retention: leads erased"),
                            Ok(Err(e)) => tracing::error!("retention sweep failed: {e}"),
                            Err(e) => tracing::error!("retention sweep panicked: {e}"),
                        }
                    }
                });
                if let Some(every) = sync_server::service::watchdog_interval() {
                    tokio::spawn(sync_server::service::keep_watchdog(state.clone(), every));
                }
                sync_server::service::ready().await;
                // After the stop signal, requests under way get `DRAIN` to finish (a slow
                // download must not hold the server until systemd kills it).
                let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
                let signalled = stopping.clone();
                let shutdown = async move {
                    sync_server::service::shutdown_signal().await;
                    signalled.notify_one();
                };
                let serving = async {
                    match &certificates {
                        Some(c) => sync_server::serve_tls(listener, c, state, shutdown).await,
                        None => sync_server::serve(listener, state, shutdown).await,
                    }
                };
                tokio::select! {
                    r = serving => r?,
                    _ = async {
                        stopping.notified().await;
                        tokio::time::sleep(sync_server::service::DRAIN).await;
                    } => tracing::warn!("requests still under way after the drain time; stopping"),
                }
                tracing::info!("stopped");
                anyhow::Ok(())
            })?;
            // A store check stuck on the blocking pool must not hold the exit.
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
        }
        Command::Backup { dir } => {
            let info = sync_server::backup::backup(&config, &dir)?;
            println!(
                "backed up the {} database and {} media files into {}",
                info.backend,
                info.media,
                dir.display()
            );
        }
        Command::Restore { dir } => {
            let info = sync_server::backup::restore(&config, &dir)?;
            println!(
                "restored the {} database backed up at {} (Vietnam time) from {}; kiosks send \
                 again what it lacks at their next sync",
                info.backend,
                sync_server::store::time::vietnam_time(info.created_ms),
                dir.display()
            );
        }
        Command::Kiosk(cmd) => {
            let state = open_state(config)?;
            let now = protocol::now_ms();
            match cmd {
                KioskCmd::Add { name, event, quiet } => {
                    let k = state.storage.create_kiosk(&name, event.as_deref(), now)?;
                    state.staff.audit(
                        None,
                        AuditAction::KioskAdd,
                        &format!("cli: {} {name}", k.uuid),
                        now,
                    )?;
                    if quiet {
                        println!("{}", k.code);
                    } else {
                        let qr = qrcode::QrCode::new(k.code.as_bytes())?
                            .render::<qrcode::render::unicode::Dense1x2>()
                            .quiet_zone(true)
                            .build();
                        println!(
                            "{qr}\nkiosk {}  \"{name}\"\nenrolment code: {}\n(valid 7 days; on the kiosk: kiosk enrol --server URL --code {})",
                            k.uuid, k.code, k.code
                        );
                    }
                }
                KioskCmd::List => {
                    let mut out = std::io::stdout().lock();
                    for k in state.storage.kiosks()? {
                        writeln!(
                            out,
                            "{}  {:<20} event={:<24} enrolled={} revoked={} next_seq={} app={} content={}{} backlog={}",
                            k.uuid,
                            k.name,
                            k.event_id.unwrap_or_default(),
                            k.enrolled,
                            k.revoked,
                            k.next_seq,
                            k.app_version.unwrap_or_default(),
                            k.content_version.unwrap_or_default(),
                            k.content_error
                                .map(|e| format!(" ({e})"))
                                .unwrap_or_default(),
                            k.backlog.map(|b| b.to_string()).unwrap_or_default()
                        )?;
                    }
                }
                KioskCmd::Revoke { id } => {
                    state.storage.revoke_kiosk(id, now)?;
                    state
                        .staff
                        .audit(None, AuditAction::Revoke, &format!("cli: {id}"), now)?;
                    println!(
                        "kiosk {id} revoked: its next push fails with 401; its data stays on it"
                    );
                }
            }
        }
        Command::User(UserCmd::Add {
            email,
            role,
            org,
            if_missing,
        }) => {
            let Some(role) = Role::parse(&role) else {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                anyhow::bail!("unknown role \"{role}\": use one of {}", names.join(", "));
            };
            let state = open_state(config)?;
            if state.staff.user_by_email(&email)?.is_some() && if_missing {
                println!("user {email} exists");
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let hash = read_password_hash()?;
            let now = protocol::now_ms();
            let id = state.staff.add_user(&email, &hash, role, &org, now)?;
            state.staff.audit(
                None,
                AuditAction::UserAdd,
                &format!("{email} role={} org={org}", role.as_str()),
                now,
            )?;
            println!(
                "user {email} created (id {id}, role {}, org {org})",
                role.as_str()
            );
        }
        Command::User(UserCmd::Passwd { email }) => {
            let state = open_state(config)?;
            let hash = read_password_hash()?;
            if !state.staff.set_password(&email, &hash)? {
                anyhow::bail!("no account with the email {email}");
            }
            state.staff.audit(
                None,
                AuditAction::UserPassword,
                &format!("cli: {email}"),
                protocol::now_ms(),
            )?;
            println!("password of {email} changed; every session of the account has ended");
        }
        Command::User(UserCmd::Unlock { email }) => {
            let state = open_state(config)?;
            if !state.staff.unlock_user(&email)? {
                anyhow::bail!("no account with the email {email}");
            }
            state.staff.audit(
                None,
                AuditAction::UserUnlock,
                &format!("cli: {email}"),
                protocol::now_ms(),
            )?;
            println!("{email} may sign in again");
        }
        Command::Lead(LeadCmd::Erase { id }) => {
            let state = open_state(config)?;
            let now = protocol::now_ms();
            state.storage.erase_lead(id, now)?;
            state
                .staff
                .audit(None, AuditAction::LeadErase, &format!("cli: {id}"), now)?;
            println!("lead {id} erased; a tombstone keeps it from coming back");
        }
        Command::Lead(LeadCmd::ErasePerson { who }) => {
            let state = open_state(config)?;
            let now = protocol::now_ms();
            let leads = state.leads.leads_of_person(&who)?;
            let scans: Vec<(i64, i64)> = state
                .leads
                .raw_scans_of_person(&who)?
                .iter()
                .map(|s| (s.kiosk, s.seq))
                .collect();
            for l in &leads {
                state.storage.erase_lead(l.lead_id, now)?;
            }
            let n = state.leads.erase_raw_scans(&scans, now)?;
            state.staff.audit(
                None,
                AuditAction::PrivacyErase,
                &format!("cli: {} leads, {n} raw scans", leads.len()),
                now,
            )?;
            println!("{} leads and {n} raw scans erased", leads.len());
        }
        Command::Content(ContentCmd::Validate { dir }) => {
            let (_, problems) = content::validate(&dir);
            for p in &problems {
                println!("{p}");
            }
            let errors = problems
                .iter()
                .filter(|p| p.severity == content::Severity::Error)
                .count();
            let warnings = problems.len() - errors;
            println!("{}: {errors} errors, {warnings} warnings", dir.display());
            if errors > 0 {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Content(ContentCmd::Import { dir }) => {
            let state = open_state(config)?;
            let [w, h] = state.config.max_display;
            let m = content::import(&dir, state.storage.as_ref(), &state.media_dir(), (w, h))?;
            state.staff.audit(
                None,
                AuditAction::ContentImport,
                &format!("cli: {} from {}", m.version, dir.display()),
                protocol::now_ms(),
            )?;
            println!(
                "published {} ({} media files, {} bytes)",
                m.version,
                m.media.len(),
                m.total_bytes()
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
