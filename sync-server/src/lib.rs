//! The sync server: kiosks push records and pull content here; visitors' phones open its
//! landing pages; staff export leads and read reports.
//!
//! The HTTP layer ([`api`]) is thin: it authenticates, decodes, and hands blocking work to the
//! [`storage::Storage`] interface on the blocking pool. [`sqlite`] implements it.

pub mod api;
pub mod client_ip;
pub mod config;
pub mod content;
pub mod error;
pub mod export;
pub mod fleet;
pub mod leads;
pub mod phone;
pub mod reports;
pub mod sqlite;
pub mod sqlite_fleet;
pub mod sqlite_leads;
pub mod sqlite_reports;
pub mod sqlite_visits;
pub mod staff;
pub mod storage;
pub mod visits;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use config::ServerConfig;
use storage::Storage;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub staff: Arc<dyn storage::StaffStorage>,
    pub phone: Arc<dyn storage::PhoneStorage>,
    pub leads: Arc<dyn storage::LeadStorage>,
    pub fleet: Arc<dyn storage::FleetStorage>,
    pub visits: Arc<dyn storage::VisitStorage>,
    pub limiter: Arc<phone::RateLimiter>,
    /// Phone requests worked on at once (`phone_max_in_flight`): past it phones get a
    /// "try again in a few seconds" page at once instead of waiting.
    pub phone_gate: Arc<tokio::sync::Semaphore>,
    /// Password verifications at once (argon2 takes 19 MiB each).
    pub login_gate: Arc<tokio::sync::Semaphore>,
    pub opens: Arc<phone::OpenWriter>,
    pub phone_cache: Arc<phone::PhoneCache>,
    pub config: Arc<ServerConfig>,
    pub i18n: Arc<locales::Localiser>,
}

impl AppState {
    pub fn media_dir(&self) -> PathBuf {
        self.config.data_dir.join("media")
    }
}

/// Opens the SQLite database in the configured data directory.
pub fn open_state(config: ServerConfig) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(config.data_dir.join("media"))?;
    let storage = Arc::new(sqlite::SqliteStorage::open(
        &config.data_dir.join("server.sqlite"),
    )?);
    let i18n = locales::Localiser::load(&config.locales_dir())?;
    Ok(AppState {
        storage: storage.clone(),
        staff: storage.clone(),
        phone: storage.clone(),
        leads: storage.clone(),
        fleet: storage.clone(),
        visits: storage,
        limiter: Arc::new(phone::RateLimiter::default()),
        login_gate: Arc::new(tokio::sync::Semaphore::new(2)),
        phone_gate: Arc::new(tokio::sync::Semaphore::new(config.phone_max_in_flight)),
        opens: Arc::new(phone::OpenWriter::default()),
        phone_cache: Arc::new(phone::PhoneCache::default()),
        config: Arc::new(config),
        i18n: Arc::new(i18n),
    })
}

/// Every route, with the body limit, tracing, and the server's time on every answer.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    api::router()
        .merge(
            staff::router()
                .layer(DefaultBodyLimit::max(staff::MAX_FORM_BYTES))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    staff::localise_errors,
                )),
        )
        .merge(phone::router())
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(stamp_server_time))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn stamp_server_time(mut resp: Response) -> Response {
    if let Some(detail) = resp.extensions().get::<error::InternalDetail>() {
        tracing::error!(detail = %detail.0, "internal error");
    }
    if let Ok(v) = HeaderValue::from_str(&protocol::now_ms().to_string()) {
        resp.headers_mut().insert(protocol::SERVER_TIME_HEADER, v);
    }
    resp
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
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
