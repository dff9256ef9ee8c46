//! Staff accounts on the web: every user changes their own password (their other sessions
//! end); admins see every account, invite a new one and give a reset link (each a one-time link
//! to set a password, shown once), and disable or enable one (a disabled account's sessions end
//! at once and it cannot sign in). Every step is audited.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{Button, CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::{esc, notice};
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, PASSWORD_MIN_CHARS, Role, StorageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/account", get(account_page).post(change_password))
        .route("/staff/users", get(users_page).post(invite))
        .route("/staff/users/{id}/disable", post(disable))
        .route("/staff/users/{id}/enable", post(enable))
        .route("/staff/users/{id}/reset", post(reset_link))
        .route("/staff/users/{id}/role", post(set_role))
        .route("/staff/welcome/{token}", get(welcome_page).post(welcome))
}

async fn account_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let done = match q.done.as_deref() {
        Some("password") => notice(true, &t("account-password-changed")),
        Some("wrong") => notice(false, &t("account-password-wrong")),
        Some("short") => notice(
            false,
            &cx.t_args(
                &state,
                "account-password-short",
                &[("min", &PASSWORD_MIN_CHARS.to_string())],
            ),
        ),
        Some("mismatch") => notice(false, &t("account-password-mismatch")),
        Some("totp-on") => notice(true, &t("totp-done-on")),
        Some("totp-off") => notice(true, &t("totp-done-off")),
        _ => String::new(),
    };
    let two_step = super::two_step::section(&state, &cx).await?;
    let role = role_label(&state, &cx, cx.user.role);
    let body = format!(
        "{done}<table id=\"account\"><tbody><tr><th>{email_l}</th><td>{email}</td></tr>\
         <tr><th>{role_l}</th><td>{role}</td></tr><tr><th>{org_l}</th><td>{org}</td></tr></tbody></table>\
         <h2>{change}</h2><p class=\"muted\">{intro}</p>\
         <form method=\"post\" action=\"/staff/account\" id=\"password-form\" style=\"max-width:420px\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{current}<input type=\"password\" name=\"current\" autocomplete=\"current-password\" required></label>\
         <label>{new}<input type=\"password\" name=\"new\" autocomplete=\"new-password\" minlength=\"{min}\" required></label>\
         <label>{again}<input type=\"password\" name=\"again\" autocomplete=\"new-password\" minlength=\"{min}\" required></label>\
         <button type=\"submit\">{save}</button></form>{two_step}",
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

/// A role as staff read it.
fn role_label(state: &AppState, cx: &StaffCtx, role: Role) -> String {
    cx.t(
        state,
        match role {
            Role::Admin => "account-role-admin",
            Role::Staff => "account-role-staff",
        },
    )
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
    if !super::login::current_password_ok(&state, &cx, form.current, "password change").await? {
        return back("wrong");
    }
    let new_hash = super::login::hash_new_password(&state, form.new).await?;
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
    render_users(&state, &cx, q.done.as_deref(), None).await
}

/// A link just made, shown once: whose, the URL, and what it is for.
struct NewLink {
    email: String,
    url: String,
    purpose: &'static str,
}

/// How long an invitation works.
const INVITE_MS: i64 = 7 * 24 * 3_600_000;
/// How long a reset link works.
const RESET_MS: i64 = 24 * 3_600_000;

async fn render_users(
    state: &AppState,
    cx: &StaffCtx,
    done: Option<&str>,
    link: Option<NewLink>,
) -> Result<Response, AppError> {
    let state = state.clone();
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let t = |id: &str| cx.t(&state, id);
    let staff = state.staff.clone();
    let leads = state.leads.clone();
    let (users, orgs) = blocking(move || Ok((staff.users()?, leads.orgs()?))).await?;
    let now = protocol::now_ms();
    let org_opts: Vec<(String, String)> =
        orgs.iter().map(|(o, _)| (o.clone(), o.clone())).collect();
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
            let role = role_label(&state, cx, u.role);
            let reset = if u.disabled_ms.is_none() {
                format!(
                    "<form method=\"post\" action=\"/staff/users/{id}/reset\" class=\"reset\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <button type=\"submit\">{label}</button></form>",
                    id = u.id,
                    csrf = esc(&cx.csrf),
                    label = esc(&t("account-reset-link")),
                )
            } else {
                String::new()
            };
            // Another account's role and unit (never one's own: an admin stays one).
            let change = if u.id == cx.user.id {
                String::new()
            } else {
                let mut units: Vec<(String, String)> = org_opts.clone();
                if !units.iter().any(|(o, _)| o == &u.org) {
                    units.push((u.org.clone(), u.org.clone()));
                }
                let unit_opts: String = units
                    .iter()
                    .map(|(o, _)| {
                        format!(
                            "<option value=\"{0}\"{1}>{0}</option>",
                            esc(o),
                            if o == &u.org { " selected" } else { "" }
                        )
                    })
                    .collect();
                format!(
                    "<details class=\"role\"><summary>{summary}</summary><form method=\"post\" action=\"/staff/users/{id}/role\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <label>{role_l}<select name=\"role\"><option value=\"staff\"{s_sel}>{staff}</option><option value=\"admin\"{a_sel}>{admin}</option></select></label>\
                     <label>{org_l}<select name=\"org\">{unit_opts}</select></label><button type=\"submit\">{save}</button></form></details>",
                    summary = esc(&t("account-change-role")),
                    id = u.id,
                    csrf = esc(&cx.csrf),
                    role_l = esc(&t("account-role")),
                    staff = esc(&t("account-role-staff")),
                    admin = esc(&t("account-role-admin")),
                    s_sel = if u.role == Role::Staff { " selected" } else { "" },
                    a_sel = if u.role == Role::Admin { " selected" } else { "" },
                    org_l = esc(&t("account-org")),
                    save = esc(&t("account-password-save")),
                )
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
                    "<form method=\"post\" action=\"/staff/users/{id}/{path}\" class=\"switch\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <button type=\"submit\" style=\"background:{color}\">{label}</button></form>",
                    id = u.id,
                    csrf = esc(&cx.csrf),
                    label = esc(&label),
                )
            };
            format!(
                "<tr data-user=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"t\">{}</td><td data-status=\"{class}\">{}</td><td class=\"row\">{reset}{action}{change}</td></tr>",
                esc(&u.email),
                esc(&u.email),
                esc(&role),
                esc(&u.org),
                esc(&cx.when(Some(u.created_ms))),
                esc(&status),
            )
        })
        .collect();
    let done = match done {
        Some("exists") => notice(false, &t("account-exists")),
        Some("email") => notice(false, &t("account-email-invalid")),
        Some("disabled") => notice(true, &t("account-was-disabled")),
        Some("enabled") => notice(true, &t("account-was-enabled")),
        Some("role") => notice(true, &t("account-role-changed")),
        _ => String::new(),
    };
    let link = link
        .map(|l| {
            let (title, note) = match l.purpose {
                "invite" => ("account-invite-made", "account-invite-note"),
                _ => ("account-reset-made", "account-reset-note"),
            };
            format!(
                "<div class=\"card\" id=\"new-link\" style=\"max-width:none\"><h2>{}</h2><p>{}</p>\
                 <p><input id=\"link\" readonly value=\"{}\" onclick=\"this.select()\"></p><p class=\"muted\">{}</p></div>",
                esc(&cx.t_args(&state, title, &[("email", &l.email)])),
                esc(&t("account-link-once")),
                esc(&l.url),
                esc(&t(note)),
            )
        })
        .unwrap_or_default();
    // The empty choice is "staff"; the one other is "admin".
    let role_opts = [("admin".to_owned(), t("account-role-admin"))];
    let invite = format!(
        "<h2>{}</h2><form method=\"post\" action=\"/staff/users\" class=\"filters\" id=\"invite-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">{}{}{}<div><button type=\"submit\">{}</button></div></form>",
        esc(&t("account-invite")),
        esc(&cx.csrf),
        super::html::input("email", &t("account-email"), "email", ""),
        super::html::select(
            "role",
            &t("account-role"),
            &t("account-role-staff"),
            "",
            &role_opts
        ),
        super::html::select("org", &t("account-org"), &cx.user.org, "", &org_opts),
        esc(&t("account-invite-send")),
    );
    let body = format!(
        "{done}{link}<p class=\"muted\">{intro}</p><table id=\"users\" class=\"compact\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table>{invite}",
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

#[derive(Deserialize)]
struct RoleForm {
    role: String,
    org: String,
}

/// Another account's role and unit (the units staff pages know, or the one it has).
async fn set_role(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    if id == cx.user.id {
        return Err(AppError::BadRequest(cx.t(&state, "account-not-yourself")));
    }
    let role = Role::parse(&form.role)
        .ok_or_else(|| AppError::BadRequest(format!("no role \"{}\"", form.role)))?;
    let org = form.org.trim().to_owned();
    let (staff, leads) = (state.staff.clone(), state.leads.clone());
    let o = org.clone();
    let user = blocking(move || {
        let users = staff.users()?;
        let Some(user) = users.into_iter().find(|u| u.id == id) else {
            return Ok(None);
        };
        let known = leads.orgs()?.iter().any(|(name, _)| name == &o) || user.org == o;
        if o.is_empty() || !known {
            return Err(StorageError::Invalid(format!(
                "\"{o}\" is not a unit: choose one of the list"
            )));
        }
        staff.set_user_role(id, role, &o)?;
        Ok(Some(user))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    cx.audit(
        &state,
        AuditAction::UserRole,
        format!("{} role={} unit={org}", user.email, role.as_str()),
    )
    .await?;
    Ok(Redirect::to("/staff/users?done=role").into_response())
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: String,
}

/// A new account and its invitation: a one-time link to set the password, shown once.
async fn invite(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let email = form.email.trim().to_owned();
    if email.chars().count() > 254 || !email.contains('@') || email.contains(char::is_whitespace) {
        return render_users(&state, &cx, Some("email"), None).await;
    }
    let role = if form.role == "admin" {
        Role::Admin
    } else {
        Role::Staff
    };
    let org = Some(form.org.trim().to_owned())
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| cx.user.org.clone());
    // Nobody knows this password: the account signs in only after the link set one.
    let unusable = super::context::random_token();
    let hash = tokio::task::spawn_blocking(move || super::login::hash_password(&unusable))
        .await?
        .map_err(AppError::Internal)?;
    let staff = state.staff.clone();
    let (e, o) = (email.clone(), org.clone());
    let created = blocking(move || staff.add_user(&e, &hash, role, &o, protocol::now_ms())).await;
    let user_id = match created {
        Ok(id) => id,
        Err(AppError::BadRequest(_)) => {
            return render_users(&state, &cx, Some("exists"), None).await;
        }
        Err(e) => return Err(e),
    };
    let url = make_link(&state, user_id, "invite", INVITE_MS).await?;
    cx.audit(
        &state,
        AuditAction::UserInvite,
        format!("{email} role={} unit={org}", role.as_str()),
    )
    .await?;
    render_users(
        &state,
        &cx,
        None,
        Some(NewLink {
            email,
            url,
            purpose: "invite",
        }),
    )
    .await
}

/// A one-time link for an account to set a new password (its sessions end when it is used).
async fn reset_link(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<i64>,
    _: CsrfForm<Button>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let staff = state.staff.clone();
    let users = blocking(move || staff.users()).await?;
    let user = users
        .into_iter()
        .find(|u| u.id == id && u.disabled_ms.is_none())
        .ok_or(AppError::NotFound)?;
    let url = make_link(&state, id, "reset", RESET_MS).await?;
    cx.audit(&state, AuditAction::UserResetLink, user.email.clone())
        .await?;
    render_users(
        &state,
        &cx,
        None,
        Some(NewLink {
            email: user.email,
            url,
            purpose: "reset",
        }),
    )
    .await
}

/// Keeps a new link's hash and answers its URL (the token itself is never stored).
async fn make_link(
    state: &AppState,
    user_id: i64,
    purpose: &'static str,
    valid_ms: i64,
) -> Result<String, AppError> {
    let token = super::context::random_token();
    let hash = crate::store::sha256_hex(token.as_bytes());
    let staff = state.staff.clone();
    let now = protocol::now_ms();
    blocking(move || staff.create_user_link(user_id, &hash, purpose, now, now + valid_ms)).await?;
    Ok(format!(
        "{}/staff/welcome/{token}",
        state.config.public_url.trim_end_matches('/')
    ))
}

#[derive(Deserialize)]
struct WelcomeQuery {
    #[serde(alias = "ui")]
    lang: Option<String>,
    error: Option<String>,
}

/// The page a link opens: whose account, and a form for the password. No session needed: the
/// link's token is the secret.
async fn welcome_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<WelcomeQuery>,
) -> Result<Response, AppError> {
    let lang = super::context::staff_lang(&headers, q.lang.as_deref());
    let t = |id: &str| state.i18n.t(lang, id);
    let hash = crate::store::sha256_hex(token.as_bytes());
    let staff = state.staff.clone();
    let found = blocking(move || staff.user_link(&hash, protocol::now_ms())).await?;
    let body = match found {
        None => format!(
            "<p class=\"err\" id=\"dead-link\">{}</p><p><a href=\"/staff/login\">{}</a></p>",
            esc(&t("account-link-dead")),
            esc(&t("staff-login-title")),
        ),
        Some((user, purpose)) => {
            let error = match q.error.as_deref() {
                Some("short") => state.i18n.t_args(
                    lang,
                    "account-password-short",
                    &[("min", &PASSWORD_MIN_CHARS.to_string())],
                ),
                Some("mismatch") => t("account-password-mismatch"),
                _ => String::new(),
            };
            let error = if error.is_empty() {
                String::new()
            } else {
                notice(false, &error)
            };
            format!(
                "{error}<p id=\"whose\">{intro}</p>\
                 <form method=\"post\" id=\"welcome-form\">\
                 <label>{new}<input type=\"password\" name=\"new\" autocomplete=\"new-password\" minlength=\"{min}\" required></label>\
                 <label>{again}<input type=\"password\" name=\"again\" autocomplete=\"new-password\" minlength=\"{min}\" required></label>\
                 <button type=\"submit\">{save}</button></form>",
                intro = esc(&state.i18n.t_args(
                    lang,
                    if purpose == "invite" {
                        "account-welcome-invite"
                    } else {
                        "account-welcome-reset"
                    },
                    &[("email", &user.email), ("org", &user.org)]
                )),
                new = esc(&t("account-new-password")),
                again = esc(&t("account-repeat-password")),
                min = PASSWORD_MIN_CHARS,
                save = esc(&t("account-welcome-save")),
            )
        }
    };
    let title = t("account-welcome-title");
    let html = super::html::page(
        lang,
        &title,
        &format!("<div class=\"card\"><h1>{}</h1>{body}</div>", esc(&title)),
    );
    let mut resp = axum::response::Html(html).into_response();
    // The token is in the URL: no page it links to learns it.
    resp.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct WelcomeForm {
    new: String,
    again: String,
}

/// Sets the password through the link, uses the link up, and signs the person in.
async fn welcome(
    State(state): State<AppState>,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<WelcomeForm>,
) -> Result<Response, AppError> {
    let back = |error: &str| {
        Ok(Redirect::to(&format!("/staff/welcome/{token}?error={error}")).into_response())
    };
    if form.new != form.again {
        return back("mismatch");
    }
    if form.new.chars().count() < PASSWORD_MIN_CHARS || form.new.len() > 1024 {
        return back("short");
    }
    let new_hash = super::login::hash_new_password(&state, form.new).await?;
    let hash = crate::store::sha256_hex(token.as_bytes());
    let staff = state.staff.clone();
    let redeemed = blocking(move || {
        let now = protocol::now_ms();
        // Whether the link also turns a second factor off, to say so in the audit log.
        let had_totp = match staff.user_link(&hash, now)? {
            Some((u, _)) => staff.totp_secret(u.id)?.is_some(),
            None => false,
        };
        Ok(staff
            .redeem_user_link(&hash, &new_hash, now)?
            .map(|u| (u, had_totp)))
    })
    .await?;
    let Some((user, had_totp)) = redeemed else {
        return Ok(Redirect::to(&format!("/staff/welcome/{token}")).into_response());
    };
    if had_totp {
        super::context::audit(
            &state,
            Some(user.id),
            AuditAction::UserTotpOff,
            format!("{} (one-time link)", user.email),
        )
        .await?;
    }
    super::context::audit(
        &state,
        Some(user.id),
        AuditAction::UserPassword,
        format!("{} (one-time link)", user.email),
    )
    .await?;
    let mut resp = Redirect::to("/staff").into_response();
    super::login::start_session(&state, user.id, &mut resp).await?;
    Ok(resp)
}
