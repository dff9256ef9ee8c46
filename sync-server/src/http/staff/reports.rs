//! The staff reports: one event's (or every event in scope's) views and sessions, dwell time by
//! item, pillar and language, the language mix, the funnel QR shown → opened → lead, leads by
//! country and a day × hour heat map (Vietnam time); and the yearly report per organising unit
//! for the 5 November deadline (with the delegations received), printable and as XLSX.
//!
//! The numbers come from [`crate::sqlite_reports`] (roll-ups only, never `records`). Charts are
//! SVG drawn by `charts-rs` and embedded in the page; every number is also in a plain table.
//! A report of another unit's event answers 404, as if the event did not exist.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use charts_rs::{FunnelChart, HeatmapChart, HorizontalBarChart, PieChart};
use serde::Deserialize;
use serde_json::json;

use super::context::{StaffCtx, blocking};
use super::html::{esc, summary_table, table, td, td_n, th, th_n, urlencode};
use super::report_files::{self, Format};
use crate::AppState;
use crate::error::AppError;
use crate::store::reports::{DwellRow, FunnelRow, ReportData, ReportEvent, UnitYear, YearlyData};
use crate::store::time::{DAY_MS, VN_OFFSET_MS, day_label, day_start_ms};
use crate::store::{AuditAction, Scope, StorageError};

/// Bars in one chart at most (the tables have every row).
const CHART_ROWS: usize = 15;

/// Days in the heat map chart at most (the latest ones; the table has every day).
const HEAT_CHART_DAYS: usize = 31;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/reports", get(report_page))
        .route("/staff/reports/yearly", get(yearly_page))
        .route("/staff/reports.csv", get(report_csv))
        .route("/staff/reports.xlsx", get(report_xlsx))
        .route("/staff/reports/yearly.xlsx", get(yearly_xlsx))
        .route("/staff/reports/yearly.csv", get(yearly_csv))
}

/// Print: the header, the filters and the links are left out; a unit starts a new page.
pub(crate) const REPORT_CSS: &str = "<style>\
    .chart{background:#fff;border-radius:12px;padding:12px;margin:12px 0;overflow-x:auto}\
    .chart svg{max-width:100%;height:auto} .chart figcaption{font-weight:bold;margin-bottom:6px}\
    td.n,th.n{text-align:right;font-variant-numeric:tabular-nums} h2{margin-top:32px}\
    #heat td,#heat th{padding:3px 4px;font-size:12px;text-align:right}\
    .links{margin:12px 0}\
    @media print{header,.filters,.no-print{display:none!important}\
    body{background:#fff} main{max-width:none;padding:0}\
    .chart,tr{break-inside:avoid} h2,h3{break-after:avoid} section.unit{break-before:page}}\
    </style>";

// ---------------------------------------------------------------------------------------------
// Pages of the reports (the signed-in context is `leads::StaffCtx`).

impl StaffCtx {
    /// A report page: the reports' own styles, the navigation on "Reports".
    fn reports_page(&self, state: &AppState, title: &str, here: &str, body: &str) -> Response {
        self.page_titled(state, title, "/staff/reports", here, REPORT_CSS, body)
    }

    fn not_found(&self, state: &AppState, here: &str) -> Response {
        let mut r = self.reports_page(
            state,
            &self.t(state, "reports-title"),
            here,
            &format!(
                "<p class=\"err\" id=\"not-found\">{}</p><p><a href=\"/staff/reports\">{}</a></p>",
                esc(&self.t(state, "reports-not-found")),
                esc(&self.t(state, "reports-all-events"))
            ),
        );
        *r.status_mut() = StatusCode::NOT_FOUND;
        r
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting.

/// A decimal number with one decimal, with the decimal comma in Vietnamese.
pub(crate) fn dec(lang: &str, v: f64) -> String {
    let s = format!("{v:.1}");
    if lang == "vi" { s.replace('.', ",") } else { s }
}

pub(crate) fn secs(lang: &str, ms: i64) -> String {
    dec(lang, ms as f64 / 1000.0)
}

fn pct(lang: &str, part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{} %", dec(lang, part as f64 * 100.0 / whole as f64))
    }
}

pub(crate) fn title_in<'a>(titles: &'a BTreeMap<String, String>, lang: &str) -> Option<&'a str> {
    titles
        .get(lang)
        .or_else(|| titles.get("en"))
        .or_else(|| titles.get("vi"))
        .or_else(|| titles.values().next())
        .map(String::as_str)
}

/// An item's title in the staff member's language, else its id.
fn titled(titles: &BTreeMap<String, String>, key: &str, lang: &str) -> String {
    title_in(titles, lang).unwrap_or(key).to_owned()
}

pub(crate) fn funnel_item_title(r: &FunnelRow, lang: &str) -> String {
    titled(&r.titles, &r.key, lang)
}

pub(crate) fn item_title(r: &DwellRow, lang: &str) -> String {
    titled(&r.titles, &r.key, lang)
}

pub(crate) fn pillar_title(state: &AppState, lang: &str, r: &DwellRow) -> String {
    if r.key.is_empty() {
        return state.i18n.t(lang, "reports-other");
    }
    title_in(&r.titles, lang).unwrap_or(&r.key).to_owned()
}

pub(crate) fn lang_title(tag: &str) -> String {
    let name = locales::native_name(tag);
    if name == tag {
        tag.to_owned()
    } else {
        format!("{name} ({tag})")
    }
}

pub(crate) fn country_title(state: &AppState, lang: &str, country: &str) -> String {
    if country.is_empty() {
        state.i18n.t(lang, "reports-unknown-country")
    } else {
        country.to_owned()
    }
}

/// The chart's own font (Roboto, which charts-rs measures text with) where the browser has it,
/// the page's sans-serif where it does not.
fn with_fallback_fonts(svg: &str) -> String {
    svg.replace(
        "font-family=\"Roboto\"",
        "font-family=\"Roboto,Arial,'Liberation Sans',Helvetica,sans-serif\"",
    )
}

fn figure(id: &str, caption: &str, svg: Option<String>) -> String {
    match svg.as_deref().map(with_fallback_fonts) {
        Some(svg) => format!(
            "<figure class=\"chart\" id=\"{id}\"><figcaption>{}</figcaption>{svg}</figure>",
            esc(caption)
        ),
        None => String::new(),
    }
}

fn hbar_chart(labels: Vec<String>, series: &str, values: Vec<f64>) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    // Largest at the top: the first category is drawn at the bottom.
    let (labels, values): (Vec<String>, Vec<f64>) = labels
        .into_iter()
        .zip(values)
        .take(CHART_ROWS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .unzip();
    let height = 60 + 30 * labels.len();
    let chart = json!({
        "width": 720,
        "height": height,
        "legend_show": false,
        "x_axis_data": labels,
        "series_list": [{"name": series, "data": values, "label_show": true}],
    });
    HorizontalBarChart::from_json(&chart.to_string())
        .and_then(|c| c.svg())
        .ok()
}

fn pie_chart(slices: Vec<(String, f64)>) -> Option<String> {
    if slices.iter().all(|(_, v)| *v <= 0.0) {
        return None;
    }
    let series: Vec<_> = slices
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(name, v)| json!({"name": name, "data": [v]}))
        .collect();
    let chart = json!({
        "width": 720,
        "height": 400,
        "rose_type": false,
        "radius": 130,
        "inner_radius": 60,
        "legend_show": true,
        "legend_position": "bottom",
        "series_label_formatter": "{a}: {d}",
        "series_list": series,
    });
    PieChart::from_json(&chart.to_string())
        .and_then(|c| c.svg())
        .ok()
}

fn funnel_chart(stages: Vec<(String, i64)>) -> Option<String> {
    if stages.iter().all(|(_, v)| *v == 0) {
        return None;
    }
    let series: Vec<_> = stages
        .into_iter()
        .map(|(name, v)| json!({"name": name, "data": [v]}))
        .collect();
    let chart = json!({
        "width": 720,
        "height": 300,
        "legend_show": false,
        "series_label_formatter": "{a}: {c}",
        "series_list": series,
    });
    FunnelChart::from_json(&chart.to_string())
        .and_then(|c| c.svg())
        .ok()
}

fn heat_chart(data: &ReportData) -> Option<String> {
    let days: Vec<_> = data
        .heat
        .iter()
        .rev()
        .take(HEAT_CHART_DAYS)
        .collect::<Vec<_>>();
    if days.is_empty() {
        return None;
    }
    // The y axis goes up: the latest day at the bottom, the first one at the top.
    let y: Vec<String> = days.iter().map(|d| day_label(d.day)).collect();
    let cells: Vec<[i64; 2]> = days
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            d.hours
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(move |(h, n)| [(i * 24 + h) as i64, *n])
        })
        .collect();
    let chart = json!({
        "width": 960,
        "height": 90 + 26 * y.len(),
        "legend_show": false,
        "x_axis_font_size": 11,
        "x_axis_data": (0..24).map(|h| h.to_string()).collect::<Vec<_>>(),
        "y_axis_data": y,
        "series_label_font_size": 11,
        "series": {"min": 0, "data": cells},
    });
    HeatmapChart::from_json(&chart.to_string())
        .and_then(|c| c.svg())
        .ok()
}

// ---------------------------------------------------------------------------------------------
// The report of an event.

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportQuery {
    event: String,
    from: String,
    to: String,
}

/// What a report was asked for, as the filters read it.
struct Chosen {
    event: String,
    from: String,
    to: String,
    /// The event's name (or "all events"), for titles and the audit log.
    name: String,
}

fn c_here(q: &ReportQuery) -> String {
    format!(
        "/staff/reports?event={}&from={}&to={}",
        urlencode(q.event.trim()),
        urlencode(q.from.trim()),
        urlencode(q.to.trim())
    )
}

/// The events a report may be about and the report asked for (None: not an event in scope).
async fn load_report(
    state: &AppState,
    cx: &StaffCtx,
    q: &ReportQuery,
) -> Result<Option<(Vec<ReportEvent>, ReportData, Chosen)>, AppError> {
    let (from, to) = (q.from.trim().to_owned(), q.to.trim().to_owned());
    let from_ms = day_start_ms(&from);
    let to_ms = day_start_ms(&to).map(|t| t + DAY_MS);
    let event = q.event.trim().to_owned();
    let reports = state.reports.clone();
    let scope = cx.scope.clone();
    let ev = event.clone();
    let (events, data) = blocking(move || {
        let events = reports.report_events(&scope)?;
        let chosen = Some(ev.as_str()).filter(|e| !e.is_empty());
        Ok((events, reports.report(&scope, chosen, from_ms, to_ms)))
    })
    .await?;
    let data = match data {
        Ok(d) => d,
        Err(StorageError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let name = events
        .iter()
        .find(|e| e.id == event)
        .map(|e| e.name.clone())
        .unwrap_or_else(|| cx.t(state, "reports-all-events"));
    Ok(Some((
        events,
        data,
        Chosen {
            event,
            from,
            to,
            name,
        },
    )))
}

async fn report_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let here = c_here(&q);
    let Some((events, data, c)) = load_report(&state, &cx, &q).await? else {
        return Ok(cx.not_found(&state, &here));
    };
    let title = if c.event.is_empty() {
        cx.t(&state, "reports-title")
    } else {
        format!("{} — {}", cx.t(&state, "reports-title"), c.name)
    };
    let query = format!(
        "event={}&from={}&to={}",
        urlencode(&c.event),
        urlencode(&c.from),
        urlencode(&c.to)
    );
    let body = format!(
        "{}<p class=\"links no-print\"><a id=\"report-csv\" href=\"/staff/reports.csv?{query}\">{}</a> · \
         <a id=\"report-xlsx\" href=\"/staff/reports.xlsx?{query}\">{}</a></p>{}",
        report_filters(&state, &cx, &events, &c.event, &c.from, &c.to),
        esc(&cx.t(&state, "reports-csv")),
        esc(&cx.t(&state, "reports-xlsx")),
        report_body(&state, cx.lang, &data)
    );
    Ok(cx.reports_page(&state, &title, &here, &body))
}

fn report_filters(
    state: &AppState,
    cx: &StaffCtx,
    events: &[ReportEvent],
    event: &str,
    from: &str,
    to: &str,
) -> String {
    let t = |id: &str| cx.t(state, id);
    let options: String = events
        .iter()
        .map(|e| {
            format!(
                "<option value=\"{}\"{}>{} ({})</option>",
                esc(&e.id),
                if e.id == event { " selected" } else { "" },
                esc(&e.name),
                esc(&e.id)
            )
        })
        .collect();
    format!(
        "<form method=\"get\" action=\"/staff/reports\" class=\"filters\" id=\"report-filters\">\
         <label>{}<select name=\"event\"><option value=\"\">{}</option>{options}</select></label>\
         <label>{}<input type=\"date\" name=\"from\" value=\"{}\"></label>\
         <label>{}<input type=\"date\" name=\"to\" value=\"{}\"></label>\
         <div><button type=\"submit\">{}</button></div></form>\
         <p class=\"links no-print\"><a id=\"yearly-link\" href=\"/staff/reports/yearly\">{}</a></p>",
        esc(&t("reports-event")),
        esc(&t("reports-all-events")),
        esc(&t("reports-from")),
        esc(from),
        esc(&t("reports-to")),
        esc(to),
        esc(&t("reports-show")),
        esc(&t("reports-yearly-link")),
    )
}

fn dwell_rows(
    rows: &[DwellRow],
    label: impl Fn(&DwellRow) -> Vec<String>,
    lang: &str,
) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "<tr data-key=\"{}\">{}{}{}{}</tr>",
                esc(&r.key),
                label(r).iter().map(|c| td(c)).collect::<String>(),
                td_n(&r.views.to_string()),
                td_n(&secs(lang, r.dwell_ms)),
                td_n(&secs(lang, r.avg_ms().round() as i64)),
            )
        })
        .collect()
}

fn report_body(state: &AppState, lang: &str, d: &ReportData) -> String {
    let t = |id: &str| state.i18n.t(lang, id);
    let mut out = format!(
        "<p class=\"muted\">{} {}</p>",
        esc(&t("reports-vietnam-time")),
        esc(&t("reports-engaged-note"))
    );
    let nothing =
        d.views() == 0 && d.sessions == 0 && d.leads == 0 && d.qr_shown == 0 && d.qr_opened == 0;
    if nothing {
        out.push_str(&format!(
            "<p class=\"muted\" id=\"no-data\">{}</p>",
            esc(&t("reports-none"))
        ));
    }

    // Summary.
    let summary = [
        ("views", "reports-views-all", d.views().to_string()),
        (
            "views-visitor",
            "reports-views-visitor",
            d.visitor.views.to_string(),
        ),
        (
            "views-presenter",
            "reports-views-presenter",
            d.presenter.views.to_string(),
        ),
        (
            "views-attract",
            "reports-views-attract",
            d.attract.views.to_string(),
        ),
        ("sessions", "reports-sessions", d.sessions.to_string()),
        (
            "session-avg",
            "reports-session-avg",
            secs(lang, d.avg_session_ms().round() as i64),
        ),
        ("qr-shown", "reports-qr-shown", d.qr_shown.to_string()),
        ("qr-opened", "reports-qr-opened", d.qr_opened.to_string()),
        (
            "phone-leads",
            "reports-phone-leads",
            d.phone_leads.to_string(),
        ),
        ("leads", "reports-leads", d.leads.to_string()),
    ];
    out.push_str(&summary_table(&t, &summary));

    let dwell_head = |first: Vec<String>| -> Vec<String> {
        let mut h = first;
        h.push(th_n(&t("reports-col-views")));
        h.push(th_n(&t("reports-col-dwell")));
        h.push(th_n(&t("reports-col-avg")));
        h
    };
    let dwell_series = t("reports-col-dwell");

    // By item.
    let chart = hbar_chart(
        d.by_item.iter().map(|r| item_title(r, lang)).collect(),
        &dwell_series,
        d.by_item
            .iter()
            .map(|r| r.dwell_ms as f64 / 1000.0)
            .collect(),
    );
    let pillar_names: BTreeMap<&str, String> = d
        .by_pillar
        .iter()
        .map(|p| (p.key.as_str(), pillar_title(state, lang, p)))
        .collect();
    out.push_str(&format!(
        "<h2>{}</h2>{}{}",
        esc(&t("reports-by-item")),
        figure("chart-items", &t("reports-by-item"), chart),
        table(
            "by-item",
            &dwell_head(vec![
                th(&t("reports-col-item")),
                th(&t("reports-col-title")),
                th(&t("reports-col-pillar"))
            ]),
            &dwell_rows(
                &d.by_item,
                |r| vec![
                    r.key.clone(),
                    item_title(r, lang),
                    pillar_names
                        .get(r.pillar.as_str())
                        .cloned()
                        .unwrap_or_default()
                ],
                lang
            )
        )
    ));

    // By pillar.
    let chart = hbar_chart(
        d.by_pillar
            .iter()
            .map(|r| pillar_title(state, lang, r))
            .collect(),
        &dwell_series,
        d.by_pillar
            .iter()
            .map(|r| r.dwell_ms as f64 / 1000.0)
            .collect(),
    );
    out.push_str(&format!(
        "<h2>{}</h2>{}{}",
        esc(&t("reports-by-pillar")),
        figure("chart-pillars", &t("reports-by-pillar"), chart),
        table(
            "by-pillar",
            &dwell_head(vec![th(&t("reports-col-pillar"))]),
            &dwell_rows(&d.by_pillar, |r| vec![pillar_title(state, lang, r)], lang)
        )
    ));

    // By language, and the language mix.
    let engaged: i64 = d.by_lang.iter().map(|r| r.views).sum();
    let chart = pie_chart(
        d.by_lang
            .iter()
            .map(|r| (lang_title(&r.key), r.views as f64))
            .collect(),
    );
    let mut head = dwell_head(vec![th(&t("reports-col-lang"))]);
    head.push(th_n(&t("reports-col-share")));
    let rows: Vec<String> = d
        .by_lang
        .iter()
        .map(|r| {
            format!(
                "<tr data-key=\"{}\">{}{}{}{}{}</tr>",
                esc(&r.key),
                td(&lang_title(&r.key)),
                td_n(&r.views.to_string()),
                td_n(&secs(lang, r.dwell_ms)),
                td_n(&secs(lang, r.avg_ms().round() as i64)),
                td_n(&pct(lang, r.views, engaged)),
            )
        })
        .collect();
    out.push_str(&format!(
        "<h2>{}</h2>{}{}",
        esc(&t("reports-by-lang")),
        figure("chart-langs", &t("reports-lang-mix"), chart),
        table("by-lang", &head, &rows)
    ));

    // The funnel.
    let steps = [
        ("qr-shown", t("reports-qr-shown"), d.qr_shown),
        ("qr-opened", t("reports-qr-opened"), d.qr_opened),
        ("phone-leads", t("reports-phone-leads"), d.phone_leads),
    ];
    let chart = funnel_chart(steps.iter().map(|(_, l, n)| (l.clone(), *n)).collect());
    let rows: Vec<String> = steps
        .iter()
        .map(|(key, label, n)| {
            format!(
                "<tr data-key=\"{key}\">{}{}{}</tr>",
                td(label),
                td_n(&n.to_string()),
                td_n(&pct(lang, *n, d.qr_shown))
            )
        })
        .collect();
    out.push_str(&format!(
        "<h2>{}</h2>{}{}",
        esc(&t("reports-funnel")),
        figure("chart-funnel", &t("reports-funnel"), chart),
        table(
            "funnel",
            &[
                th(&t("reports-col-step")),
                th_n(&t("reports-col-count")),
                th_n(&t("reports-col-rate"))
            ],
            &rows
        )
    ));

    // The funnel per item, language and hour of the day.
    let funnel_head = |first: Vec<String>| -> Vec<String> {
        let mut h = first;
        for k in [
            "reports-col-shown",
            "reports-col-opened",
            "reports-col-rate",
            "reports-phone-leads",
            "reports-leads",
        ] {
            h.push(th_n(&t(k)));
        }
        h
    };
    let funnel_rows = |rows: &[FunnelRow], label: &dyn Fn(&FunnelRow) -> Vec<String>| {
        rows.iter()
            .map(|r| {
                format!(
                    "<tr data-key=\"{}\">{}{}{}{}{}{}</tr>",
                    esc(&r.key),
                    label(r).iter().map(|c| td(c)).collect::<String>(),
                    td_n(&r.shown.to_string()),
                    td_n(&r.opened.to_string()),
                    td_n(&pct(lang, r.opened, r.shown)),
                    td_n(&r.phone_leads.to_string()),
                    td_n(&r.leads.to_string()),
                )
            })
            .collect::<Vec<String>>()
    };
    out.push_str(&format!(
        "<h2>{}</h2>{}<h2>{}</h2>{}<h2>{}</h2>{}",
        esc(&t("reports-funnel-by-item")),
        table(
            "funnel-items",
            &funnel_head(vec![
                th(&t("reports-col-item")),
                th(&t("reports-col-title"))
            ]),
            &funnel_rows(&d.funnel_items, &|r| vec![
                r.key.clone(),
                funnel_item_title(r, lang)
            ])
        ),
        esc(&t("reports-funnel-by-lang")),
        table(
            "funnel-langs",
            &funnel_head(vec![th(&t("reports-col-lang"))]),
            &funnel_rows(&d.funnel_langs, &|r| vec![lang_title(&r.key)])
        ),
        esc(&t("reports-funnel-by-hour")),
        table(
            "funnel-hours",
            &funnel_head(vec![th(&t("reports-col-hour"))]),
            // Hours with something in them (the downloads have all 24).
            &funnel_rows(
                &d.funnel_hours
                    .iter()
                    .filter(|r| r.shown + r.opened + r.leads > 0)
                    .cloned()
                    .collect::<Vec<_>>(),
                &|r| vec![format!("{}:00", r.key)]
            )
        ),
    ));

    // Leads by country.
    let chart = hbar_chart(
        d.by_country
            .iter()
            .map(|(c, _)| country_title(state, lang, c))
            .collect(),
        &t("reports-col-leads"),
        d.by_country.iter().map(|(_, n)| *n as f64).collect(),
    );
    let rows: Vec<String> = d
        .by_country
        .iter()
        .map(|(c, n)| {
            format!(
                "<tr data-key=\"{}\">{}{}</tr>",
                esc(c),
                td(&country_title(state, lang, c)),
                td_n(&n.to_string())
            )
        })
        .collect();
    out.push_str(&format!(
        "<h2>{}</h2>{}{}",
        esc(&t("reports-by-country")),
        figure("chart-countries", &t("reports-by-country"), chart),
        table(
            "by-country",
            &[th(&t("reports-col-country")), th_n(&t("reports-col-leads"))],
            &rows
        )
    ));

    // The heat map.
    let mut head = vec![th(&t("reports-col-day"))];
    head.extend((0..24).map(|h| th_n(&h.to_string())));
    head.push(th_n(&t("reports-col-total")));
    let rows: Vec<String> = d
        .heat
        .iter()
        .map(|h| {
            let day = day_label(h.day);
            format!(
                "<tr data-key=\"{day}\">{}{}{}</tr>",
                td(&day),
                h.hours
                    .iter()
                    .map(|n| td_n(&n.to_string()))
                    .collect::<String>(),
                td_n(&h.hours.iter().sum::<i64>().to_string())
            )
        })
        .collect();
    out.push_str(&format!(
        "<h2>{}</h2>{}{}",
        esc(&t("reports-heat")),
        figure("chart-heat", &t("reports-heat"), heat_chart(d)),
        table("heat", &head, &rows)
    ));
    out
}

// ---------------------------------------------------------------------------------------------
// The yearly report.

#[derive(Deserialize, Default)]
#[serde(default)]
struct YearQuery {
    year: Option<String>,
}

/// The year asked for (2000–2100), or the current one in Vietnam.
fn year_of(q: &YearQuery) -> i32 {
    q.year
        .as_deref()
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| {
            time::OffsetDateTime::from_unix_timestamp((protocol::now_ms() + VN_OFFSET_MS) / 1000)
                .map(|t| t.year())
                .unwrap_or(2026)
        })
}

async fn yearly(state: &AppState, scope: &Scope, year: i32) -> Result<YearlyData, AppError> {
    let reports = state.reports.clone();
    let scope = scope.clone();
    blocking(move || reports.yearly(&scope, year)).await
}

pub(crate) fn unit_name(state: &AppState, lang: &str, u: &UnitYear) -> String {
    if u.org.is_empty() {
        state.i18n.t(lang, "reports-unassigned")
    } else {
        u.org.clone()
    }
}

pub(crate) fn event_kind(state: &AppState, lang: &str, kind: &str) -> String {
    match kind {
        "fair" | "delegation" | "meeting" => state.i18n.t(lang, &format!("event-kind-{kind}")),
        "" => String::new(),
        other => other.to_owned(),
    }
}

fn dates(starts: &str, ends: &str) -> String {
    match (starts.is_empty(), ends.is_empty() || ends == starts) {
        (true, true) => String::new(),
        (false, true) => starts.to_owned(),
        (true, false) => ends.to_owned(),
        (false, false) => format!("{starts} – {ends}"),
    }
}

async fn yearly_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    let year = year_of(&q);
    let data = yearly(&state, &cx.scope, year).await?;
    let lang = cx.lang;
    let t = |id: &str| cx.t(&state, id);
    let title = state
        .i18n
        .t_args(lang, "reports-yearly-title", &[("year", &year.to_string())]);
    let mut body = format!(
        "<form method=\"get\" action=\"/staff/reports/yearly\" class=\"filters\" id=\"year-form\">\
         <label>{}<input type=\"number\" name=\"year\" min=\"2000\" max=\"2100\" value=\"{year}\"></label>\
         <div><button type=\"submit\">{}</button></div></form>\
         <p class=\"links no-print\"><a id=\"xlsx-link\" href=\"/staff/reports/yearly.xlsx?year={year}\">{}</a> · \
         <a id=\"csv-link\" href=\"/staff/reports/yearly.csv?year={year}\">{}</a> · \
         <a href=\"/staff/reports\">{}</a></p>\
         <p class=\"muted\">{} {} {}</p>",
        esc(&t("reports-year")),
        esc(&t("reports-show")),
        esc(&t("reports-xlsx")),
        esc(&t("reports-csv")),
        esc(&t("reports-title")),
        esc(&t("reports-yearly-intro")),
        esc(&t("reports-vietnam-time")),
        esc(&t("reports-print-hint")),
    );
    let rows: Vec<String> = data
        .units
        .iter()
        .map(|u| {
            format!(
                "<tr data-key=\"{}\">{}{}{}{}{}{}{}{}{}{}</tr>",
                esc(&u.org),
                td(&unit_name(&state, lang, u)),
                td_n(&u.events.len().to_string()),
                td_n(&u.kiosk_days.to_string()),
                td_n(&u.sessions.to_string()),
                td_n(&u.views.to_string()),
                td_n(&u.leads.to_string()),
                td_n(&u.delegations.to_string()),
                td_n(&u.visits.to_string()),
                td_n(&u.attendees.to_string()),
                td_n(&u.delegation_leads.to_string()),
            )
        })
        .collect();
    body.push_str(&table(
        "units",
        &[
            th(&t("reports-unit")),
            th_n(&t("reports-events-held")),
            th_n(&t("reports-kiosk-days")),
            th_n(&t("reports-sessions")),
            th_n(&t("reports-col-views")),
            th_n(&t("reports-col-leads")),
            th_n(&t("reports-delegations")),
            th_n(&t("reports-visits")),
            th_n(&t("reports-attendees")),
            th_n(&t("reports-delegation-leads")),
        ],
        &rows,
    ));
    // The Department of Culture, Sports and Tourism compiles every unit's report: its page sees
    // all units, and shows their totals with its own deadline.
    if matches!(cx.scope, Scope::All) && !data.units.is_empty() {
        body.push_str(&department_section(&state, lang, &data));
    }
    for u in &data.units {
        body.push_str(&unit_section(&state, lang, u, year));
    }
    Ok(cx.reports_page(
        &state,
        &title,
        &format!("/staff/reports/yearly?year={year}"),
        &body,
    ))
}

/// One figure of the department's compilation: its key in the page, its label, its value.
pub(crate) type Total = (&'static str, &'static str, i64);

/// Every unit's year added up (key, label, total), and the leads of every market, most first:
/// the compilation due on 15 November (a kiosk that served two units' events on one day counts
/// a kiosk-day for each).
pub(crate) fn department_totals(data: &YearlyData) -> (Vec<Total>, Vec<(String, i64)>) {
    let sum = |f: &dyn Fn(&UnitYear) -> i64| data.units.iter().map(f).sum::<i64>();
    let totals = vec![
        (
            "events",
            "reports-events-held",
            sum(&|u| u.events.len() as i64),
        ),
        ("kiosk-days", "reports-kiosk-days", sum(&|u| u.kiosk_days)),
        ("sessions", "reports-sessions", sum(&|u| u.sessions)),
        ("views", "reports-col-views", sum(&|u| u.views)),
        ("leads", "reports-col-leads", sum(&|u| u.leads)),
        (
            "delegations",
            "reports-delegations",
            sum(&|u| u.delegations),
        ),
        ("visits", "reports-visits", sum(&|u| u.visits)),
        ("attendees", "reports-attendees", sum(&|u| u.attendees)),
        (
            "delegation-leads",
            "reports-delegation-leads",
            sum(&|u| u.delegation_leads),
        ),
    ];
    let mut markets: BTreeMap<&str, i64> = BTreeMap::new();
    for u in &data.units {
        for (c, n) in &u.by_country {
            *markets.entry(c.as_str()).or_default() += n;
        }
    }
    let mut markets: Vec<(String, i64)> = markets
        .into_iter()
        .map(|(c, n)| (c.to_owned(), n))
        .collect();
    markets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (totals, markets)
}

/// The compilation of every unit's year, with its deadline.
fn department_section(state: &AppState, lang: &str, data: &YearlyData) -> String {
    let t = |id: &str| state.i18n.t(lang, id);
    let (totals, markets) = department_totals(data);
    let rows: Vec<String> = totals
        .iter()
        .map(|(k, label, n)| {
            format!(
                "<tr data-key=\"{k}\"><th scope=\"row\">{}</th>{}</tr>",
                esc(&t(label)),
                td_n(&n.to_string())
            )
        })
        .collect();
    let market_rows: Vec<String> = markets
        .iter()
        .map(|(c, n)| {
            format!(
                "<tr data-key=\"{}\">{}{}</tr>",
                esc(c),
                td(&country_title(state, lang, c)),
                td_n(&n.to_string())
            )
        })
        .collect();
    format!(
        "<section class=\"unit\" id=\"department\"><h2>{}</h2>\
         <p class=\"deadline\" id=\"deadline-department\"><strong>{}</strong></p>{}<h3>{}</h3>{}</section>",
        esc(&t("reports-department-title")),
        esc(&state.i18n.t_args(
            lang,
            "reports-department-deadline",
            &[("year", &data.year.to_string())]
        )),
        table(
            "department-totals",
            &[th(&t("reports-col-measure")), th_n(&t("reports-col-value"))],
            &rows
        ),
        esc(&t("reports-markets")),
        table(
            "department-markets",
            &[th(&t("reports-col-country")), th_n(&t("reports-col-leads"))],
            &market_rows
        ),
    )
}

fn unit_section(state: &AppState, lang: &str, u: &UnitYear, year: i32) -> String {
    let t = |id: &str| state.i18n.t(lang, id);
    let events: Vec<String> = u
        .events
        .iter()
        .map(|e| {
            let name = if e.known {
                e.name.clone()
            } else {
                format!("{} {}", e.name, t("reports-seen-only"))
            };
            format!(
                "<tr data-key=\"{}\">{}{}{}{}{}{}{}{}{}{}</tr>",
                esc(&e.id),
                td(&e.id),
                td(&name),
                td(&event_kind(state, lang, &e.kind)),
                td(&dates(&e.starts, &e.ends)),
                td(&e.venue),
                td(&e.responsible),
                td_n(&e.kiosk_days.to_string()),
                td_n(&e.sessions.to_string()),
                td_n(&e.views.to_string()),
                td_n(&e.leads.to_string()),
            )
        })
        .collect();
    let markets: Vec<String> = u
        .by_country
        .iter()
        .map(|(c, n)| {
            format!(
                "<tr data-key=\"{}\">{}{}</tr>",
                esc(c),
                td(&country_title(state, lang, c)),
                td_n(&n.to_string())
            )
        })
        .collect();
    let top: Vec<String> = u
        .top_items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "<tr data-key=\"{}\">{}{}{}{}{}{}</tr>",
                esc(&r.key),
                td_n(&(i + 1).to_string()),
                td(&r.key),
                td(&item_title(r, lang)),
                td_n(&r.views.to_string()),
                td_n(&secs(lang, r.dwell_ms)),
                td_n(&secs(lang, r.avg_ms().round() as i64)),
            )
        })
        .collect();
    let id = |what: &str| format!("{what}-{}", slug(&u.org));
    format!(
        "<section class=\"unit\" data-org=\"{}\"><h2>{}</h2>\
         <p class=\"deadline\" id=\"{}\"><strong>{}</strong></p>\
         <p class=\"row\"><span>{}: <strong>{}</strong></span><span>{}: <strong>{}</strong></span>\
         <span>{}: <strong>{}</strong></span><span>{}: <strong>{}</strong></span></p>\
         <p class=\"row\" id=\"{}\"><span>{}: <strong>{}</strong></span><span>{}: <strong>{}</strong></span>\
         <span>{}: <strong>{}</strong></span><span>{}: <strong>{}</strong></span></p>\
         <h3>{}</h3>{}<h3>{}</h3>{}<h3>{}</h3>{}</section>",
        esc(&u.org),
        esc(&unit_name(state, lang, u)),
        id("deadline"),
        esc(&state.i18n.t_args(
            lang,
            "reports-unit-deadline",
            &[("year", &year.to_string())]
        )),
        esc(&t("reports-kiosk-days")),
        u.kiosk_days,
        esc(&t("reports-sessions")),
        u.sessions,
        esc(&t("reports-col-views")),
        u.views,
        esc(&t("reports-col-leads")),
        u.leads,
        id("delegations"),
        esc(&t("reports-delegations")),
        u.delegations,
        esc(&t("reports-visits")),
        u.visits,
        esc(&t("reports-attendees")),
        u.attendees,
        esc(&t("reports-delegation-leads")),
        u.delegation_leads,
        esc(&t("reports-events-held")),
        table(
            &id("events"),
            &[
                th(&t("reports-col-event")),
                th(&t("reports-col-name")),
                th(&t("reports-col-kind")),
                th(&t("reports-col-dates")),
                th(&t("reports-col-venue")),
                th(&t("reports-col-responsible")),
                th_n(&t("reports-kiosk-days")),
                th_n(&t("reports-sessions")),
                th_n(&t("reports-col-views")),
                th_n(&t("reports-col-leads")),
            ],
            &events
        ),
        esc(&t("reports-markets")),
        table(
            &id("markets"),
            &[th(&t("reports-col-country")), th_n(&t("reports-col-leads"))],
            &markets
        ),
        esc(&t("reports-top-content")),
        table(
            &id("top"),
            &[
                th_n(&t("reports-col-rank")),
                th(&t("reports-col-item")),
                th(&t("reports-col-title")),
                th_n(&t("reports-col-views")),
                th_n(&t("reports-col-dwell")),
                th_n(&t("reports-col-avg")),
            ],
            &top
        ),
    )
}

/// An id-safe form of a unit's name (`unassigned` for none).
fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "unassigned".into()
    } else {
        out
    }
}

async fn yearly_xlsx(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    yearly_file(state, cx, q, Format::Xlsx).await
}

async fn yearly_csv(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    yearly_file(state, cx, q, Format::Csv).await
}

/// The yearly report as a file, audited as an export.
async fn yearly_file(
    state: AppState,
    cx: StaffCtx,
    q: YearQuery,
    format: Format,
) -> Result<Response, AppError> {
    let year = year_of(&q);
    let data = yearly(&state, &cx.scope, year).await?;
    // The department's file holds its compilation too, as its page does.
    let department = matches!(cx.scope, Scope::All) && !data.units.is_empty();
    let sheets = report_files::yearly_sheets(&state, cx.lang, &data, department);
    let detail = format!(
        "yearly report {year} {}, {} units",
        format.ext(),
        data.units.len()
    );
    cx.audit(&state, AuditAction::Export, detail).await?;
    report_files::download(sheets, format, &format!("promo-kiosk-report-{year}")).await
}

async fn report_csv(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    report_file(state, cx, q, Format::Csv).await
}

async fn report_xlsx(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    report_file(state, cx, q, Format::Xlsx).await
}

/// The event report (or every event in scope's) as a file, audited as an export.
async fn report_file(
    state: AppState,
    cx: StaffCtx,
    q: ReportQuery,
    format: Format,
) -> Result<Response, AppError> {
    let chosen = load_report(&state, &cx, &q).await?;
    let Some((_, data, c)) = chosen else {
        return Ok(cx.not_found(&state, &c_here(&q)));
    };
    let sheets = report_files::event_sheets(&state, cx.lang, &data);
    let detail = format!(
        "report {} {}: event {}, from {} to {}",
        format.ext(),
        c.name,
        c.event,
        c.from,
        c.to
    );
    cx.audit(&state, AuditAction::Export, detail).await?;
    let name = if c.event.is_empty() {
        "promo-kiosk-report-all-events".to_owned()
    } else {
        format!("promo-kiosk-report-{}", slug(&c.event))
    };
    report_files::download(sheets, format, &name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(dec("en", 7.25), "7.2");
        assert_eq!(dec("vi", 7.5), "7,5");
        assert_eq!(secs("en", 12_345), "12.3");
        assert_eq!(pct("en", 1, 3), "33.3 %");
        assert_eq!(pct("vi", 0, 0), "—");
        assert_eq!(dates("2026-11-26", "2026-11-29"), "2026-11-26 – 2026-11-29");
        assert_eq!(
            slug("Department of Foreign Affairs"),
            "department-of-foreign-affairs"
        );
        assert_eq!(slug(""), "unassigned");
    }

    #[test]
    fn the_charts_are_svg_from_charts_rs() {
        let svg = hbar_chart(
            vec!["Sân bay Long Thành".into(), "<script>".into()],
            "Dwell (s)",
            vec![12.5, 3.0],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("<script>"));
        assert!(pie_chart(vec![("vi".into(), 3.0), ("en".into(), 1.0)]).is_some());
        assert!(funnel_chart(vec![("a".into(), 3), ("b".into(), 1)]).is_some());
        assert!(funnel_chart(vec![("a".into(), 0)]).is_none());
        let d = ReportData {
            heat: vec![crate::store::reports::HeatDay {
                day: 20_522,
                hours: [1; 24],
            }],
            ..Default::default()
        };
        assert!(heat_chart(&d).unwrap().starts_with("<svg"));
    }
}
