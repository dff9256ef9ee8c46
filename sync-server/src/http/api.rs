//! The kiosk API under `/api/v1`: enrolment, cursor, push, content manifest and media.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::sync::{Cursor, EnrolRequest, Enrolment, PushAck};
use tower::ServiceExt;

use crate::AppState;
use crate::error::AppError;
use crate::store::{IncomingBatch, KioskAuth};

/// Largest decompressed push body. A batch is capped far below this by the kiosk.
pub const MAX_PUSH_DECOMPRESSED: u64 = 64 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/enrol", post(enrol))
        .route("/api/v1/sync/cursor", get(cursor))
        .route("/api/v1/sync/push", post(push))
        .route("/api/v1/sync/screenshot", post(screenshot))
        .route("/api/v1/content/current", get(current_content))
        .route("/api/v1/media/{sha256}", get(media))
}

/// The authenticated kiosk, from `Authorization: Bearer <kiosk_id>.<secret>`.
pub struct Kiosk(pub KioskAuth);

impl FromRequestParts<AppState> for Kiosk {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or(AppError::Unauthorised)?;
        let (id, secret) = protocol::sync::parse_bearer(header).ok_or(AppError::Unauthorised)?;
        let secret = secret.to_owned();
        let storage = state.storage.clone();
        let auth = tokio::task::spawn_blocking(move || storage.authenticate(id, &secret)).await??;
        Ok(Kiosk(auth))
    }
}

#[tracing::instrument(skip_all)]
async fn enrol(
    State(state): State<AppState>,
    crate::http::client_ip::ClientIp(ip): crate::http::client_ip::ClientIp,
    Json(req): Json<EnrolRequest>,
) -> Result<Json<Enrolment>, AppError> {
    let now = protocol::now_ms();
    let net = crate::http::client_ip::limit_key(ip);
    // A setup day enrols a few dozen kiosks from one network; a guesser gets 30 tries in ten
    // minutes against 80-bit codes.
    if !state.limiter.allow(&format!("enrol:{net}"), 30, 600, now) {
        tracing::warn!(client = %net, "enrolment flood refused");
        return Err(AppError::TooMany(600));
    }
    let storage = state.storage.clone();
    let app_version: String = req.app_version.chars().take(64).collect();
    let e = match tokio::task::spawn_blocking(move || storage.enrol(&req.code, &app_version, now))
        .await?
    {
        Ok(e) => e,
        Err(err) => {
            tracing::warn!(client = %net, "enrolment refused: {err}");
            return Err(err.into());
        }
    };
    let staff = state.staff.clone();
    let detail = format!("kiosk={} name={} client={net}", e.uuid, e.name);
    tokio::task::spawn_blocking(move || {
        staff.audit(None, crate::store::AuditAction::KioskEnrol, &detail, now)
    })
    .await??;
    tracing::info!(kiosk = %e.uuid, name = %e.name, "kiosk enrolled");
    state.phone_cache.forget_kiosks();
    Ok(Json(Enrolment {
        kiosk_id: e.uuid,
        name: e.name,
        secret: e.secret,
        token_key: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &e.token_key),
        event_id: e.event_id,
        public_url: state.config.public_url.clone(),
        server_time_ms: protocol::now_ms(),
    }))
}

#[tracing::instrument(skip_all)]
async fn cursor(State(state): State<AppState>, Kiosk(k): Kiosk) -> Result<Json<Cursor>, AppError> {
    let storage = state.storage.clone();
    let c = tokio::task::spawn_blocking(move || storage.cursor(&k, protocol::now_ms())).await??;
    Ok(Json(c))
}

#[tracing::instrument(skip_all, fields(kiosk))]
async fn push(
    State(state): State<AppState>,
    Kiosk(k): Kiosk,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PushAck>, AppError> {
    tracing::Span::current().record("kiosk", tracing::field::display(k.uuid));
    let kiosk_id = k.uuid;
    let storage = state.storage.clone();
    let zstd = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.eq_ignore_ascii_case("zstd"))
        .unwrap_or(false);
    let ack = tokio::task::spawn_blocking(move || -> Result<PushAck, AppError> {
        let json = if zstd {
            decompress_capped(&body, MAX_PUSH_DECOMPRESSED)?
        } else {
            body.to_vec()
        };
        let batch: IncomingBatch = serde_json::from_slice(&json)
            .map_err(|e| AppError::BadRequest(format!("the batch is not valid JSON: {e}")))?;
        Ok(storage.ingest(&k, batch, protocol::now_ms())?)
    })
    .await??;
    // The kiosk's events and clock offset may have moved: phone pages read them again.
    state.phone_cache.forget_kiosk(kiosk_id);
    Ok(Json(ack))
}

/// A picture of the kiosk's screen that staff asked for: a JPEG, checked by decoding it (with
/// limits) before it is kept.
#[tracing::instrument(skip_all, fields(kiosk))]
async fn screenshot(
    State(state): State<AppState>,
    Kiosk(k): Kiosk,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    tracing::Span::current().record("kiosk", tracing::field::display(k.uuid));
    if body.len() > protocol::sync::MAX_SCREENSHOT_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let fleet = state.fleet.clone();
    tokio::task::spawn_blocking(move || -> Result<(), AppError> {
        check_jpeg(&body).map_err(AppError::BadRequest)?;
        Ok(fleet.save_screenshot(&k, &body, protocol::now_ms())?)
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// Decodes a JPEG within limits (at most 3840 pixels a side, 64 MiB), or says why not.
pub fn check_jpeg(bytes: &[u8]) -> Result<(), String> {
    // Decoders fill in what is missing from a cut-off file: a whole JPEG ends with EOI.
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err("the screenshot is cut off (a JPEG ends with its EOI marker)".into());
    }
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(3840);
    limits.max_image_height = Some(3840);
    limits.max_alloc = Some(64 << 20);
    reader.limits(limits);
    reader
        .decode()
        .map(|_| ())
        .map_err(|e| format!("the screenshot is not a JPEG this server can read: {e}"))
}

/// Decompresses a zstd body, refusing (413) more than `cap` bytes: no decompression bombs.
pub fn decompress_capped(body: &[u8], cap: u64) -> Result<Vec<u8>, AppError> {
    let decoder = zstd::stream::read::Decoder::new(body)
        .map_err(|e| AppError::BadRequest(format!("the zstd body is unreadable: {e}")))?;
    let mut out = Vec::new();
    decoder
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| AppError::BadRequest(format!("the zstd body is unreadable: {e}")))?;
    if out.len() as u64 > cap {
        return Err(AppError::PayloadTooLarge);
    }
    Ok(out)
}

/// `?event=`: the event the kiosk serves now (chosen in its overlay, or given by staff).
#[derive(serde::Deserialize)]
struct ContentQuery {
    event: Option<String>,
}

/// The version a kiosk should play: its event's own, or the default.
#[tracing::instrument(skip_all)]
async fn current_content(
    State(state): State<AppState>,
    Kiosk(auth): Kiosk,
    axum::extract::Query(q): axum::extract::Query<ContentQuery>,
) -> Result<Response, AppError> {
    // The kiosk says which event it serves now; an older kiosk that does not say gets the one
    // staff assigned. An id is only looked up: nothing of it is stored.
    let event = q
        .event
        .filter(|e| !e.is_empty() && e.len() <= 64)
        .or(auth.event_id);
    let storage = state.storage.clone();
    let m = tokio::task::spawn_blocking(move || storage.manifest_for(event.as_deref())).await??;
    Ok(match m {
        // Kiosks do not show the pictures' rights, and a kiosk of an older build refused a
        // pack with keys it did not know: they stay on the server.
        Some(mut m) => {
            m.pack.credits.clear();
            Json(m).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Media by content hash, with HTTP Range so interrupted downloads resume.
async fn media(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    req: Request<Body>,
) -> Result<Response, AppError> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(AppError::NotFound);
    }
    let path = state.media_dir().join(&sha256);
    let resp = tower_http::services::ServeFile::new(path)
        .oneshot(req)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if resp.status() == StatusCode::NOT_FOUND {
        return Err(AppError::NotFound);
    }
    let mut resp = resp.map(Body::new);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}
