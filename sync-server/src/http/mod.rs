//! The HTTP layer: the kiosks' API ([`api`]), the visitors' phone pages ([`phone`]) and the
//! staff pages ([`staff`]). Handlers authenticate, decode and render; storage work goes to the
//! [`crate::store`] traits on the blocking pool.

pub mod api;
pub mod client_ip;
pub mod phone;
pub mod staff;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::response::Response;
use tower_http::trace::TraceLayer;

use crate::{AppState, error};

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
