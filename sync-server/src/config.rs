//! Server configuration: a TOML file, overridden by environment variables and flags (see
//! `docs/configuration.md`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the database and media live.
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://user:password@host:port/name`) instead of the
    /// embedded SQLite file in `data_dir`; media stay in `data_dir/media`.
    pub database: Option<String>,
    /// The base URL phones reach the server at (printed in QR codes).
    pub public_url: String,
    /// Largest request body accepted (bytes, before decompression).
    pub max_body_bytes: usize,
    /// Where the Fluent files of the staff pages are. Default: the installation's `locales/`.
    pub locales: Option<PathBuf>,
    /// The largest screen the kiosks have, `[width, height]`: larger images are scaled down
    /// to fit it at import.
    pub max_display: [u32; 2],
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (CIDR ranges or
    /// addresses). Empty: those headers are ignored and the TCP peer is the client.
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// How long a kiosk's QR code opens on a phone (days after the kiosk showed it).
    pub token_max_age_days: u32,
    /// Phone requests the server works on at once; more get a "try again in a few seconds"
    /// page (503, `Retry-After: 5`) instead of a slow answer. See docs/benchmarks.md.
    pub phone_max_in_flight: usize,
    /// Seconds without hearing from a kiosk (it syncs every 15 s) before the fleet view calls
    /// it late.
    pub fleet_late_seconds: u32,
    /// Seconds without hearing from a kiosk before the fleet view calls it offline.
    pub fleet_offline_seconds: u32,
    /// TLS built in: `[tls] cert = "…/fullchain.pem"`, `key = "…/privkey.pem"`. The files are
    /// read again at SIGHUP. Off: plain HTTP (behind a reverse proxy that does TLS).
    pub tls: Option<crate::tls::TlsFiles>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("server-data"),
            database: None,
            public_url: "http://127.0.0.1:8080".into(),
            max_body_bytes: 16 << 20,
            locales: None,
            max_display: [3840, 2160],
            trusted_proxies: Default::default(),
            token_max_age_days: 30,
            phone_max_in_flight: 1024,
            fleet_late_seconds: 120,
            fleet_offline_seconds: 600,
            tls: None,
        }
    }
}

impl ServerConfig {
    pub fn locales_dir(&self) -> PathBuf {
        self.locales.clone().unwrap_or_else(locales::default_dir)
    }

    /// Reads a TOML file; a missing file gives the defaults.
    pub fn from_file(path: Option<&std::path::Path>) -> anyhow::Result<ServerConfig> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    anyhow::anyhow!("cannot read the configuration {}: {e}", p.display())
                })?;
                toml::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("the configuration {} is invalid: {e}", p.display())
                })
            }
            None => Ok(ServerConfig::default()),
        }
    }
}
