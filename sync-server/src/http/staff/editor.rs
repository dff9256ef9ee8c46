//! The content editor (`/staff/content/draft`, admins): a draft started from a published
//! version; texts side by side with Vietnamese, pictures uploaded with `content validate`'s
//! checks and their credits, items ordered, shown at the kiosk's two screen shapes; published
//! as a new version (by default, or to one event); exported as the pack folder `content
//! import` reads. The steps themselves are [`crate::draft`].

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use protocol::content::{Credit, ItemText, MediaEntry, Pack};
use serde::Deserialize;

use super::context::{Button, CsrfForm, StaffCtx, blocking, same_secret};
use super::html::{esc, notice, urlencode};
use crate::AppState;
use crate::draft;
use crate::error::AppError;
use crate::store::{AuditAction, Draft, EventRow, StorageError};

/// Largest picture upload: a 40-megapixel PNG fits.
pub const MAX_UPLOAD_BYTES: usize = 48 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/content/draft", get(draft_page))
        .route("/staff/content/draft/start", post(start))
        .route("/staff/content/draft/discard", post(discard))
        .route("/staff/content/draft/publish", post(publish))
        .route("/staff/content/draft/export", get(export))
        .route("/staff/content/draft/preview", get(preview))
        .route("/staff/content/draft/media/{sha}", get(media))
        .route("/staff/content/draft/credit", post(credit))
        .route("/staff/content/draft/pillars/{id}", post(save_pillar))
        .route("/staff/content/draft/items/{id}", get(item_page))
        // A long text in CJK passes the 64 KiB of other staff forms: this one takes 512 KiB.
        .route(
            "/staff/content/draft/items/{id}/text",
            post(save_text).layer(DefaultBodyLimit::max(512 << 10)),
        )
        .route("/staff/content/draft/items/{id}/window", post(save_window))
        .route("/staff/content/draft/items/{id}/move", post(move_item))
        .route(
            "/staff/content/draft/items/{id}/remove",
            post(remove_picture),
        )
        .route(
            "/staff/content/draft/items/{id}/upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
}

/// `?text=`: the language whose texts are edited (`lang` would switch the pages' language).
#[derive(Deserialize, Default)]
struct PageQuery {
    done: Option<String>,
    text: Option<String>,
}

async fn load(state: &AppState) -> Result<Option<Draft>, AppError> {
    let fleet = state.fleet.clone();
    blocking(move || fleet.draft()).await
}

/// Saves a change of the draft read at `d.revision` and audits it as `what`; false (nothing
/// written) when another admin saved or discarded the draft since it was read.
async fn save(
    state: &AppState,
    cx: &StaffCtx,
    mut d: Draft,
    what: String,
) -> Result<bool, AppError> {
    d.updated_ms = protocol::now_ms();
    d.updated_by = cx.user.email.clone();
    let fleet = state.fleet.clone();
    if !blocking(move || fleet.save_draft(&d)).await? {
        return Ok(false);
    }
    cx.audit(state, AuditAction::ContentDraft, what).await?;
    Ok(true)
}

/// The draft page saying that a change came too late to be saved.
async fn changed_meanwhile(state: &AppState, cx: &StaffCtx) -> Result<Response, AppError> {
    let top = notice(false, &cx.t(state, "editor-conflict"));
    render_draft(state, cx, top, &[], StatusCode::CONFLICT).await
}

/// A text in the pack's languages, falling back as the kiosk does.
fn local<'a>(map: &'a protocol::content::Localised, lang: &str) -> &'a str {
    locales::fallback_chain(lang)
        .iter()
        .find_map(|l| map.get(l.as_str()))
        .or_else(|| map.values().next())
        .map_or("", String::as_str)
}

fn item_title<'a>(pack: &'a Pack, item: &'a protocol::content::Item) -> &'a str {
    item.text
        .get(&pack.default_language)
        .or_else(|| item.text.values().next())
        .map_or(item.id.as_str(), |t| t.title.as_str())
}

fn csrf_field(cx: &StaffCtx) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&cx.csrf)
    )
}

fn button_form(cx: &StaffCtx, action: &str, fields: &str, label: &str, id: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\" style=\"display:inline\">{}{fields}\
         <button type=\"submit\" id=\"{id}\">{}</button></form>",
        csrf_field(cx),
        esc(label)
    )
}

const EDITOR_CSS: &str = "<style>.langs a{margin-right:10px}.langs a.on{font-weight:bold;text-decoration:none}.missing{color:#b00020;font-weight:bold}\
    .side{display:grid;grid-template-columns:1fr 1fr;gap:12px 24px;background:#fff;padding:16px;border-radius:12px}\
    .side .vi{color:#33474f;white-space:pre-wrap;background:#f4f6f7;padding:8px;border-radius:6px;font-size:14px}\
    .pics{display:flex;gap:16px;flex-wrap:wrap}.pics figure{background:#fff;padding:12px;border-radius:12px;margin:0;width:300px}\
    .pics img{width:100%;height:auto}.pics input{margin:4px 0 8px;padding:6px}\
    ul.problems li{margin:4px 0}</style>";

async fn draft_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let done = q
        .done
        .as_deref()
        .and_then(done_key)
        .map(|k| notice(true, &cx.t(&state, k)));
    render_draft(&state, &cx, done.unwrap_or_default(), &[], StatusCode::OK).await
}

async fn render_draft(
    state: &AppState,
    cx: &StaffCtx,
    top: String,
    problems: &[crate::content::Problem],
    status: StatusCode,
) -> Result<Response, AppError> {
    let t = |id: &str| cx.t(state, id);
    let (fleet, leads) = (state.fleet.clone(), state.leads.clone());
    let (d, versions, events) =
        blocking(move || Ok((fleet.draft()?, fleet.content_versions()?, leads.events()?))).await?;
    let mut body = top;
    let Some(d) = d else {
        let options: String = versions
            .iter()
            .map(|v| {
                format!(
                    "<option value=\"{0}\"{1}>{0}</option>",
                    esc(&v.version),
                    if v.current { " selected" } else { "" }
                )
            })
            .collect();
        if versions.is_empty() {
            body.push_str(&format!(
                "<p class=\"muted\">{}</p>",
                esc(&t("editor-nothing"))
            ));
        } else {
            body.push_str(&format!(
                "<p class=\"muted\">{}</p><form method=\"post\" action=\"/staff/content/draft/start\" class=\"filters\">{}\
                 <label>{}<select name=\"version\">{options}</select></label><div><button type=\"submit\" id=\"start\">{}</button></div></form>",
                esc(&t("editor-intro")),
                csrf_field(cx),
                esc(&t("editor-start-from")),
                esc(&t("editor-start")),
            ));
        }
        return Ok(with_status(
            cx.page_titled(
                state,
                &t("editor-title"),
                "/staff/content",
                "/staff/content/draft",
                EDITOR_CSS,
                &body,
            ),
            status,
        ));
    };
    let pack = &d.pack;
    body.push_str(&format!(
        "<p class=\"muted\" id=\"draft-info\">{}</p>",
        esc(&cx.t_args(
            state,
            "editor-info",
            &[
                ("version", d.based_on.as_deref().unwrap_or("—")),
                ("who", &d.updated_by),
                ("when", &cx.when(Some(d.updated_ms))),
            ]
        ))
    ));
    if !problems.is_empty() {
        let items: String = problems
            .iter()
            .map(|p| {
                format!(
                    "<li class=\"{}\">{}</li>",
                    if p.severity == crate::content::Severity::Error {
                        "err"
                    } else {
                        "muted"
                    },
                    esc(&p.to_string())
                )
            })
            .collect();
        body.push_str(&format!(
            "<ul class=\"problems\" id=\"problems\">{items}</ul>"
        ));
    }
    // Publishing: by default (kiosks of events without their own version) or to one event.
    let targets: String = events
        .iter()
        .map(|e: &EventRow| {
            format!(
                "<option value=\"{}\">{} ({})</option>",
                esc(&e.id),
                esc(&e.name),
                esc(&e.id)
            )
        })
        .collect();
    body.push_str(&format!(
        "<form method=\"post\" action=\"/staff/content/draft/publish\" class=\"filters\" id=\"publish-form\">{}\
         <label>{}<select name=\"target\"><option value=\"\">{}</option>{targets}</select></label>\
         <div><button type=\"submit\" id=\"publish\">{}</button></div></form>\
         <p class=\"row\"><a href=\"/staff/content/draft/preview?attract=1&amp;size=1920x1080\" target=\"_blank\">{} 1920×1080</a>\
         <a href=\"/staff/content/draft/preview?attract=1&amp;size=1080x1920\" target=\"_blank\">{} 1080×1920</a>\
         <a href=\"/staff/content/draft/export\" id=\"export\">{}</a>{}</p>",
        csrf_field(cx),
        esc(&t("editor-publish-to")),
        esc(&t("editor-default")),
        esc(&t("editor-publish")),
        esc(&t("editor-preview-attract")),
        esc(&t("editor-preview-attract")),
        esc(&t("editor-export")),
        button_form(cx, "/staff/content/draft/discard", "", &t("editor-discard"), "discard"),
    ));
    for pillar in &pack.pillars {
        let rows: String = pack
            .items
            .iter()
            .filter(|i| i.pillar == pillar.id)
            .map(|i| {
                let missing = draft::missing_languages(pack, &i.id);
                let missing = if missing.is_empty() {
                    "—".to_owned()
                } else {
                    format!("<span class=\"missing\">{}</span>", esc(&missing.join(" ")))
                };
                let window = window_text(i);
                let id = urlencode(&i.id);
                format!(
                    "<tr id=\"item-{0}\"><td><a href=\"/staff/content/draft/items/{id}\">{1}</a></td><td>{2}</td><td>{3}</td><td>{4}</td><td class=\"t\">{5}{6}</td></tr>",
                    esc(&i.id),
                    esc(item_title(pack, i)),
                    missing,
                    i.media.len(),
                    esc(&window),
                    button_form(cx, &format!("/staff/content/draft/items/{id}/move"), "<input type=\"hidden\" name=\"dir\" value=\"up\">", "↑", &format!("up-{}", esc(&i.id))),
                    button_form(cx, &format!("/staff/content/draft/items/{id}/move"), "<input type=\"hidden\" name=\"dir\" value=\"down\">", "↓", &format!("down-{}", esc(&i.id))),
                )
            })
            .collect();
        let names: String = pack
            .languages
            .iter()
            .map(|l| {
                let missing = if pillar.title.contains_key(l) {
                    String::new()
                } else {
                    format!(
                        " <span class=\"missing\">({})</span>",
                        esc(&t("editor-missing-one"))
                    )
                };
                format!(
                    "<label>{l}{missing}<input name=\"t.{l}\" lang=\"{l}\" value=\"{}\"></label>",
                    esc(pillar.title.get(l).map_or("", String::as_str)),
                    l = esc(l)
                )
            })
            .collect();
        let pillar_form = format!(
            "<details id=\"pillar-{id}\"><summary>{}</summary><form method=\"post\" action=\"/staff/content/draft/pillars/{id}\" class=\"filters\">{}{names}\
             <div><button type=\"submit\">{}</button></div></form></details>",
            esc(&t("editor-pillar-names")),
            csrf_field(cx),
            esc(&t("editor-save")),
            id = esc(&pillar.id),
        );
        body.push_str(&format!(
            "<h2>{}</h2>{pillar_form}<table class=\"compact\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
            esc(local(&pillar.title, cx.lang)),
            esc(&t("editor-item")),
            esc(&t("editor-missing")),
            esc(&t("editor-pictures")),
            esc(&t("editor-window")),
            esc(&t("editor-order")),
        ));
    }
    Ok(with_status(
        cx.page_titled(
            state,
            &t("editor-title"),
            "/staff/content",
            "/staff/content/draft",
            EDITOR_CSS,
            &body,
        ),
        status,
    ))
}

/// The line that says what the last step did (`?done=`).
fn done_key(done: &str) -> Option<&'static str> {
    Some(match done {
        "start" => "editor-done-start",
        "discard" => "editor-done-discard",
        "credit" => "editor-done-credit",
        "text" => "editor-done-text",
        "window" => "editor-done-window",
        "remove" => "editor-done-remove",
        "upload" => "editor-done-upload",
        "pillar" => "editor-done-pillar",
        _ => return None,
    })
}

fn with_status(mut r: Response, status: StatusCode) -> Response {
    *r.status_mut() = status;
    r
}

fn window_text(i: &protocol::content::Item) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &i.shows_from {
        parts.push(format!("{f} →"));
    }
    if let Some(u) = &i.shows_until {
        parts.push(format!("→ {u}"));
    }
    if let Some(d) = &i.daily {
        parts.push(d.clone());
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" ")
    }
}

#[derive(Deserialize)]
struct StartForm {
    version: String,
}

async fn start(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let fleet = state.fleet.clone();
    let version = form.version.clone();
    let m = blocking(move || {
        if fleet.draft()?.is_some() {
            return Err(StorageError::Invalid("a draft is open already".into()));
        }
        fleet.version_manifest(&version)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let d = draft::start(&m, &cx.user.email, protocol::now_ms());
    if !save(&state, &cx, d, format!("start from {}", form.version)).await? {
        return changed_meanwhile(&state, &cx).await;
    }
    Ok(Redirect::to("/staff/content/draft?done=start").into_response())
}

async fn discard(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let fleet = state.fleet.clone();
    blocking(move || fleet.discard_draft()).await?;
    cx.audit(&state, AuditAction::ContentDraft, "discard".into())
        .await?;
    Ok(Redirect::to("/staff/content/draft?done=discard").into_response())
}

#[derive(Deserialize)]
struct PublishForm {
    #[serde(default)]
    target: String,
}

async fn publish(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let Some(mut d) = load(&state).await? else {
        return Ok(Redirect::to("/staff/content/draft").into_response());
    };
    let media_dir = state.media_dir();
    let checked = d.clone();
    let problems = tokio::task::spawn_blocking(move || draft::check(&checked, &media_dir)).await?;
    if problems
        .iter()
        .any(|p| p.severity == crate::content::Severity::Error)
    {
        let top = notice(false, &cx.t(&state, "editor-not-published"));
        return render_draft(
            &state,
            &cx,
            top,
            &problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let manifest = draft::manifest(&d).map_err(|e| AppError::Internal(e.to_string()))?;
    let (fleet, m) = (state.fleet.clone(), manifest.clone());
    blocking(move || fleet.add_version(&m, protocol::now_ms())).await?;
    super::content::publish_version(
        &state,
        &cx,
        &manifest.version,
        form.target.trim(),
        " (editor)",
    )
    .await?;
    d.based_on = Some(manifest.version.clone());
    // The draft remembers what it was published as, unless it changed meanwhile (then the
    // newer edits stay, and say nothing of this publication).
    save(&state, &cx, d, format!("published as {}", manifest.version)).await?;
    Ok(Redirect::to("/staff/content?done=published").into_response())
}

async fn export(State(state): State<AppState>, cx: StaffCtx) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let d = load(&state).await?.ok_or(AppError::NotFound)?;
    let media_dir = state.media_dir();
    let id: String = d
        .pack
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let name = format!("{}-draft.tar", if id.is_empty() { "pack" } else { &id });
    let tar = tokio::task::spawn_blocking(move || draft::export_tar(&d, &media_dir))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        tar,
    )
        .into_response())
}

async fn media(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(sha): Path<String>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let d = load(&state).await?.ok_or(AppError::NotFound)?;
    // Only a file of the draft: the name never reaches the disk otherwise.
    let entry = d
        .media
        .iter()
        .find(|m| m.sha256 == sha)
        .ok_or(AppError::NotFound)?;
    let bytes = tokio::fs::read(state.media_dir().join(&entry.sha256))
        .await
        .map_err(|_| AppError::NotFound)?;
    let kind = if entry.path.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct CreditForm {
    path: String,
    credit: String,
    licence: String,
    #[serde(default)]
    item: String,
}

async fn credit(
    State(state): State<AppState>,
    cx: StaffCtx,
    CsrfForm(form): CsrfForm<CreditForm>,
) -> Result<Response, AppError> {
    edit_item(&state, &cx, &form.item, None, "credit", |d| {
        draft::set_credit(d, &form.path, &form.credit, &form.licence)
            .map(|()| format!("credit {}", form.path))
    })
    .await
}

/// One change of an item in the draft: `step` makes it and says what it did, for the audit log,
/// or says why not (shown on the item's page, in the language `text` edited, and nothing is
/// saved); then back to the item's page saying `done`.
async fn edit_item(
    state: &AppState,
    cx: &StaffCtx,
    id: &str,
    text: Option<&str>,
    done: &str,
    step: impl FnOnce(&mut Draft) -> Result<String, String>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(state));
    }
    let mut d = load(state).await?.ok_or(AppError::NotFound)?;
    let what = match step(&mut d) {
        Ok(what) => what,
        Err(e) => {
            let top = notice(false, &e);
            return render_item(state, cx, id, text, top, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if !save(state, cx, d, what).await? {
        let top = notice(false, &cx.t(state, "editor-conflict"));
        return render_item(state, cx, id, text, top, StatusCode::CONFLICT).await;
    }
    let text = text
        .map(|l| format!("text={}&", urlencode(l)))
        .unwrap_or_default();
    Ok(Redirect::to(&format!(
        "/staff/content/draft/items/{}?{text}done={done}",
        urlencode(id)
    ))
    .into_response())
}

async fn item_page(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let done = q
        .done
        .as_deref()
        .and_then(done_key)
        .map(|k| notice(true, &cx.t(&state, k)))
        .unwrap_or_default();
    render_item(&state, &cx, &id, q.text.as_deref(), done, StatusCode::OK).await
}

async fn render_item(
    state: &AppState,
    cx: &StaffCtx,
    id: &str,
    lang: Option<&str>,
    top: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let t = |k: &str| cx.t(state, k);
    let d = load(state).await?.ok_or(AppError::NotFound)?;
    let pack = &d.pack;
    let item = pack.item(id).ok_or(AppError::NotFound)?;
    let main = pack.default_language.as_str();
    let lang = lang
        .filter(|l| pack.languages.iter().any(|p| p == l))
        .or_else(|| {
            pack.languages
                .iter()
                .map(String::as_str)
                .find(|l| *l != main)
        })
        .unwrap_or(main);
    let uid = urlencode(id);
    let missing = draft::missing_languages(pack, id);
    let tabs: String = pack
        .languages
        .iter()
        .map(|l| {
            let mark = if missing.contains(l) {
                format!(" <span class=\"missing\">({})</span>", esc(&t("editor-missing-one")))
            } else {
                String::new()
            };
            let on = if l == lang { " class=\"on\"" } else { "" };
            format!("<a href=\"/staff/content/draft/items/{uid}?text={0}\" id=\"lang-{0}\"{on}>{0}</a>{mark}", esc(l))
        })
        .collect();
    let empty = ItemText {
        title: String::new(),
        summary: String::new(),
        body: String::new(),
        facts: vec![],
        source: None,
    };
    let vi = item.text.get(main).unwrap_or(&empty);
    let cur = item.text.get(lang).unwrap_or(&empty);
    let field = |name: &str, label: &str, reference: &str, value: &str, area: bool| {
        let input = if area {
            format!(
                "<textarea name=\"{name}\" lang=\"{}\">{}</textarea>",
                esc(lang),
                esc(value)
            )
        } else {
            format!(
                "<input name=\"{name}\" lang=\"{}\" value=\"{}\">",
                esc(lang),
                esc(value)
            )
        };
        let reference = if lang == main {
            String::new()
        } else {
            format!(
                "<div class=\"vi\" lang=\"{}\">{}</div>",
                esc(main),
                esc(reference)
            )
        };
        format!(
            "<div><label>{} ({})</label>{input}</div><div>{}{reference}</div>",
            esc(label),
            esc(lang),
            if lang == main {
                String::new()
            } else {
                format!("<label>{}</label>", esc(main))
            }
        )
    };
    let fields = [
        field("title", &t("editor-f-title"), &vi.title, &cur.title, false),
        field(
            "summary",
            &t("editor-f-summary"),
            &vi.summary,
            &cur.summary,
            true,
        ),
        field("body", &t("editor-f-body"), &vi.body, &cur.body, true),
        field(
            "facts",
            &t("editor-f-facts"),
            &vi.facts.join("\n"),
            &cur.facts.join("\n"),
            true,
        ),
        field(
            "source",
            &t("editor-f-source"),
            vi.source.as_deref().unwrap_or(""),
            cur.source.as_deref().unwrap_or(""),
            false,
        ),
    ]
    .concat();
    let pictures: String = item
        .media
        .iter()
        .enumerate()
        .map(|(n, path)| {
            let entry = d.media.iter().find(|m| &m.path == path);
            let credit = pack.credits.get(path);
            let img = entry
                .map(|m| format!("<img src=\"/staff/content/draft/media/{}\" alt=\"{}\">", esc(&m.sha256), esc(path)))
                .unwrap_or_default();
            let no_credit = if credit.is_none() {
                format!("<p class=\"missing\">{}</p>", esc(&t("editor-no-credit")))
            } else {
                String::new()
            };
            format!(
                "<figure id=\"picture-{n}\">{img}<figcaption class=\"muted\">{}</figcaption>{no_credit}\
                 <form method=\"post\" action=\"/staff/content/draft/credit\">{csrf}<input type=\"hidden\" name=\"path\" value=\"{p}\"><input type=\"hidden\" name=\"item\" value=\"{i}\">\
                 <label>{}<input name=\"credit\" value=\"{}\"></label><label>{}<input name=\"licence\" value=\"{}\"></label><button type=\"submit\">{}</button></form>\
                 <form method=\"post\" action=\"/staff/content/draft/items/{uid}/upload\" enctype=\"multipart/form-data\">{csrf}<input type=\"hidden\" name=\"slot\" value=\"{n}\">\
                 <label>{}<input type=\"file\" name=\"file\" accept=\"image/png,image/jpeg\" id=\"replace-{n}\"></label>\
                 <label>{}<input name=\"credit\" value=\"{}\"></label><label>{}<input name=\"licence\" value=\"{}\"></label><button type=\"submit\" id=\"replace-submit-{n}\">{}</button></form>{}</figure>",
                esc(path),
                esc(&t("editor-credit")),
                esc(credit.map_or("", |c| c.credit.as_str())),
                esc(&t("editor-licence")),
                esc(credit.map_or("", |c| c.licence.as_str())),
                esc(&t("editor-save")),
                esc(&t("editor-replace")),
                esc(&t("editor-credit")),
                esc(credit.map_or("", |c| c.credit.as_str())),
                esc(&t("editor-licence")),
                esc(credit.map_or("", |c| c.licence.as_str())),
                esc(&t("editor-upload")),
                button_form(cx, &format!("/staff/content/draft/items/{uid}/remove"), &format!("<input type=\"hidden\" name=\"slot\" value=\"{n}\">"), &t("editor-remove"), &format!("remove-{n}")),
                csrf = csrf_field(cx),
                p = esc(path),
                i = esc(id),
            )
        })
        .collect();
    let body = format!(
        "{top}<p><a href=\"/staff/content/draft\">← {back}</a></p>\
         <p class=\"langs\">{tabs}</p>\
         <form method=\"post\" action=\"/staff/content/draft/items/{uid}/text\" id=\"text-form\">{csrf}<input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <div class=\"side\">{fields}</div><p><button type=\"submit\" id=\"save-text\">{save}</button> \
         <a href=\"/staff/content/draft/preview?item={uid}&amp;text={l}&amp;size=1920x1080\" target=\"_blank\" id=\"preview-wide\">{preview} 1920×1080</a> \
         <a href=\"/staff/content/draft/preview?item={uid}&amp;text={l}&amp;size=1080x1920\" target=\"_blank\" id=\"preview-tall\">{preview} 1080×1920</a></p></form>\
         <h2>{pictures_h}</h2><div class=\"pics\">{pictures}</div>\
         <form method=\"post\" action=\"/staff/content/draft/items/{uid}/upload\" enctype=\"multipart/form-data\" class=\"filters\" id=\"add-form\">{csrf}\
         <label>{add}<input type=\"file\" name=\"file\" accept=\"image/png,image/jpeg\" id=\"add-file\"></label>\
         <label>{credit}<input name=\"credit\" id=\"add-credit\"></label><label>{licence}<input name=\"licence\" id=\"add-licence\"></label>\
         <div><button type=\"submit\" id=\"add-submit\">{upload}</button></div></form>\
         <h2>{window_h}</h2><p class=\"muted\">{window_hint}</p>\
         <form method=\"post\" action=\"/staff/content/draft/items/{uid}/window\" class=\"filters\" id=\"window-form\">{csrf}\
         <label>{from}<input name=\"shows_from\" value=\"{fv}\" placeholder=\"2026-11-20 08:00\"></label>\
         <label>{until}<input name=\"shows_until\" value=\"{uv}\" placeholder=\"2026-11-22\"></label>\
         <label>{daily}<input name=\"daily\" value=\"{dv}\" placeholder=\"08:00-12:00\"></label>\
         <div><button type=\"submit\" id=\"save-window\">{save}</button></div></form>",
        back = esc(&t("editor-title")),
        csrf = csrf_field(cx),
        l = esc(lang),
        save = esc(&t("editor-save")),
        preview = esc(&t("editor-preview")),
        pictures_h = esc(&t("editor-pictures")),
        add = esc(&t("editor-add-picture")),
        credit = esc(&t("editor-credit")),
        licence = esc(&t("editor-licence")),
        upload = esc(&t("editor-upload")),
        window_h = esc(&t("editor-window")),
        window_hint = esc(&t("editor-window-hint")),
        from = esc(&t("editor-shows-from")),
        until = esc(&t("editor-shows-until")),
        daily = esc(&t("editor-daily")),
        fv = esc(item.shows_from.as_deref().unwrap_or("")),
        uv = esc(item.shows_until.as_deref().unwrap_or("")),
        dv = esc(item.daily.as_deref().unwrap_or("")),
    );
    let title = format!("{} · {}", t("editor-title"), item_title(pack, item));
    Ok(with_status(
        cx.page_titled(
            state,
            &title,
            "/staff/content",
            &format!("/staff/content/draft/items/{uid}"),
            EDITOR_CSS,
            &body,
        ),
        status,
    ))
}

/// A pillar's names: fields `t.<language>`.
async fn save_pillar(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<std::collections::BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let mut d = load(&state).await?.ok_or(AppError::NotFound)?;
    let titles = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("t.").map(|l| (l.to_owned(), v.clone())))
        .collect();
    if let Err(e) = draft::set_pillar_titles(&mut d, &id, &titles) {
        return render_draft(
            &state,
            &cx,
            notice(false, &e),
            &[],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !save(&state, &cx, d, format!("pillar {id}")).await? {
        return changed_meanwhile(&state, &cx).await;
    }
    Ok(Redirect::to("/staff/content/draft?done=pillar").into_response())
}

#[derive(Deserialize)]
struct TextForm {
    lang: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    facts: String,
    #[serde(default)]
    source: String,
}

async fn save_text(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TextForm>,
) -> Result<Response, AppError> {
    let text = ItemText {
        title: form.title,
        summary: form.summary,
        body: form.body,
        facts: form.facts.lines().map(str::to_owned).collect(),
        source: Some(form.source),
    };
    edit_item(&state, &cx, &id, Some(&form.lang), "text", |d| {
        draft::set_text(d, &id, &form.lang, text).map(|()| format!("text {id} {}", form.lang))
    })
    .await
}

#[derive(Deserialize)]
struct WindowForm {
    #[serde(default)]
    shows_from: String,
    #[serde(default)]
    shows_until: String,
    #[serde(default)]
    daily: String,
}

async fn save_window(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<WindowForm>,
) -> Result<Response, AppError> {
    edit_item(&state, &cx, &id, None, "window", |d| {
        draft::set_window(d, &id, &form.shows_from, &form.shows_until, &form.daily)
            .map(|()| format!("window {id}"))
    })
    .await
}

#[derive(Deserialize)]
struct MoveForm {
    dir: String,
}

async fn move_item(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let mut d = load(&state).await?.ok_or(AppError::NotFound)?;
    if draft::move_item(&mut d, &id, form.dir == "up")
        && !save(&state, &cx, d, format!("move {id} {}", form.dir)).await?
    {
        return changed_meanwhile(&state, &cx).await;
    }
    Ok(Redirect::to(&format!("/staff/content/draft#item-{}", urlencode(&id))).into_response())
}

#[derive(Deserialize)]
struct SlotForm {
    slot: usize,
}

async fn remove_picture(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SlotForm>,
) -> Result<Response, AppError> {
    edit_item(&state, &cx, &id, None, "remove", |d| {
        draft::remove_media(d, &id, form.slot)
            .map(|()| format!("remove picture {} of {id}", form.slot + 1))
    })
    .await
}

/// A picture uploaded for an item: checked, scaled, stored by hash, put in the draft with its
/// credit. A refused file leaves the draft as it was and says why, naming the file.
async fn upload(
    State(state): State<AppState>,
    cx: StaffCtx,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let (mut csrf, mut slot, mut credit, mut licence) =
        (String::new(), None, String::new(), String::new());
    let mut file: Option<(String, Vec<u8>)> = None;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest(format!("the upload could not be read: {e}"))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some((file_name, bytes.to_vec()));
            }
            "csrf" => csrf = field.text().await.map_err(unreadable)?,
            "slot" => {
                slot = field
                    .text()
                    .await
                    .map_err(unreadable)?
                    .parse::<usize>()
                    .ok()
            }
            "credit" => credit = field.text().await.map_err(unreadable)?,
            "licence" => licence = field.text().await.map_err(unreadable)?,
            _ => {}
        }
    }
    if !same_secret(&csrf, &cx.csrf) {
        return Err(AppError::Forbidden(cx.t(&state, "staff-form-expired")));
    }
    let refuse = |msg: String| notice(false, &msg);
    let Some((file_name, bytes)) = file.filter(|(n, b)| !n.is_empty() && !b.is_empty()) else {
        return render_item(
            &state,
            &cx,
            &id,
            None,
            refuse(cx.t(&state, "editor-no-file")),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if credit.trim().is_empty() || licence.trim().is_empty() {
        let msg = cx.t_args(&state, "editor-credit-needed", &[("file", &file_name)]);
        return render_item(
            &state,
            &cx,
            &id,
            None,
            refuse(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let [w, h] = state.config.max_display;
    let name = file_name.clone();
    let checked =
        tokio::task::spawn_blocking(move || draft::check_upload(&name, &bytes, (w, h))).await?;
    let bytes = match checked {
        Ok(b) => b,
        Err(e) => {
            return render_item(
                &state,
                &cx,
                &id,
                None,
                refuse(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let (storage, media_dir) = (state.storage.clone(), state.media_dir());
    let (sha256, size) = tokio::task::spawn_blocking(move || {
        crate::content::store_media(&bytes, &media_dir, storage.as_ref(), protocol::now_ms())
    })
    .await?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let credit = Credit {
        credit: credit.trim().to_owned(),
        licence: licence.trim().to_owned(),
    };
    // The path is named from the draft as it is when the picture goes in.
    edit_item(&state, &cx, &id, None, "upload", |d| {
        let path = draft::media_path(d, &file_name, &sha256);
        let what = format!("picture {path} for {id}");
        let entry = MediaEntry { path, sha256, size };
        draft::put_media(d, &id, slot, entry, credit).map(|()| what)
    })
    .await
}

#[derive(Deserialize)]
struct PreviewQuery {
    item: Option<String>,
    #[serde(default)]
    attract: Option<String>,
    text: Option<String>,
    size: Option<String>,
}

/// An item page or the attract loop's first item, laid out as the kiosk lays them out
/// (`kiosk/src/screens/item.rs`, `attract.rs`: the picture beside the text on a wide screen,
/// above it on a tall one; sizes in the kiosk's pixels at 1080 on the short side).
async fn preview(
    State(state): State<AppState>,
    cx: StaffCtx,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, AppError> {
    if !cx.is_admin() {
        return Ok(cx.not_allowed(&state));
    }
    let d = load(&state).await?.ok_or(AppError::NotFound)?;
    let pack = &d.pack;
    let tall = q.size.as_deref() == Some("1080x1920");
    let (w, h) = if tall { (1080, 1920) } else { (1920, 1080) };
    let lang = q
        .text
        .filter(|l| pack.languages.contains(l))
        .unwrap_or_else(|| {
            pack.languages
                .first()
                .cloned()
                .unwrap_or_else(|| "vi".into())
        });
    let pic = |item: &protocol::content::Item| {
        item.media
            .first()
            .and_then(|p| d.media.iter().find(|m| &m.path == p))
            .map(|m| format!("/staff/content/draft/media/{}", esc(&m.sha256)))
            .unwrap_or_default()
    };
    let text_of = |item: &protocol::content::Item| {
        locales::fallback_chain(&lang)
            .iter()
            .find_map(|l| item.text.get(l.as_str()))
            .or_else(|| item.text.values().next())
            .cloned()
    };
    let screen = if q.attract.is_some() {
        let first = pack
            .events
            .first()
            .and_then(|e| pack.playlist(&e.playlist))
            .or_else(|| pack.playlists.first())
            .and_then(|p| p.items.iter().find_map(|i| pack.item(i)))
            .or_else(|| pack.items.first())
            .ok_or(AppError::NotFound)?;
        let text = text_of(first).map(|t| t.title).unwrap_or_default();
        let pillar = pack
            .pillars
            .iter()
            .find(|p| p.id == first.pillar)
            .map(|p| local(&p.title, &lang).to_owned())
            .unwrap_or_default();
        format!(
            "<div class=\"screen\" style=\"background:#0d171f url('{}') center/cover\"><div class=\"band\" lang=\"{}\">\
             <div class=\"pillar\">{}</div><div class=\"attract\">{}</div><div class=\"touch\">{}</div></div></div>",
            pic(first),
            esc(&lang),
            esc(&pillar),
            esc(&text),
            esc(&state.i18n.t(&lang, "touch-to-start"))
        )
    } else {
        let id = q.item.as_deref().unwrap_or("");
        let item = pack.item(id).ok_or(AppError::NotFound)?;
        let text = text_of(item).unwrap_or(ItemText {
            title: String::new(),
            summary: String::new(),
            body: String::new(),
            facts: vec![],
            source: None,
        });
        let facts: String = text
            .facts
            .iter()
            .map(|f| format!("<div class=\"fact\">• {}</div>", esc(f)))
            .collect();
        // The kiosk's own words, in the visitor's language (its kiosk.ftl).
        let k = |id: &str| esc(&state.i18n.t(&lang, id));
        let buttons = format!(
            "<div class=\"buttons\"><span class=\"btn\">{}</span><span class=\"btn\">{}</span><span class=\"btn accent\">{}</span></div>",
            k("back"),
            k("home"),
            k("leave-contact")
        );
        let qrs = format!(
            "<div class=\"qrs\"><div class=\"qr\"><b>{}</b><i></i></div><div class=\"qr\"><b>{}</b><i></i></div></div>",
            k("take-with-you"),
            k("interested")
        );
        let facts = format!(
            "<p class=\"facts-title\">{}</p>{facts}{qrs}",
            k("key-facts")
        );
        let gallery = if tall {
            "width:100%;height:560px"
        } else {
            "width:50%;height:100%"
        };
        format!(
            "<div class=\"screen\" style=\"display:flex;flex-direction:{}\" lang=\"{}\">\
             <div style=\"{gallery};background:#050d14 url('{}') center/cover\"></div>\
             <div class=\"text\" style=\"{}\">{buttons}<h1>{}</h1><p class=\"summary\">{}</p><p class=\"body\">{}</p>{}</div></div>",
            if tall { "column" } else { "row" },
            esc(&lang),
            pic(item),
            if tall { "width:100%" } else { "width:50%" },
            esc(&text.title),
            esc(&text.summary),
            esc(&text.body),
            facts
        )
    };
    // The screen at its own size, scaled to fit the browser window.
    let html = format!(
        "<!doctype html><html lang=\"{l}\"><head><meta charset=\"utf-8\"><title>{title}</title><style>\
         body{{margin:0;background:#222;font-family:'Noto Sans','Noto Sans CJK SC','Noto Sans CJK KR','Noto Sans CJK JP',sans-serif;overflow:hidden}}\
         .screen{{width:{w}px;height:{h}px;transform-origin:0 0;color:#f7f7f2;background:#0d171f;position:relative;overflow:hidden}}\
         .text{{padding:40px;box-sizing:border-box}} h1{{font-size:52px;margin:16px 0;font-weight:600}} .summary{{font-size:30px;color:#f2a838}}\
         .body{{font-size:24px;line-height:1.4}} .fact{{font-size:24px;margin:6px 0}}\
         .band{{position:absolute;left:0;right:0;bottom:0;height:280px;background:rgba(5,13,20,.82);padding:40px 80px;box-sizing:border-box}}\
         .band .pillar{{font-size:28px;color:#f2a838}} .band .attract{{font-size:64px;font-weight:600;margin:8px 0 16px}} .band .touch{{font-size:40px;color:#c7d1d6}}\
         .buttons{{display:flex;gap:24px;margin-top:12px}} .btn{{min-width:160px;min-height:72px;padding:12px 28px;box-sizing:border-box;background:#1f5c73;border-radius:16px;font-size:30px;display:flex;align-items:center;justify-content:center}}\
         .btn.accent{{background:#f2a838;color:#14262e}} .facts-title{{font-size:28px;color:#c7d1d6;margin:16px 0 6px}}\
         .qrs{{display:flex;gap:32px;margin-top:12px}} .qr{{width:300px;padding:16px;box-sizing:border-box;background:rgba(5,13,20,.78);border-radius:20px;text-align:center}}\
         .qr b{{font-size:28px;color:#f2a838;font-weight:normal}} .qr i{{display:block;width:260px;height:260px;margin-top:8px;background:repeating-conic-gradient(#fff 0 25%,#ddd 0 50%) 0 0/26px 26px}}\
         </style></head><body>{screen}<script>\
         function fit(){{var s=Math.min(innerWidth/{w},innerHeight/{h});document.querySelector('.screen').style.transform='scale('+s+')';}}\
         addEventListener('resize',fit);fit();</script></body></html>",
        l = esc(&lang),
        title = esc(&cx.t(&state, "editor-preview")),
    );
    Ok(axum::response::Html(html).into_response())
}
