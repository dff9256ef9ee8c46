//! The reports as files staff keep and pass on: the event report and the yearly report as
//! XLSX (a sheet per table) and as CSV (the tables one after another), from the same numbers as
//! their pages. Text never becomes a formula in either (the leads export's rules).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format as CellFormat, Workbook, Worksheet, XlsxError};

use super::reports::{
    country_title, department_totals, event_kind, funnel_item_title, item_title, lang_title,
    pillar_title, unit_name,
};
use crate::AppState;
use crate::error::AppError;
use crate::store::reports::{DwellRow, FunnelRow, ReportData, YearlyData};
use crate::store::time::day_label;

/// How a report is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub(crate) fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One cell: text, or a number a spreadsheet can add up.
pub(crate) enum Cell {
    Text(String),
    Num(f64),
}

impl Cell {
    fn int(n: i64) -> Cell {
        Cell::Num(n as f64)
    }
    /// Milliseconds as seconds with one decimal.
    fn secs(ms: i64) -> Cell {
        Cell::Num((ms as f64 / 100.0).round() / 10.0)
    }
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(n) => n.to_string(),
        }
    }
}

/// One table: a sheet of the workbook, a section of the CSV file.
pub(crate) struct Sheet {
    pub name: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The file as a download that is not cached (written off the async threads).
pub(crate) async fn download(
    sheets: Vec<Sheet>,
    format: Format,
    name: &str,
) -> Result<Response, AppError> {
    let bytes = tokio::task::spawn_blocking(move || match format {
        Format::Csv => Ok(csv(&sheets)),
        Format::Xlsx => xlsx(&sheets),
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let mime = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{name}.{}\"", format.ext()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn csv(sheets: &[Sheet]) -> Vec<u8> {
    let sections: Vec<crate::export::CsvSection> = sheets
        .iter()
        .map(|s| crate::export::CsvSection {
            title: s.name.clone(),
            head: s.head.clone(),
            rows: s
                .rows
                .iter()
                .map(|r| r.iter().map(Cell::csv).collect())
                .collect(),
        })
        .collect();
    crate::export::csv_sections(&sections)
}

fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let mut names = std::collections::HashSet::new();
    for s in sheets {
        let sheet = wb.add_worksheet();
        let mut name = crate::export::sanitize_sheet_name(&s.name);
        // Two tables whose names cut to the same 31 characters get a number, kept by cutting
        // the name shorter.
        let mut n = 2;
        while !names.insert(name.to_lowercase()) {
            let suffix = format!(" {n}");
            let base: String = crate::export::sanitize_sheet_name(&s.name)
                .chars()
                .take(31 - suffix.len())
                .collect();
            name = format!("{}{suffix}", base.trim_end());
            n += 1;
        }
        sheet.set_name(name)?;
        header(sheet, &s.head)?;
        for (i, row) in s.rows.iter().enumerate() {
            let r = i as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => write_text(sheet, r, c as u16, t)?,
                    Cell::Num(n) => {
                        sheet.write_number(r, c as u16, *n)?;
                    }
                }
            }
        }
    }
    wb.save_to_buffer()
}

/// Writes text as text, never as a formula: a cell that looks like one gets a quote prefix.
pub(crate) fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    s: &str,
) -> Result<(), XlsxError> {
    if s.is_empty() {
        return Ok(());
    }
    if crate::export::formula_like(s) {
        sheet.write_string_with_format(row, col, s, &CellFormat::new().set_quote_prefix())?;
    } else {
        sheet.write_string(row, col, s)?;
    }
    Ok(())
}

pub(crate) fn header(sheet: &mut Worksheet, names: &[String]) -> Result<(), XlsxError> {
    let bold = CellFormat::new().set_bold();
    for (i, n) in names.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, n, &bold)?;
        sheet.set_column_width(i as u16, 18)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The event report's tables: the summary, dwell by item, pillar and language, the funnel in
/// total and per item, language and hour, leads by country, sessions by day and hour.
pub(crate) fn event_sheets(state: &AppState, lang: &str, d: &ReportData) -> Vec<Sheet> {
    let t = |id: &str| state.i18n.t(lang, id);
    let mut out = Vec::new();
    let summary = [
        ("reports-views-all", d.views()),
        ("reports-views-visitor", d.visitor.views),
        ("reports-views-presenter", d.presenter.views),
        ("reports-views-attract", d.attract.views),
        ("reports-sessions", d.sessions),
        ("reports-qr-shown", d.qr_shown),
        ("reports-qr-opened", d.qr_opened),
        ("reports-phone-leads", d.phone_leads),
        ("reports-leads", d.leads),
    ];
    let mut rows: Vec<Vec<Cell>> = summary
        .iter()
        .map(|(k, n)| vec![Cell::text(t(k)), Cell::int(*n)])
        .collect();
    rows.insert(
        5,
        vec![
            Cell::text(t("reports-session-avg")),
            Cell::secs(d.avg_session_ms().round() as i64),
        ],
    );
    out.push(Sheet {
        name: t("reports-summary"),
        head: vec![t("reports-col-measure"), t("reports-col-value")],
        rows,
    });
    let dwell = |r: &DwellRow| {
        vec![
            Cell::int(r.views),
            Cell::secs(r.dwell_ms),
            Cell::secs(r.avg_ms().round() as i64),
        ]
    };
    let dwell_head = |first: &[&str]| -> Vec<String> {
        first
            .iter()
            .chain(&["reports-col-views", "reports-col-dwell", "reports-col-avg"])
            .map(|k| t(k))
            .collect()
    };
    let pillar_names: std::collections::BTreeMap<&str, String> = d
        .by_pillar
        .iter()
        .map(|p| (p.key.as_str(), pillar_title(state, lang, p)))
        .collect();
    out.push(Sheet {
        name: t("reports-by-item"),
        head: dwell_head(&[
            "reports-col-item",
            "reports-col-title",
            "reports-col-pillar",
        ]),
        rows: d
            .by_item
            .iter()
            .map(|r| {
                let mut row = vec![
                    Cell::text(&r.key),
                    Cell::text(item_title(r, lang)),
                    Cell::text(
                        pillar_names
                            .get(r.pillar.as_str())
                            .cloned()
                            .unwrap_or_default(),
                    ),
                ];
                row.extend(dwell(r));
                row
            })
            .collect(),
    });
    out.push(Sheet {
        name: t("reports-by-pillar"),
        head: dwell_head(&["reports-col-pillar"]),
        rows: d
            .by_pillar
            .iter()
            .map(|r| {
                let mut row = vec![Cell::text(pillar_title(state, lang, r))];
                row.extend(dwell(r));
                row
            })
            .collect(),
    });
    out.push(Sheet {
        name: t("reports-by-lang"),
        head: dwell_head(&["reports-col-lang"]),
        rows: d
            .by_lang
            .iter()
            .map(|r| {
                let mut row = vec![Cell::text(lang_title(&r.key))];
                row.extend(dwell(r));
                row
            })
            .collect(),
    });
    let funnel_head = |first: &[&str]| -> Vec<String> {
        first
            .iter()
            .chain(&[
                "reports-col-shown",
                "reports-col-opened",
                "reports-phone-leads",
                "reports-leads",
            ])
            .map(|k| t(k))
            .collect()
    };
    let funnel = |first: Vec<Cell>, r: &FunnelRow| {
        let mut row = first;
        row.extend([
            Cell::int(r.shown),
            Cell::int(r.opened),
            Cell::int(r.phone_leads),
            Cell::int(r.leads),
        ]);
        row
    };
    out.push(Sheet {
        name: t("reports-funnel-by-item"),
        head: funnel_head(&["reports-col-item", "reports-col-title"]),
        rows: d
            .funnel_items
            .iter()
            .map(|r| {
                funnel(
                    vec![Cell::text(&r.key), Cell::text(funnel_item_title(r, lang))],
                    r,
                )
            })
            .collect(),
    });
    out.push(Sheet {
        name: t("reports-funnel-by-lang"),
        head: funnel_head(&["reports-col-lang"]),
        rows: d
            .funnel_langs
            .iter()
            .map(|r| funnel(vec![Cell::text(lang_title(&r.key))], r))
            .collect(),
    });
    out.push(Sheet {
        name: t("reports-funnel-by-hour"),
        head: funnel_head(&["reports-col-hour"]),
        rows: d
            .funnel_hours
            .iter()
            .map(|r| funnel(vec![Cell::text(format!("{}:00", r.key))], r))
            .collect(),
    });
    out.push(Sheet {
        name: t("reports-by-country"),
        head: vec![t("reports-col-country"), t("reports-col-leads")],
        rows: d
            .by_country
            .iter()
            .map(|(c, n)| vec![Cell::text(country_title(state, lang, c)), Cell::int(*n)])
            .collect(),
    });
    let mut head = vec![t("reports-col-day")];
    head.extend((0..24).map(|h| format!("{h:02}:00")));
    head.push(t("reports-col-total"));
    out.push(Sheet {
        name: t("reports-heat"),
        head,
        rows: d
            .heat
            .iter()
            .map(|h| {
                let mut row = vec![Cell::text(day_label(h.day))];
                row.extend(h.hours.iter().map(|n| Cell::int(*n)));
                row.push(Cell::int(h.hours.iter().sum()));
                row
            })
            .collect(),
    });
    out
}

/// The yearly report's tables: the department's compilation of all units when asked (its
/// totals, then its leads by market), units, events, leads by market, top content.
pub(crate) fn yearly_sheets(
    state: &AppState,
    lang: &str,
    data: &YearlyData,
    department: bool,
) -> Vec<Sheet> {
    let t = |id: &str| state.i18n.t(lang, id);
    let mut out = Vec::new();
    if department {
        let (totals, markets) = department_totals(data);
        let title = state.i18n.t_args(
            lang,
            "reports-department-deadline",
            &[("year", &data.year.to_string())],
        );
        let mut rows: Vec<Vec<Cell>> = vec![vec![Cell::text(title), Cell::text("")]];
        rows.extend(
            totals
                .iter()
                .map(|(_, label, n)| vec![Cell::text(t(label)), Cell::int(*n)]),
        );
        rows.extend(markets.iter().map(|(c, n)| {
            vec![
                Cell::text(format!(
                    "{}: {}",
                    t("reports-markets"),
                    country_title(state, lang, c)
                )),
                Cell::int(*n),
            ]
        }));
        out.push(Sheet {
            name: t("reports-sheet-department"),
            head: vec![t("reports-col-measure"), t("reports-col-value")],
            rows,
        });
    }
    let heads = |keys: &[&str]| keys.iter().map(|k| t(k)).collect::<Vec<_>>();
    let units = Sheet {
        name: t("reports-sheet-units"),
        head: heads(&[
            "reports-unit",
            "reports-events-held",
            "reports-kiosk-days",
            "reports-sessions",
            "reports-col-views",
            "reports-col-dwell",
            "reports-col-leads",
            "reports-delegations",
            "reports-visits",
            "reports-attendees",
            "reports-delegation-leads",
        ]),
        rows: data
            .units
            .iter()
            .map(|u| {
                vec![
                    Cell::text(unit_name(state, lang, u)),
                    Cell::int(u.events.len() as i64),
                    Cell::int(u.kiosk_days),
                    Cell::int(u.sessions),
                    Cell::int(u.views),
                    Cell::secs(u.dwell_ms),
                    Cell::int(u.leads),
                    Cell::int(u.delegations),
                    Cell::int(u.visits),
                    Cell::int(u.attendees),
                    Cell::int(u.delegation_leads),
                ]
            })
            .collect(),
    };
    let events = Sheet {
        name: t("reports-sheet-events"),
        head: heads(&[
            "reports-unit",
            "reports-col-event",
            "reports-col-name",
            "reports-col-kind",
            "event-f-starts",
            "event-f-ends",
            "reports-col-venue",
            "reports-col-country",
            "reports-col-responsible",
            "reports-kiosk-days",
            "reports-sessions",
            "reports-col-views",
            "reports-col-leads",
        ]),
        rows: data
            .units
            .iter()
            .flat_map(|u| {
                u.events.iter().map(move |e| {
                    vec![
                        Cell::text(unit_name(state, lang, u)),
                        Cell::text(&e.id),
                        Cell::text(&e.name),
                        Cell::text(event_kind(state, lang, &e.kind)),
                        Cell::text(&e.starts),
                        Cell::text(&e.ends),
                        Cell::text(&e.venue),
                        Cell::text(&e.country),
                        Cell::text(&e.responsible),
                        Cell::int(e.kiosk_days),
                        Cell::int(e.sessions),
                        Cell::int(e.views),
                        Cell::int(e.leads),
                    ]
                })
            })
            .collect(),
    };
    let markets = Sheet {
        name: t("reports-sheet-markets"),
        head: heads(&["reports-unit", "reports-col-country", "reports-col-leads"]),
        rows: data
            .units
            .iter()
            .flat_map(|u| {
                u.by_country.iter().map(move |(c, n)| {
                    vec![
                        Cell::text(unit_name(state, lang, u)),
                        Cell::text(country_title(state, lang, c)),
                        Cell::int(*n),
                    ]
                })
            })
            .collect(),
    };
    let content = Sheet {
        name: t("reports-sheet-content"),
        head: heads(&[
            "reports-unit",
            "reports-col-rank",
            "reports-col-item",
            "reports-col-title",
            "reports-col-views",
            "reports-col-dwell",
            "reports-col-avg",
        ]),
        rows: data
            .units
            .iter()
            .flat_map(|u| {
                u.top_items.iter().enumerate().map(move |(i, item)| {
                    vec![
                        Cell::text(unit_name(state, lang, u)),
                        Cell::int(i as i64 + 1),
                        Cell::text(&item.key),
                        Cell::text(item_title(item, lang)),
                        Cell::int(item.views),
                        Cell::secs(item.dwell_ms),
                        Cell::secs(item.avg_ms().round() as i64),
                    ]
                })
            })
            .collect(),
    };
    out.extend([units, events, markets, content]);
    out
}
