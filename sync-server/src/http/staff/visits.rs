//! The staff pages about foreign delegations: the delegations a unit received with what their
//! visits gathered (`/staff/visits`), and one delegation's visit report
//! (`/staff/visits/{delegation}`): its details and members, each visit presented from a kiosk
//! with every slide in the order shown and the time it stayed on screen, the phones that
//! opened the closing slide's QR codes, and the leads made. The report downloads as CSV (one
//! row per slide shown) and as XLSX (visits, slides, leads); every download is in the audit
//! log.
//!
//! Delegations are scoped like leads ([`crate::store::Scope`]): a unit sees the delegations
//! it organises; another unit's delegation answers 404, as if it did not exist. Times are in
//! Vietnam time. Item titles come from the content published now.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use protocol::content::{Localised, Manifest};
use rust_xlsxwriter::{Workbook, XlsxError};

use super::context::{CsrfForm, DoneQuery, StaffCtx, blocking};
use super::html::{esc, summary_table, table, td, td_n, th, th_n, urlencode};
use super::leads::{EXPORT_MAX, source_label};
use super::report_files::{header as sheet_header, write_text};
use super::reports::{REPORT_CSS, dec, secs, title_in};
use crate::AppState;
use crate::error::AppError;
use crate::export::{csv_table, sanitize_sheet_name};
use crate::store::time::vietnam_time;
use crate::store::{AuditAction, DelegationReport, DelegationRow, LeadFilter, LeadRow, VisitRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/visits", get(list_page))
        .route("/staff/visits/{delegation}", get(delegation))
        .route(
            "/staff/visits/{delegation}/erase-member",
            post(erase_member),
        )
}

#[derive(serde::Deserialize)]
struct EraseMember {
    #[serde(default)]
    confirm: String,
    name: String,
}

/// Erases a delegation member's personal data (Law 91/2025): typed confirmation, audited
/// without the name, and kept erased when the pack is imported again.
async fn erase_member(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EraseMember>,
) -> Result<Response, AppError> {
    let back = format!("/staff/visits/{}", urlencode(&id));
    if form.confirm.trim() != "ERASE" {
        return Ok(Redirect::to(&back).into_response());
    }
    let (visits, scope, i, name) = (
        state.visits.clone(),
        cx.scope.clone(),
        id.clone(),
        form.name.clone(),
    );
    let erased =
        blocking(move || visits.erase_member(&scope, &i, &name, protocol::now_ms())).await?;
    if !erased {
        return Err(AppError::NotFound);
    }
    cx.audit(&state, AuditAction::EraseMember, id.clone())
        .await?;
    Ok(Redirect::to(&format!("{back}?done=member-erased")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Titles from the published content.

/// Item and deck titles per language, from the current manifest.
#[derive(Default)]
struct Titles {
    items: HashMap<String, Localised>,
    decks: HashMap<String, Localised>,
}

impl Titles {
    fn of(manifest: Option<&Manifest>) -> Titles {
        let Some(m) = manifest else {
            return Titles::default();
        };
        Titles {
            items: m
                .pack
                .items
                .iter()
                .map(|i| {
                    let titles = i
                        .text
                        .iter()
                        .map(|(lang, t)| (lang.clone(), t.title.clone()))
                        .collect();
                    (i.id.clone(), titles)
                })
                .collect(),
            decks: m
                .pack
                .decks
                .iter()
                .map(|d| (d.id.clone(), d.title.clone()))
                .collect(),
        }
    }

    /// An item's title in `lang` (else English, Vietnamese, any); its id if the content no
    /// longer has it.
    fn item(&self, item: &str, lang: &str) -> String {
        self.items
            .get(item)
            .and_then(|t| title_in(t, lang))
            .unwrap_or(item)
            .to_owned()
    }

    fn deck(&self, deck: &str, lang: &str) -> String {
        match self.decks.get(deck).and_then(|t| title_in(t, lang)) {
            Some(title) => format!("{title} ({deck})"),
            None => deck.to_owned(),
        }
    }
}

/// One slide as it was shown in a visit.
struct SlideLine {
    /// 1-based order in the visit.
    order: usize,
    /// 1-based position in the deck (the closing slide follows the last).
    position: u32,
    /// `""` for the closing slide.
    item: String,
    title: String,
    shown_ms: i64,
}

/// A visit's slides in the order shown; the closing slide titled `closing`.
fn slide_lines(v: &VisitRow, titles: &Titles, lang: &str, closing: &str) -> Vec<SlideLine> {
    v.slides
        .iter()
        .enumerate()
        .map(|(i, s)| SlideLine {
            order: i + 1,
            position: s.slide.saturating_add(1),
            item: s.item.clone().unwrap_or_default(),
            title: match &s.item {
                Some(item) => titles.item(item, lang),
                None => closing.to_owned(),
            },
            shown_ms: i64::try_from(s.shown_ms).unwrap_or(i64::MAX),
        })
        .collect()
}

/// Per slide of the deck: (position, item) → (title, times shown, total ms), in deck order.
fn slide_totals(lines: &[SlideLine]) -> BTreeMap<(u32, String), (String, i64, i64)> {
    let mut out: BTreeMap<(u32, String), (String, i64, i64)> = BTreeMap::new();
    for l in lines {
        let e = out
            .entry((l.position, l.item.clone()))
            .or_insert_with(|| (l.title.clone(), 0, 0));
        e.1 += 1;
        e.2 += l.shown_ms;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Formatting.

/// `start – end` in Vietnam time, the end's date left out on the same day.
fn span(start_ms: i64, end_ms: i64) -> String {
    let (a, b) = (vietnam_time(start_ms), vietnam_time(end_ms));
    match (a.get(..11), b.get(..11), b.get(11..)) {
        (Some(da), Some(db), Some(hm)) if da == db => format!("{a} – {hm}"),
        _ => format!("{a} – {b}"),
    }
}

/// Minutes with one decimal (a decimal comma in Vietnamese).
fn minutes(lang: &str, ms: i64) -> String {
    dec(lang, ms as f64 / 60_000.0)
}

fn ended_label(state: &AppState, lang: &str, ended: &str) -> String {
    match ended {
        "host" => state.i18n.t(lang, "visits-ended-host"),
        "interrupted" => state.i18n.t(lang, "visits-ended-interrupted"),
        other => other.to_owned(),
    }
}

/// `name (id)`, or the id alone when the name is the id.
fn delegation_cell(d: &DelegationRow) -> String {
    if d.name.is_empty() || d.name == d.id {
        d.id.clone()
    } else {
        format!("{} ({})", d.name, d.id)
    }
}

impl StaffCtx {
    /// A visits page: the reports' styles (tables, print), the navigation on "Visits".
    fn visits_page(&self, state: &AppState, title: &str, here: &str, body: &str) -> Response {
        self.page_titled(state, title, "/staff/visits", here, REPORT_CSS, body)
    }
}

// ---------------------------------------------------------------------------------------------
// The delegations.

async fn list_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(_q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(&state, id);
    let visits = state.visits.clone();
    let scope = cx.scope.clone();
    let rows = blocking(move || visits.delegations(&scope)).await?;
    let body = if rows.is_empty() {
        format!(
            "<p class=\"muted\" id=\"no-delegations\">{}</p>",
            esc(&t("visits-none"))
        )
    } else {
        let cells: Vec<String> = rows
            .iter()
            .map(|d| {
                format!(
                    "<tr data-key=\"{}\">{}<td><a href=\"/staff/visits/{}\">{}</a></td>{}{}{}{}{}{}{}{}</tr>",
                    esc(&d.id),
                    td(&d.date),
                    urlencode(&d.id),
                    esc(&d.name),
                    td(&d.country),
                    td(&d.languages),
                    td(&d.host),
                    td(&d.org),
                    td_n(&d.visits.to_string()),
                    td_n(&d.attendees.to_string()),
                    td_n(&d.qr_opens.to_string()),
                    td_n(&d.leads.to_string()),
                )
            })
            .collect();
        format!(
            "<p class=\"muted\">{}</p>{}",
            esc(&t("visits-intro")),
            table(
                "delegations",
                &[
                    th(&t("visits-col-date")),
                    th(&t("visits-col-delegation")),
                    th(&t("visits-col-country")),
                    th(&t("visits-col-languages")),
                    th(&t("visits-col-host")),
                    th(&t("visits-col-unit")),
                    th_n(&t("visits-col-visits")),
                    th_n(&t("visits-col-attendees")),
                    th_n(&t("visits-col-qr-opens")),
                    th_n(&t("visits-col-leads")),
                ],
                &cells,
            )
        )
    };
    Ok(cx.visits_page(&state, &t("visits-title"), "/staff/visits", &body))
}

// ---------------------------------------------------------------------------------------------
// One delegation: the visit report and its downloads.

/// `/staff/visits/{delegation}`, `….csv` and `….xlsx` (a delegation id has no dot).
async fn delegation(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(path): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let (id, format) = match path.rsplit_once('.') {
        Some((id, "csv")) => (id.to_owned(), Some("csv")),
        Some((id, "xlsx")) => (id.to_owned(), Some("xlsx")),
        _ => (path.clone(), None),
    };
    let (visits, leads) = (state.visits.clone(), state.leads.clone());
    let (scope, i) = (cx.scope.clone(), id.clone());
    let found = blocking(move || {
        let Some(report) = visits.delegation_report(&scope, &i)? else {
            return Ok(None);
        };
        // The leads page's rules: in scope, not erased (merged duplicates are erased).
        let filter = LeadFilter {
            event: i,
            ..Default::default()
        };
        let (leads, _) = leads.leads(&scope, &filter, EXPORT_MAX, 0)?;
        Ok(Some((report, leads)))
    })
    .await?;
    let Some((report, leads)) = found else {
        return Err(AppError::NotFound);
    };
    let manifest = crate::http::phone::current_manifest(&state).await?;
    let titles = Titles::of(manifest.as_deref());
    match format {
        None => {
            let erased = q.done.as_deref() == Some("member-erased");
            Ok(report_page(&state, &cx, &report, &leads, &titles, erased))
        }
        Some(format) => export(&state, &cx, report, leads, titles, format).await,
    }
}

fn report_page(
    state: &AppState,
    cx: &StaffCtx,
    r: &DelegationReport,
    leads: &[LeadRow],
    titles: &Titles,
    member_erased: bool,
) -> Response {
    let lang = cx.lang;
    let t = |id: &str| cx.t(state, id);
    let d = &r.delegation;
    let closing = t("visits-closing-slide");
    let mut body = if member_erased {
        format!(
            "<p class=\"ok\" id=\"member-erased\">{}</p>",
            esc(&t("visits-member-erased"))
        )
    } else {
        String::new()
    };
    body += &format!(
        "<p class=\"links no-print\"><a id=\"export-csv\" href=\"/staff/visits/{id}.csv\">{}</a> · \
         <a id=\"export-xlsx\" href=\"/staff/visits/{id}.xlsx\">{}</a> · <a href=\"/staff/visits\">{}</a></p>\
         <p class=\"muted\">{}</p>",
        esc(&t("visits-download-csv")),
        esc(&t("visits-download-xlsx")),
        esc(&t("visits-back")),
        esc(&t("reports-vietnam-time")),
        id = urlencode(&d.id),
    );

    // The delegation.
    let field = |key: &str, label: &str, value: &str| {
        format!(
            "<tr data-key=\"{key}\"><th scope=\"row\">{}</th>{}</tr>",
            esc(&t(label)),
            td(value)
        )
    };
    let details = [
        field("id", "visits-col-id", &d.id),
        field("name", "visits-col-delegation", &d.name),
        field("date", "visits-col-date", &d.date),
        field("country", "visits-col-country", &d.country),
        field("languages", "visits-col-languages", &d.languages),
        field("host", "visits-col-host", &d.host),
        field("unit", "visits-col-unit", &d.org),
        field(
            "members",
            "visits-col-members",
            &r.members.len().to_string(),
        ),
    ];
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        esc(&t("visits-details")),
        table(
            "delegation",
            &[th(&t("reports-col-measure")), th(&t("reports-col-value"))],
            &details
        )
    ));

    // Summary.
    let total_ms: i64 = r.visits.iter().map(|v| v.duration_ms).sum();
    let summary = [
        ("visits", "visits-col-visits", r.visits.len().to_string()),
        (
            "attendees",
            "visits-col-attendees",
            r.visits
                .iter()
                .map(|v| v.attendees)
                .sum::<i64>()
                .to_string(),
        ),
        ("duration", "visits-total-duration", minutes(lang, total_ms)),
        ("qr-opens", "visits-col-qr-opens", r.opens.len().to_string()),
        ("leads", "visits-col-leads", leads.len().to_string()),
    ];
    body.push_str(&summary_table(&t, &summary));

    // Members.
    body.push_str(&format!("<h2>{}</h2>", esc(&t("visits-members"))));
    if r.members.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t("visits-no-members"))
        ));
    } else {
        let rows: Vec<String> = r
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let erase = format!(
                    "<td><form method=\"post\" action=\"/staff/visits/{}/erase-member\" class=\"erase-member\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"name\" value=\"{}\">\
                     <label>{}<input name=\"confirm\" autocomplete=\"off\" size=\"6\"></label>\
                     <button type=\"submit\" style=\"background:#b00020\">{}</button></form></td>",
                    esc(&urlencode(&r.delegation.id)),
                    esc(&cx.csrf),
                    esc(&m.name),
                    esc(&t("visits-erase-member-confirm")),
                    esc(&t("visits-erase-member")),
                );
                format!(
                    "<tr data-key=\"{}\">{}{}{}{erase}</tr>",
                    i + 1,
                    td(&m.name),
                    td(&m.title),
                    td(&m.organisation)
                )
            })
            .collect();
        body.push_str(&table(
            "members",
            &[
                th(&t("export-col-name")),
                th(&t("export-col-title")),
                th(&t("export-col-organisation")),
                th(""),
            ],
            &rows,
        ));
    }

    // Each visit.
    body.push_str(&format!("<h2>{}</h2>", esc(&t("visits-col-visits"))));
    if r.visits.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\" id=\"no-visits\">{}</p>",
            esc(&t("visits-no-visits"))
        ));
    }
    for (n, v) in r.visits.iter().enumerate() {
        let n = n + 1;
        let lines = slide_lines(v, titles, lang, &closing);
        let details = [
            field("kiosk", "export-col-kiosk", &v.kiosk_name),
            field("time", "visits-col-time", &span(v.started_ms, v.ended_ms)),
            field(
                "duration",
                "visits-col-duration",
                &minutes(lang, v.duration_ms),
            ),
            field(
                "attendees",
                "visits-col-attendees",
                &v.attendees.to_string(),
            ),
            field(
                "ended",
                "visits-col-ended",
                &ended_label(state, lang, &v.ended),
            ),
            field("blank", "visits-col-blank", &secs(lang, v.blank_ms)),
            field("deck", "visits-col-deck", &titles.deck(&v.deck, lang)),
            field("visit-id", "visits-col-visit-id", &v.visit_id.to_string()),
        ];
        let shown: Vec<String> = lines
            .iter()
            .map(|l| {
                format!(
                    "<tr data-key=\"{}\">{}{}{}{}{}</tr>",
                    l.order,
                    td_n(&l.order.to_string()),
                    td_n(&l.position.to_string()),
                    td(&l.item),
                    td(&l.title),
                    td_n(&secs(lang, l.shown_ms)),
                )
            })
            .collect();
        let totals: Vec<String> = slide_totals(&lines)
            .into_iter()
            .map(|((position, item), (title, times, ms))| {
                format!(
                    "<tr data-key=\"{position}\">{}{}{}{}{}</tr>",
                    td_n(&position.to_string()),
                    td(&item),
                    td(&title),
                    td_n(&times.to_string()),
                    td_n(&secs(lang, ms)),
                )
            })
            .collect();
        body.push_str(&format!(
            "<section class=\"visit\" id=\"visit-{n}\"><h3>{}</h3>{}<h4>{}</h4>{}<h4>{}</h4>{}</section>",
            esc(&state.i18n.t_args(
                lang,
                "visits-visit",
                &[("n", &n.to_string()), ("time", &span(v.started_ms, v.ended_ms))]
            )),
            table(
                &format!("visit-{n}-details"),
                &[th(&t("reports-col-measure")), th(&t("reports-col-value"))],
                &details
            ),
            esc(&t("visits-slides-shown")),
            table(
                &format!("visit-{n}-slides"),
                &[
                    th_n(&t("visits-col-order")),
                    th_n(&t("visits-col-slide")),
                    th(&t("export-col-item")),
                    th(&t("reports-col-title")),
                    th_n(&t("visits-col-seconds")),
                ],
                &shown
            ),
            esc(&t("visits-slide-totals")),
            table(
                &format!("visit-{n}-totals"),
                &[
                    th_n(&t("visits-col-slide")),
                    th(&t("export-col-item")),
                    th(&t("reports-col-title")),
                    th_n(&t("visits-col-times")),
                    th_n(&t("visits-col-seconds")),
                ],
                &totals
            ),
        ));
    }

    // The closing slides' QR codes opened on phones.
    body.push_str(&format!("<h2>{}</h2>", esc(&t("visits-opens"))));
    if r.opens.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t("visits-no-opens"))
        ));
    } else {
        let rows: Vec<String> = r
            .opens
            .iter()
            .enumerate()
            .map(|(i, o)| {
                format!(
                    "<tr data-key=\"{}\">{}{}{}{}</tr>",
                    i + 1,
                    td(&vietnam_time(o.at_ms)),
                    td(&o.kiosk_name),
                    td(&o.lang),
                    td(&o.nonce),
                )
            })
            .collect();
        body.push_str(&table(
            "opens",
            &[
                th(&t("visits-col-time")),
                th(&t("export-col-kiosk")),
                th(&t("export-col-language")),
                th(&t("visits-col-code")),
            ],
            &rows,
        ));
    }

    // The leads made for the delegation.
    body.push_str(&format!("<h2>{}</h2>", esc(&t("visits-leads"))));
    if leads.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t("visits-no-leads"))
        ));
    } else {
        let rows: Vec<String> = leads
            .iter()
            .map(|l| {
                format!(
                    "<tr data-key=\"{id}\"><td><a href=\"/staff/leads/{id}\">{}</a></td>{}{}{}{}{}{}</tr>",
                    esc(if l.contact.name.is_empty() { "—" } else { &l.contact.name }),
                    td(&l.contact.organisation),
                    td(&l.contact.email),
                    td(&l.contact.phone),
                    td(&l.contact.country),
                    td(&source_label(state, lang, &l.source)),
                    td(&vietnam_time(l.created_ms)),
                    id = l.lead_id,
                )
            })
            .collect();
        body.push_str(&table(
            "leads",
            &[
                th(&t("export-col-name")),
                th(&t("export-col-organisation")),
                th(&t("export-col-email")),
                th(&t("export-col-phone")),
                th(&t("export-col-country")),
                th(&t("export-col-source")),
                th(&t("visits-col-time")),
            ],
            &rows,
        ));
    }

    let title = state
        .i18n
        .t_args(lang, "visits-report-title", &[("name", &d.name)]);
    cx.visits_page(
        state,
        &title,
        &format!("/staff/visits/{}", urlencode(&d.id)),
        &body,
    )
}

/// A row of the Slides sheet and of the CSV: one slide shown in one visit.
struct SlideRow<'a> {
    visit: &'a VisitRow,
    line: SlideLine,
}

fn slide_rows<'a>(
    r: &'a DelegationReport,
    titles: &Titles,
    lang: &str,
    closing: &str,
) -> Vec<SlideRow<'a>> {
    r.visits
        .iter()
        .flat_map(|v| {
            slide_lines(v, titles, lang, closing)
                .into_iter()
                .map(move |line| SlideRow { visit: v, line })
        })
        .collect()
}

async fn export(
    state: &AppState,
    cx: &StaffCtx,
    report: DelegationReport,
    leads: Vec<LeadRow>,
    titles: Titles,
    format: &'static str,
) -> Result<Response, AppError> {
    let (st, lang) = (state.clone(), cx.lang);
    let (visits, lead_count) = (report.visits.len(), leads.len());
    let id = report.delegation.id.clone();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        Ok(match format {
            "csv" => slides_csv(&st, lang, &report, &titles),
            _ => workbook(&st, lang, &report, &leads, &titles)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        })
    })
    .await??;
    cx.audit(
        state,
        AuditAction::Export,
        format!("visits of {id} {format}: {visits} visits, {lead_count} leads"),
    )
    .await?;
    let mime = match format {
        "csv" => "text/csv; charset=utf-8",
        _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Ids from the pack are plain; one a kiosk made up may not be.
    let file: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"visits-{file}.{format}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The headers of the slide rows (CSV and the Slides sheet).
const SLIDE_COLUMNS: [&str; 10] = [
    "visits-col-delegation",
    "visits-col-visit-id",
    "visits-col-visit-start",
    "export-col-kiosk",
    "visits-col-attendees",
    "visits-col-order",
    "visits-col-slide",
    "export-col-item",
    "reports-col-title",
    "visits-col-seconds",
];

/// One row per slide shown, every visit after the other. Seconds are whole numbers: a
/// decimal point would be read as a date by an Excel set to Vietnamese (the XLSX keeps tenths).
fn slides_csv(state: &AppState, lang: &str, r: &DelegationReport, titles: &Titles) -> Vec<u8> {
    let t = |id: &str| state.i18n.t(lang, id);
    let header: Vec<String> = SLIDE_COLUMNS.iter().map(|id| t(id)).collect();
    let delegation = delegation_cell(&r.delegation);
    let rows: Vec<Vec<String>> = slide_rows(r, titles, lang, &t("visits-closing-slide"))
        .into_iter()
        .map(|s| {
            vec![
                delegation.clone(),
                s.visit.visit_id.to_string(),
                vietnam_time(s.visit.started_ms),
                s.visit.kiosk_name.clone(),
                s.visit.attendees.to_string(),
                s.line.order.to_string(),
                s.line.position.to_string(),
                s.line.item,
                s.line.title,
                ((s.line.shown_ms + 500) / 1000).to_string(),
            ]
        })
        .collect();
    csv_table(&header, &rows)
}

/// The visit report as a workbook: Visits, Slides and Leads.
fn workbook(
    state: &AppState,
    lang: &str,
    r: &DelegationReport,
    leads: &[LeadRow],
    titles: &Titles,
) -> Result<Vec<u8>, XlsxError> {
    let t = |id: &str| state.i18n.t(lang, id);
    let name = |id: &str| sanitize_sheet_name(&t(id));
    let secs_n = |ms: i64| (ms as f64 / 100.0).round() / 10.0;
    let delegation = delegation_cell(&r.delegation);
    let mut wb = Workbook::new();

    let sheet = wb.add_worksheet();
    sheet.set_name(name("visits-sheet-visits"))?;
    sheet_header(
        sheet,
        &[
            t("visits-col-delegation"),
            t("visits-col-visit-id"),
            t("export-col-kiosk"),
            t("visits-col-visit-start"),
            t("visits-col-visit-end"),
            t("visits-col-duration"),
            t("visits-col-attendees"),
            t("visits-col-ended"),
            t("visits-col-blank"),
            t("visits-col-slides-shown"),
            t("visits-col-qr-opens"),
            t("visits-col-deck"),
        ],
    )?;
    for (i, v) in r.visits.iter().enumerate() {
        let row = i as u32 + 1;
        let opens = r
            .opens
            .iter()
            .filter(|o| v.qr_nonces.contains(&o.nonce))
            .count();
        write_text(sheet, row, 0, &delegation)?;
        write_text(sheet, row, 1, &v.visit_id.to_string())?;
        write_text(sheet, row, 2, &v.kiosk_name)?;
        write_text(sheet, row, 3, &vietnam_time(v.started_ms))?;
        write_text(sheet, row, 4, &vietnam_time(v.ended_ms))?;
        sheet.write_number(row, 5, (v.duration_ms as f64 / 6_000.0).round() / 10.0)?;
        sheet.write_number(row, 6, v.attendees as f64)?;
        write_text(sheet, row, 7, &ended_label(state, lang, &v.ended))?;
        sheet.write_number(row, 8, secs_n(v.blank_ms))?;
        sheet.write_number(row, 9, v.slides.len() as f64)?;
        sheet.write_number(row, 10, opens as f64)?;
        write_text(sheet, row, 11, &titles.deck(&v.deck, lang))?;
    }

    let sheet = wb.add_worksheet();
    sheet.set_name(name("visits-sheet-slides"))?;
    sheet_header(
        sheet,
        &SLIDE_COLUMNS.iter().map(|id| t(id)).collect::<Vec<_>>(),
    )?;
    for (i, s) in slide_rows(r, titles, lang, &t("visits-closing-slide"))
        .into_iter()
        .enumerate()
    {
        let row = i as u32 + 1;
        write_text(sheet, row, 0, &delegation)?;
        write_text(sheet, row, 1, &s.visit.visit_id.to_string())?;
        write_text(sheet, row, 2, &vietnam_time(s.visit.started_ms))?;
        write_text(sheet, row, 3, &s.visit.kiosk_name)?;
        sheet.write_number(row, 4, s.visit.attendees as f64)?;
        sheet.write_number(row, 5, s.line.order as f64)?;
        sheet.write_number(row, 6, f64::from(s.line.position))?;
        write_text(sheet, row, 7, &s.line.item)?;
        write_text(sheet, row, 8, &s.line.title)?;
        sheet.write_number(row, 9, secs_n(s.line.shown_ms))?;
    }

    let sheet = wb.add_worksheet();
    sheet.set_name(name("visits-sheet-leads"))?;
    sheet_header(
        sheet,
        &[
            t("export-col-created"),
            t("export-col-name"),
            t("export-col-organisation"),
            t("export-col-title"),
            t("export-col-email"),
            t("export-col-phone"),
            t("export-col-country"),
            t("export-col-language"),
            t("export-col-source"),
            t("export-col-status"),
            t("export-col-lead-id"),
        ],
    )?;
    for (i, l) in leads.iter().enumerate() {
        let row = i as u32 + 1;
        let c = &l.contact;
        let (created, lead_id) = (vietnam_time(l.created_ms), l.lead_id.to_string());
        for (col, cell) in [
            &created,
            &c.name,
            &c.organisation,
            &c.title,
            &c.email,
            &c.phone,
            &c.country,
            &l.lang,
            &l.source,
            &l.status,
            &lead_id,
        ]
        .into_iter()
        .enumerate()
        {
            write_text(sheet, row, col as u16, cell)?;
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::record::SlideShown;

    #[test]
    fn spans_leave_out_the_end_date_on_the_same_day() {
        // 2026-03-11 10:00 and 10:45 in Vietnam.
        let start = crate::store::time::day_start_ms("2026-03-11").unwrap() + 10 * 3_600_000;
        assert_eq!(span(start, start + 45 * 60_000), "2026-03-11 10:00 – 10:45");
        assert_eq!(
            span(start, start + 14 * 3_600_000),
            "2026-03-11 10:00 – 2026-03-12 00:00"
        );
        assert_eq!(minutes("vi", 90_000), "1,5");
    }

    #[test]
    fn slides_are_totalled_per_position_in_deck_order() {
        let visit = VisitRow {
            visit_id: uuid::Uuid::nil(),
            kiosk_name: "Hall".into(),
            deck: "d".into(),
            started_ms: 0,
            ended_ms: 0,
            duration_ms: 0,
            attendees: 3,
            blank_ms: 0,
            slides: [
                (0, Some("a"), 5_000),
                (1, Some("b"), 7_000),
                (0, Some("a"), 2_500),
                (2, None, 1_000),
            ]
            .into_iter()
            .map(|(slide, item, shown_ms)| SlideShown {
                slide,
                item: item.map(str::to_owned),
                shown_ms,
            })
            .collect(),
            qr_nonces: vec![],
            ended: "host".into(),
        };
        let lines = slide_lines(&visit, &Titles::default(), "en", "Closing");
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.order, l.position))
                .collect::<Vec<_>>(),
            [(1, 1), (2, 2), (3, 1), (4, 3)]
        );
        let totals: Vec<_> = slide_totals(&lines).into_iter().collect();
        assert_eq!(
            totals,
            [
                ((1, "a".to_owned()), ("a".to_owned(), 2, 7_500)),
                ((2, "b".to_owned()), ("b".to_owned(), 1, 7_000)),
                ((3, String::new()), ("Closing".to_owned(), 1, 1_000)),
            ]
        );
    }
}
