//! The staff pages' HTML, built once: the page shell, the navigation, escaping, tables, form
//! fields, URL encoding and times.

use crate::AppState;
use crate::store::{Role, User};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,'Noto Sans',sans-serif;margin:0;background:#f4f6f7;color:#14262e}}\
         header{{background:#14262e;color:#fff;padding:12px 24px;display:flex;gap:16px;align-items:center}}\
         header a,header button{{color:#fff}} main{{padding:24px;max-width:1320px;margin:auto}}\
         table{{border-collapse:collapse;width:100%;background:#fff}} th,td{{padding:8px;border-bottom:1px solid #dde;text-align:left}}\
         .card{{background:#fff;padding:24px;border-radius:12px;max-width:420px;margin:48px auto}}\
         input{{display:block;width:100%;padding:10px;margin:6px 0 16px;box-sizing:border-box}}\
         button{{padding:10px 18px;background:#1f6f8b;color:#fff;border:0;border-radius:8px}}\
         nav{{display:flex;gap:14px;flex-wrap:wrap}} nav a.on{{font-weight:bold;text-decoration:none}}\
         .filters{{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px 16px;background:#fff;padding:16px;border-radius:12px}}\
         .filters input,.filters select{{margin:4px 0 0}} label{{font-size:14px}} select{{display:block;width:100%;padding:9px}}\
         textarea{{width:100%;min-height:90px}} .ok{{color:#1b6e35}} .muted{{color:#5a6b73}} .row{{display:flex;gap:12px;flex-wrap:wrap;align-items:center}}\
         .live-online{{color:#1b6e35}} .live-late{{color:#8a5a00;font-weight:bold}} .live-offline{{color:#b00020;font-weight:bold}}\
         table.compact th,table.compact td{{padding:6px 8px;font-size:14px}} td.t{{white-space:nowrap}} td.e{{word-break:break-all}}\
         .err{{color:#b00020}} .kinds{{display:flex;gap:16px;flex-wrap:wrap}} .kinds div{{background:#fff;padding:12px 18px;border-radius:8px}}\
         </style></head><body>{body}</body></html>",
        title = esc(title)
    )
}

/// The header of every signed-in page: the sections, the user, the language switch, sign-out.
pub(crate) fn nav(
    state: &AppState,
    lang: &str,
    user: &User,
    csrf: &str,
    active: &str,
    here: &str,
) -> String {
    let t = |id: &str| state.i18n.t(lang, id);
    let mut links = vec![
        ("/staff", "staff-nav-dashboard"),
        ("/staff/leads", "staff-nav-leads"),
        ("/staff/reports", "staff-nav-reports"),
        ("/staff/visits", "staff-nav-visits"),
        ("/staff/kiosks", "staff-nav-kiosks"),
        ("/staff/content", "staff-nav-content"),
        ("/staff/events", "staff-nav-events"),
        ("/staff/duplicates", "staff-nav-duplicates"),
        ("/staff/privacy", "staff-nav-privacy"),
    ];
    if user.role == Role::Admin {
        links.push(("/staff/users", "staff-nav-users"));
        links.push(("/staff/audit", "staff-nav-audit"));
    }
    let links: String = links
        .into_iter()
        .map(|(href, id)| {
            format!(
                "<a href=\"{href}\"{}>{}</a>",
                if href == active { " class=\"on\"" } else { "" },
                esc(&t(id))
            )
        })
        .collect();
    let other = if lang == "vi" {
        ("en", "English")
    } else {
        ("vi", "Tiếng Việt")
    };
    // `ui`, not `lang`: on the leads page `lang` filters by the visitor's language.
    let sep = if here.contains('?') { '&' } else { '?' };
    format!(
        "<header><nav>{links}</nav><a href=\"/staff/account\" id=\"me\">{who}</a><a href=\"{here}{sep}ui={olang}\">{oname}</a>\
         <form method=\"post\" action=\"/staff/logout\" style=\"margin-left:auto\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">{logout}</button></form></header>",
        who = esc(&format!("{} · {}", user.email, user.org)),
        here = esc(here),
        olang = other.0,
        oname = other.1,
        csrf = esc(csrf),
        logout = esc(&t("staff-logout")),
    )
}

/// A time for a staff page in `lang`: Vietnam time, as the reports and exports count it,
/// labelled so nobody takes it for UTC; `dd/mm/yyyy` in Vietnamese.
pub(crate) fn when_in(lang: &str, ms: Option<i64>) -> String {
    ms.map(|ms| {
        let t = if lang == "vi" {
            crate::store::time::vietnam_time_vi(ms)
        } else {
            crate::store::time::vietnam_time(ms)
        };
        format!("{t} (UTC+7)")
    })
    .unwrap_or_else(|| "—".into())
}

pub(crate) fn urlencode(s: &str) -> String {
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

/// The line that says how an action went (`#done`): green when it went well, red otherwise.
pub(crate) fn notice(ok: bool, text: &str) -> String {
    format!(
        "<p class=\"{}\" id=\"done\">{}</p>",
        if ok { "ok" } else { "err" },
        esc(text)
    )
}

pub(crate) fn input(name: &str, label: &str, kind: &str, value: &str) -> String {
    format!(
        "<label>{}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"></label>",
        esc(label),
        esc(value)
    )
}

pub(crate) fn th(s: &str) -> String {
    format!("<th>{}</th>", esc(s))
}

pub(crate) fn th_n(s: &str) -> String {
    format!("<th class=\"n\">{}</th>", esc(s))
}

pub(crate) fn td(s: &str) -> String {
    format!("<td>{}</td>", esc(s))
}

pub(crate) fn td_n(s: &str) -> String {
    format!("<td class=\"n\">{}</td>", esc(s))
}

/// A table with an id, a header row and rows of ready cells.
pub(crate) fn table(id: &str, head: &[String], rows: &[String]) -> String {
    format!(
        "<table id=\"{id}\"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        head.concat(),
        rows.concat()
    )
}

// ---------------------------------------------------------------------------------------------
// Charts (charts-rs, SVG).

/// The "Summary" heading and its table: one row per figure (key, label message id, value).
pub(crate) fn summary_table(t: &dyn Fn(&str) -> String, rows: &[(&str, &str, String)]) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|(key, id, v)| {
            format!(
                "<tr data-key=\"{key}\"><th scope=\"row\">{}</th>{}</tr>",
                esc(&t(id)),
                td_n(v)
            )
        })
        .collect();
    format!(
        "<h2>{}</h2>{}",
        esc(&t("reports-summary")),
        table(
            "summary",
            &[th(&t("reports-col-measure")), th_n(&t("reports-col-value"))],
            &rows
        )
    )
}
