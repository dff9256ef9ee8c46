//! Staff accounts on the web: every user changes their own password (their other sessions
//! end); admins see every account and disable or enable one (a disabled account's sessions end
//! at once and it cannot sign in). Every step is audited.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{Button, CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::esc;
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, PASSWORD_MIN_CHARS, Role};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/account", get(account_page).post(change_password))
        .route("/staff/users", get(users_page))
        .route("/staff/users/{id}/disable", post(disable))
        .route("/staff/users/{id}/enable", post(enable))
}

async fn account_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let done = match q.done.as_deref() {
        Some("password") => format!(
            "<p class=\"ok\" id=\"done\">{}</p>",
            esc(&t("account-password-changed"))
        ),
        Some("wrong") => format!(
            "<p class=\"err\" id=\"done\">{}</p>",
            esc(&t("account-password-wrong"))
        ),
        Some("short") => format!(
            "<p class=\"err\" id=\"done\">{}</p>",
            esc(&cx.t_args(
                &state,
                "account-password-short",
                &[("min", &PASSWORD_MIN_CHARS.to_string())]
            ))
        ),
        Some("mismatch") => format!(
            "<p class=\"err\" id=\"done\">{}</p>",
            esc(&t("account-password-mismatch"))
        ),
        _ => String::new(),
    };
    let role = match cx.user.role {
        Role::Admin => t("account-role-admin"),
        Role::Staff => t("account-role-staff"),
    };
    let body = format!(
        "{done}<table id=\"account\"><tbody><tr><th>{email_l}</th><td>{email}</td></tr>\
         <tr><th>{role_l}</th><td>{role}</td></tr><tr><th>{org_l}</th><td>{org}</td></tr></tbody></table>\
         <h2>{change}</h2><p class=\"muted\">{intro}</p>\
         <form method=\"post\" action=\"/staff/account\" id=\"password-form\" style=\"max-width:420px\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{current}<input type=\"password\" name=\"current\" autocomplete=\"current-password\" required></label>\
         <label>{new}<input type=\"password\" name=\"new\" autocomplete=\"new-password\" minlength=\"{min}\" required></label>\
         <label>{again}<input type=\"password\" name=\"again\" autocomplete=\"new-password\" minlength=\"{min}\" required></label>\
         <button type=\"submit\">{save}</button></form>",
        email_l = esc(&t("account-email")),
        email = esc(&cx.user.email),
        role_l = esc(&t("account-role")),
        role = esc(&role),
        org_l = esc(&t("account-org")),
        org = esc(&cx.user.org),
        change = esc(&t("account-change-password")),
        intro = esc(&t("account-password-intro")),
        csrf = esc(&cx.csrf),
        current = esc(&t("account-current-password")),
        new = esc(&t("account-new-password")),
        again = esc(&t("account-repeat-password")),
        min = PASSWORD_MIN_CHARS,
        save = esc(&t("account-password-save")),
    );
    Ok(cx.page(
        &state,
        "account-title",
        "/staff/account",
        "/staff/account",
        &body,
    ))
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    again: String,
}

/// A new password: the current one first; then every session of the user ends, and this
/// browser gets a new one.
async fn change_password(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    let back =
        |done: &str| Ok(Redirect::to(&format!("/staff/account?done={done}")).into_response());
    if form.new != form.again {
        return back("mismatch");
    }
    let chars = form.new.chars().count();
    if chars < PASSWORD_MIN_CHARS || form.new.len() > 1024 {
        return back("short");
    }
    let _permit = state
        .login_gate
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (hash, current) = (cx.user.password_hash.clone(), form.current);
    let ok =
        tokio::task::spawn_blocking(move || super::login::verify_password(&current, &hash)).await?;
    if !ok {
        cx.audit(
            &state,
            AuditAction::LoginFailed,
            format!("{} (password change)", cx.user.email),
        )
        .await?;
        return back("wrong");
    }
    let new = form.new;
    let new_hash = tokio::task::spawn_blocking(move || super::login::hash_password(&new))
        .await?
        .map_err(AppError::Internal)?;
    let staff = state.staff.clone();
    let email = cx.user.email.clone();
    // Ends every session of the user, this one included.
    blocking(move || staff.set_password(&email, &new_hash)).await?;
    cx.audit(&state, AuditAction::UserPassword, cx.user.email.clone())
        .await?;
    let mut resp = Redirect::to("/staff/account?done=password").into_response();
    super::login::start_session(&state, cx.user.id, &mut resp).await?;
    Ok(resp)
}

async fn users_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let t = |id: &str| cx.t(&state, id);
    let staff = state.staff.clone();
    let users = blocking(move || staff.users()).await?;
    let now = protocol::now_ms();
    let rows: String = users
        .iter()
        .map(|u| {
            let (class, status) = if u.disabled_ms.is_some() {
                ("disabled", t("account-disabled"))
            } else if u.locked_until_ms.is_some_and(|l| l > now) {
                ("locked", t("account-locked"))
            } else {
                ("active", t("account-active"))
            };
            let role = match u.role {
                Role::Admin => t("account-role-admin"),
                Role::Staff => t("account-role-staff"),
            };
            let action = if u.id == cx.user.id {
                String::new()
            } else {
                let (path, label, color) = if u.disabled_ms.is_some() {
                    ("enable", t("account-enable"), "#1f6f8b")
                } else {
                    ("disable", t("account-disable"), "#b00020")
                };
                format!(
                    "<form method=\"post\" action=\"/staff/users/{id}/{path}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <button type=\"submit\" style=\"background:{color}\">{label}</button></form>",
                    id = u.id,
                    csrf = esc(&cx.csrf),
                    label = esc(&label),
                )
            };
            format!(
                "<tr data-user=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"t\">{}</td><td data-status=\"{class}\">{}</td><td>{action}</td></tr>",
                esc(&u.email),
                esc(&u.email),
                esc(&role),
                esc(&u.org),
                esc(&cx.when(Some(u.created_ms))),
                esc(&status),
            )
        })
        .collect();
    let done = match q.done.as_deref() {
        Some("disabled") => format!(
            "<p class=\"ok\" id=\"done\">{}</p>",
            esc(&t("account-was-disabled"))
        ),
        Some("enabled") => format!(
            "<p class=\"ok\" id=\"done\">{}</p>",
            esc(&t("account-was-enabled"))
        ),
        _ => String::new(),
    };
    let body = format!(
        "{done}<p class=\"muted\">{intro}</p><table id=\"users\" class=\"compact\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        esc(&t("account-email")),
        esc(&t("account-role")),
        esc(&t("account-org")),
        esc(&t("account-created")),
        esc(&t("staff-col-status")),
        intro = esc(&t("account-users-intro")),
    );
    Ok(cx.page(
        &state,
        "staff-nav-users",
        "/staff/users",
        "/staff/users",
        &body,
    ))
}

async fn disable(
    state: State<AppState>,
    cx: StaffCtx,
    id: Path<i64>,
    _: CsrfForm<Button>,
) -> Result<Response, AppError> {
    set_disabled(state, cx, id, true).await
}

async fn enable(
    state: State<AppState>,
    cx: StaffCtx,
    id: Path<i64>,
    _: CsrfForm<Button>,
) -> Result<Response, AppError> {
    set_disabled(state, cx, id, false).await
}

async fn set_disabled(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<i64>,
    disabled: bool,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    // An admin cannot lock themselves out (and leave nobody to undo it).
    if id == cx.user.id {
        return Err(AppError::BadRequest(cx.t(&state, "account-not-yourself")));
    }
    let staff = state.staff.clone();
    let users = blocking(move || staff.users()).await?;
    let user = users
        .iter()
        .find(|u| u.id == id)
        .ok_or(AppError::NotFound)?;
    let staff = state.staff.clone();
    blocking(move || staff.set_user_disabled(id, disabled, protocol::now_ms())).await?;
    let (action, done) = if disabled {
        (AuditAction::UserDisable, "disabled")
    } else {
        (AuditAction::UserEnable, "enabled")
    };
    cx.audit(&state, action, user.email.clone()).await?;
    Ok(Redirect::to(&format!("/staff/users?done={done}")).into_response())
}
