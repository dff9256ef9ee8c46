//! The staff pages: log in (argon2 password hashes, an HttpOnly SameSite session cookie, CSRF
//! tokens on every form) and a dashboard of kiosks and what they recorded. Server-rendered
//! HTML in Vietnamese or English from the same Fluent files as the kiosk.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rand::Rng;
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::sqlite::sha256_hex;
use crate::storage::User;

const SESSION_COOKIE: &str = "promo_session";
const LOGIN_CSRF_COOKIE: &str = "promo_login_csrf";
pub(crate) const LANG_COOKIE: &str = "promo_lang";
const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
pub const ROLES: [&str; 2] = ["admin", "staff"];
/// The largest staff form body: no staff form needs more, so a 15 MB "email" never arrives.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(crate::leads::router())
        .merge(crate::reports::router())
        .merge(crate::visits::router())
        .merge(crate::fleet::router())
        .route("/staff", get(dashboard))
        .route("/staff/login", get(login_page).post(login))
        .route("/staff/logout", post(logout))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn random_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// `vi` unless the staff member chose English (query `?lang=` or the cookie).
pub(crate) fn staff_lang(headers: &HeaderMap, query: Option<&str>) -> &'static str {
    match query.or_else(|| cookie(headers, LANG_COOKIE)) {
        Some("en") => "en",
        _ => "vi",
    }
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,'Noto Sans',sans-serif;margin:0;background:#f4f6f7;color:#14262e}}\
         header{{background:#14262e;color:#fff;padding:12px 24px;display:flex;gap:16px;align-items:center}}\
         header a,header button{{color:#fff}} main{{padding:24px;max-width:1100px;margin:auto}}\
         table{{border-collapse:collapse;width:100%;background:#fff}} th,td{{padding:8px;border-bottom:1px solid #dde;text-align:left}}\
         .card{{background:#fff;padding:24px;border-radius:12px;max-width:420px;margin:48px auto}}\
         input{{display:block;width:100%;padding:10px;margin:6px 0 16px;box-sizing:border-box}}\
         button{{padding:10px 18px;background:#1f6f8b;color:#fff;border:0;border-radius:8px}}\
         nav{{display:flex;gap:14px;flex-wrap:wrap}} nav a.on{{font-weight:bold;text-decoration:none}}\
         .filters{{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px 16px;background:#fff;padding:16px;border-radius:12px}}\
         .filters input,.filters select{{margin:4px 0 0}} label{{font-size:14px}} select{{display:block;width:100%;padding:9px}}\
         textarea{{width:100%;min-height:90px}} .ok{{color:#1b6e35}} .muted{{color:#5a6b73}} .row{{display:flex;gap:12px;flex-wrap:wrap;align-items:center}}\
         .err{{color:#b00020}} .kinds{{display:flex;gap:16px;flex-wrap:wrap}} .kinds div{{background:#fff;padding:12px 18px;border-radius:8px}}\
         </style></head><body>{body}</body></html>",
        title = esc(title)
    )
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
            let until = when(q.until);
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

pub(crate) fn set_cookie(
    resp: &mut Response,
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) {
    let secure = if secure(state) { "; Secure" } else { "" };
    // A `__Host-` cookie must have path `/`.
    let path = if name.starts_with("__Host-") {
        "/"
    } else {
        path
    };
    let v = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
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

/// Compares two secrets in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::client_ip::ClientIp(ip): crate::client_ip::ClientIp,
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
    let net = crate::client_ip::limit_key(ip);
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
            Ok::<_, crate::storage::StorageError>(user.filter(|_| ok))
        })
        .await??
    };
    let Some(user) = user else {
        let staff = state.staff.clone();
        let locked = tokio::task::spawn_blocking(move || {
            let locked = staff.login_failed(&audit_email, now)?;
            staff.audit(None, "login_failed", &audit_email, now)?;
            if locked.is_some() {
                staff.audit(None, "login_locked", &audit_email, now)?;
            }
            Ok::<_, crate::storage::StorageError>(locked)
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
    let token = random_token();
    let csrf = random_token();
    let staff = state.staff.clone();
    let (uid, email) = (user.id, user.email.clone());
    let token_hash = sha256_hex(token.as_bytes());
    tokio::task::spawn_blocking(move || {
        staff.login_succeeded(uid)?;
        staff.create_session(uid, &token_hash, &csrf, now, now + SESSION_TTL_MS)?;
        staff.audit(Some(uid), "login", &email, now)
    })
    .await??;
    let mut resp = Redirect::to("/staff").into_response();
    set_cookie(
        &mut resp,
        &state,
        session_cookie(&state),
        &token,
        "/staff",
        SESSION_TTL_MS / 1000,
    );
    Ok(resp)
}

/// `__Host-` when the public URL is https: the browser then keeps the cookie to this host,
/// `Secure`, for path `/` (an http demo cannot use the prefix).
pub(crate) fn session_cookie(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-promo_session"
    } else {
        SESSION_COOKIE
    }
}

fn secure(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}

pub(crate) async fn current_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(User, String)>, AppError> {
    let Some(token) = cookie(headers, session_cookie(state)) else {
        return Ok(None);
    };
    let hash = sha256_hex(token.as_bytes());
    let staff = state.staff.clone();
    Ok(tokio::task::spawn_blocking(move || staff.session(&hash, protocol::now_ms())).await??)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let Some((user, csrf)) = current_user(&state, &headers).await? else {
        return Ok(Redirect::to("/staff/login").into_response());
    };
    if !same_secret(&csrf, &form.csrf) {
        return Err(AppError::Forbidden(
            "the form expired: reload the page and try again".into(),
        ));
    }
    let staff = state.staff.clone();
    let now = protocol::now_ms();
    // Signing out ends every session of the user, on every browser.
    tokio::task::spawn_blocking(move || {
        staff.end_sessions(user.id)?;
        staff.audit(Some(user.id), "logout", &user.email, now)
    })
    .await??;
    let mut resp = Redirect::to("/staff/login").into_response();
    set_cookie(&mut resp, &state, session_cookie(&state), "", "/staff", 0);
    Ok(resp)
}

/// The header of every signed-in page: the sections, the user, the language switch, sign-out.
pub(crate) fn nav(
    state: &AppState,
    lang: &str,
    user: &User,
    csrf: &str,
    active: &str,
    here: &str,
) -> String {
    let t = |id: &str| state.i18n.t(lang, id);
    let mut links = vec![
        ("/staff", "staff-nav-dashboard"),
        ("/staff/leads", "staff-nav-leads"),
        ("/staff/reports", "staff-nav-reports"),
        ("/staff/visits", "staff-nav-visits"),
        ("/staff/kiosks", "staff-nav-kiosks"),
        ("/staff/content", "staff-nav-content"),
        ("/staff/events", "staff-nav-events"),
        ("/staff/duplicates", "staff-nav-duplicates"),
        ("/staff/privacy", "staff-nav-privacy"),
    ];
    if user.role == "admin" {
        links.push(("/staff/audit", "staff-nav-audit"));
    }
    let links: String = links
        .into_iter()
        .map(|(href, id)| {
            format!(
                "<a href=\"{href}\"{}>{}</a>",
                if href == active { " class=\"on\"" } else { "" },
                esc(&t(id))
            )
        })
        .collect();
    let other = if lang == "vi" {
        ("en", "English")
    } else {
        ("vi", "Tiếng Việt")
    };
    // `ui`, not `lang`: on the leads page `lang` filters by the visitor's language.
    let sep = if here.contains('?') { '&' } else { '?' };
    format!(
        "<header><nav>{links}</nav><span>{who}</span><a href=\"{here}{sep}ui={olang}\">{oname}</a>\
         <form method=\"post\" action=\"/staff/logout\" style=\"margin-left:auto\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">{logout}</button></form></header>",
        who = esc(&format!("{} · {}", user.email, user.org)),
        here = esc(here),
        olang = other.0,
        oname = other.1,
        csrf = esc(csrf),
        logout = esc(&t("staff-logout")),
    )
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

/// The message id naming a record kind.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "view" => "staff-kind-view",
        "interaction" => "staff-kind-interaction",
        "language_selected" => "staff-kind-language-selected",
        "qr_shown" => "staff-kind-qr-shown",
        "lead" => "staff-kind-lead",
        "raw_scan" => "staff-kind-raw-scan",
        "session" => "staff-kind-session",
        "heartbeat" => "staff-kind-heartbeat",
        "visit" => "staff-kind-visit",
        _ => "staff-kind-unknown",
    }
}

pub(crate) fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "—".into())
}

async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let Some((user, csrf)) = current_user(&state, &headers).await? else {
        return Ok(Redirect::to("/staff/login").into_response());
    };
    let lang = staff_lang(&headers, q.lang.as_deref());
    let t = |id: &str| state.i18n.t(lang, id);
    let staff = state.staff.clone();
    let summary = tokio::task::spawn_blocking(move || staff.summary()).await??;
    let kinds: String = summary
        .kinds
        .iter()
        .map(|(k, n)| {
            format!(
                "<div><strong>{n}</strong><br>{}</div>",
                esc(&t(kind_label(k)))
            )
        })
        .collect();
    let rows: String = summary
        .kiosks
        .iter()
        .map(|k| {
            let status = if k.revoked {
                t("staff-kiosk-revoked")
            } else if k.enrolled {
                t("staff-kiosk-enrolled")
            } else {
                t("staff-kiosk-waiting")
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&k.name),
                esc(k.event_id.as_deref().unwrap_or("—")),
                esc(&status),
                esc(&when(k.last_seen_ms)),
                k.next_seq.saturating_sub(1),
                k.backlog.map(|b| b.to_string()).unwrap_or_else(|| "—".into()),
                esc(&match (&k.content_version, &k.content_error) {
                    (v, Some(e)) => format!("{} — {e}", v.as_deref().unwrap_or("—")),
                    (v, None) => v.clone().unwrap_or_else(|| "—".into()),
                }),
            )
        })
        .collect();
    let body = format!(
        "{nav}<main><h1>{title}</h1>\
         <h2>{records}</h2><div class=\"kinds\">{kinds}<div><strong>{opens}</strong><br>{opens_label}</div><div><strong>{leads}</strong><br>{leads_label}</div></div>\
         <h2>{kiosks}</h2><table><thead><tr><th>{c_name}</th><th>{c_event}</th><th>{c_status}</th><th>{c_seen}</th>\
         <th>{c_records}</th><th>{c_backlog}</th><th>{c_content}</th></tr></thead><tbody>{rows}</tbody></table></main>",
        title = esc(&t("staff-dashboard-title")),
        nav = nav(&state, lang, &user, &csrf, "/staff", "/staff"),
        records = esc(&t("staff-records")),
        leads = summary.leads,
        opens = summary.qr_opens,
        opens_label = esc(&t("staff-qr-opened")),
        leads_label = esc(&t("staff-leads")),
        kiosks = esc(&t("staff-kiosks")),
        c_name = esc(&t("staff-col-name")),
        c_event = esc(&t("staff-col-event")),
        c_status = esc(&t("staff-col-status")),
        c_seen = esc(&t("staff-col-last-seen")),
        c_records = esc(&t("staff-col-records")),
        c_backlog = esc(&t("staff-col-backlog")),
        c_content = esc(&t("staff-col-content")),
    );
    let mut resp = Html(page(lang, &t("staff-dashboard-title"), &body)).into_response();
    if q.lang.is_some() {
        set_cookie(
            &mut resp,
            &state,
            LANG_COOKIE,
            lang,
            "/staff",
            365 * 24 * 3600,
        );
    }
    Ok(resp)
}
