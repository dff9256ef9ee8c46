//! The visitor's phone pages, opened from the kiosks' QR codes: `/p/{token}` shows the item in
//! the visitor's language, `/i/{token}` is the lead form. The token is verified with the key
//! of the kiosk that signed it; every open is recorded for the funnel QR shown → opened → lead.
//! Small pages (no external resources, no script), rate limits, a honeypot field.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use protocol::contact::{plausible_email, plausible_phone};
use protocol::token::QrToken;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::AppError;
use crate::http::client_ip::{ClientIp, limit_key};
use crate::http::staff::html::esc;
use crate::store::{PhoneLead, QrOpen, TokenKiosk};

/// The languages of the phone pages, in their own names.
pub const LANGUAGES: [(&str, &str); 6] = [
    ("vi", "Tiếng Việt"),
    ("en", "English"),
    ("ko", "한국어"),
    ("ja", "日本語"),
    ("zh-Hans", "简体中文"),
    ("zh-Hant", "繁體中文"),
];

/// The consent text visitors agree to: its id, and its version named by its exact words in
/// the visitor's language, are stored with each lead (the words once, by the archive).
pub const CONSENT_ID: &str = "phone-consent-text";

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
        self.count(key, window_s, now_ms) <= max
    }

    /// Counts one more act of `key` and returns how many there were in its window.
    pub fn count(&self, key: &str, window_s: i64, now_ms: i64) -> u32 {
        let Ok(mut w) = self.windows.lock() else {
            return 0;
        };
        let now = now_ms / 1000;
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now - *start < window_s);
        }
        let entry = w.entry(key.to_owned()).or_insert((now, 0));
        if now - entry.0 >= window_s {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
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

/// Why a token does not open a page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refused {
    /// Not ours, altered, from a revoked kiosk or naming an event the kiosk never served.
    Invalid,
    /// Older than `token_max_age_days`; the page speaks the token's language.
    Expired(String),
}

/// Verifies a token: a known kiosk's signature, the kiosk not revoked, an event the kiosk was
/// assigned to or served, and not older than the configured age (by the server's clock, or
/// the kiosk's clock corrected by its offset when the kiosk did not know its time).
async fn verify(state: &AppState, token: &str, now_ms: i64) -> Result<QrToken, Refused> {
    let peeked = QrToken::peek(token).map_err(|_| Refused::Invalid)?;
    let cache = &state.phone_cache;
    refresh_kiosks(state).await.map_err(|_| Refused::Invalid)?;
    if !cache.is_enrolled(peeked.kiosk_id) {
        return Err(Refused::Invalid);
    }
    let mut kiosk = match cache.kiosk(peeked.kiosk_id) {
        Some(k) => k,
        None => fetch_kiosk(state, peeked.kiosk_id).await?,
    };
    let t = QrToken::verify(token, &kiosk.key).map_err(|_| Refused::Invalid)?;
    if !t.event.is_empty() && !kiosk.events.contains(&t.event) {
        // The kiosk may have served the event since it was cached.
        kiosk = fetch_kiosk(state, t.kiosk_id).await?;
    }
    if kiosk.revoked {
        tracing::warn!(kiosk = %t.kiosk_id, "QR code of a revoked kiosk refused");
        return Err(Refused::Invalid);
    }
    // No event (a kiosk nobody assigned yet) claims nothing: its leads are seen only by the
    // units that see every lead.
    if !t.event.is_empty()
        && !kiosk.events.contains(&t.event)
        && !chosen_on_the_kiosk(state, &kiosk, &t.event).await
    {
        tracing::warn!(kiosk = %t.kiosk_id, event = %t.event, "QR code for an event this kiosk never served refused");
        let staff = state.staff.clone();
        let detail = format!("kiosk={} event={}", t.kiosk_id, capped(&t.event, 64));
        let _ = tokio::task::spawn_blocking(move || {
            staff.audit(
                None,
                crate::store::AuditAction::TokenRefusedEvent,
                &detail,
                now_ms,
            )
        })
        .await;
        return Err(Refused::Invalid);
    }
    let max_age_ms = i64::from(state.config.token_max_age_days) * 86_400_000;
    if token_age_ms(&t, kiosk.clock_offset_ms, now_ms).is_some_and(|age| age > max_age_ms) {
        return Err(Refused::Expired(t.lang));
    }
    Ok(t)
}

/// Whether staff may have chosen `event` on the kiosk itself (its overlay offers the events
/// and delegations of the published content) before the kiosk could tell the server: the
/// event is in the content, and no other unit than the kiosk's own owns it. Such a kiosk is
/// often offline for days; its visitors' leads must not wait for its next push.
async fn chosen_on_the_kiosk(state: &AppState, kiosk: &TokenKiosk, event: &str) -> bool {
    let Ok(Some(m)) = current_manifest(state).await else {
        return false;
    };
    let offered = m.pack.events.iter().any(|e| e.id == event)
        || m.pack.delegations.iter().any(|d| d.id == event);
    if !offered {
        return false;
    }
    let leads = state.leads.clone();
    let Ok(Ok(events)) = tokio::task::spawn_blocking(move || leads.events()).await else {
        return false;
    };
    let org_of = |id: &str| {
        events
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.org.clone())
            .filter(|o| !o.trim().is_empty())
    };
    let kiosk_orgs: Vec<String> = kiosk.events.iter().filter_map(|e| org_of(e)).collect();
    match org_of(event) {
        None => true,
        Some(org) => kiosk_orgs.is_empty() || kiosk_orgs.contains(&org),
    }
}

/// How old a token is by the server's clock: the kiosk's own time when it knew it was right,
/// else corrected by the kiosk's clock offset; `None` when nothing tells.
fn token_age_ms(t: &QrToken, clock_offset_ms: Option<i64>, now_ms: i64) -> Option<i64> {
    let issued = i64::from(t.issued_s) * 1000;
    let issued = if t.clock_ok {
        issued
    } else {
        issued + clock_offset_ms?
    };
    Some(now_ms - issued)
}

fn capped(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

async fn fetch_kiosk(
    state: &AppState,
    id: uuid::Uuid,
) -> Result<std::sync::Arc<TokenKiosk>, Refused> {
    let storage = state.storage.clone();
    let k = tokio::task::spawn_blocking(move || storage.token_kiosk(id))
        .await
        .map_err(|_| Refused::Invalid)?
        .map_err(|_| Refused::Invalid)?;
    let k = std::sync::Arc::new(k);
    state.phone_cache.keep(id, k.clone());
    Ok(k)
}

/// Reloads the enrolled kiosks when any was enrolled or revoked, checked at most once a second
/// (a revocation by the command line reaches the phone pages within that).
async fn refresh_kiosks(state: &AppState) -> Result<(), AppError> {
    let cache = &state.phone_cache;
    let due = |now: i64| {
        cache
            .kiosks
            .lock()
            .map(|k| k.stamp.is_none() || now - k.checked_ms >= KIOSK_CHECK_MS)
            .unwrap_or(true)
    };
    if !due(protocol::now_ms()) {
        return Ok(());
    }
    let _one = cache.refreshing.lock().await;
    let now = protocol::now_ms();
    if !due(now) {
        return Ok(());
    }
    let storage = state.storage.clone();
    let stamp = tokio::task::spawn_blocking(move || storage.kiosk_stamp()).await??;
    let same = cache
        .kiosks
        .lock()
        .map(|k| k.stamp == Some(stamp))
        .unwrap_or(false);
    let ids = if same {
        None
    } else {
        let storage = state.storage.clone();
        Some(tokio::task::spawn_blocking(move || storage.enrolled_kiosks()).await??)
    };
    if let Ok(mut k) = cache.kiosks.lock() {
        if let Some(ids) = ids {
            k.ids = ids.into_iter().collect();
            k.entries.clear();
            k.stamp = Some(stamp);
        }
        k.checked_ms = now;
    }
    Ok(())
}

/// A parsed content version and the stamp it was current under.
type CachedManifest = ((i64, i64), std::sync::Arc<protocol::content::Manifest>);

#[derive(Default)]
struct KioskCache {
    stamp: Option<[i64; 4]>,
    checked_ms: i64,
    ids: std::collections::HashSet<uuid::Uuid>,
    /// Each with when it was read: another server sharing the database may have moved it.
    entries: HashMap<uuid::Uuid, (std::sync::Arc<TokenKiosk>, i64)>,
}

/// What every phone page needs and that rarely changes: the enrolled kiosks and their token
/// keys (reloaded when a kiosk is enrolled or revoked) and the parsed current content version
/// (kept until another one is published).
#[derive(Default)]
pub struct PhoneCache {
    kiosks: Mutex<KioskCache>,
    refreshing: tokio::sync::Mutex<()>,
    manifest: Mutex<Option<CachedManifest>>,
    /// When the current version was last checked (ms): checked at most once a second.
    checked_ms: std::sync::atomic::AtomicI64,
    /// The versions published to one event, parsed once per publication, each checked at most
    /// once a second: when it was checked, and its version (None: the event has none).
    event_versions: Mutex<EventVersions>,
}

#[derive(Default)]
struct EventVersions {
    checked_ms: i64,
    /// Event id → its version's name.
    published: std::collections::HashMap<String, String>,
    /// Version name → the parsed manifest (only versions some event plays).
    parsed: std::collections::HashMap<String, std::sync::Arc<protocol::content::Manifest>>,
}

/// How long a checked current version is trusted: a publication reaches phones within this.
const MANIFEST_CHECK_MS: i64 = 1000;
/// How long the list of enrolled and revoked kiosks is trusted.
const KIOSK_CHECK_MS: i64 = 1000;
/// How long a kiosk's events and clock offset are trusted (this server forgets them at once
/// when the kiosk pushes here).
const KIOSK_ENTRY_MS: i64 = 60_000;

impl PhoneCache {
    fn is_enrolled(&self, kiosk: uuid::Uuid) -> bool {
        self.kiosks
            .lock()
            .map(|k| k.ids.contains(&kiosk))
            .unwrap_or(false)
    }

    fn kiosk(&self, kiosk: uuid::Uuid) -> Option<std::sync::Arc<TokenKiosk>> {
        let c = self.kiosks.lock().ok()?;
        let (k, read_ms) = c.entries.get(&kiosk)?;
        (protocol::now_ms() - read_ms < KIOSK_ENTRY_MS).then(|| k.clone())
    }

    fn keep(&self, kiosk: uuid::Uuid, k: std::sync::Arc<TokenKiosk>) {
        if let Ok(mut c) = self.kiosks.lock() {
            if c.entries.len() > 10_000 {
                c.entries.clear();
            }
            c.entries.insert(kiosk, (k, protocol::now_ms()));
        }
    }

    /// Forgets what was cached of one kiosk (after it pushed: its events and clock offset may
    /// have changed).
    pub fn forget_kiosk(&self, kiosk: uuid::Uuid) {
        if let Ok(mut c) = self.kiosks.lock() {
            c.entries.remove(&kiosk);
        }
    }

    /// Forgets every kiosk at once (after an enrolment or a revocation in this process).
    pub fn forget_kiosks(&self) {
        if let Ok(mut c) = self.kiosks.lock() {
            c.checked_ms = 0;
            c.stamp = None;
            c.entries.clear();
        }
    }
}

/// The version published to one event, if it has its own.
async fn event_manifest(
    state: &AppState,
    event: &str,
) -> Result<Option<std::sync::Arc<protocol::content::Manifest>>, AppError> {
    if event.is_empty() {
        return Ok(None);
    }
    let now = protocol::now_ms();
    let cache = state.phone_cache.clone();
    let fresh = |v: &EventVersions| now - v.checked_ms < MANIFEST_CHECK_MS;
    if let Ok(v) = cache.event_versions.lock()
        && fresh(&v)
    {
        return Ok(v
            .published
            .get(event)
            .and_then(|n| v.parsed.get(n))
            .cloned());
    }
    // Once a second: which event plays which version (a small table, no manifest read), and a
    // manifest read and parsed only for a version not seen before.
    let (fleet, storage, event) = (state.fleet.clone(), state.storage.clone(), event.to_owned());
    Ok(tokio::task::spawn_blocking(move || {
        let published: std::collections::HashMap<String, String> = fleet
            .event_contents()?
            .into_iter()
            .map(|e| (e.event_id, e.version))
            .collect();
        let known: std::collections::HashMap<String, std::sync::Arc<protocol::content::Manifest>> =
            cache
                .event_versions
                .lock()
                .map(|v| v.parsed.clone())
                .unwrap_or_default();
        let mut parsed = std::collections::HashMap::new();
        for (event_id, version) in &published {
            if parsed.contains_key(version) {
                continue;
            }
            let m = match known.get(version) {
                Some(m) => Some(m.clone()),
                None => storage
                    .event_manifest(event_id)?
                    .filter(|m| &m.version == version)
                    .map(std::sync::Arc::new),
            };
            if let Some(m) = m {
                parsed.insert(version.clone(), m);
            }
        }
        let found = published.get(&event).and_then(|n| parsed.get(n)).cloned();
        if let Ok(mut v) = cache.event_versions.lock() {
            *v = EventVersions {
                checked_ms: now,
                published,
                parsed,
            };
        }
        Ok::<_, crate::store::StorageError>(found)
    })
    .await??)
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
        Ok::<_, crate::store::StorageError>(m)
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

/// The page for a refused token, in the language asked for (or the token's, when it is ours).
fn refused(state: &AppState, asked: Option<&str>, why: Refused) -> Response {
    let lang = &pick_lang(asked, "en");
    match why {
        Refused::Invalid => bad_code(state, lang),
        Refused::Expired(token_lang) => {
            let lang = &pick_lang(asked.or(Some(token_lang.as_str())), "en");
            let t = |id: &str| state.i18n.t(lang, id);
            let days = state.config.token_max_age_days.to_string();
            let body = format!(
                "<main><h1>{}</h1><p>{}</p></main>",
                esc(&t("phone-expired-title")),
                esc(&state.i18n.t_args(lang, "phone-expired", &[("days", &days)]))
            );
            (
                StatusCode::GONE,
                page(lang, &t("phone-expired-title"), &body),
            )
                .into_response()
        }
    }
}

/// The lead form again with what the visitor typed and why it was not taken (503, with
/// `Retry-After`): nothing was stored, nothing typed is lost.
fn form_again(
    state: &AppState,
    lang: &str,
    token: &str,
    pillars: &[(String, String)],
    form: &LeadForm,
    message_id: &str,
    retry_after_s: &'static str,
) -> Response {
    let html = form_html(
        state,
        lang,
        token,
        pillars,
        form,
        Some(&state.i18n.t(lang, message_id)),
    );
    let mut resp = (
        StatusCode::SERVICE_UNAVAILABLE,
        page(lang, &state.i18n.t(lang, "phone-form-title"), &html),
    )
        .into_response();
    resp.headers_mut().insert(
        "retry-after",
        axum::http::HeaderValue::from_static(retry_after_s),
    );
    resp
}

/// A place among the phone requests the server works on at once (`phone_max_in_flight`), or
/// None when it is full.
fn admit(state: &AppState) -> Option<tokio::sync::OwnedSemaphorePermit> {
    state.phone_gate.clone().try_acquire_owned().ok()
}

/// The page for a phone that arrives while the server is at its capacity.
fn busy(state: &AppState, asked: Option<&str>) -> Response {
    notice(
        state,
        &pick_lang(asked, "en"),
        "phone-busy",
        StatusCode::SERVICE_UNAVAILABLE,
        "5",
    )
}

/// A one-paragraph page with `status` and `Retry-After`.
fn notice(
    state: &AppState,
    lang: &str,
    message_id: &str,
    status: StatusCode,
    retry_after_s: &'static str,
) -> Response {
    let msg = state.i18n.t(lang, message_id);
    let mut resp = (
        status,
        page(lang, &msg, &format!("<main><p>{}</p></main>", esc(&msg))),
    )
        .into_response();
    resp.headers_mut().insert(
        "retry-after",
        axum::http::HeaderValue::from_static(retry_after_s),
    );
    resp
}

fn too_many(state: &AppState, lang: &str) -> Response {
    notice(
        state,
        lang,
        "phone-too-many",
        StatusCode::TOO_MANY_REQUESTS,
        "60",
    )
}

async fn record_open(
    state: &AppState,
    t: &QrToken,
    purpose: &'static str,
    ip: std::net::IpAddr,
) -> Result<(), AppError> {
    // Pseudonymous: the code's nonce salts the network's key, and only a prefix is kept.
    let visitor =
        hex::encode(&Sha256::digest(format!("{}|{}", t.nonce_hex(), limit_key(ip)))[..12]);
    let open = QrOpen {
        visitor,
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
        phone: &std::sync::Arc<dyn crate::store::PhoneStorage>,
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
        phone: std::sync::Arc<dyn crate::store::PhoneStorage>,
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
    ip: std::net::IpAddr,
    token: &str,
    asked_lang: Option<&str>,
    purpose: &'static str,
) -> Result<Result<(QrToken, String), Response>, AppError> {
    let fallback = pick_lang(asked_lang, "en");
    if !state.limiter.allow(
        &format!("get:{}", limit_key(ip)),
        120,
        60,
        protocol::now_ms(),
    ) {
        return Ok(Err(too_many(state, &fallback)));
    }
    let t = match verify(state, token, protocol::now_ms()).await {
        Ok(t) => t,
        Err(why) => return Ok(Err(refused(state, asked_lang, why))),
    };
    let lang = pick_lang(asked_lang, &t.lang);
    if asked_lang.is_none() {
        // The page shows even when the open cannot be counted (a full disk): the visitor
        // came for the page.
        if let Err(e) = record_open(state, &t, purpose, ip).await {
            tracing::error!("a QR open was not recorded: {e}");
        }
    }
    Ok(Ok((t, lang)))
}

async fn item_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let Some(_admitted) = admit(&state) else {
        return Ok(busy(&state, q.lang.as_deref()));
    };
    let (t, lang) = match open_code(&state, ip, &token, q.lang.as_deref(), "take_away").await? {
        Ok(opened) => opened,
        Err(page) => return Ok(page),
    };
    let tr = |id: &str| state.i18n.t(&lang, id);
    // The text the visitor saw: the version of the kiosk's event when it has its own.
    let manifest = match event_manifest(&state, &t.event).await? {
        Some(m) => Some(m),
        None => current_manifest(&state).await?,
    };
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
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let Some(_admitted) = admit(&state) else {
        return Ok(busy(&state, q.lang.as_deref()));
    };
    let (_, lang) = match open_code(&state, ip, &token, q.lang.as_deref(), "interest").await? {
        Ok(opened) => opened,
        Err(page) => return Ok(page),
    };
    let pillars = pillars(&state, &lang).await?;
    let html = form_html(&state, &lang, &token, &pillars, &LeadForm::default(), None);
    Ok(page(&lang, &state.i18n.t(&lang, "phone-form-title"), &html).into_response())
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    Form(form): Form<LeadForm>,
) -> Result<Response, AppError> {
    let now = protocol::now_ms();
    let t = match verify(&state, &token, now).await {
        Ok(t) => t,
        Err(why) => return Ok(refused(&state, q.lang.as_deref(), why)),
    };
    let lang = pick_lang(q.lang.as_deref(), &t.lang);
    let admitted = admit(&state);
    // Per network, and per code: a delegation's closing slide shows one code to a room.
    if !state
        .limiter
        .allow(&format!("post:{}", limit_key(ip)), 20, 600, now)
        || !state
            .limiter
            .allow(&format!("token:{}", t.nonce_hex()), 60, 600, now)
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
    // Past the server's capacity: the form comes back with what was typed, and a word to
    // send it again in a few seconds (never a time-out, never a lost lead).
    if admitted.is_none() {
        return Ok(form_again(
            &state,
            &lang,
            &token,
            &pillars,
            &form,
            "phone-busy",
            "5",
        ));
    }
    let error = if form.consent != "yes" {
        Some(tr("phone-error-consent"))
    } else if contact.email.is_empty() && contact.phone.is_empty() {
        Some(tr("phone-error-contact"))
    } else if !contact.email.is_empty() && !plausible_email(&contact.email) {
        Some(tr("phone-error-email"))
    } else if !contact.phone.is_empty() && !plausible_phone(&contact.phone) {
        Some(tr("phone-error-phone"))
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
    let lead_id = protocol::contact::derived_lead_id(&[&t.nonce_hex(), &who]);
    let lead = PhoneLead {
        lead_id,
        kiosk: t.kiosk_id,
        event_id: t.event.clone(),
        item: t.item.clone(),
        lang: lang.clone(),
        contact,
        interests,
        // The words the form showed in this language, as `form_html` shows them.
        consent: protocol::Consent::shown(CONSENT_ID, &lang, &tr(CONSENT_ID), now),
    };
    let phone = state.phone.clone();
    match tokio::task::spawn_blocking(move || phone.upsert_phone_lead(&lead, now)).await? {
        Ok(_) => {}
        // Nothing was stored: the visitor is asked to send the form again in a while, and
        // the form keeps what they typed.
        Err(crate::store::StorageError::Full) => {
            tracing::error!("the disk is full: a phone lead was refused with 503");
            return Ok(form_again(
                &state,
                &lang,
                &token,
                &pillars,
                &form,
                "phone-try-again",
                "60",
            ));
        }
        Err(e) => return Err(e.into()),
    }
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
