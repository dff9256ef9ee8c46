//! The audit log (admins only): who did what, accounts locked now, records in quarantine.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{CsrfForm, StaffCtx, blocking};
use super::html::esc;
use crate::AppState;
use crate::error::AppError;
use crate::store::AuditAction;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/audit", get(audit_page))
        .route("/staff/audit/unlock", post(unlock_user))
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    page: u64,
}

/// Entries on one page of the audit log.
const AUDIT_PAGE: u64 = 100;

async fn audit_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let staff = state.staff.clone();
    let page_no = q.page.min(1_000_000);
    let ((entries, total), locked, (held, held_total)) = blocking(move || {
        Ok((
            staff.audit_log(AUDIT_PAGE, page_no * AUDIT_PAGE)?,
            staff.locked_users(protocol::now_ms())?,
            staff.quarantine(50)?,
        ))
    })
    .await?;
    let t = |id: &str| cx.t(&state, id);
    let locked: String = locked
        .iter()
        .map(|(email, until)| {
            format!(
                "<tr data-key=\"{e}\"><td>{e}</td><td>{}</td><td><form method=\"post\" action=\"/staff/audit/unlock\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"email\" value=\"{e}\">\
                 <button type=\"submit\">{}</button></form></td></tr>",
                esc(&cx.when(Some(*until))),
                esc(&cx.csrf),
                esc(&t("audit-unlock")),
                e = esc(email),
            )
        })
        .collect();
    let locked = if locked.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>{}</h2><table id=\"locked\"><tbody>{locked}</tbody></table>",
            esc(&t("audit-locked"))
        )
    };
    let held = if held.is_empty() {
        String::new()
    } else {
        let rows: String = held
            .iter()
            .map(|q| {
                format!(
                    "<tr data-key=\"{}:{}\"><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    q.kiosk,
                    q.seq,
                    esc(&cx.when(Some(q.received_ms))),
                    esc(&q.kiosk_name),
                    q.kiosk,
                    q.seq,
                    esc(&q.kind),
                    esc(&q.reason)
                )
            })
            .collect();
        format!(
            "<h2>{}</h2><p class=\"muted\">{}</p><table id=\"quarantine\"><tbody>{rows}</tbody></table>",
            esc(&t("audit-quarantine")),
            esc(&cx.t_args(
                &state,
                "audit-quarantine-help",
                &[("count", &held_total.to_string())]
            ))
        )
    };
    let locked = format!("{locked}{held}");
    let rows: String = entries
        .iter()
        .map(|a| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&cx.when(Some(a.at_ms))),
                esc(a.email.as_deref().unwrap_or("—")),
                esc(&a.action),
                esc(&a.detail)
            )
        })
        .collect();
    let mut pager = String::new();
    if page_no > 0 {
        pager.push_str(&format!(
            "<a href=\"/staff/audit?page={}\">{}</a> ",
            page_no - 1,
            esc(&t("leads-prev"))
        ));
    }
    if (page_no + 1) * AUDIT_PAGE < total {
        pager.push_str(&format!(
            "<a href=\"/staff/audit?page={}\" id=\"next\">{}</a>",
            page_no + 1,
            esc(&t("leads-next"))
        ));
    }
    let body = format!(
        "{locked}<table id=\"audit\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table><p>{pager}</p>",
        esc(&t("audit-col-at")),
        esc(&t("audit-col-who")),
        esc(&t("audit-col-action")),
        esc(&t("audit-col-detail"))
    );
    Ok(cx.page(&state, "audit-title", "/staff/audit", "/staff/audit", &body))
}

#[derive(Deserialize)]
struct UnlockForm {
    email: String,
}

/// An admin lifts an account's sign-in lockout.
async fn unlock_user(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<UnlockForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let staff = state.staff.clone();
    let email: String = form.email.trim().chars().take(254).collect();
    let e = email.clone();
    blocking(move || staff.unlock_user(&e)).await?;
    cx.audit(&state, AuditAction::UserUnlock, email).await?;
    Ok(Redirect::to("/staff/audit").into_response())
}
