//! Signing in and out: argon2 password hashes, a double-submit CSRF cookie on the sign-in form,
//! per-network limits and account lockout, an HttpOnly SameSite session cookie.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::context::{
    Button, CsrfForm, LANG_COOKIE, StaffCtx, cookie, random_token, same_secret, session_cookie,
    set_cookie, staff_lang,
};
use super::html::{esc, page, when_in};
use crate::AppState;
use crate::error::AppError;
use crate::http::client_ip::{ClientIp, limit_key};
use crate::store::{AuditAction, StorageError, User, sha256_hex};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_page).post(login))
        .route("/staff/login/code", get(code_page).post(code))
        .route("/staff/logout", post(logout))
}

const LOGIN_CSRF_COOKIE: &str = "promo_login_csrf";

const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// The cookie of a sign-in waiting for its second factor, and how long it waits.
const CHALLENGE_COOKIE: &str = "promo_login_code";
const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub(super) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The argon2 hash of a new password, made when the login gate lets it (19 MiB a hash).
pub(super) async fn hash_new_password(
    state: &AppState,
    password: String,
) -> Result<String, AppError> {
    let _permit = state
        .login_gate
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await?
        .map_err(AppError::Internal)
}

/// Whether `password` is the signed-in user's own (argon2 verifications wait their turn at
/// the login gate); a wrong one is audited as a failed sign-in, saying what it was for.
pub(super) async fn current_password_ok(
    state: &AppState,
    cx: &StaffCtx,
    password: String,
    what_for: &str,
) -> Result<bool, AppError> {
    let _permit = state
        .login_gate
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let hash = cx.user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await?;
    if !ok {
        // Guessing from an open session counts as guessing at the sign-in form: the same
        // lockout, and a locked account's sessions end.
        let staff = state.staff.clone();
        let (uid, email) = (cx.user.id, cx.user.email.clone());
        let detail = format!("{email} ({what_for})");
        tokio::task::spawn_blocking(move || {
            let now = protocol::now_ms();
            staff.audit(Some(uid), AuditAction::LoginFailed, &detail, now)?;
            if staff.login_failed(&email, now)?.is_some() {
                staff.audit(None, AuditAction::LoginLocked, &email, now)?;
                staff.end_sessions(uid)?;
            }
            Ok::<_, StorageError>(())
        })
        .await??;
    }
    Ok(ok)
}

#[derive(Deserialize)]
struct LangQuery {
    #[serde(alias = "ui")]
    lang: Option<String>,
    error: Option<String>,
    until: Option<i64>,
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = staff_lang(&headers, q.lang.as_deref());
    let t = |id: &str| state.i18n.t(lang, id);
    let csrf = random_token();
    let error = match q.error.as_deref() {
        None => String::new(),
        Some("locked") => {
            let until = when_in(lang, q.until);
            format!(
                "<p class=\"err\" id=\"locked\">{}</p>",
                esc(&state
                    .i18n
                    .t_args(lang, "staff-login-locked", &[("until", &until)]))
            )
        }
        Some("busy") => format!("<p class=\"err\">{}</p>", esc(&t("staff-login-too-many"))),
        Some(_) => format!("<p class=\"err\">{}</p>", esc(&t("staff-login-failed"))),
    };
    let other = if lang == "vi" {
        ("en", "English")
    } else {
        ("vi", "Tiếng Việt")
    };
    let body = format!(
        "<div class=\"card\"><h1>{title}</h1>{error}\
         <form method=\"post\" action=\"/staff/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{email}<input name=\"email\" type=\"email\" autocomplete=\"username\" maxlength=\"254\" required></label>\
         <label>{password}<input name=\"password\" type=\"password\" autocomplete=\"current-password\" maxlength=\"1024\" required></label>\
         <button type=\"submit\">{submit}</button></form>\
         <p><a href=\"/staff/login?lang={olang}\">{oname}</a></p></div>",
        title = esc(&t("staff-login-title")),
        email = esc(&t("staff-email")),
        password = esc(&t("staff-password")),
        submit = esc(&t("staff-login")),
        olang = other.0,
        oname = other.1,
    );
    let mut resp = Html(page(lang, &t("staff-login-title"), &body)).into_response();
    set_cookie(
        &mut resp,
        &state,
        LOGIN_CSRF_COOKIE,
        &csrf,
        "/staff/login",
        600,
    );
    set_cookie(
        &mut resp,
        &state,
        LANG_COOKIE,
        lang,
        "/staff",
        365 * 24 * 3600,
    );
    resp
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

/// The longest email and password a sign-in reads: longer ones fail without any work.
const EMAIL_MAX: usize = 254;

const PASSWORD_MAX: usize = 1024;

/// A hash of a password nobody has: an unknown email is verified against it, so that it costs
/// what a known one costs and timing does not tell which emails have accounts.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&random_token()).unwrap_or_default());

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    // Double-submit: the form's token must match the cookie set with the form.
    let cookie_csrf = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !same_secret(cookie_csrf, &form.csrf) {
        return Err(AppError::Forbidden(
            "the login form expired: reload the page and try again".into(),
        ));
    }
    let now = protocol::now_ms();
    let net = limit_key(ip);
    // Per network: 20 tries in 10 minutes, then a page that says to wait.
    if !state.limiter.allow(&format!("login:{net}"), 20, 600, now) {
        tracing::warn!(client = %net, "sign-in flood refused");
        return Ok(Redirect::to("/staff/login?error=busy").into_response());
    }
    let email: String = form.email.trim().chars().take(EMAIL_MAX + 1).collect();
    let too_long = email.chars().count() > EMAIL_MAX || form.password.len() > PASSWORD_MAX;
    let audit_email: String = email.chars().take(EMAIL_MAX).collect();
    let staff = state.staff.clone();
    let e = email.clone();
    if let Some(until) = tokio::task::spawn_blocking(move || staff.locked_until(&e, now)).await?? {
        return Ok(
            Redirect::to(&format!("/staff/login?error=locked&until={until}")).into_response(),
        );
    }
    let user: Option<User> = if too_long {
        None
    } else {
        // argon2 takes 19 MiB a verification: two at a time, whatever the crowd.
        let _permit = state
            .login_gate
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let staff = state.staff.clone();
        let password = form.password;
        let e = email.clone();
        tokio::task::spawn_blocking(move || {
            let user = staff.user_by_email(&e)?;
            let hash = user
                .as_ref()
                .map(|u| u.password_hash.as_str())
                .unwrap_or(DUMMY_HASH.as_str());
            let ok = verify_password(&password, hash);
            Ok::<_, StorageError>(user.filter(|_| ok))
        })
        .await??
    };
    let Some(user) = user else {
        let staff = state.staff.clone();
        let locked = tokio::task::spawn_blocking(move || {
            let locked = staff.login_failed(&audit_email, now)?;
            staff.audit(None, AuditAction::LoginFailed, &audit_email, now)?;
            if locked.is_some() {
                staff.audit(None, AuditAction::LoginLocked, &audit_email, now)?;
            }
            Ok::<_, StorageError>(locked)
        })
        .await??;
        // A growing pause per network makes guessing slow without holding a worker.
        let fails = state
            .limiter
            .count(&format!("login-failed:{net}"), 600, now);
        let pause = (100 * u64::from(fails.saturating_sub(3))).min(2_000);
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        if let Some(until) = locked {
            return Ok(
                Redirect::to(&format!("/staff/login?error=locked&until={until}")).into_response(),
            );
        }
        return Ok(Redirect::to("/staff/login?error=1").into_response());
    };
    let staff = state.staff.clone();
    let uid = user.id;
    if tokio::task::spawn_blocking(move || staff.totp_secret(uid))
        .await??
        .is_some()
    {
        // The password was right; the code is still due. Not a session: the cookie reaches
        // nothing but the code form, for five minutes.
        let token = random_token();
        let hash = sha256_hex(token.as_bytes());
        let staff = state.staff.clone();
        tokio::task::spawn_blocking(move || {
            staff.create_login_challenge(&hash, uid, now, now + CHALLENGE_TTL_MS)
        })
        .await??;
        let mut resp = Redirect::to("/staff/login/code").into_response();
        set_cookie(
            &mut resp,
            &state,
            CHALLENGE_COOKIE,
            &token,
            "/staff/login",
            CHALLENGE_TTL_MS / 1000,
        );
        return Ok(resp);
    }
    signed_in(&state, &user, "", now).await
}

/// The sign-in is complete: failures forgotten, audited, a session opened.
async fn signed_in(
    state: &AppState,
    user: &User,
    how: &str,
    now: i64,
) -> Result<Response, AppError> {
    let staff = state.staff.clone();
    let (uid, detail) = (user.id, format!("{}{how}", user.email));
    tokio::task::spawn_blocking(move || {
        staff.login_succeeded(uid)?;
        staff.audit(Some(uid), AuditAction::Login, &detail, now)
    })
    .await??;
    let mut resp = Redirect::to("/staff").into_response();
    start_session(state, uid, &mut resp).await?;
    Ok(resp)
}

#[derive(Deserialize)]
struct CodeQuery {
    #[serde(alias = "ui")]
    lang: Option<String>,
    error: Option<String>,
}

/// The account a sign-in waiting for its code is for, from its cookie.
async fn challenged(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, User)>, AppError> {
    let Some(token) = cookie(headers, CHALLENGE_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let hash = sha256_hex(token.as_bytes());
    let staff = state.staff.clone();
    let h = hash.clone();
    let user = tokio::task::spawn_blocking(move || staff.login_challenge(&h, protocol::now_ms()))
        .await??;
    Ok(user.map(|u| (hash, u)))
}

async fn code_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CodeQuery>,
) -> Result<Response, AppError> {
    if challenged(&state, &headers).await?.is_none() {
        return Ok(Redirect::to("/staff/login").into_response());
    }
    let lang = staff_lang(&headers, q.lang.as_deref());
    let t = |id: &str| state.i18n.t(lang, id);
    let error = if q.error.is_some() {
        format!(
            "<p class=\"err\" id=\"code-error\">{}</p>",
            esc(&t("login-code-wrong"))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<div class=\"card\"><h1>{title}</h1>{error}<p>{intro}</p>\
         <form method=\"post\" action=\"/staff/login/code\" id=\"code-form\">\
         <label>{label}<input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" pattern=\"[0-9 ]*\" required autofocus></label>\
         <button type=\"submit\">{submit}</button></form><p class=\"muted\">{lost}</p></div>",
        title = esc(&t("login-code-title")),
        intro = esc(&t("login-code-intro")),
        label = esc(&t("totp-code")),
        submit = esc(&t("login-code-submit")),
        lost = esc(&t("login-code-lost")),
    );
    Ok(Html(page(lang, &t("login-code-title"), &body)).into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

/// The second factor: a code of the account's app, each 30-second step taken once. A wrong
/// code counts as a failed sign-in (the same lockout as passwords).
async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let now = protocol::now_ms();
    let net = limit_key(ip);
    if !state.limiter.allow(&format!("login:{net}"), 20, 600, now) {
        tracing::warn!(client = %net, "sign-in code flood refused");
        return Ok(Redirect::to("/staff/login?error=busy").into_response());
    }
    let Some((challenge, user)) = challenged(&state, &headers).await? else {
        return Ok(Redirect::to("/staff/login").into_response());
    };
    let staff = state.staff.clone();
    let (uid, email, code) = (user.id, user.email.clone(), form.code);
    let (ok, locked) = tokio::task::spawn_blocking(move || {
        if let Some(until) = staff.locked_until(&email, now)? {
            staff.end_login_challenge(&challenge)?;
            return Ok((false, Some(until)));
        }
        let step = staff
            .totp_secret(uid)?
            .and_then(|s| crate::totp::matching_step(&s, &code, (now / 1000) as u64));
        if let Some(step) = step
            && staff.use_totp_step(uid, step as i64)?
        {
            staff.end_login_challenge(&challenge)?;
            return Ok((true, None));
        }
        let locked = staff.login_failed(&email, now)?;
        staff.audit(
            Some(uid),
            AuditAction::LoginFailed,
            &format!("{email} (code)"),
            now,
        )?;
        if locked.is_some() {
            staff.audit(None, AuditAction::LoginLocked, &email, now)?;
            staff.end_login_challenge(&challenge)?;
        }
        Ok::<_, StorageError>((false, locked))
    })
    .await??;
    if let Some(until) = locked {
        return Ok(
            Redirect::to(&format!("/staff/login?error=locked&until={until}")).into_response(),
        );
    }
    if !ok {
        return Ok(Redirect::to("/staff/login/code?error=1").into_response());
    }
    let mut resp = signed_in(&state, &user, " (code)", now).await?;
    set_cookie(&mut resp, &state, CHALLENGE_COOKIE, "", "/staff/login", 0);
    Ok(resp)
}

/// Opens a new session for the user and sets its cookie on `resp` (at sign-in, and for the
/// browser that changed the password, whose old session ended with all the others).
pub(super) async fn start_session(
    state: &AppState,
    user_id: i64,
    resp: &mut Response,
) -> Result<(), AppError> {
    let now = protocol::now_ms();
    let token = random_token();
    let csrf = random_token();
    let staff = state.staff.clone();
    let token_hash = sha256_hex(token.as_bytes());
    tokio::task::spawn_blocking(move || {
        staff.create_session(user_id, &token_hash, &csrf, now, now + SESSION_TTL_MS)
    })
    .await??;
    set_cookie(
        resp,
        state,
        session_cookie(state),
        &token,
        "/staff",
        SESSION_TTL_MS / 1000,
    );
    Ok(())
}

/// Signing out ends every session of the user, on every browser.
async fn logout(
    State(state): State<AppState>,
    cx: StaffCtx,
    _: CsrfForm<Button>,
) -> Result<Response, AppError> {
    let staff = state.staff.clone();
    let now = protocol::now_ms();
    let user = cx.user;
    tokio::task::spawn_blocking(move || {
        staff.end_sessions(user.id)?;
        staff.audit(Some(user.id), AuditAction::Logout, &user.email, now)
    })
    .await??;
    let mut resp = Redirect::to("/staff/login").into_response();
    set_cookie(&mut resp, &state, session_cookie(&state), "", "/staff", 0);
    Ok(resp)
}
