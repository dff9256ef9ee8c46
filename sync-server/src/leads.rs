//! The staff pages about leads and events: the leads table with filters, search and exports
//! (CSV, XLSX, vCard), a lead's status, notes, consent and erasure, duplicates and merging, a
//! person's request to see or erase their data, events with their organising unit and person
//! responsible, units' retention periods, and the audit log.
//!
//! Every page checks the session; what a staff member sees is scoped by
//! [`Scope::of`] (their unit's events; everything for admins and the Department of Culture,
//! Sports and Tourism). A lead outside the scope answers 404, as if it did not exist.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::error::AppError;
use crate::staff::{LANG_COOKIE, current_user, esc, nav, page, set_cookie, staff_lang, when};
use crate::storage::{EventRow, LEAD_STATUSES, LeadFilter, LeadRow, Scope, User};

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
        .route("/staff/privacy", get(privacy_page).post(privacy_erase))
        .route("/staff/events", get(events_page).post(save_event))
        .route("/staff/orgs", post(save_org))
        .route("/staff/audit", get(audit_page))
        .route("/staff/audit/unlock", post(unlock_user))
}

/// The signed-in user, their CSRF token, scope and language; or the redirect to sign in.
pub(crate) struct Ctx {
    pub(crate) user: User,
    pub(crate) csrf: String,
    pub(crate) scope: Scope,
    pub(crate) lang: &'static str,
    /// The language was chosen in this request: remember it in the cookie.
    switched: bool,
}

pub(crate) async fn ctx(
    state: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Result<Option<Ctx>, AppError> {
    Ok(current_user(state, headers).await?.map(|(user, csrf)| Ctx {
        scope: Scope::of(&user),
        lang: staff_lang(headers, lang),
        switched: lang.is_some(),
        user,
        csrf,
    }))
}

pub(crate) fn to_login() -> Response {
    Redirect::to("/staff/login").into_response()
}

impl Ctx {
    pub(crate) fn t(&self, state: &AppState, id: &str) -> String {
        state.i18n.t(self.lang, id)
    }

    pub(crate) fn t_args(&self, state: &AppState, id: &str, args: &[(&str, &str)]) -> String {
        state.i18n.t_args(self.lang, id, args)
    }

    pub(crate) fn check_csrf(&self, state: &AppState, sent: &str) -> Result<(), AppError> {
        if !crate::staff::same_secret(sent, &self.csrf) {
            return Err(AppError::Forbidden(self.t(state, "staff-form-expired")));
        }
        Ok(())
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
        let mut resp = Html(page(self.lang, title, &html)).into_response();
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
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::storage::StorageError> + Send + 'static,
) -> Result<T, AppError> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

pub(crate) async fn audit(
    state: &AppState,
    user: &User,
    action: &str,
    detail: String,
) -> Result<(), AppError> {
    let staff = state.staff.clone();
    let id = user.id;
    let action = action.to_owned();
    blocking(move || staff.audit(Some(id), &action, &detail, protocol::now_ms())).await
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

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Parses the filter and the page number from a raw query (`?event=…&page=2&lang=en`).
fn parse_query(raw: Option<&str>) -> (LeadFilter, u64, Option<String>) {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Extra {
        page: Option<u64>,
        #[serde(rename = "ui")]
        ui: Option<String>,
        format: Option<String>,
    }
    let raw = raw.unwrap_or("");
    let filter: LeadFilter = serde_urlencoded::from_str(raw).unwrap_or_default();
    let extra: Extra = serde_urlencoded::from_str(raw).unwrap_or_default();
    (filter, extra.page.unwrap_or(0), extra.format.or(extra.ui))
}

pub(crate) fn select(
    name: &str,
    label: &str,
    any: &str,
    current: &str,
    options: &[(String, String)],
) -> String {
    let opts: String = options
        .iter()
        .map(|(v, l)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(v),
                if v == current { " selected" } else { "" },
                esc(l)
            )
        })
        .collect();
    format!(
        "<label>{}<select name=\"{name}\"><option value=\"\">{}</option>{opts}</select></label>",
        esc(label),
        esc(any)
    )
}

pub(crate) fn input(name: &str, label: &str, kind: &str, value: &str) -> String {
    format!(
        "<label>{}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"></label>",
        esc(label),
        esc(value)
    )
}

async fn leads_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let (filter, page_no, _) = parse_query(raw.as_deref());
    let ui_lang = raw
        .as_deref()
        .and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok())
        .and_then(|v| v.into_iter().find(|(k, _)| k == "ui").map(|(_, v)| v));
    let Some(cx) = ctx(&state, &headers, ui_lang.as_deref()).await? else {
        return Ok(to_login());
    };
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
        .filter(|e| match &cx.scope {
            Scope::All => true,
            Scope::Org(o) => &e.org == o,
        })
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
                format!(
                    "<tr><td>{}</td><td><a href=\"/staff/leads/{}\">{}</a></td><td>{}</td><td>{}</td>\
                     <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&when(Some(r.created_ms))),
                    r.lead_id,
                    esc(if r.contact.name.is_empty() { "—" } else { &r.contact.name }),
                    esc(&r.contact.organisation),
                    esc(&r.contact.email),
                    esc(&r.contact.phone),
                    esc(&r.contact.country),
                    esc(&r.event_id),
                    esc(&source_label(&state, cx.lang, &r.source)),
                    esc(&status_label(&state, cx.lang, &r.status)),
                )
            })
            .collect();
        format!(
            "<table id=\"leads\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
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
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let (filter, _, format) = parse_query(raw.as_deref());
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
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
    audit(
        &state,
        &cx.user,
        "export",
        format!("{format}: {count} leads; {}", filter_query(&filter)),
    )
    .await?;
    let date = when(Some(protocol::now_ms()));
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

#[derive(Deserialize)]
pub(crate) struct LangOnly {
    #[serde(alias = "ui")]
    pub(crate) lang: Option<String>,
    pub(crate) done: Option<String>,
}

async fn load_lead(state: &AppState, cx: &Ctx, id: &str) -> Result<Option<LeadRow>, AppError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    let leads = state.leads.clone();
    let scope = cx.scope.clone();
    blocking(move || leads.lead(&scope, id)).await
}

async fn lead_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangOnly>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
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
            // The very text the visitor agreed to, in their language.
            let text = state.i18n.t(&c.lang, &c.text_id);
            format!(
                "<p>{}</p><blockquote lang=\"{}\">{}</blockquote>",
                esc(&state.i18n.t_args(
                    cx.lang,
                    "lead-consent-line",
                    &[
                        ("id", &c.text_id),
                        ("version", &c.version.to_string()),
                        ("lang", &c.lang),
                        ("at", &when(Some(c.at_ms))),
                    ]
                )),
                esc(&c.lang),
                esc(&text)
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
                    esc(&when(Some(v.updated_ms))),
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
        field("export-col-created", &when(Some(r.created_ms))),
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
    csrf: String,
    status: String,
    #[serde(default)]
    notes: String,
}

#[derive(Deserialize)]
struct RestoreForm {
    csrf: String,
    version: i64,
}

/// Puts an earlier version of a lead back; the version it replaces is kept in turn.
async fn restore_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
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
    audit(
        &state,
        &cx.user,
        "lead_restore",
        format!("{lead_id} version={}", form.version),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/leads/{lead_id}?done=restored")).into_response())
}

async fn update_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<LeadForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
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
    audit(
        &state,
        &cx.user,
        "lead-status",
        format!("{lead_id}: {}", form.status),
    )
    .await?;
    Ok(Redirect::to(&format!("/staff/leads/{lead_id}?done=saved")).into_response())
}

/// A form that needs a typed confirmation (ERASE, REVOKE) besides its CSRF token.
#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) confirm: String,
}

async fn erase_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    let Some(r) = load_lead(&state, &cx, &id).await? else {
        return Err(AppError::NotFound);
    };
    if form.confirm.trim() != "ERASE" {
        return Ok(Redirect::to(&format!("/staff/leads/{}", r.lead_id)).into_response());
    }
    let storage = state.storage.clone();
    let lead_id = r.lead_id;
    blocking(move || storage.erase_lead(lead_id, protocol::now_ms())).await?;
    audit(&state, &cx.user, "erase", lead_id.to_string()).await?;
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
    headers: HeaderMap,
    Query(q): Query<LangOnly>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
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
                            esc(&when(Some(r.created_ms)))
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
    csrf: String,
    ids: String,
}

async fn merge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<MergeForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
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
    audit(
        &state,
        &cx.user,
        "merge",
        format!("{n} into {keep}: {}", form.ids),
    )
    .await?;
    Ok(Redirect::to("/staff/duplicates").into_response())
}

#[derive(Deserialize)]
struct PrivacyQuery {
    #[serde(alias = "ui")]
    lang: Option<String>,
    who: Option<String>,
}

async fn privacy_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PrivacyQuery>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
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
        audit(
            &state,
            &cx.user,
            "privacy-lookup",
            format!("{} leads, {} raw scans", rows.len(), scans.len()),
        )
        .await?;
        if !scans.is_empty() {
            let list: String = scans
                .iter()
                .map(|s| {
                    format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                        esc(&when(Some(s.at_ms))),
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
                        .map(|c| format!("{} v{} ({})", c.text_id, c.version, c.lang))
                        .unwrap_or_default();
                    format!(
                        "<tr><td><a href=\"/staff/leads/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        r.lead_id,
                        esc(&r.contact.name),
                        esc(&r.contact.organisation),
                        esc(&r.contact.email),
                        esc(&r.contact.phone),
                        esc(&r.event_id),
                        esc(&when(Some(r.created_ms))),
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
    cx: &Ctx,
    who: &str,
) -> Result<Vec<crate::storage::RawScanRow>, AppError> {
    let leads = state.leads.clone();
    let who = who.to_owned();
    let (scans, events) =
        blocking(move || Ok((leads.raw_scans_of_person(&who)?, leads.events()?))).await?;
    Ok(scans
        .into_iter()
        .filter(|s| match &cx.scope {
            Scope::All => true,
            Scope::Org(o) => events.iter().any(|e| e.id == s.event_id && &e.org == o),
        })
        .collect())
}

/// A person's leads within the staff member's scope.
async fn person_leads(state: &AppState, cx: &Ctx, who: &str) -> Result<Vec<LeadRow>, AppError> {
    let leads = state.leads.clone();
    let who = who.to_owned();
    let rows = blocking(move || leads.leads_of_person(&who)).await?;
    Ok(rows
        .into_iter()
        .filter(|r| match &cx.scope {
            Scope::All => true,
            Scope::Org(o) => &r.org == o,
        })
        .collect())
}

#[derive(Deserialize)]
struct PrivacyErase {
    csrf: String,
    who: String,
    #[serde(default)]
    confirm: String,
}

async fn privacy_erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<PrivacyErase>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
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
    audit(
        &state,
        &cx.user,
        "privacy-erase",
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

async fn events_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangOnly>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
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
        .filter(|(o, _)| cx.user.role == "admin" || *o == cx.user.org)
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
    if cx.user.role == "admin" {
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
    csrf: String,
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
    headers: HeaderMap,
    Form(form): Form<EventForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
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
    let allowed = cx.user.role == "admin"
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
    audit(&state, &cx.user, "event", format!("{} ({})", e.id, e.org)).await?;
    Ok(Redirect::to("/staff/events?done=saved").into_response())
}

#[derive(Deserialize)]
struct OrgForm {
    csrf: String,
    name: String,
    #[serde(default)]
    retention_days: String,
}

async fn save_org(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<OrgForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    if cx.user.role != "admin" {
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
    audit(
        &state,
        &cx.user,
        "retention",
        format!("{name}: {days:?} days"),
    )
    .await?;
    Ok(Redirect::to("/staff/events?done=saved").into_response())
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(alias = "ui")]
    lang: Option<String>,
    #[serde(default)]
    page: u64,
}

/// Entries on one page of the audit log.
const AUDIT_PAGE: u64 = 100;

async fn audit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, q.lang.as_deref()).await? else {
        return Ok(to_login());
    };
    if cx.user.role != "admin" {
        return Ok(cx.not_allowed(&state));
    }
    let (leads, staff) = (state.leads.clone(), state.staff.clone());
    let page_no = q.page.min(1_000_000);
    let ((entries, total), locked, (held, held_total)) = blocking(move || {
        Ok((
            leads.audit_log(AUDIT_PAGE, page_no * AUDIT_PAGE)?,
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
                esc(&when(Some(*until))),
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
                    esc(&when(Some(q.received_ms))),
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
                esc(&when(Some(a.at_ms))),
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
    csrf: String,
    email: String,
}

/// An admin lifts an account's sign-in lockout.
async fn unlock_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<UnlockForm>,
) -> Result<Response, AppError> {
    let Some(cx) = ctx(&state, &headers, None).await? else {
        return Ok(to_login());
    };
    cx.check_csrf(&state, &form.csrf)?;
    if cx.user.role != "admin" {
        return Ok(cx.not_allowed(&state));
    }
    let staff = state.staff.clone();
    let email: String = form.email.trim().chars().take(254).collect();
    let e = email.clone();
    blocking(move || staff.unlock_user(&e)).await?;
    audit(&state, &cx.user, "user_unlock", email).await?;
    Ok(Redirect::to("/staff/audit").into_response())
}

/// Erases the leads past their unit's retention period; returns how many. Run at start and
/// then every hour by `serve`.
pub fn sweep_retention(
    state: &AppState,
    now_ms: i64,
) -> Result<usize, crate::storage::StorageError> {
    let ids = state.leads.expired_leads(now_ms)?;
    for id in &ids {
        state.storage.erase_lead(*id, now_ms)?;
    }
    if !ids.is_empty() {
        state.staff.audit(
            None,
            "retention-erase",
            &format!("{} leads", ids.len()),
            now_ms,
        )?;
    }
    // Raw badge scans too, counted from when they were scanned.
    let scans = state.leads.expire_raw_scans(now_ms)?;
    if scans > 0 {
        state.staff.audit(
            None,
            "retention-erase",
            &format!("{scans} raw scans"),
            now_ms,
        )?;
    }
    // Delegation members follow the same rule, counted from the day of the visit.
    let members = state.visits.expire_members(now_ms)?;
    if members > 0 {
        state.staff.audit(
            None,
            "retention-erase",
            &format!("{members} delegation members"),
            now_ms,
        )?;
    }
    Ok(ids.len())
}
