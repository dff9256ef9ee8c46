//! Two-step sign-in on the account page: each user turns the second factor (TOTP, any
//! authenticator app) on by scanning a QR code and entering a code from it, and off with their
//! password. Signing in then asks for a code ([`super::login`]); an admin's reset link turns it
//! off for someone who lost their phone. Audited.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{CsrfForm, StaffCtx, blocking};
use super::html::{esc, notice};
use crate::AppState;
use crate::error::AppError;
use crate::store::AuditAction;
use crate::totp;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/account/totp", get(setup_page).post(turn_on))
        .route("/staff/account/totp/off", post(turn_off))
}

/// The account page's section: on or off, and the way to change it.
pub(crate) async fn section(state: &AppState, cx: &StaffCtx) -> Result<String, AppError> {
    let t = |id: &str| cx.t(state, id);
    let body = if is_on(state, cx).await? {
        format!(
            "<p id=\"totp-state\">{}</p><form method=\"post\" action=\"/staff/account/totp/off\" id=\"totp-off-form\" style=\"max-width:420px\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>{}<input type=\"password\" name=\"current\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\">{}</button></form>",
            esc(&t("totp-on-text")),
            esc(&cx.csrf),
            esc(&t("totp-off-password")),
            esc(&t("totp-turn-off")),
        )
    } else {
        format!(
            "<p id=\"totp-state\">{}</p><p><a href=\"/staff/account/totp\" id=\"totp-set-up\">{}</a></p>",
            esc(&t("totp-off-text")),
            esc(&t("totp-set-up")),
        )
    };
    Ok(format!("<h2>{}</h2>{body}", esc(&t("totp-title"))))
}

async fn is_on(state: &AppState, cx: &StaffCtx) -> Result<bool, AppError> {
    let staff = state.staff.clone();
    let uid = cx.user.id;
    Ok(blocking(move || staff.totp_secret(uid)).await?.is_some())
}

/// A new secret to scan, with the form that proves the app has it.
async fn setup_page(State(state): State<AppState>, cx: StaffCtx) -> Result<Response, AppError> {
    if is_on(&state, &cx).await? {
        return Ok(Redirect::to("/staff/account").into_response());
    }
    Ok(render_setup(
        &state,
        &cx,
        &totp::new_secret(),
        String::new(),
        StatusCode::OK,
    ))
}

fn render_setup(
    state: &AppState,
    cx: &StaffCtx,
    secret: &str,
    top: String,
    status: StatusCode,
) -> Response {
    let t = |id: &str| cx.t(state, id);
    let uri = totp::otpauth_uri(secret, "promo-kiosk", &cx.user.email);
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    let body = format!(
        "{top}<p>{intro}</p><div id=\"totp-qr\" style=\"background:#fff;display:inline-block;padding:8px\">{qr}</div>\
         <p>{key_l}: <code id=\"totp-key\" style=\"font-size:18px\">{key}</code></p>\
         <form method=\"post\" action=\"/staff/account/totp\" id=\"totp-form\" style=\"max-width:420px\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"secret\" value=\"{secret}\">\
         <label>{code_l}<input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" required></label>\
         <button type=\"submit\">{confirm}</button></form><p><a href=\"/staff/account\">← {back}</a></p>",
        intro = esc(&t("totp-setup-intro")),
        key_l = esc(&t("totp-key")),
        key = esc(&totp::grouped(secret)),
        csrf = esc(&cx.csrf),
        secret = esc(secret),
        code_l = esc(&t("totp-code")),
        confirm = esc(&t("totp-confirm")),
        back = esc(&t("account-title")),
    );
    let mut r = cx.page(
        state,
        "totp-title",
        "/staff/account",
        "/staff/account/totp",
        &body,
    );
    *r.status_mut() = status;
    r
}

#[derive(Deserialize)]
struct OnForm {
    secret: String,
    code: String,
}

async fn turn_on(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<OnForm>,
) -> Result<Response, AppError> {
    // A second factor already on is changed only by turning it off first, with the password:
    // someone with a session alone cannot move it to their own phone.
    if is_on(&state, &cx).await? {
        return Ok(Redirect::to("/staff/account").into_response());
    }
    let secret = form.secret.trim().to_owned();
    if !totp::valid_secret(&secret) {
        return Err(AppError::BadRequest(
            "the key of the form is not a TOTP key: start again".into(),
        ));
    }
    let now_s = (protocol::now_ms() / 1000) as u64;
    let Some(step) = totp::matching_step(&secret, &form.code, now_s) else {
        let top = notice(false, &cx.t(&state, "totp-wrong"));
        return Ok(render_setup(
            &state,
            &cx,
            &secret,
            top,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let staff = state.staff.clone();
    let uid = cx.user.id;
    blocking(move || {
        staff.set_totp_secret(uid, Some(&secret))?;
        // The code just typed is spent: it cannot sign anyone in.
        staff.use_totp_step(uid, step as i64)?;
        // Sessions opened with the password alone end; this browser goes on.
        staff.end_sessions(uid)
    })
    .await?;
    cx.audit(&state, AuditAction::UserTotpOn, cx.user.email.clone())
        .await?;
    let mut resp = Redirect::to("/staff/account?done=totp-on").into_response();
    super::login::start_session(&state, cx.user.id, &mut resp).await?;
    Ok(resp)
}

#[derive(Deserialize)]
struct OffForm {
    current: String,
}

async fn turn_off(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<OffForm>,
) -> Result<Response, AppError> {
    let ok = super::login::current_password_ok(
        &state,
        &cx,
        form.current,
        "turning two-step sign-in off",
    )
    .await?;
    if !ok {
        return Ok(Redirect::to("/staff/account?done=wrong").into_response());
    }
    let staff = state.staff.clone();
    let uid = cx.user.id;
    blocking(move || staff.set_totp_secret(uid, None)).await?;
    cx.audit(&state, AuditAction::UserTotpOff, cx.user.email.clone())
        .await?;
    Ok(Redirect::to("/staff/account?done=totp-off").into_response())
}
