//! The leads: the table with filters, search and exports (CSV, XLSX, vCard), a lead's status,
//! notes, earlier versions and erasure, duplicates and merging. A lead outside the staff
//! member's scope answers 404, as if it did not exist.

use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use super::context::{ConfirmForm, CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::{esc, input, select, urlencode};
use crate::AppState;
use crate::error::AppError;
use crate::store::{AuditAction, LEAD_STATUSES, LeadFilter, LeadRow};

const PAGE_SIZE: u64 = 50;

/// Most leads one export holds.
pub(crate) const EXPORT_MAX: u64 = 1_000_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/leads", get(leads_page))
        .route("/staff/leads/export", get(export))
        .route("/staff/leads/{id}", get(lead_page).post(update_lead))
        .route("/staff/leads/{id}/erase", post(erase_lead))
        .route("/staff/leads/{id}/restore", post(restore_lead))
        .route("/staff/duplicates", get(duplicates_page).post(merge))
}

fn status_label(state: &AppState, lang: &str, status: &str) -> String {
    match status {
        "new" => state.i18n.t(lang, "lead-status-new"),
        "contacted" => state.i18n.t(lang, "lead-status-contacted"),
        "qualified" => state.i18n.t(lang, "lead-status-qualified"),
        other => other.to_owned(),
    }
}

pub(crate) fn source_label(state: &AppState, lang: &str, source: &str) -> String {
    match source {
        "phone_form" => state.i18n.t(lang, "lead-source-phone-form"),
        "badge" => state.i18n.t(lang, "lead-source-badge"),
        "kiosk_form" => state.i18n.t(lang, "lead-source-kiosk-form"),
        other => other.to_owned(),
    }
}

/// The query string of a filter (for page links and export links).
fn filter_query(f: &LeadFilter) -> String {
    serde_urlencoded_pairs(f)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn serde_urlencoded_pairs(f: &LeadFilter) -> Vec<(&'static str, String)> {
    vec![
        ("event", f.event.clone()),
        ("org", f.org.clone()),
        ("kiosk", f.kiosk.clone()),
        ("from", f.from.clone()),
        ("to", f.to.clone()),
        ("country", f.country.clone()),
        ("lang", f.lang.clone()),
        ("interest", f.interest.clone()),
        ("source", f.source.clone()),
        ("status", f.status.clone()),
        ("q", f.q.clone()),
    ]
}

/// Parses the filter and the page number from a raw query (`?event=…&page=2&lang=en`).
fn parse_query(raw: Option<&str>) -> (LeadFilter, u64, Option<String>) {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Extra {
        page: Option<u64>,
        format: Option<String>,
    }
    let raw = raw.unwrap_or("");
    let filter: LeadFilter = serde_urlencoded::from_str(raw).unwrap_or_default();
    let extra: Extra = serde_urlencoded::from_str(raw).unwrap_or_default();
    (filter, extra.page.unwrap_or(0), extra.format)
}

async fn leads_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let (filter, page_no, _) = parse_query(raw.as_deref());
    let t = |id: &str| cx.t(&state, id);
    let leads = state.leads.clone();
    let (scope, f) = (cx.scope.clone(), filter.clone());
    let ((rows, total), events, orgs) = blocking(move || {
        Ok((
            leads.leads(&scope, &f, PAGE_SIZE, page_no * PAGE_SIZE)?,
            leads.events()?,
            leads.orgs()?,
        ))
    })
    .await?;
    let kiosks = {
        let storage = state.storage.clone();
        blocking(move || storage.kiosks()).await?
    };
    let any = t("leads-any");
    let event_opts: Vec<(String, String)> = events
        .iter()
        .filter(|e| cx.scope.covers(&e.org))
        .map(|e| (e.id.clone(), format!("{} ({})", e.name, e.id)))
        .collect();
    let org_opts: Vec<(String, String)> =
        orgs.iter().map(|(o, _)| (o.clone(), o.clone())).collect();
    let kiosk_opts: Vec<(String, String)> = kiosks
        .iter()
        .map(|k| (k.name.clone(), k.name.clone()))
        .collect();
    let status_opts: Vec<(String, String)> = LEAD_STATUSES
        .iter()
        .map(|s| ((*s).to_owned(), status_label(&state, cx.lang, s)))
        .collect();
    let source_opts: Vec<(String, String)> = ["phone_form", "kiosk_form", "badge"]
        .iter()
        .map(|s| ((*s).to_owned(), source_label(&state, cx.lang, s)))
        .collect();
    let lang_opts: Vec<(String, String)> = ["vi", "en", "ko", "ja", "zh-Hans", "zh-Hant"]
        .iter()
        .map(|l| ((*l).to_owned(), locales::native_name(l).to_owned()))
        .collect();
    let interest_opts: Vec<(String, String)> = protocol::content::PILLARS
        .iter()
        .map(|p| ((*p).to_owned(), (*p).to_owned()))
        .collect();
    let filters = format!(
        "<form method=\"get\" action=\"/staff/leads\" class=\"filters\" id=\"filters\">{}{}{}{}{}{}{}{}{}{}{}\
         <div><button type=\"submit\">{}</button></div></form>",
        select(
            "event",
            &t("leads-f-event"),
            &any,
            &filter.event,
            &event_opts
        ),
        select("org", &t("leads-f-org"), &any, &filter.org, &org_opts),
        select(
            "kiosk",
            &t("leads-f-kiosk"),
            &any,
            &filter.kiosk,
            &kiosk_opts
        ),
        input("from", &t("leads-f-from"), "date", &filter.from),
        input("to", &t("leads-f-to"), "date", &filter.to),
        input("country", &t("leads-f-country"), "text", &filter.country),
        select("lang", &t("leads-f-lang"), &any, &filter.lang, &lang_opts),
        select(
            "interest",
            &t("leads-f-interest"),
            &any,
            &filter.interest,
            &interest_opts
        ),
        select(
            "source",
            &t("leads-f-source"),
            &any,
            &filter.source,
            &source_opts
        ),
        select(
            "status",
            &t("leads-f-status"),
            &any,
            &filter.status,
            &status_opts
        ),
        input("q", &t("leads-f-q"), "search", &filter.q),
        esc(&t("leads-apply")),
    );
    let fq = filter_query(&filter);
    let amp = if fq.is_empty() { "" } else { "&" };
    let exports = format!(
        "<p class=\"row\"><strong>{}</strong> <span>{}</span> \
         <a id=\"export-csv\" href=\"/staff/leads/export?format=csv{amp}{fq}\">{}</a> \
         <a id=\"export-xlsx\" href=\"/staff/leads/export?format=xlsx{amp}{fq}\">{}</a> \
         <a id=\"export-vcf\" href=\"/staff/leads/export?format=vcf{amp}{fq}\">{}</a></p>",
        esc(&state
            .i18n
            .t_args(cx.lang, "leads-count", &[("count", &total.to_string())])),
        esc(&t("leads-export")),
        esc(&t("leads-export-csv")),
        esc(&t("leads-export-xlsx")),
        esc(&t("leads-export-vcard")),
    );
    let table = if rows.is_empty() {
        format!("<p class=\"muted\">{}</p>", esc(&t("leads-none")))
    } else {
        let body: String = rows
            .iter()
            .map(|r| {
                // The event's name, as staff know it; its id only if it has no row.
                let event = events
                    .iter()
                    .find(|e| e.id == r.event_id)
                    .map(|e| e.name.as_str())
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&r.event_id);
                format!(
                    "<tr><td class=\"t\">{}</td><td><a href=\"/staff/leads/{}\">{}</a></td><td>{}</td><td class=\"e\">{}</td>\
                     <td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&cx.when(Some(r.created_ms))),
                    r.lead_id,
                    esc(if r.contact.name.is_empty() { "—" } else { &r.contact.name }),
                    esc(&r.contact.organisation),
                    esc(&r.contact.email),
                    esc(&r.contact.phone),
                    esc(&r.contact.country),
                    esc(event),
                    esc(&source_label(&state, cx.lang, &r.source)),
                    esc(&status_label(&state, cx.lang, &r.status)),
                )
            })
            .collect();
        format!(
            "<table id=\"leads\" class=\"compact\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
             <th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{body}</tbody></table>",
            esc(&t("export-col-created")),
            esc(&t("export-col-name")),
            esc(&t("export-col-organisation")),
            esc(&t("export-col-email")),
            esc(&t("export-col-phone")),
            esc(&t("export-col-country")),
            esc(&t("export-col-event")),
            esc(&t("export-col-source")),
            esc(&t("export-col-status")),
        )
    };
    let pages = total.div_ceil(PAGE_SIZE);
    let mut pager = String::new();
    if page_no > 0 {
        pager.push_str(&format!(
            "<a href=\"/staff/leads?page={}{amp}{fq}\">{}</a> ",
            page_no - 1,
            esc(&t("leads-prev"))
        ));
    }
    if page_no + 1 < pages {
        pager.push_str(&format!(
            "<a href=\"/staff/leads?page={}{amp}{fq}\">{}</a>",
            page_no + 1,
            esc(&t("leads-next"))
        ));
    }
    let here = format!("/staff/leads?{fq}");
    Ok(cx.page(
        &state,
        "leads-title",
        "/staff/leads",
        &here,
        &format!("{filters}{exports}{table}<p class=\"row\">{pager}</p>"),
    ))
}

fn export_lead(r: LeadRow) -> crate::export::ExportLead {
    crate::export::ExportLead {
        lead_id: r.lead_id,
        created_ms: r.created_ms,
        updated_ms: r.updated_ms,
        event_id: r.event_id,
        event_name: r.event_name,
        kiosk: r.kiosk_name,
        item: r.item,
        lang: r.lang,
        source: r.source,
        name: r.contact.name,
        organisation: r.contact.organisation,
        title: r.contact.title,
        email: r.contact.email,
        phone: r.contact.phone,
        country: r.contact.country,
        interests: r.interests,
        status: r.status,
        notes: r.notes,
        consent: r.consent,
    }
}

async fn export(
    State(state): State<AppState>,
    cx: StaffCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let (filter, _, format) = parse_query(raw.as_deref());
    let format = format.unwrap_or_else(|| "csv".into());
    if !["csv", "xlsx", "vcf"].contains(&format.as_str()) {
        return Err(AppError::BadRequest(
            "format must be csv, xlsx or vcf".into(),
        ));
    }
    let leads = state.leads.clone();
    let (scope, f) = (cx.scope.clone(), filter.clone());
    let (rows, _) = blocking(move || leads.leads(&scope, &f, EXPORT_MAX, 0)).await?;
    let count = rows.len();
    let headers_t = crate::export::Headers(
        crate::export::COLUMNS
            .iter()
            .map(|(_, id)| cx.t(&state, id))
            .collect(),
    );
    let sheet = cx.t(&state, "leads-title");
    let fmt = format.clone();
    let (bytes, mime) =
        tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, &str), AppError> {
            let rows: Vec<_> = rows.into_iter().map(export_lead).collect();
            Ok(match fmt.as_str() {
                "csv" => (
                    crate::export::csv(&rows, &headers_t),
                    "text/csv; charset=utf-8",
                ),
                "xlsx" => (
                    crate::export::xlsx(&rows, &headers_t, &sheet)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                _ => (
                    crate::export::vcard(&rows).into_bytes(),
                    "text/vcard; charset=utf-8",
                ),
            })
        })
        .await??;
    cx.audit(
        &state,
        AuditAction::Export,
        format!("{format}: {count} leads; {}", filter_query(&filter)),
    )
    .await?;
    let date = cx.when(Some(protocol::now_ms()));
    let name = format!("leads-{}.{format}", date.get(..10).unwrap_or("export"));
    let mut resp = bytes.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn load_lead(state: &AppState, cx: &StaffCtx, id: &str) -> Result<Option<LeadRow>, AppError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    let leads = state.leads.clone();
    let scope = cx.scope.clone();
    blocking(move || leads.lead(&scope, id)).await
}

async fn lead_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let Some(r) = load_lead(&state, &cx, &id).await? else {
        return Err(AppError::NotFound);
    };
    let t = |id: &str| cx.t(&state, id);
    let field = |label: &str, value: &str| {
        format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&t(label)),
            esc(value)
        )
    };
    let consent = match &r.consent {
        Some(c) => {
            // The very text the visitor agreed to, in their language: the words of the version
            // its digest names, as archived when that version was first agreed to.
            let archived = match c.digest.clone() {
                Some(digest) => {
                    let leads = state.leads.clone();
                    blocking(move || leads.consent_text(&digest)).await?
                }
                None => None,
            };
            let (text, note) = match (&archived, &c.digest) {
                (Some(a), _) => (
                    a.text.clone(),
                    state.i18n.t_args(
                        cx.lang,
                        "lead-consent-archived",
                        &[("since", &cx.when(Some(a.first_seen_ms)))],
                    ),
                ),
                (None, Some(_)) => (String::new(), t("lead-consent-missing")),
                (None, None) => (state.i18n.t(&c.lang, &c.text_id), t("lead-consent-legacy")),
            };
            let quote = if text.is_empty() {
                String::new()
            } else {
                format!(
                    "<blockquote id=\"consent-text\" lang=\"{}\">{}</blockquote>",
                    esc(&c.lang),
                    esc(&text)
                )
            };
            format!(
                "<p>{}</p>{quote}<p class=\"muted\" id=\"consent-note\">{}</p>",
                esc(&state.i18n.t_args(
                    cx.lang,
                    "lead-consent-line",
                    &[
                        ("id", &c.text_id),
                        ("version", &c.version_label()),
                        ("lang", &c.lang),
                        ("at", &cx.when(Some(c.at_ms))),
                    ]
                )),
                esc(&note)
            )
        }
        None => format!("<p class=\"muted\">{}</p>", esc(&t("lead-no-consent"))),
    };
    let statuses: String = LEAD_STATUSES
        .iter()
        .map(|s| {
            format!(
                "<option value=\"{s}\"{}>{}</option>",
                if *s == r.status { " selected" } else { "" },
                esc(&status_label(&state, cx.lang, s))
            )
        })
        .collect();
    let done = match q.done.as_deref() {
        Some("saved") => format!("<p class=\"ok\">{}</p>", esc(&t("lead-saved"))),
        Some("restored") => format!("<p class=\"ok\">{}</p>", esc(&t("lead-restored"))),
        _ => String::new(),
    };
    let (leads, scope, lead_id) = (state.leads.clone(), cx.scope.clone(), r.lead_id);
    let versions = blocking(move || leads.lead_versions(&scope, lead_id)).await?;
    let history = if versions.is_empty() {
        String::new()
    } else {
        let rows: String = versions
            .iter()
            .map(|v| {
                format!(
                    "<tr data-key=\"{vid}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>\
                     <form method=\"post\" action=\"/staff/leads/{id}/restore\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <input type=\"hidden\" name=\"version\" value=\"{vid}\"><button type=\"submit\">{}</button></form></td></tr>",
                    esc(&cx.when(Some(v.updated_ms))),
                    esc(&source_label(&state, cx.lang, &v.source)),
                    esc(&v.contact.name),
                    esc(&v.contact.organisation),
                    esc(&v.contact.email),
                    esc(&v.contact.phone),
                    esc(&t("lead-restore")),
                    vid = v.id,
                    id = r.lead_id,
                    csrf = esc(&cx.csrf),
                )
            })
            .collect();
        format!(
            "<h2>{}</h2><p class=\"muted\">{}</p><table id=\"versions\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
            esc(&t("lead-versions")),
            esc(&t("lead-versions-help")),
            esc(&t("export-col-created")),
            esc(&t("export-col-source")),
            esc(&t("export-col-name")),
            esc(&t("export-col-organisation")),
            esc(&t("export-col-email")),
            esc(&t("export-col-phone")),
        )
    };
    let body = format!(
        "{done}<table>{}{}{}{}{}{}{}{}{}{}{}{}</table>{history}\
         <h2>{}</h2>{consent}\
         <form method=\"post\" action=\"/staff/leads/{id}\" id=\"lead-form\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{}<select name=\"status\">{statuses}</select></label>\
         <label>{}<textarea name=\"notes\">{}</textarea></label><button type=\"submit\">{}</button></form>\
         <form method=\"post\" action=\"/staff/leads/{id}/erase\" id=\"erase-form\" style=\"margin-top:24px\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><label>{}<input name=\"confirm\" autocomplete=\"off\"></label>\
         <button type=\"submit\" style=\"background:#b00020\">{}</button></form>",
        field("export-col-name", &r.contact.name),
        field("export-col-organisation", &r.contact.organisation),
        field("export-col-title", &r.contact.title),
        field("export-col-email", &r.contact.email),
        field("export-col-phone", &r.contact.phone),
        field("export-col-country", &r.contact.country),
        field("export-col-language", &r.lang),
        field("export-col-interests", &r.interests.join(", ")),
        field(
            "export-col-event",
            &format!("{} {}", r.event_name, r.event_id)
        ),
        field("export-col-kiosk", &r.kiosk_name),
        field(
            "export-col-source",
            &source_label(&state, cx.lang, &r.source)
        ),
        field("export-col-created", &cx.when(Some(r.created_ms))),
        esc(&t("lead-consent-title")),
        esc(&t("export-col-status")),
        esc(&t("export-col-notes")),
        esc(&r.notes),
        esc(&t("lead-save")),
        esc(&t("lead-erase-confirm")),
        esc(&t("lead-erase")),
        id = r.lead_id,
        csrf = esc(&cx.csrf),
    );
    let here = format!("/staff/leads/{}", r.lead_id);
    Ok(cx.page(&state, "lead-title", "/staff/leads", &here, &body))
}

#[derive(Deserialize)]
struct LeadForm {
    status: String,
    #[serde(default)]
    notes: String,
}

#[derive(Deserialize)]
struct RestoreForm {
    version: i64,
}

/// Puts an earlier version of a lead back; the version it replaces is kept in turn.
async fn restore_lead(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RestoreForm>,
) -> Result<Response, AppError> {
    let Some(r) = load_lead(&state, &cx, &id).await? else {
        return Err(AppError::NotFound);
    };
    let (leads, scope, lead_id) = (state.leads.clone(), cx.scope.clone(), r.lead_id);
    let done = blocking(move || {
        leads.restore_lead_version(&scope, lead_id, form.version, protocol::now_ms())
    })
    .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    cx.audit(
        &state,
        AuditAction::LeadRestore,
        format!("{lead_id} version={}", form.version),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/leads/{lead_id}?done=restored")).into_response())
}

async fn update_lead(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LeadForm>,
) -> Result<Response, AppError> {
    let Some(r) = load_lead(&state, &cx, &id).await? else {
        return Err(AppError::NotFound);
    };
    if !LEAD_STATUSES.contains(&form.status.as_str()) {
        return Err(AppError::BadRequest(format!(
            "status must be one of {}",
            LEAD_STATUSES.join(", ")
        )));
    }
    let notes: String = form.notes.chars().take(4000).collect();
    let leads = state.leads.clone();
    let (scope, status, n) = (cx.scope.clone(), form.status.clone(), notes.clone());
    let lead_id = r.lead_id;
    blocking(move || leads.update_lead(&scope, lead_id, &status, &n, protocol::now_ms())).await?;
    cx.audit(
        &state,
        AuditAction::LeadStatus,
        format!("{lead_id}: {}", form.status),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/leads/{lead_id}?done=saved")).into_response())
}

async fn erase_lead(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let Some(r) = load_lead(&state, &cx, &id).await? else {
        return Err(AppError::NotFound);
    };
    if form.confirm.trim() != "ERASE" {
        return Ok(Redirect::to(&format!("/staff/leads/{}", r.lead_id)).into_response());
    }
    let storage = state.storage.clone();
    let lead_id = r.lead_id;
    blocking(move || storage.erase_lead(lead_id, protocol::now_ms())).await?;
    cx.audit(&state, AuditAction::Erase, lead_id.to_string())
        .await?;
    Ok(cx.page(
        &state,
        "lead-title",
        "/staff/leads",
        "/staff/leads",
        &format!(
            "<p class=\"ok\" id=\"erased\">{}</p><p><a href=\"/staff/leads\">{}</a></p>",
            esc(&cx.t(&state, "lead-erased")),
            esc(&cx.t(&state, "leads-title"))
        ),
    ))
}

async fn duplicates_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(_q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let leads = state.leads.clone();
    let scope = cx.scope.clone();
    let groups = blocking(move || leads.duplicates(&scope)).await?;
    let t = |id: &str| cx.t(&state, id);
    let body = if groups.is_empty() {
        format!("<p class=\"muted\">{}</p>", esc(&t("dup-none")))
    } else {
        groups
            .iter()
            .map(|g| {
                let rows: String = g
                    .iter()
                    .map(|r| {
                        format!(
                            "<tr><td><a href=\"/staff/leads/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            r.lead_id,
                            esc(&r.contact.name),
                            esc(&r.contact.email),
                            esc(&r.contact.phone),
                            esc(&r.event_id),
                            esc(&cx.when(Some(r.created_ms)))
                        )
                    })
                    .collect();
                let ids: Vec<String> = g.iter().map(|r| r.lead_id.to_string()).collect();
                format!(
                    "<table>{rows}</table><form method=\"post\" action=\"/staff/duplicates\" class=\"merge\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"ids\" value=\"{}\">\
                     <button type=\"submit\">{}</button></form>",
                    esc(&cx.csrf),
                    ids.join(","),
                    esc(&t("dup-merge"))
                )
            })
            .collect()
    };
    Ok(cx.page(
        &state,
        "dup-title",
        "/staff/duplicates",
        "/staff/duplicates",
        &body,
    ))
}

#[derive(Deserialize)]
struct MergeForm {
    ids: String,
}

async fn merge(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> Result<Response, AppError> {
    let ids: Vec<Uuid> = form
        .ids
        .split(',')
        .filter_map(|s| Uuid::parse_str(s.trim()).ok())
        .collect();
    let Some((&keep, others)) = ids.split_first() else {
        return Err(AppError::BadRequest("no leads to merge".into()));
    };
    let others = others.to_vec();
    let leads = state.leads.clone();
    let scope = cx.scope.clone();
    let o = others.clone();
    let n = blocking(move || leads.merge_leads(&scope, keep, &o, protocol::now_ms())).await?;
    cx.audit(
        &state,
        AuditAction::Merge,
        format!("{n} into {keep}: {}", form.ids),
    )
    .await?;
    Ok(Redirect::to("/staff/duplicates").into_response())
}
