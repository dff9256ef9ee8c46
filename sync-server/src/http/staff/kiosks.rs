//! The kiosks: create one and show its enrolment code once, assign it to an event, give it
//! settings (idle timeout, languages, the attract loop's item duration, a new staff PIN), revoke
//! it. Settings and the event reach the kiosk in the answer to its next sync round.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

use super::context::{ConfirmForm, CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::{esc, input, notice, select};
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, KioskInfo, Liveness, liveness};
use protocol::sync::KioskSettings;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/kiosks", get(kiosks_page).post(create_kiosk))
        .route("/staff/kiosks/{id}", get(kiosk_page))
        .route("/staff/kiosks/{id}/event", post(assign_event))
        .route("/staff/kiosks/{id}/settings", post(save_settings))
        .route("/staff/kiosks/{id}/screenshot", post(ask_screenshot))
        .route("/staff/kiosks/{id}/screenshot.jpg", get(screenshot_jpeg))
        .route("/staff/kiosks/{id}/revoke", post(revoke))
}

fn is_admin(cx: &StaffCtx) -> bool {
    cx.is_admin()
}

/// A kiosk is late or offline by the server's configuration (`fleet_*_seconds`).
pub(super) fn liveness_of(state: &AppState, k: &KioskInfo, now_ms: i64) -> Liveness {
    if k.revoked || !k.enrolled {
        return Liveness::Never;
    }
    liveness(
        k,
        now_ms,
        i64::from(state.config.fleet_late_seconds) * 1000,
        i64::from(state.config.fleet_offline_seconds) * 1000,
    )
}

/// The status cell of a kiosk: revoked, waiting for enrolment, or online / late / offline with
/// the time it was last heard from.
pub(super) fn status_cell(state: &AppState, cx: &StaffCtx, k: &KioskInfo, now_ms: i64) -> String {
    let (class, text) = if k.revoked {
        ("revoked", cx.t(state, "staff-kiosk-revoked"))
    } else if !k.enrolled {
        ("waiting", cx.t(state, "staff-kiosk-waiting"))
    } else {
        match liveness_of(state, k, now_ms) {
            Liveness::Never => ("never", cx.t(state, "kiosk-never-heard")),
            Liveness::Online => ("online", cx.t(state, "kiosk-online")),
            Liveness::Late(since) => (
                "late",
                cx.t_args(state, "kiosk-late", &[("since", &cx.when(Some(since)))]),
            ),
            Liveness::Offline(since) => (
                "offline",
                cx.t_args(state, "kiosk-offline", &[("since", &cx.when(Some(since)))]),
            ),
        }
    };
    format!(
        "<td class=\"live live-{class}\" data-live=\"{class}\">{}</td>",
        esc(&text)
    )
}

/// An event as the kiosk pages name it: its name and its id.
fn event_label(e: &crate::store::EventRow) -> String {
    format!("{} ({})", e.name, e.id)
}

/// The choice of an event for a kiosk (`—`: none).
fn event_select(
    cx: &StaffCtx,
    state: &AppState,
    current: Option<&str>,
    events: &[crate::store::EventRow],
) -> String {
    let options: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.id.clone(), event_label(e)))
        .collect();
    select(
        "event",
        &cx.t(state, "staff-col-event"),
        "—",
        current.unwrap_or(""),
        &options,
    )
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
    let admin = is_admin(cx);
    let now = protocol::now_ms();
    let rows: String = kiosks
        .iter()
        .map(|k| {
            let status = status_cell(state, cx, k, now);
            let actions = if admin && !k.revoked {
                format!(
                    "<form method=\"post\" action=\"/staff/kiosks/{id}/event\" class=\"row\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{sel}<button type=\"submit\">{assign}</button></form>\
                     <form method=\"post\" action=\"/staff/kiosks/{id}/revoke\" class=\"row revoke\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><label>{confirm}<input name=\"confirm\" autocomplete=\"off\"></label>\
                     <button type=\"submit\" style=\"background:#b00020\">{revoke}</button></form>",
                    id = k.uuid,
                    csrf = esc(&cx.csrf),
                    sel = event_select(cx, state, k.event_id.as_deref(), &events),
                    assign = esc(&t("kiosk-assign")),
                    confirm = esc(&t("kiosk-revoke-confirm")),
                    revoke = esc(&t("kiosk-revoke")),
                )
            } else {
                String::new()
            };
            format!(
                "<tr data-kiosk=\"{}\"><td><a href=\"/staff/kiosks/{}\">{}</a></td><td>{}</td>{status}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>",
                k.uuid,
                k.uuid,
                esc(&k.name),
                esc(k.event_id.as_deref().unwrap_or("—")),
                esc(&cx.when(k.last_contact_ms.max(k.last_seen_ms))),
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
            event_select(cx, state, None, &events),
            esc(&t("kiosk-create")),
        ));
    }
    Ok(cx.page(
        state,
        "staff-kiosks",
        "/staff/kiosks",
        "/staff/kiosks",
        &body,
    ))
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
    /// `kiosk`: back to the kiosk's own page.
    #[serde(default)]
    back: Option<String>,
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
    let back = if form.back.as_deref() == Some("kiosk") {
        format!("/staff/kiosks/{uuid}?done=event")
    } else {
        "/staff/kiosks".to_owned()
    };
    Ok(Redirect::to(&back).into_response())
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

/// One kiosk: what it last reported, and the settings staff give it.
async fn kiosk_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let t = |id: &str| cx.t(&state, id);
    let storage = state.storage.clone();
    let leads = state.leads.clone();
    let fleet = state.fleet.clone();
    let (kiosks, events, manifest, targets, versions) = blocking(move || {
        Ok((
            storage.kiosks()?,
            leads.events()?,
            storage.current_manifest()?,
            fleet.event_contents()?,
            fleet.content_versions()?,
        ))
    })
    .await?;
    let k = kiosks
        .into_iter()
        .find(|k| k.uuid == uuid)
        .ok_or(AppError::NotFound)?;
    let s = &k.settings;
    let event_name = |id: &str| {
        events
            .iter()
            .find(|e| e.id == id)
            .map(event_label)
            .unwrap_or_else(|| id.to_owned())
    };
    let mut body = String::new();
    if let Some("saved" | "event") = q.done.as_deref() {
        body.push_str(&notice(true, &t("kiosk-settings-saved")));
    }
    let facts = [
        (
            t("staff-col-event"),
            k.event_id
                .as_deref()
                .map(event_name)
                .unwrap_or_else(|| "—".into()),
        ),
        (
            t("staff-col-last-seen"),
            cx.when(k.last_contact_ms.max(k.last_seen_ms)),
        ),
        (
            t("kiosk-app-version"),
            k.app_version.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            t("staff-col-content"),
            k.content_version.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            // What it should play: its event's own version, or the default.
            t("kiosk-content-published"),
            k.event_id
                .as_deref()
                .and_then(|e| targets.iter().find(|t| t.event_id == e))
                .map(|t| t.version.clone())
                .or_else(|| {
                    versions
                        .iter()
                        .find(|v| v.current)
                        .map(|v| v.version.clone())
                })
                .unwrap_or_else(|| "—".into()),
        ),
        (
            t("staff-col-backlog"),
            k.backlog
                .map(|b| b.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        (t("kiosk-free-disk"), mb(k.free_disk_bytes)),
        (t("kiosk-settings-revision"), s.revision.to_string()),
    ];
    body.push_str(&format!(
        "<table id=\"kiosk-facts\"><tbody><tr><th>{}</th>{}</tr>",
        esc(&t("staff-col-status")),
        status_cell(&state, &cx, &k, protocol::now_ms())
    ));
    for (label, value) in facts {
        body.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&label),
            esc(&value)
        ));
    }
    body.push_str("</tbody></table>");
    if !k.revoked && k.enrolled {
        body.push_str(&format!("<h2>{}</h2>", esc(&t("kiosk-screen"))));
        if let Some(taken) = k.screenshot_ms {
            body.push_str(&format!(
                "<figure style=\"margin:0\"><img id=\"screenshot\" src=\"/staff/kiosks/{uuid}/screenshot.jpg?t={taken}\" \
                 alt=\"{alt}\" style=\"max-width:100%;border:1px solid #dde\"><figcaption class=\"muted\" id=\"screenshot-time\">{at}</figcaption></figure>",
                alt = esc(&t("kiosk-screen")),
                at = esc(&cx.t_args(&state, "kiosk-screenshot-at", &[("at", &cx.when(Some(taken)))])),
            ));
        }
        if let Some(asked) = k.screenshot_requested_ms {
            body.push_str(&format!(
                "<p class=\"muted\" id=\"screenshot-asked\">{}</p>",
                esc(&cx.t_args(
                    &state,
                    "kiosk-screenshot-asked",
                    &[("at", &cx.when(Some(asked)))]
                ))
            ));
        }
        body.push_str(&format!(
            "<form method=\"post\" action=\"/staff/kiosks/{uuid}/screenshot\" id=\"screenshot-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">{}</button></form>",
            esc(&cx.csrf),
            esc(&t("kiosk-screenshot-ask")),
        ));
    }
    if cx.is_admin() && !k.revoked {
        let num = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        let pack_langs = manifest
            .as_ref()
            .map(|m| m.pack.languages.join(", "))
            .unwrap_or_default();
        body.push_str(&format!(
            "<h2>{event_h}</h2><form method=\"post\" action=\"/staff/kiosks/{uuid}/event\" class=\"filters\" id=\"event-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"back\" value=\"kiosk\">\
             {sel}<div><button type=\"submit\">{assign}</button></div></form>\
             <h2>{settings_h}</h2><p class=\"muted\">{intro}</p>\
             <form method=\"post\" action=\"/staff/kiosks/{uuid}/settings\" class=\"filters\" id=\"settings-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>{idle}<input type=\"number\" name=\"idle_seconds\" min=\"{idle_min}\" max=\"{idle_max}\" value=\"{idle_v}\"></label>\
             <label>{langs}<input type=\"text\" name=\"languages\" value=\"{langs_v}\" placeholder=\"{pack_langs}\"></label>\
             <label>{item}<input type=\"number\" name=\"attract_item_seconds\" min=\"{item_min}\" max=\"{item_max}\" value=\"{item_v}\"></label>\
             <label>{pin}<input type=\"password\" name=\"pin\" inputmode=\"numeric\" autocomplete=\"new-password\"></label>\
             <div><button type=\"submit\">{save}</button></div></form>",
            event_h = esc(&t("staff-col-event")),
            csrf = esc(&cx.csrf),
            sel = event_select(&cx, &state, k.event_id.as_deref(), &events),
            assign = esc(&t("kiosk-assign")),
            settings_h = esc(&t("kiosk-settings")),
            intro = esc(&cx.t_args(
                &state,
                "kiosk-settings-intro",
                &[("languages", pack_langs.as_str())]
            )),
            idle = esc(&t("kiosk-idle-seconds")),
            idle_min = KioskSettings::MIN_IDLE_SECONDS,
            idle_max = KioskSettings::MAX_IDLE_SECONDS,
            idle_v = num(s.idle_seconds),
            langs = esc(&t("kiosk-languages")),
            langs_v = esc(&s.languages.as_deref().map(|l| l.join(", ")).unwrap_or_default()),
            pack_langs = esc(&pack_langs),
            item = esc(&t("kiosk-attract-seconds")),
            item_min = KioskSettings::MIN_ITEM_SECONDS,
            item_max = KioskSettings::MAX_ITEM_SECONDS,
            item_v = num(s.attract_item_seconds),
            pin = esc(&t("kiosk-new-pin")),
            save = esc(&t("kiosk-settings-save")),
        ));
    }
    Ok(cx.page_titled(
        &state,
        &format!("{} — {}", t("staff-kiosk"), k.name),
        "/staff/kiosks",
        &format!("/staff/kiosks/{uuid}"),
        "",
        &body,
    ))
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    idle_seconds: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    attract_item_seconds: String,
    #[serde(default)]
    pin: String,
}

/// What a settings form asks for, checked: the message id of the first problem.
fn parse_settings(
    form: &SettingsForm,
    current: &KioskSettings,
    known_languages: Option<&[String]>,
) -> Result<KioskSettings, &'static str> {
    let number = |v: &str, min: u32, max: u32| -> Result<Option<u32>, ()> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(()),
        }
    };
    let idle_seconds = number(
        &form.idle_seconds,
        KioskSettings::MIN_IDLE_SECONDS,
        KioskSettings::MAX_IDLE_SECONDS,
    )
    .map_err(|_| "kiosk-idle-invalid")?;
    let attract_item_seconds = number(
        &form.attract_item_seconds,
        KioskSettings::MIN_ITEM_SECONDS,
        KioskSettings::MAX_ITEM_SECONDS,
    )
    .map_err(|_| "kiosk-attract-invalid")?;
    let mut languages: Vec<String> = Vec::new();
    for l in form
        .languages
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let ok = match known_languages {
            Some(known) => known.iter().any(|k| k == l),
            None => l.len() <= 16 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        };
        if !ok {
            return Err("kiosk-languages-invalid");
        }
        if !languages.iter().any(|x| x == l) {
            languages.push(l.to_owned());
        }
    }
    let pin = form.pin.trim();
    let staff_pin_hash = if pin.is_empty() {
        current.staff_pin_hash.clone()
    } else if (4..=12).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit()) {
        Some(super::login::hash_password(pin).map_err(|_| "kiosk-pin-invalid")?)
    } else {
        return Err("kiosk-pin-invalid");
    };
    Ok(KioskSettings {
        revision: current.revision,
        event_id: current.event_id.clone(),
        idle_seconds,
        languages: (!languages.is_empty()).then_some(languages),
        attract_item_seconds,
        staff_pin_hash,
    })
}

async fn save_settings(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let storage = state.storage.clone();
    let (kiosks, manifest) =
        blocking(move || Ok((storage.kiosks()?, storage.current_manifest()?))).await?;
    let k = kiosks
        .into_iter()
        .find(|k| k.uuid == uuid)
        .ok_or(AppError::NotFound)?;
    let known = manifest.map(|m| m.pack.languages);
    // argon2 takes a while: off the async workers.
    let current = k.settings.clone();
    let settings =
        tokio::task::spawn_blocking(move || parse_settings(&form, &current, known.as_deref()))
            .await?
            .map_err(|id| AppError::BadRequest(cx.t(&state, id)))?;
    let pin_changed = settings.staff_pin_hash != k.settings.staff_pin_hash;
    let storage = state.storage.clone();
    let to_store = settings.clone();
    let revision = blocking(move || storage.set_kiosk_settings(uuid, &to_store)).await?;
    cx.audit(
        &state,
        AuditAction::KioskSettings,
        format!(
            "{uuid} revision {revision}: idle={:?} languages={:?} attract_item={:?} pin={}",
            settings.idle_seconds,
            settings.languages,
            settings.attract_item_seconds,
            if pin_changed { "changed" } else { "unchanged" }
        ),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/kiosks/{uuid}?done=saved")).into_response())
}

/// Asks the kiosk for a picture of its screen with its next sync round.
async fn ask_screenshot(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<super::context::Button>,
) -> Result<Response, AppError> {
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let fleet = state.fleet.clone();
    blocking(move || fleet.request_screenshot(uuid, protocol::now_ms())).await?;
    cx.audit(&state, AuditAction::KioskScreenshot, uuid.to_string())
        .await?;
    Ok(Redirect::to(&format!("/staff/kiosks/{uuid}")).into_response())
}

/// The newest screenshot of a kiosk, to staff only (it shows what visitors saw).
async fn screenshot_jpeg(
    State(state): State<AppState>,
    _cx: StaffCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let uuid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let fleet = state.fleet.clone();
    let (_, jpeg) = blocking(move || fleet.screenshot(uuid))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/jpeg"),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        jpeg,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(idle: &str, langs: &str, item: &str, pin: &str) -> SettingsForm {
        SettingsForm {
            idle_seconds: idle.into(),
            languages: langs.into(),
            attract_item_seconds: item.into(),
            pin: pin.into(),
        }
    }

    #[test]
    fn settings_forms_are_checked() {
        let known: Vec<String> = ["vi", "en", "ko"].iter().map(|s| s.to_string()).collect();
        let cur = KioskSettings {
            revision: 4,
            event_id: Some("fair".into()),
            staff_pin_hash: Some("old".into()),
            ..Default::default()
        };
        let s = parse_settings(&form("30", "ko, en ko", "", ""), &cur, Some(&known)).unwrap();
        assert_eq!(s.idle_seconds, Some(30));
        assert_eq!(s.languages, Some(vec!["ko".into(), "en".into()]));
        assert_eq!(s.attract_item_seconds, None);
        assert_eq!(s.event_id.as_deref(), Some("fair"), "the event is kept");
        assert_eq!(
            s.staff_pin_hash.as_deref(),
            Some("old"),
            "no PIN typed: kept"
        );
        let bad = |f: SettingsForm| parse_settings(&f, &cur, Some(&known)).unwrap_err();
        assert_eq!(bad(form("5", "", "", "")), "kiosk-idle-invalid");
        assert_eq!(bad(form("abc", "", "", "")), "kiosk-idle-invalid");
        assert_eq!(bad(form("", "", "9999", "")), "kiosk-attract-invalid");
        assert_eq!(bad(form("", "fr", "", "")), "kiosk-languages-invalid");
        assert_eq!(bad(form("", "", "", "12a4")), "kiosk-pin-invalid");
        assert_eq!(bad(form("", "", "", "123")), "kiosk-pin-invalid");
        let with_pin = parse_settings(&form("", "", "", "2468"), &cur, Some(&known)).unwrap();
        let hash = with_pin.staff_pin_hash.unwrap();
        assert!(hash.starts_with("$argon2"), "{hash}");
    }
}
