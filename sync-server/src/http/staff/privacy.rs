//! A person's request to see or erase their data: every lead and raw badge scan that names them,
//! and erasing all of them at once.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use uuid::Uuid;

use super::context::{CsrfForm, StaffCtx, blocking};
use super::html::esc;
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, LeadRow};

pub fn router() -> Router<AppState> {
    Router::new().route("/staff/privacy", get(privacy_page).post(privacy_erase))
}

#[derive(Deserialize)]
struct PrivacyQuery {
    who: Option<String>,
}

async fn privacy_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<PrivacyQuery>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let who = q.who.clone().unwrap_or_default();
    let mut body = format!(
        "<p>{}</p><form method=\"get\" action=\"/staff/privacy\" class=\"row\"><input name=\"who\" value=\"{}\" style=\"max-width:360px\">\
         <button type=\"submit\">{}</button></form>",
        esc(&t("privacy-hint")),
        esc(&who),
        esc(&t("privacy-lookup"))
    );
    if !who.trim().is_empty() {
        let rows = person_leads(&state, &cx, &who).await?;
        let scans = person_scans(&state, &cx, &who).await?;
        cx.audit(
            &state,
            AuditAction::PrivacyLookup,
            format!("{} leads, {} raw scans", rows.len(), scans.len()),
        )
        .await?;
        if !scans.is_empty() {
            let list: String = scans
                .iter()
                .map(|s| {
                    format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                        esc(&cx.when(Some(s.at_ms))),
                        esc(&s.kiosk_name),
                        esc(&s.event_id),
                        esc(&s.raw.chars().take(300).collect::<String>())
                    )
                })
                .collect();
            body.push_str(&format!(
                "<h2>{}</h2><table id=\"scans\">{list}</table>",
                esc(&t("privacy-scans"))
            ));
        }
        if rows.is_empty() && scans.is_empty() {
            body.push_str(&format!(
                "<p class=\"muted\">{}</p>",
                esc(&t("privacy-none"))
            ));
        } else {
            let list: String = rows
                .iter()
                .map(|r| {
                    let consent = r
                        .consent
                        .as_ref()
                        .map(|c| format!("{} v{} ({})", c.text_id, c.version_label(), c.lang))
                        .unwrap_or_default();
                    format!(
                        "<tr><td><a href=\"/staff/leads/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        r.lead_id,
                        esc(&r.contact.name),
                        esc(&r.contact.organisation),
                        esc(&r.contact.email),
                        esc(&r.contact.phone),
                        esc(&r.event_id),
                        esc(&cx.when(Some(r.created_ms))),
                        esc(&consent)
                    )
                })
                .collect();
            body.push_str(&format!(
                "<table id=\"person\">{list}</table><form method=\"post\" action=\"/staff/privacy\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"who\" value=\"{}\">\
                 <label>{}<input name=\"confirm\" autocomplete=\"off\"></label><button type=\"submit\" style=\"background:#b00020\">{}</button></form>",
                esc(&cx.csrf),
                esc(&who),
                esc(&t("lead-erase-confirm")),
                esc(&t("privacy-erase-all"))
            ));
        }
    }
    Ok(cx.page(
        &state,
        "privacy-title",
        "/staff/privacy",
        "/staff/privacy",
        &body,
    ))
}

/// A person's raw badge scans within the staff member's scope (by the scan's event).
async fn person_scans(
    state: &AppState,
    cx: &StaffCtx,
    who: &str,
) -> Result<Vec<crate::store::RawScanRow>, AppError> {
    let leads = state.leads.clone();
    let who = who.to_owned();
    let (scans, events) =
        blocking(move || Ok((leads.raw_scans_of_person(&who)?, leads.events()?))).await?;
    Ok(scans
        .into_iter()
        .filter(|s| {
            // A scan at an event no longer on record is shown to those who see every unit.
            cx.scope.org().is_none()
                || events
                    .iter()
                    .any(|e| e.id == s.event_id && cx.scope.covers(&e.org))
        })
        .collect())
}

/// A person's leads within the staff member's scope.
async fn person_leads(
    state: &AppState,
    cx: &StaffCtx,
    who: &str,
) -> Result<Vec<LeadRow>, AppError> {
    let leads = state.leads.clone();
    let who = who.to_owned();
    let rows = blocking(move || leads.leads_of_person(&who)).await?;
    Ok(rows
        .into_iter()
        .filter(|r| cx.scope.covers(&r.org))
        .collect())
}

#[derive(Deserialize)]
struct PrivacyErase {
    who: String,
    #[serde(default)]
    confirm: String,
}

async fn privacy_erase(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<PrivacyErase>,
) -> Result<Response, AppError> {
    if form.confirm.trim() != "ERASE" {
        return Ok(Redirect::to("/staff/privacy").into_response());
    }
    let rows = person_leads(&state, &cx, &form.who).await?;
    let scans: Vec<(i64, i64)> = person_scans(&state, &cx, &form.who)
        .await?
        .iter()
        .map(|s| (s.kiosk, s.seq))
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.lead_id).collect();
    let (storage, leads) = (state.storage.clone(), state.leads.clone());
    let ids2 = ids.clone();
    let n_scans = scans.len();
    blocking(move || {
        for id in ids2 {
            storage.erase_lead(id, protocol::now_ms())?;
        }
        leads.erase_raw_scans(&scans, protocol::now_ms())?;
        Ok(())
    })
    .await?;
    cx.audit(
        &state,
        AuditAction::PrivacyErase,
        format!(
            "{} raw scans; leads {}",
            n_scans,
            ids.iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .await?;
    Ok(cx.page(
        &state,
        "privacy-title",
        "/staff/privacy",
        "/staff/privacy",
        &format!(
            "<p class=\"ok\" id=\"erased\">{}</p>",
            esc(&state.i18n.t_args(
                cx.lang,
                "privacy-erased",
                &[("count", &ids.len().to_string())]
            ))
        ),
    ))
}
