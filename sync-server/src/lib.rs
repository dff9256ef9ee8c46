//! The sync server: kiosks push records and pull content here; visitors' phones open its
//! landing pages; staff export leads and read reports.
//!
//! Two layers: [`http`] (the kiosks' API, the phones' pages, the staff pages) authenticates,
//! decodes and renders, and hands blocking work to the [`store`] traits on the blocking pool;
//! [`store::sqlite`] (the default, one file) and [`store::postgres`] (`--database
//! postgres://…`, for several servers on one database) implement them. See
//! `docs/ARCHITECTURE.md`.

pub mod backup;
pub mod config;
pub mod content;
pub mod draft;
pub mod error;
pub mod export;
pub mod http;
pub mod retention;
pub mod service;
pub mod store;
pub mod tls;
pub mod totp;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

pub use config::ServerConfig;
use store::Storage;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub staff: Arc<dyn store::StaffStorage>,
    pub phone: Arc<dyn store::PhoneStorage>,
    pub leads: Arc<dyn store::LeadStorage>,
    pub fleet: Arc<dyn store::FleetStorage>,
    pub visits: Arc<dyn store::VisitStorage>,
    pub reports: Arc<dyn store::ReportStorage>,
    /// Tables as stored, for tests and diagnostics; no route reads it.
    pub inspect: Arc<dyn store::InspectStorage>,
    pub limiter: Arc<http::phone::RateLimiter>,
    /// Phone requests worked on at once (`phone_max_in_flight`): past it phones get a
    /// "try again in a few seconds" page at once instead of waiting.
    pub phone_gate: Arc<tokio::sync::Semaphore>,
    /// Password verifications at once (argon2 takes 19 MiB each).
    pub login_gate: Arc<tokio::sync::Semaphore>,
    pub opens: Arc<http::phone::OpenWriter>,
    pub phone_cache: Arc<http::phone::PhoneCache>,
    pub config: Arc<ServerConfig>,
    pub i18n: Arc<locales::Localiser>,
}

impl AppState {
    pub fn media_dir(&self) -> PathBuf {
        self.config.data_dir.join("media")
    }
}

/// Every storage trait, on one backend.
pub trait Backend:
    Storage
    + store::StaffStorage
    + store::PhoneStorage
    + store::LeadStorage
    + store::FleetStorage
    + store::VisitStorage
    + store::ReportStorage
    + store::InspectStorage
{
}

impl<S> Backend for S where
    S: Storage
        + store::StaffStorage
        + store::PhoneStorage
        + store::LeadStorage
        + store::FleetStorage
        + store::VisitStorage
        + store::ReportStorage
        + store::InspectStorage
{
}

/// Opens the configured database: PostgreSQL when `database` names one, else the SQLite file
/// in the data directory. Media live in the data directory either way.
pub fn open_state(config: ServerConfig) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(config.data_dir.join("media"))?;
    match config.database.as_deref() {
        Some(url) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                anyhow::bail!(
                    "the database must be a postgres:// URL (postgres://user:password@host:port/name); \
                     leave it out for the SQLite file in the data directory"
                );
            }
            let storage = store::postgres::PostgresStorage::open(url)
                .map_err(|e| anyhow::anyhow!("cannot open the PostgreSQL database: {e}"))?;
            state_on(Arc::new(storage), config)
        }
        None => {
            let storage =
                store::sqlite::SqliteStorage::open(&config.data_dir.join("server.sqlite"))?;
            state_on(Arc::new(storage), config)
        }
    }
}

/// The handlers' state on an open backend.
pub fn state_on<S: Backend>(storage: Arc<S>, config: ServerConfig) -> anyhow::Result<AppState> {
    let i18n = locales::Localiser::load(&config.locales_dir())?;
    Ok(AppState {
        storage: storage.clone(),
        staff: storage.clone(),
        phone: storage.clone(),
        leads: storage.clone(),
        fleet: storage.clone(),
        visits: storage.clone(),
        reports: storage.clone(),
        inspect: storage,
        limiter: Arc::new(http::phone::RateLimiter::default()),
        login_gate: Arc::new(tokio::sync::Semaphore::new(2)),
        phone_gate: Arc::new(tokio::sync::Semaphore::new(config.phone_max_in_flight)),
        opens: Arc::new(http::phone::OpenWriter::default()),
        phone_cache: Arc::new(http::phone::PhoneCache::default()),
        config: Arc::new(config),
        i18n: Arc::new(i18n),
    })
}

/// Serves on an already bound listener until `shutdown` resolves (tests bind 127.0.0.1:0).
/// `TCP_NODELAY` is set on every accepted connection.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// [`serve`] over TLS: connections are served once their handshake is done, with the
/// certificate `certificates` holds at that moment (see [`tls`]).
pub async fn serve_tls(
    listener: TcpListener,
    certificates: &Arc<tls::Certificates>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // `tap_io` for the peer address as `ConnectInfo<SocketAddr>` (axum provides it for a
    // tapped listener); `TCP_NODELAY` was set before the handshake.
    let listener = tls::TlsListener::new(listener, certificates)?.tap_io(|_| {});
    axum::serve(
        listener,
        http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
