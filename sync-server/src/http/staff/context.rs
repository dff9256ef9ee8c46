//! What every signed-in staff page needs: the session ([`StaffCtx`], an extractor that signs the
//! user in from the session cookie or redirects to the sign-in page), forms checked against
//! the session's CSRF token ([`CsrfForm`]), the staff member's language, cookies, and running
//! storage calls on the blocking pool ([`blocking`], [`audit`]).
//!
//! "Where is the staff session checked?" Here, in [`StaffCtx::from_request_parts`], and nowhere
//! else: a handler that takes a `StaffCtx` cannot run for someone signed out.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rand::Rng;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::html::{esc, nav, page};
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, Role, Scope, StorageError, User, sha256_hex};

const SESSION_COOKIE: &str = "promo_session";
pub(crate) const LANG_COOKIE: &str = "promo_lang";

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

pub(crate) fn random_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// `vi` unless the staff member chose English (the query's choice, else the cookie).
pub(crate) fn staff_lang(headers: &HeaderMap, query: Option<&str>) -> &'static str {
    match query.or_else(|| cookie(headers, LANG_COOKIE)) {
        Some("en") => "en",
        _ => "vi",
    }
}

/// The interface language a query asks for: `ui=`, else `lang=` — except on the leads table
/// and its export, where `lang` filters by the visitor's language.
fn ui_lang_of(parts: &Parts) -> Option<String> {
    let pairs: Vec<(String, String)> = parts
        .uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let lang_filters = matches!(parts.uri.path(), "/staff/leads" | "/staff/leads/export");
    get("ui").or_else(|| if lang_filters { None } else { get("lang") })
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

/// Compares two secrets in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    state.config.public_url.starts_with("https://") || state.config.tls.is_some()
}

/// The user and CSRF token of the request's live session, if any.
async fn current_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(User, String)>, AppError> {
    let Some(token) = cookie(headers, session_cookie(state)) else {
        return Ok(None);
    };
    let hash = sha256_hex(token.as_bytes());
    let staff = state.staff.clone();
    blocking(move || staff.session(&hash, protocol::now_ms())).await
}

/// The signed-in staff member: their account, the session's CSRF token, what they may see, and
/// the language of their pages.
///
/// As an extractor it checks the session cookie (a use keeps the session alive); someone
/// signed out is sent to the sign-in page and the handler never runs.
#[derive(Clone)]
pub(crate) struct StaffCtx {
    pub(crate) user: User,
    pub(crate) csrf: String,
    pub(crate) scope: Scope,
    pub(crate) lang: &'static str,
    /// The language was chosen in this request: remember it in the cookie.
    switched: bool,
}

impl FromRequestParts<AppState> for StaffCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(cx) = parts.extensions.get::<StaffCtx>() {
            return Ok(cx.clone());
        }
        let Some((user, csrf)) = current_user(state, &parts.headers)
            .await
            .map_err(IntoResponse::into_response)?
        else {
            return Err(Redirect::to("/staff/login").into_response());
        };
        let chosen = ui_lang_of(parts);
        let cx = StaffCtx {
            scope: Scope::of(&user),
            lang: staff_lang(&parts.headers, chosen.as_deref()),
            switched: chosen.is_some(),
            user,
            csrf,
        };
        // A `CsrfForm` later in the same handler reads it from here.
        parts.extensions.insert(cx.clone());
        Ok(cx)
    }
}

/// A staff form whose `csrf` field matched the session's token; anything else is refused with
/// "the form expired" in the staff member's language, before the handler runs. Take it after
/// the handler's [`StaffCtx`].
pub(crate) struct CsrfForm<T>(pub(crate) T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let cx = StaffCtx::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !same_secret(sent, &cx.csrf) {
            return Err(AppError::Forbidden(cx.t(state, "staff-form-expired")).into_response());
        }
        let form = serde_urlencoded::to_string(&fields)
            .ok()
            .and_then(|s| serde_urlencoded::from_str::<T>(&s).ok())
            .ok_or_else(|| {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the form is missing a field or has one that cannot be read",
                )
                    .into_response()
            })?;
        Ok(CsrfForm(form))
    }
}

impl StaffCtx {
    pub(crate) fn t(&self, state: &AppState, id: &str) -> String {
        state.i18n.t(self.lang, id)
    }

    pub(crate) fn t_args(&self, state: &AppState, id: &str, args: &[(&str, &str)]) -> String {
        state.i18n.t_args(self.lang, id, args)
    }

    /// A time as this staff member reads it (Vietnam time, labelled; `dd/mm/yyyy` in Vietnamese).
    pub(crate) fn when(&self, ms: Option<i64>) -> String {
        super::html::when_in(self.lang, ms)
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    pub(crate) fn page(
        &self,
        state: &AppState,
        title_id: &str,
        active: &str,
        here: &str,
        body: &str,
    ) -> Response {
        self.page_titled(state, &self.t(state, title_id), active, here, "", body)
    }

    /// A signed-in page: the navigation, a title (already translated), `head` (e.g. a page's
    /// own styles) and the body; remembers a language chosen in this request.
    pub(crate) fn page_titled(
        &self,
        state: &AppState,
        title: &str,
        active: &str,
        here: &str,
        head: &str,
        body: &str,
    ) -> Response {
        let html = format!(
            "{head}{}<main><h1>{}</h1>{body}</main>",
            nav(state, self.lang, &self.user, &self.csrf, active, here),
            esc(title)
        );
        self.remember_lang(state, Html(page(self.lang, title, &html)).into_response())
    }

    /// Sets the language cookie when the language was chosen in this request.
    pub(crate) fn remember_lang(&self, state: &AppState, mut resp: Response) -> Response {
        if self.switched {
            set_cookie(
                &mut resp,
                state,
                LANG_COOKIE,
                self.lang,
                "/staff",
                365 * 24 * 3600,
            );
        }
        resp
    }

    pub(crate) fn not_allowed(&self, state: &AppState) -> Response {
        let mut r = self.page(
            state,
            "staff-nav-dashboard",
            "",
            "/staff",
            &format!(
                "<p class=\"err\">{}</p>",
                esc(&self.t(state, "staff-not-allowed"))
            ),
        );
        *r.status_mut() = StatusCode::FORBIDDEN;
        r
    }

    /// Writes an entry of the audit log in this staff member's name.
    pub(crate) async fn audit(
        &self,
        state: &AppState,
        action: AuditAction,
        detail: String,
    ) -> Result<(), AppError> {
        audit(state, Some(self.user.id), action, detail).await
    }
}

/// Runs storage work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, AppError> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// Writes an entry of the audit log (`user` None: the system or someone not signed in).
pub(crate) async fn audit(
    state: &AppState,
    user: Option<i64>,
    action: AuditAction,
    detail: String,
) -> Result<(), AppError> {
    let staff = state.staff.clone();
    blocking(move || staff.audit(user, action, &detail, protocol::now_ms())).await
}

/// The query of a page that takes nothing but the language and a "done" notice.
#[derive(Deserialize)]
pub(crate) struct DoneQuery {
    pub(crate) done: Option<String>,
}

/// A form of nothing but its CSRF token (a button).
#[derive(Deserialize)]
pub(crate) struct Button {}

/// A form that needs a typed confirmation (ERASE, REVOKE) besides its CSRF token.
#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    pub(crate) confirm: String,
}
