//! The kiosks: create one and show its enrolment code once, assign it to an event, revoke it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

use super::context::{ConfirmForm, CsrfForm, StaffCtx, blocking};
use super::html::{esc, input, select, when};
use crate::AppState;
use crate::error::AppError;
use crate::store::AuditAction;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/kiosks", get(kiosks_page).post(create_kiosk))
        .route("/staff/kiosks/{id}/event", post(assign_event))
        .route("/staff/kiosks/{id}/revoke", post(revoke))
}

fn is_admin(cx: &StaffCtx) -> bool {
    cx.is_admin()
}

fn mb(bytes: Option<i64>) -> String {
    bytes
        .map(|b| format!("{:.1} GB", b as f64 / 1e9))
        .unwrap_or_else(|| "—".into())
}

async fn kiosks_page(State(state): State<AppState>, cx: StaffCtx) -> Result<Response, AppError> {
    render_kiosks(&state, &cx, None).await
}

/// The kiosks table; `created` shows a new kiosk's code once.
async fn render_kiosks(
    state: &AppState,
    cx: &StaffCtx,
    created: Option<(String, String, String)>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(state, id);
    let storage = state.storage.clone();
    let leads = state.leads.clone();
    let (kiosks, events) = blocking(move || Ok((storage.kiosks()?, leads.events()?))).await?;
    let event_opts: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.id.clone(), format!("{} ({})", e.name, e.id)))
        .collect();
    let admin = is_admin(cx);
    let rows: String = kiosks
        .iter()
        .map(|k| {
            let status = if k.revoked {
                t("staff-kiosk-revoked")
            } else if k.enrolled {
                t("staff-kiosk-enrolled")
            } else {
                t("staff-kiosk-waiting")
            };
            let actions = if admin && !k.revoked {
                format!(
                    "<form method=\"post\" action=\"/staff/kiosks/{id}/event\" class=\"row\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{sel}<button type=\"submit\">{assign}</button></form>\
                     <form method=\"post\" action=\"/staff/kiosks/{id}/revoke\" class=\"row revoke\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><label>{confirm}<input name=\"confirm\" autocomplete=\"off\"></label>\
                     <button type=\"submit\" style=\"background:#b00020\">{revoke}</button></form>",
                    id = k.uuid,
                    csrf = esc(&cx.csrf),
                    sel = select(
                        "event",
                        &t("staff-col-event"),
                        "—",
                        k.event_id.as_deref().unwrap_or(""),
                        &event_opts
                    ),
                    assign = esc(&t("kiosk-assign")),
                    confirm = esc(&t("kiosk-revoke-confirm")),
                    revoke = esc(&t("kiosk-revoke")),
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>",
                esc(&k.name),
                esc(k.event_id.as_deref().unwrap_or("—")),
                esc(&status),
                esc(&when(k.last_seen_ms)),
                esc(k.app_version.as_deref().unwrap_or("—")),
                esc(&match (&k.content_version, &k.content_error) {
                    (v, Some(e)) => format!("{} — {e}", v.as_deref().unwrap_or("—")),
                    (v, None) => v.clone().unwrap_or_else(|| "—".into()),
                }),
                k.next_seq.saturating_sub(1),
                k.backlog.map(|b| b.to_string()).unwrap_or_else(|| "—".into()),
                esc(&mb(k.free_disk_bytes)),
            )
        })
        .collect();
    let mut body = String::new();
    if let Some((name, code, qr)) = created {
        body.push_str(&format!(
            "<div class=\"card\" id=\"new-kiosk\" style=\"max-width:none\"><h2>{}</h2><p>{}</p>\
             <p style=\"font-size:32px;letter-spacing:4px\"><strong id=\"code\">{}</strong></p>\
             <p class=\"muted\">{}</p><pre>kiosk enrol --server {} --code {}</pre>\
             <img alt=\"{}\" src=\"data:image/png;base64,{qr}\" width=\"240\" height=\"240\"></div>",
            esc(&name),
            esc(&t("kiosk-code-once")),
            esc(&code),
            esc(&t("kiosk-code-expires")),
            esc(&state.config.public_url),
            esc(&code),
            esc(&t("kiosk-code-qr")),
        ));
    }
    body.push_str(&format!(
        "<table id=\"kiosks\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
        esc(&t("staff-col-name")),
        esc(&t("staff-col-event")),
        esc(&t("staff-col-status")),
        esc(&t("staff-col-last-seen")),
        esc(&t("kiosk-app-version")),
        esc(&t("staff-col-content")),
        esc(&t("staff-col-records")),
        esc(&t("staff-col-backlog")),
        esc(&t("kiosk-free-disk")),
    ));
    if admin {
        body.push_str(&format!(
            "<h2>{}</h2><form method=\"post\" action=\"/staff/kiosks\" class=\"filters\" id=\"kiosk-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">{}{}<div><button type=\"submit\">{}</button></div></form>",
            esc(&t("kiosk-new")),
            esc(&cx.csrf),
            input("name", &t("staff-col-name"), "text", ""),
            select("event", &t("staff-col-event"), "—", "", &event_opts),
            esc(&t("kiosk-create")),
        ));
    }
    Ok(cx.page(state, "staff-kiosks", "/staff", "/staff/kiosks", &body))
}

#[derive(Deserialize)]
struct NewKioskForm {
    name: String,
    #[serde(default)]
    event: String,
}

async fn create_kiosk(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<NewKioskForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let name: String = form.name.trim().chars().take(100).collect();
    if name.is_empty() {
        return Err(AppError::BadRequest(cx.t(&state, "kiosk-name-needed")));
    }
    let event = Some(form.event.trim().to_owned()).filter(|e| !e.is_empty());
    let storage = state.storage.clone();
    let (n, e) = (name.clone(), event.clone());
    let created =
        blocking(move || storage.create_kiosk(&n, e.as_deref(), protocol::now_ms())).await?;
    cx.audit(
        &state,
        AuditAction::KioskAdd,
        format!("{name} ({})", created.uuid),
    )
    .await?;
    let command = format!(
        "kiosk enrol --server {} --code {}",
        state.config.public_url, created.code
    );
    let qr = qrcode::QrCode::new(command.as_bytes())
        .map(|c| {
            let img = c
                .render::<image::Luma<u8>>()
                .quiet_zone(true)
                .min_dimensions(240, 240)
                .build();
            let mut png = Vec::new();
            let _ = image::DynamicImage::ImageLuma8(img)
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png);
            base64::engine::general_purpose::STANDARD.encode(png)
        })
        .unwrap_or_default();
    render_kiosks(&state, &cx, Some((name, created.code, qr))).await
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    event: String,
}

async fn assign_event(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let event = Some(form.event.trim().to_owned()).filter(|e| !e.is_empty());
    let storage = state.storage.clone();
    let e = event.clone();
    blocking(move || storage.set_kiosk_event(uuid, e.as_deref())).await?;
    cx.audit(
        &state,
        AuditAction::KioskEvent,
        format!("{uuid}: {event:?}"),
    )
    .await?;
    Ok(Redirect::to("/staff/kiosks").into_response())
}

async fn revoke(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    if form.confirm.trim() != "REVOKE" {
        return Ok(Redirect::to("/staff/kiosks").into_response());
    }
    let storage = state.storage.clone();
    blocking(move || storage.revoke_kiosk(uuid, protocol::now_ms())).await?;
    state.phone_cache.forget_kiosks();
    cx.audit(&state, AuditAction::Revoke, uuid.to_string())
        .await?;
    Ok(Redirect::to("/staff/kiosks").into_response())
}
