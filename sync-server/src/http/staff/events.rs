//! Events and delegation visits with their organising unit and person responsible, and the
//! units' retention periods.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::{CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::{esc, input, select};
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, EventRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/events", get(events_page).post(save_event))
        .route("/staff/orgs", post(save_org))
}

async fn events_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let leads = state.leads.clone();
    let (events, orgs) = blocking(move || Ok((leads.events()?, leads.orgs()?))).await?;
    let rows: String = events
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.id),
                esc(&e.name),
                esc(&t(kind_label(&e.kind))),
                esc(&e.starts),
                esc(&e.ends),
                esc(&e.venue),
                esc(&e.country),
                esc(&e.languages),
                esc(&e.org),
                esc(&e.responsible)
            )
        })
        .collect();
    let org_choices: Vec<(String, String)> = orgs
        .iter()
        .filter(|(o, _)| cx.is_admin() || *o == cx.user.org)
        .map(|(o, _)| (o.clone(), o.clone()))
        .collect();
    let kinds: Vec<(String, String)> = ["fair", "delegation", "meeting"]
        .iter()
        .map(|k| ((*k).to_owned(), t(kind_label(k))))
        .collect();
    let done = match q.done.as_deref() {
        Some("saved") => format!("<p class=\"ok\">{}</p>", esc(&t("events-saved"))),
        Some("invalid") => format!("<p class=\"err\">{}</p>", esc(&t("event-invalid"))),
        _ => String::new(),
    };
    let mut body = format!(
        "{done}<table id=\"events\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\
         <tbody>{rows}</tbody></table><h2>{}</h2>\
         <form method=\"post\" action=\"/staff/events\" class=\"filters\" id=\"event-form\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         {}{}{}{}{}{}{}{}{}{}<div><button type=\"submit\">{}</button></div></form>",
        esc(&t("event-f-id")),
        esc(&t("event-f-name")),
        esc(&t("event-f-kind")),
        esc(&t("event-f-starts")),
        esc(&t("event-f-venue")),
        esc(&t("event-f-country")),
        esc(&t("event-f-languages")),
        esc(&t("event-f-org")),
        esc(&t("event-f-responsible")),
        esc(&t("events-new")),
        esc(&cx.csrf),
        input("id", &t("event-f-id"), "text", ""),
        input("name", &t("event-f-name"), "text", ""),
        select(
            "kind",
            &t("event-f-kind"),
            &t("event-kind-fair"),
            "",
            &kinds
        ),
        input("starts", &t("event-f-starts"), "date", ""),
        input("ends", &t("event-f-ends"), "date", ""),
        input("venue", &t("event-f-venue"), "text", ""),
        input("country", &t("event-f-country"), "text", ""),
        input("languages", &t("event-f-languages"), "text", ""),
        select("org", &t("event-f-org"), "—", "", &org_choices),
        input("responsible", &t("event-f-responsible"), "text", ""),
        esc(&t("events-save")),
    );
    if cx.is_admin() {
        let rows: String = orgs
            .iter()
            .map(|(o, days)| {
                format!(
                    "<form method=\"post\" action=\"/staff/orgs\" class=\"row\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"name\" value=\"{}\"><span style=\"min-width:380px\">{}</span>\
                     <input type=\"number\" min=\"1\" name=\"retention_days\" value=\"{}\" style=\"max-width:120px\"><button type=\"submit\">{}</button></form>",
                    esc(&cx.csrf),
                    esc(o),
                    esc(o),
                    days.map(|d| d.to_string()).unwrap_or_default(),
                    esc(&t("orgs-save"))
                )
            })
            .collect();
        body.push_str(&format!(
            "<h2>{}</h2><p class=\"muted\">{}</p>{rows}",
            esc(&t("orgs-title")),
            esc(&t("orgs-retention"))
        ));
    }
    Ok(cx.page(
        &state,
        "events-title",
        "/staff/events",
        "/staff/events",
        &body,
    ))
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "delegation" => "event-kind-delegation",
        "meeting" => "event-kind-meeting",
        _ => "event-kind-fair",
    }
}

fn kind_id(kind: &str) -> &'static str {
    match kind {
        "delegation" => "delegation",
        "meeting" => "meeting",
        _ => "fair",
    }
}

#[derive(Deserialize)]
struct EventForm {
    #[serde(flatten)]
    event: EventRow,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

async fn save_event(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<EventForm>,
) -> Result<Response, AppError> {
    let mut e = form.event;
    e.kind = kind_id(&e.kind).to_owned();
    let clip = |s: &mut String, n: usize| *s = s.trim().chars().take(n).collect();
    for (f, n) in [
        (&mut e.name, 200),
        (&mut e.venue, 200),
        (&mut e.country, 100),
        (&mut e.languages, 100),
        (&mut e.responsible, 200),
        (&mut e.starts, 10),
        (&mut e.ends, 10),
    ] {
        clip(f, n);
    }
    if !valid_id(e.id.trim()) || e.name.is_empty() || e.org.trim().is_empty() {
        return Ok(Redirect::to("/staff/events?done=invalid").into_response());
    }
    e.id = e.id.trim().to_owned();
    // Staff manage their own unit's events; an event another unit owns stays theirs.
    let leads = state.leads.clone();
    let existing = blocking(move || leads.events()).await?;
    let owner = existing
        .iter()
        .find(|x| x.id == e.id)
        .map(|x| x.org.clone());
    // An id with no event row yet but records, kiosks or leads already naming it: whoever
    // creates the row decides which unit sees those leads, so that is for an admin.
    let claimed = if owner.is_none() {
        let (leads, id) = (state.leads.clone(), e.id.clone());
        blocking(move || leads.event_id_in_use(&id)).await?
    } else {
        false
    };
    let allowed = cx.is_admin()
        || (e.org == cx.user.org && !claimed && owner.as_ref().is_none_or(|o| *o == cx.user.org));
    if claimed && !allowed {
        tracing::warn!(user = %cx.user.email, event = %e.id, "event id already in use: only an admin can create it");
    }
    if !allowed {
        return Ok(cx.not_allowed(&state));
    }
    let leads = state.leads.clone();
    let ev = e.clone();
    blocking(move || leads.upsert_event(&ev, protocol::now_ms())).await?;
    cx.audit(&state, AuditAction::Event, format!("{} ({})", e.id, e.org))
        .await?;
    Ok(Redirect::to("/staff/events?done=saved").into_response())
}

#[derive(Deserialize)]
struct OrgForm {
    name: String,
    #[serde(default)]
    retention_days: String,
}

async fn save_org(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<OrgForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let days = form
        .retention_days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| *d > 0);
    let name: String = form.name.trim().chars().take(200).collect();
    if name.is_empty() {
        return Err(AppError::BadRequest(
            "an organising unit needs a name".into(),
        ));
    }
    let leads = state.leads.clone();
    let n = name.clone();
    blocking(move || leads.upsert_org(&n, days)).await?;
    cx.audit(
        &state,
        AuditAction::Retention,
        format!("{name}: {days:?} days"),
    )
    .await?;
    Ok(Redirect::to("/staff/events?done=saved").into_response())
}
