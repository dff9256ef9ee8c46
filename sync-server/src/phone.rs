//! The visitor's phone pages, opened from the kiosks' QR codes: `/p/{token}` shows the item in
//! the visitor's language, `/i/{token}` is the lead form. The token is verified with the key
//! of the kiosk that signed it; every open is recorded for the funnel QR shown → opened → lead.
//! Small pages (no external resources, no script), rate limits, a honeypot field.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use protocol::token::QrToken;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::AppError;
use crate::staff::esc;
use crate::storage::{PhoneLead, QrOpen};

/// The languages of the phone pages, in their own names.
pub const LANGUAGES: [(&str, &str); 5] = [
    ("vi", "Tiếng Việt"),
    ("en", "English"),
    ("ko", "한국어"),
    ("ja", "日本語"),
    ("zh-Hans", "简体中文"),
];

/// The consent text visitors agree to: its id and version are stored with each lead.
pub const CONSENT_ID: &str = "phone-consent-text";
pub const CONSENT_VERSION: u32 = 1;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{token}", get(item_page))
        .route("/i/{token}", get(form_page).post(submit))
        .layer(DefaultBodyLimit::max(16 * 1024))
}

/// Fixed-window counters per key (an address, a token).
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// True when `key` may act again: at most `max` times per `window_s` seconds.
    pub fn allow(&self, key: &str, max: u32, window_s: i64, now_ms: i64) -> bool {
        let Ok(mut w) = self.windows.lock() else {
            return true;
        };
        let now = now_ms / 1000;
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now - *start < window_s);
        }
        let entry = w.entry(key.to_owned()).or_insert((now, 0));
        if now - entry.0 >= window_s {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= max
    }
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn pick_lang(query: Option<&str>, token_lang: &str) -> String {
    let wanted = query.unwrap_or(token_lang);
    LANGUAGES
        .iter()
        .map(|(l, _)| *l)
        .find(|l| *l == wanted)
        .unwrap_or("en")
        .to_owned()
}

fn page(lang: &str, title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:0;color:#14262e;background:#f6f4ef;line-height:1.5}}\
         main{{padding:20px;max-width:640px;margin:auto}} nav{{display:flex;flex-wrap:wrap;gap:10px;padding:12px 20px;background:#14262e}}\
         nav a{{color:#fff;font-size:15px}} h1{{font-size:26px;line-height:1.25}} .sum{{color:#8a5a12;font-size:18px}}\
         label{{display:block;margin:14px 0 4px;font-weight:600}} input[type=text],input[type=email],input[type=tel]{{width:100%;padding:12px;font-size:17px;box-sizing:border-box}}\
         .check label{{font-weight:400;display:flex;gap:8px;align-items:flex-start}} .hp{{position:absolute;left:-9999px}}\
         button,.btn{{display:inline-block;margin-top:18px;padding:14px 22px;font-size:18px;background:#1f6f8b;color:#fff;border:0;border-radius:10px;text-decoration:none}}\
         .err{{color:#b00020;font-weight:600}}</style></head><body>{body}</body></html>",
        title = esc(title)
    ))
}

fn nav(path: &str) -> String {
    let links: String = LANGUAGES
        .iter()
        .map(|(l, name)| format!("<a href=\"{path}?lang={l}\" lang=\"{l}\">{name}</a>"))
        .collect();
    format!("<nav>{links}</nav>")
}

/// Verifies a token with the key of the kiosk that signed it.
async fn verify(state: &AppState, token: &str) -> Result<QrToken, ()> {
    let peeked = QrToken::peek(token).map_err(|_| ())?;
    let cached = state.phone_cache.key(peeked.kiosk_id);
    let key = match cached {
        Some(k) => k,
        None => {
            let storage = state.storage.clone();
            let key = tokio::task::spawn_blocking(move || storage.token_key(peeked.kiosk_id))
                .await
                .map_err(|_| ())?
                .map_err(|_| ())?;
            let key = std::sync::Arc::new(key);
            state.phone_cache.keep_key(peeked.kiosk_id, key.clone());
            key
        }
    };
    QrToken::verify(token, &key).map_err(|_| ())
}

/// A parsed content version and the stamp it was current under.
type CachedManifest = ((i64, i64), std::sync::Arc<protocol::content::Manifest>);

/// What every phone page needs and that rarely changes: kiosks' token keys (they never
/// change) and the parsed current content version (kept until another one is published).
#[derive(Default)]
pub struct PhoneCache {
    keys: Mutex<HashMap<uuid::Uuid, std::sync::Arc<Vec<u8>>>>,
    manifest: Mutex<Option<CachedManifest>>,
    /// When the current version was last checked (ms): checked at most once a second.
    checked_ms: std::sync::atomic::AtomicI64,
}

/// How long a checked current version is trusted: a publication reaches phones within this.
const MANIFEST_CHECK_MS: i64 = 1000;

impl PhoneCache {
    fn key(&self, kiosk: uuid::Uuid) -> Option<std::sync::Arc<Vec<u8>>> {
        self.keys.lock().ok()?.get(&kiosk).cloned()
    }

    fn keep_key(&self, kiosk: uuid::Uuid, key: std::sync::Arc<Vec<u8>>) {
        if let Ok(mut k) = self.keys.lock() {
            if k.len() > 10_000 {
                k.clear();
            }
            k.insert(kiosk, key);
        }
    }
}

/// The current content version, parsed once per publication.
pub(crate) async fn current_manifest(
    state: &AppState,
) -> Result<Option<std::sync::Arc<protocol::content::Manifest>>, AppError> {
    use std::sync::atomic::Ordering;
    let now = protocol::now_ms();
    let cache = &state.phone_cache;
    if now - cache.checked_ms.load(Ordering::Relaxed) < MANIFEST_CHECK_MS
        && let Ok(c) = cache.manifest.lock()
        && let Some((_, m)) = c.as_ref()
    {
        return Ok(Some(m.clone()));
    }
    let (fleet, storage, cache) = (
        state.fleet.clone(),
        state.storage.clone(),
        state.phone_cache.clone(),
    );
    Ok(tokio::task::spawn_blocking(move || {
        let Some(stamp) = fleet.current_stamp()? else {
            return Ok(None);
        };
        if let Ok(c) = cache.manifest.lock()
            && let Some((s, m)) = c.as_ref()
            && *s == stamp
        {
            cache.checked_ms.store(now, Ordering::Relaxed);
            return Ok(Some(m.clone()));
        }
        let m = storage.current_manifest()?.map(std::sync::Arc::new);
        if let (Some(m), Ok(mut c)) = (&m, cache.manifest.lock()) {
            *c = Some((stamp, m.clone()));
            cache.checked_ms.store(now, Ordering::Relaxed);
        }
        Ok::<_, crate::storage::StorageError>(m)
    })
    .await??)
}

fn bad_code(state: &AppState, lang: &str) -> Response {
    let t = |id: &str| state.i18n.t(lang, id);
    let body = format!(
        "<main><h1>{}</h1><p>{}</p></main>",
        esc(&t("phone-bad-code-title")),
        esc(&t("phone-bad-code"))
    );
    (
        StatusCode::BAD_REQUEST,
        page(lang, &t("phone-bad-code-title"), &body),
    )
        .into_response()
}

fn too_many(state: &AppState, lang: &str) -> Response {
    let msg = state.i18n.t(lang, "phone-too-many");
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        page(lang, &msg, &format!("<main><p>{}</p></main>", esc(&msg))),
    )
        .into_response();
    resp.headers_mut()
        .insert("retry-after", axum::http::HeaderValue::from_static("60"));
    resp
}

async fn record_open(state: &AppState, t: &QrToken, purpose: &'static str) -> Result<(), AppError> {
    let open = QrOpen {
        nonce: t.nonce_hex(),
        kiosk: t.kiosk_id,
        event_id: t.event.clone(),
        item: t.item.clone(),
        lang: t.lang.clone(),
        purpose,
    };
    state.opens.record(&state.phone, open).await
}

type OpenJob = (
    QrOpen,
    i64,
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

/// Group commit for QR opens: each page waits until its open is on disk, but opens that
/// arrive together share one transaction, so a crowd of phones costs one flush, not one each.
#[derive(Default)]
pub struct OpenWriter {
    tx: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<OpenJob>>,
}

impl OpenWriter {
    /// Most opens one transaction takes.
    const BATCH: usize = 512;

    pub async fn record(
        &self,
        phone: &std::sync::Arc<dyn crate::storage::PhoneStorage>,
        open: QrOpen,
    ) -> Result<(), AppError> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(Self::run(phone.clone(), rx));
            tx
        });
        let (done, wait) = tokio::sync::oneshot::channel();
        tx.send((open, protocol::now_ms(), done))
            .map_err(|_| AppError::Internal("the open writer stopped".into()))?;
        wait.await
            .map_err(|_| AppError::Internal("the open writer stopped".into()))?
            .map_err(AppError::Internal)
    }

    async fn run(
        phone: std::sync::Arc<dyn crate::storage::PhoneStorage>,
        mut rx: tokio::sync::mpsc::UnboundedReceiver<OpenJob>,
    ) {
        let mut jobs = Vec::new();
        while rx.recv_many(&mut jobs, Self::BATCH).await > 0 {
            let batch: Vec<(QrOpen, i64)> =
                jobs.iter().map(|(o, at, _)| (o.clone(), *at)).collect();
            let p = phone.clone();
            let result = tokio::task::spawn_blocking(move || p.record_opens(&batch))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            for (_, _, done) in jobs.drain(..) {
                let _ = done.send(result.clone());
            }
        }
    }
}

/// A phone opens a code: rate limit, verify, pick the language, record the open (not when
/// the visitor only switches language). `Err` is the page to answer instead.
async fn open_code(
    state: &AppState,
    addr: SocketAddr,
    token: &str,
    asked_lang: Option<&str>,
    purpose: &'static str,
) -> Result<Result<(QrToken, String), Response>, AppError> {
    let fallback = pick_lang(asked_lang, "en");
    if !state.limiter.allow(
        &format!("get:{}", ip_key(addr.ip())),
        120,
        60,
        protocol::now_ms(),
    ) {
        return Ok(Err(too_many(state, &fallback)));
    }
    let Ok(t) = verify(state, token).await else {
        return Ok(Err(bad_code(state, &fallback)));
    };
    let lang = pick_lang(asked_lang, &t.lang);
    if asked_lang.is_none() {
        record_open(state, &t, purpose).await?;
    }
    Ok(Ok((t, lang)))
}

async fn item_page(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let (t, lang) = match open_code(&state, addr, &token, q.lang.as_deref(), "take_away").await? {
        Ok(opened) => opened,
        Err(page) => return Ok(page),
    };
    let tr = |id: &str| state.i18n.t(&lang, id);
    let manifest = current_manifest(&state).await?;
    let item = manifest.as_ref().and_then(|m| m.pack.item(&t.item));
    let text = item.and_then(|i| {
        locales::fallback_chain(&lang)
            .iter()
            .find_map(|l| i.text.get(l.as_str()))
            .or_else(|| i.text.values().next())
    });
    let Some(text) = text else {
        return Ok(bad_code(&state, &lang));
    };
    let facts: String = text
        .facts
        .iter()
        .map(|f| format!("<li>{}</li>", esc(f)))
        .collect();
    let source = text
        .source
        .as_deref()
        .or_else(|| item.and_then(|i| i.text.values().find_map(|x| x.source.as_deref())))
        .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
        .map(|s| {
            format!(
                "<p><a href=\"{}\" rel=\"noopener\">{}</a></p>",
                esc(s),
                esc(&tr("phone-source"))
            )
        })
        .unwrap_or_default();
    let more = item
        .and_then(|i| i.link.as_deref())
        .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
        .map(|s| {
            format!(
                "<p><a href=\"{}\" rel=\"noopener\">{}</a></p>",
                esc(s),
                esc(&tr("phone-more"))
            )
        })
        .unwrap_or_default();
    let body = format!(
        "{nav}<main><h1>{title}</h1><p class=\"sum\">{summary}</p><p>{body}</p><h2>{kf}</h2><ul>{facts}</ul>{source}{more}\
         <a class=\"btn\" href=\"/i/{token}?lang={lang}\">{interested}</a></main>",
        nav = nav(&format!("/p/{token}")),
        title = esc(&text.title),
        summary = esc(&text.summary),
        body = esc(&text.body),
        kf = esc(&tr("phone-key-facts")),
        interested = esc(&tr("phone-interested")),
    );
    Ok(page(&lang, &text.title, &body).into_response())
}

#[derive(Deserialize, Default)]
struct LeadForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    country: String,
    /// Pillar ids, comma separated by the browser as repeated fields are not supported by
    /// `Form`; each checkbox has its own name `interest_<pillar>`.
    #[serde(flatten)]
    rest: HashMap<String, String>,
    #[serde(default)]
    consent: String,
    /// The honeypot: hidden from people, filled by bots.
    #[serde(default)]
    website: String,
}

fn form_html(
    state: &AppState,
    lang: &str,
    token: &str,
    pillars: &[(String, String)],
    form: &LeadForm,
    error: Option<&str>,
) -> String {
    let t = |id: &str| state.i18n.t(lang, id);
    let field = |name: &str, label: &str, kind: &str, value: &str, auto: &str| {
        format!(
            "<label for=\"{name}\">{}</label><input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{}\" autocomplete=\"{auto}\" maxlength=\"200\">",
            esc(label),
            esc(value)
        )
    };
    let interests: String = pillars
        .iter()
        .map(|(id, title)| {
            let checked = if form.rest.contains_key(&format!("interest_{id}")) { " checked" } else { "" };
            format!("<label><input type=\"checkbox\" name=\"interest_{id}\" value=\"1\"{checked}> {}</label>", esc(title))
        })
        .collect();
    let error = error
        .map(|e| format!("<p class=\"err\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "{nav}<main><h1>{title}</h1>{error}<form method=\"post\" action=\"/i/{token}?lang={lang}\">\
         {name}{org}{email}{phone}{country}<label>{interests_label}</label><div class=\"check\">{interests}</div>\
         <div class=\"hp\" aria-hidden=\"true\"><label for=\"website\">Website</label><input type=\"text\" id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\"></div>\
         <div class=\"check\"><label><input type=\"checkbox\" name=\"consent\" value=\"yes\" required> {consent}</label></div>\
         <button type=\"submit\">{submit}</button></form></main>",
        nav = nav(&format!("/i/{token}")),
        title = esc(&t("phone-form-title")),
        name = field("name", &t("phone-name"), "text", &form.name, "name"),
        org = field(
            "organisation",
            &t("phone-organisation"),
            "text",
            &form.organisation,
            "organization"
        ),
        email = field("email", &t("phone-email"), "email", &form.email, "email"),
        phone = field("phone", &t("phone-phone"), "tel", &form.phone, "tel"),
        country = field(
            "country",
            &t("phone-country"),
            "text",
            &form.country,
            "country-name"
        ),
        interests_label = esc(&t("phone-interests")),
        consent = esc(&t(CONSENT_ID)),
        submit = esc(&t("phone-submit")),
    )
}

async fn pillars(state: &AppState, lang: &str) -> Result<Vec<(String, String)>, AppError> {
    let manifest = current_manifest(state).await?;
    Ok(manifest
        .map(|m| {
            m.pack
                .pillars
                .iter()
                .map(|p| {
                    let title = locales::fallback_chain(lang)
                        .iter()
                        .find_map(|l| p.title.get(l.as_str()))
                        .cloned()
                        .unwrap_or_else(|| p.id.clone());
                    (p.id.clone(), title)
                })
                .collect()
        })
        .unwrap_or_default())
}

async fn form_page(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let (_, lang) = match open_code(&state, addr, &token, q.lang.as_deref(), "interest").await? {
        Ok(opened) => opened,
        Err(page) => return Ok(page),
    };
    let pillars = pillars(&state, &lang).await?;
    let html = form_html(&state, &lang, &token, &pillars, &LeadForm::default(), None);
    Ok(page(&lang, &state.i18n.t(&lang, "phone-form-title"), &html).into_response())
}

/// IPv6 clients are limited per /64, as one phone may use many addresses of its network.
fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(char::is_whitespace)
}

async fn submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    Form(form): Form<LeadForm>,
) -> Result<Response, AppError> {
    let now = protocol::now_ms();
    let fallback = pick_lang(q.lang.as_deref(), "en");
    let Ok(t) = verify(&state, &token).await else {
        return Ok(bad_code(&state, &fallback));
    };
    let lang = pick_lang(q.lang.as_deref(), &t.lang);
    if !state
        .limiter
        .allow(&format!("post:{}", ip_key(addr.ip())), 20, 600, now)
        || !state
            .limiter
            .allow(&format!("token:{}", t.nonce_hex()), 10, 600, now)
    {
        return Ok(too_many(&state, &lang));
    }
    let tr = |id: &str| state.i18n.t(&lang, id);
    let thanks = || {
        page(
            &lang,
            &tr("phone-thanks-title"),
            &format!(
                "<main><h1>{}</h1><p>{}</p></main>",
                esc(&tr("phone-thanks-title")),
                esc(&tr("phone-thanks"))
            ),
        )
        .into_response()
    };
    // A bot filled the hidden field: thank it, store nothing.
    if !form.website.is_empty() {
        tracing::info!(kiosk = %t.kiosk_id, "honeypot filled: lead dropped");
        return Ok(thanks());
    }
    let clean = |s: &str| -> String {
        s.trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect()
    };
    let contact = protocol::Contact {
        name: clean(&form.name),
        organisation: clean(&form.organisation),
        email: clean(&form.email).to_lowercase(),
        phone: clean(&form.phone),
        country: clean(&form.country),
        title: String::new(),
    };
    let pillars = pillars(&state, &lang).await?;
    let error = if form.consent != "yes" {
        Some(tr("phone-error-consent"))
    } else if contact.email.is_empty() && contact.phone.is_empty() {
        Some(tr("phone-error-contact"))
    } else if !contact.email.is_empty() && !plausible_email(&contact.email) {
        Some(tr("phone-error-email"))
    } else {
        None
    };
    if let Some(error) = error {
        let html = form_html(&state, &lang, &token, &pillars, &form, Some(&error));
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&lang, &tr("phone-form-title"), &html),
        )
            .into_response());
    }
    let interests: Vec<String> = pillars
        .iter()
        .filter(|(id, _)| form.rest.contains_key(&format!("interest_{id}")))
        .map(|(id, _)| id.clone())
        .collect();
    // The same visitor sending the form again from the same code updates their lead.
    let who = if contact.email.is_empty() {
        contact.phone.clone()
    } else {
        contact.email.clone()
    };
    let digest = Sha256::digest(format!("{}|{who}", t.nonce_hex()).as_bytes());
    let lead_id =
        uuid::Builder::from_random_bytes(digest[..16].try_into().expect("16 bytes")).into_uuid();
    let lead = PhoneLead {
        lead_id,
        kiosk: t.kiosk_id,
        event_id: t.event.clone(),
        item: t.item.clone(),
        lang: lang.clone(),
        contact,
        interests,
        consent: protocol::Consent {
            text_id: CONSENT_ID.to_owned(),
            version: CONSENT_VERSION,
            lang: lang.clone(),
            at_ms: now,
        },
    };
    let phone = state.phone.clone();
    tokio::task::spawn_blocking(move || phone.upsert_phone_lead(&lead, now)).await??;
    Ok(thanks())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_per_key_and_window() {
        let l = RateLimiter::default();
        for _ in 0..3 {
            assert!(l.allow("a", 3, 60, 1_000));
        }
        assert!(!l.allow("a", 3, 60, 2_000));
        assert!(l.allow("b", 3, 60, 2_000));
        assert!(l.allow("a", 3, 60, 62_000), "a new window");
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(plausible_email("minji@example.kr"));
        assert!(!plausible_email("minji@"));
        assert!(!plausible_email("minji example@kr.com"));
        assert!(!plausible_email("@example.kr"));
    }
}
