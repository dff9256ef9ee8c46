//! The dashboard: kiosks and what they recorded.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::context::{StaffCtx, blocking};
use super::html::{esc, nav, page};
use crate::AppState;
use crate::error::AppError;
use crate::store::Liveness;

pub fn router() -> Router<AppState> {
    Router::new().route("/staff", get(dashboard))
}

/// The message id naming a record kind.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "view" => "staff-kind-view",
        "interaction" => "staff-kind-interaction",
        "language_selected" => "staff-kind-language-selected",
        "qr_shown" => "staff-kind-qr-shown",
        "lead" => "staff-kind-lead",
        "raw_scan" => "staff-kind-raw-scan",
        "session" => "staff-kind-session",
        "heartbeat" => "staff-kind-heartbeat",
        "visit" => "staff-kind-visit",
        _ => "staff-kind-unknown",
    }
}

async fn dashboard(State(state): State<AppState>, cx: StaffCtx) -> Result<Response, AppError> {
    let lang = cx.lang;
    let t = |id: &str| state.i18n.t(lang, id);
    let staff = state.staff.clone();
    let leads = state.leads.clone();
    let (summary, events) = blocking(move || Ok((staff.summary()?, leads.events()?))).await?;
    let now = protocol::now_ms();
    let today = crate::store::time::day_label(crate::store::time::vn_day(now));
    // Kiosks silent while their event is on (its days, Vietnam time): someone should look.
    let attention: String = summary
        .kiosks
        .iter()
        .filter_map(|k| {
            let event = events.iter().find(|e| Some(&e.id) == k.event_id.as_ref())?;
            let on_now = !event.starts.is_empty()
                && event.starts.as_str() <= today.as_str()
                && (event.ends.is_empty() || today.as_str() <= event.ends.as_str());
            let silent = matches!(
                super::kiosks::liveness_of(&state, k, now),
                Liveness::Late(_) | Liveness::Offline(_)
            );
            (on_now && silent).then(|| {
                format!(
                    "<tr><td><a href=\"/staff/kiosks/{}\">{}</a></td><td>{}</td>{}</tr>",
                    k.uuid,
                    esc(&k.name),
                    esc(&event.name),
                    super::kiosks::status_cell(&state, &cx, k, now)
                )
            })
        })
        .collect();
    let attention = if attention.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"card\" id=\"attention\" style=\"max-width:none;border:2px solid #b00020\">\
             <h2 class=\"err\">{}</h2><table><tbody>{attention}</tbody></table></div>",
            esc(&t("staff-attention"))
        )
    };
    let kinds: String = summary
        .kinds
        .iter()
        .map(|(k, n)| {
            format!(
                "<div><strong>{n}</strong><br>{}</div>",
                esc(&t(kind_label(k)))
            )
        })
        .collect();
    let rows: String = summary
        .kiosks
        .iter()
        .map(|k| {
            let status = super::kiosks::status_cell(&state, &cx, k, now);
            format!(
                "<tr><td><a href=\"/staff/kiosks/{}\">{}</a></td><td>{}</td>{status}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                k.uuid,
                esc(&k.name),
                esc(k.event_id.as_deref().unwrap_or("—")),
                esc(&cx.when(k.last_contact_ms.max(k.last_seen_ms))),
                k.next_seq.saturating_sub(1),
                k.backlog.map(|b| b.to_string()).unwrap_or_else(|| "—".into()),
                esc(&match (&k.content_version, &k.content_error) {
                    (v, Some(e)) => format!("{} — {e}", v.as_deref().unwrap_or("—")),
                    (v, None) => v.clone().unwrap_or_else(|| "—".into()),
                }),
            )
        })
        .collect();
    let body = format!(
        "{nav}<main><h1>{title}</h1>{attention}\
         <h2>{records}</h2><div class=\"kinds\">{kinds}<div><strong>{opens}</strong><br>{opens_label}</div><div><strong>{leads}</strong><br>{leads_label}</div></div>\
         <h2>{kiosks}</h2><table><thead><tr><th>{c_name}</th><th>{c_event}</th><th>{c_status}</th><th>{c_seen}</th>\
         <th>{c_records}</th><th>{c_backlog}</th><th>{c_content}</th></tr></thead><tbody>{rows}</tbody></table></main>",
        title = esc(&t("staff-dashboard-title")),
        nav = nav(&state, lang, &cx.user, &cx.csrf, "/staff", "/staff"),
        records = esc(&t("staff-records")),
        leads = summary.leads,
        opens = summary.qr_opens,
        opens_label = esc(&t("staff-qr-opened")),
        leads_label = esc(&t("staff-leads")),
        kiosks = esc(&t("staff-kiosks")),
        c_name = esc(&t("staff-col-name")),
        c_event = esc(&t("staff-col-event")),
        c_status = esc(&t("staff-col-status")),
        c_seen = esc(&t("staff-col-last-seen")),
        c_records = esc(&t("staff-col-records")),
        c_backlog = esc(&t("staff-col-backlog")),
        c_content = esc(&t("staff-col-content")),
    );
    let resp = Html(page(lang, &t("staff-dashboard-title"), &body)).into_response();
    Ok(cx.remember_lang(&state, resp))
}
