//! The staff pages: server-rendered HTML in Vietnamese or English from the same Fluent files as
//! the kiosk. Each page group has its own `router()`; [`router`] merges them.
//!
//! Every signed-in handler takes a [`context::StaffCtx`] (the session, or a redirect to sign in)
//! and every form a [`context::CsrfForm`]; what a staff member sees is scoped by
//! [`crate::store::Scope::of`].

mod accounts;
mod audit;
mod content;
pub(crate) mod context;
mod dashboard;
mod editor;
mod events;
pub(crate) mod html;
mod kiosks;
pub(crate) mod leads;
mod login;
mod privacy;
mod report_files;
mod reports;
mod two_step;
mod visits;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::AppState;
use context::staff_lang;
use html::page;

pub use editor::MAX_UPLOAD_BYTES;
pub use html::esc;
pub use login::hash_password;

/// The largest staff form body: no staff form needs more, so a 15 MB "email" never arrives.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(accounts::router())
        .merge(dashboard::router())
        .merge(leads::router())
        .merge(privacy::router())
        .merge(events::router())
        .merge(audit::router())
        .merge(kiosks::router())
        .merge(content::router())
        .merge(editor::router())
        .merge(reports::router())
        .merge(visits::router())
        .merge(two_step::router())
}

/// Errors on the staff pages come from handlers as JSON (`AppError`); staff get them as a page
/// in their language instead, with the status kept (and the logged detail of a 500).
pub async fn localise_errors(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = staff_lang(req.headers(), None);
    let resp = next.run(req).await;
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let id = match status.as_u16() {
        403 => "staff-error-forbidden",
        404 => "staff-error-not-found",
        413 => "staff-error-too-large",
        400..=499 => "staff-error-bad-request",
        _ => "staff-error-server",
    };
    let t = |id: &str| state.i18n.t(lang, id);
    let body = format!(
        "<div class=\"card\" id=\"error\"><h1>{}</h1><p class=\"err\">{}</p><p><a href=\"/staff\">{}</a></p></div>",
        esc(&t("staff-error-title")),
        esc(&t(id)),
        esc(&t("staff-nav-dashboard"))
    );
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(
        parts,
        axum::body::Body::from(page(lang, &t("staff-error-title"), &body)),
    )
}
