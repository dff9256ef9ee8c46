//! Content versions: the published one and publishing another.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::{esc, notice};
use crate::AppState;
use crate::error::AppError;
use crate::store::AuditAction;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/content", get(content_page))
        .route("/staff/content/publish", post(publish))
        .route("/staff/content/unpublish", post(unpublish))
}

async fn content_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let (fleet, storage, leads) = (
        state.fleet.clone(),
        state.storage.clone(),
        state.leads.clone(),
    );
    let (versions, kiosks, targets, events) = blocking(move || {
        Ok((
            fleet.content_versions()?,
            storage.kiosks()?,
            fleet.event_contents()?,
            leads.events()?,
        ))
    })
    .await?;
    let event_name = |id: &str| {
        events
            .iter()
            .find(|e| e.id == id)
            .map_or_else(|| id.to_owned(), |e| format!("{} ({})", e.name, e.id))
    };
    let options: String = events
        .iter()
        .map(|e| {
            format!(
                "<option value=\"{}\">{} ({})</option>",
                esc(&e.id),
                esc(&e.name),
                esc(&e.id)
            )
        })
        .collect();
    let rows: String = versions
        .iter()
        .map(|v| {
            // Kiosks report "<pack id>@<version>" in their heartbeats.
            let playing: Vec<&str> = kiosks
                .iter()
                .filter(|k| !k.revoked && k.content_version.as_deref() == Some(v.version.as_str()))
                .map(|k| k.name.as_str())
                .collect();
            let mut to: Vec<String> = Vec::new();
            if v.current {
                to.push(format!("<strong>{}</strong>", esc(&t("content-current"))));
            }
            for e in targets.iter().filter(|e| e.version == v.version) {
                let back = if cx.is_admin() {
                    format!(
                        "<form method=\"post\" action=\"/staff/content/unpublish\" style=\"display:inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                         <input type=\"hidden\" name=\"event\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                        esc(&cx.csrf),
                        esc(&e.event_id),
                        esc(&t("content-back-to-default"))
                    )
                } else {
                    String::new()
                };
                to.push(format!("{} {back}", esc(&event_name(&e.event_id))));
            }
            let action = if cx.is_admin() {
                format!(
                    "<form method=\"post\" action=\"/staff/content/publish\" class=\"row\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"version\" value=\"{}\"><select name=\"target\" style=\"width:auto;max-width:220px\"><option value=\"\">{}</option>{options}</select>\
                     <button type=\"submit\">{}</button></form>",
                    esc(&cx.csrf),
                    esc(&v.version),
                    esc(&t("editor-default")),
                    esc(&t("content-publish"))
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                esc(&v.version),
                esc(&cx.when(Some(v.created_ms))),
                esc(&cx.when(v.published_ms)),
                v.items,
                v.media,
                if to.is_empty() { "—".to_owned() } else { to.join("<br>") },
                esc(&if playing.is_empty() { "—".to_owned() } else { playing.join(", ") }),
            )
        })
        .collect();
    let done = match q.done.as_deref() {
        Some("published") => notice(true, &t("content-done-published")),
        Some("back") => notice(true, &t("content-done-back")),
        _ => String::new(),
    };
    let editor = if cx.is_admin() {
        format!(
            "<p><a href=\"/staff/content/draft\" id=\"open-editor\">{}</a></p>",
            esc(&t("editor-open"))
        )
    } else {
        String::new()
    };
    let body = format!(
        "{done}{editor}<p class=\"muted\">{}</p><pre>sync-server content validate DIR\nsync-server content import DIR</pre>\
         <table id=\"versions\" class=\"compact\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        esc(&t("content-import-hint")),
        esc(&t("content-version")),
        esc(&t("content-imported")),
        esc(&t("content-published")),
        esc(&t("content-items")),
        esc(&t("content-media")),
        esc(&t("content-published-to")),
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
    /// An event's id, or empty: the default version.
    #[serde(default)]
    target: String,
}

#[derive(Deserialize)]
struct UnpublishForm {
    event: String,
}

async fn publish(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    publish_version(&state, &cx, &form.version, form.target.trim(), "").await?;
    Ok(Redirect::to("/staff/content?done=published").into_response())
}

/// Publishes a stored version by default (`target` empty: every kiosk whose event has none of
/// its own) or to one event staff know, and audits it (`how` says from where). NotFound: no
/// such version or event.
pub(super) async fn publish_version(
    state: &AppState,
    cx: &StaffCtx,
    version: &str,
    target: &str,
    how: &str,
) -> Result<(), AppError> {
    let (fleet, leads) = (state.fleet.clone(), state.leads.clone());
    let (v, t) = (version.to_owned(), target.to_owned());
    let found = blocking(move || {
        let now = protocol::now_ms();
        if t.is_empty() {
            return fleet.republish(&v, now);
        }
        if !leads.events()?.iter().any(|e| e.id == t) {
            return Ok(false);
        }
        fleet.publish_to_event(&v, &t, now)
    })
    .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    let to = if target.is_empty() { "default" } else { target };
    cx.audit(
        state,
        AuditAction::Publish,
        format!("{version} to {to}{how}"),
    )
    .await
}

/// An event's kiosks go back to the default version.
async fn unpublish(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<UnpublishForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let fleet = state.fleet.clone();
    let e = form.event.clone();
    if !blocking(move || fleet.unpublish_event(&e)).await? {
        return Err(AppError::NotFound);
    }
    cx.audit(
        &state,
        AuditAction::Publish,
        format!("{} back to default", form.event),
    )
    .await?;
    Ok(Redirect::to("/staff/content?done=back").into_response())
}
