//! The staff pages about kiosks and content: create a kiosk and show its one-time enrolment
//! code (with a QR code of the enrolment command), assign it to an event, revoke it, see its
//! health; list the content versions, which one kiosks pull, which kiosks play which, and
//! publish an older one again. Changes are for administrators; every staff member can look.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::error::AppError;
use crate::leads::{ConfirmForm, Ctx, LangOnly, audit, blocking, ctx, input, select, to_login};
use crate::staff::{esc, when};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/kiosks", get(kiosks_page).post(create_kiosk))
        .route("/staff/kiosks/{id}/event", post(assign_event))
        .route("/staff/kiosks/{id}/revoke", post(revoke))
        .route("/staff/content", get(content_page))
        .route("/staff/content/publish", post(publish))
}

fn is_admin(cx: &Ctx) -> bool {
    cx.user.role == "admin"
}

fn mb(bytes: Option<i64>) -> String {
    bytes
        .map(|b| format!("{:.1} GB", b as f64 / 1e9))
        .unwrap_or_else(|| "—".into())
}

async fn kiosks_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangOnly>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
    render_kiosks(&state, &cx, None).await
}

/// The kiosks table; `created` shows a new kiosk's code once.
async fn render_kiosks(
    state: &AppState,
    cx: &Ctx,
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
    csrf: String,
    name: String,
    #[serde(default)]
    event: String,
}

async fn create_kiosk(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<NewKioskForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    if !is_admin(&cx) {
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
    audit(
        &state,
        &cx.user,
        "kiosk-add",
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
    csrf: String,
    #[serde(default)]
    event: String,
}

async fn assign_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    if !is_admin(&cx) {
        return Ok(cx.not_allowed(&state));
    }
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let event = Some(form.event.trim().to_owned()).filter(|e| !e.is_empty());
    let storage = state.storage.clone();
    let e = event.clone();
    blocking(move || storage.set_kiosk_event(uuid, e.as_deref())).await?;
    audit(
        &state,
        &cx.user,
        "kiosk-event",
        format!("{uuid}: {event:?}"),
    )
    .await?;
    Ok(Redirect::to("/staff/kiosks").into_response())
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    if !is_admin(&cx) {
        return Ok(cx.not_allowed(&state));
    }
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    if form.confirm.trim() != "REVOKE" {
        return Ok(Redirect::to("/staff/kiosks").into_response());
    }
    let storage = state.storage.clone();
    blocking(move || storage.revoke_kiosk(uuid, protocol::now_ms())).await?;
    state.phone_cache.forget_kiosks();
    audit(&state, &cx.user, "revoke", uuid.to_string()).await?;
    Ok(Redirect::to("/staff/kiosks").into_response())
}

async fn content_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangOnly>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
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
            let action = if is_admin(&cx) && !v.current {
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
                esc(&when(Some(v.created_ms))),
                esc(&when(v.published_ms)),
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
    csrf: String,
    version: String,
}

async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<PublishForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    if !is_admin(&cx) {
        return Ok(cx.not_allowed(&state));
    }
    let fleet = state.fleet.clone();
    let v = form.version.clone();
    let found = blocking(move || fleet.republish(&v, protocol::now_ms())).await?;
    if !found {
        return Err(AppError::NotFound);
    }
    audit(&state, &cx.user, "publish", form.version).await?;
    Ok(Redirect::to("/staff/content").into_response())
}
