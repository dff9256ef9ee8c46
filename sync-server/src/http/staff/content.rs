//! Content versions: the published one and publishing another.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{CsrfForm, StaffCtx, blocking};
use super::html::esc;
use crate::AppState;
use crate::error::AppError;
use crate::store::AuditAction;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/content", get(content_page))
        .route("/staff/content/publish", post(publish))
}

async fn content_page(State(state): State<AppState>, cx: StaffCtx) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let fleet = state.fleet.clone();
    let storage = state.storage.clone();
    let (versions, kiosks) =
        blocking(move || Ok((fleet.content_versions()?, storage.kiosks()?))).await?;
    let rows: String = versions
        .iter()
        .map(|v| {
            // Kiosks report "<pack id>@<version>" in their heartbeats.
            let playing: Vec<&str> = kiosks
                .iter()
                .filter(|k| !k.revoked && k.content_version.as_deref() == Some(v.version.as_str()))
                .map(|k| k.name.as_str())
                .collect();
            let action = if cx.is_admin() && !v.current {
                format!(
                    "<form method=\"post\" action=\"/staff/content/publish\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"version\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                    esc(&cx.csrf),
                    esc(&v.version),
                    esc(&t("content-publish"))
                )
            } else if v.current {
                format!("<strong>{}</strong>", esc(&t("content-current")))
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                esc(&v.version),
                esc(&cx.when(Some(v.created_ms))),
                esc(&cx.when(v.published_ms)),
                v.items,
                v.media,
                esc(&if playing.is_empty() { "—".to_owned() } else { playing.join(", ") }),
            )
        })
        .collect();
    let body = format!(
        "<p class=\"muted\">{}</p><pre>sync-server content validate DIR\nsync-server content import DIR</pre>\
         <table id=\"versions\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        esc(&t("content-import-hint")),
        esc(&t("content-version")),
        esc(&t("content-imported")),
        esc(&t("content-published")),
        esc(&t("content-items")),
        esc(&t("content-media")),
        esc(&t("content-playing")),
    );
    Ok(cx.page(
        &state,
        "content-title",
        "/staff/content",
        "/staff/content",
        &body,
    ))
}

#[derive(Deserialize)]
struct PublishForm {
    version: String,
}

async fn publish(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let fleet = state.fleet.clone();
    let v = form.version.clone();
    let found = blocking(move || fleet.republish(&v, protocol::now_ms())).await?;
    if !found {
        return Err(AppError::NotFound);
    }
    cx.audit(&state, AuditAction::Publish, form.version).await?;
    Ok(Redirect::to("/staff/content").into_response())
}
