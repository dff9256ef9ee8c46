//! Messages of the kiosk ↔ server sync API (`/api/v1`). See `docs/sync-protocol.md`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::record::Record;

/// Where the kiosk's clock stood when it sent a request. The server pairs it with its own
/// receive time to date every record of that boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSample {
    pub boot_id: Uuid,
    pub mono_ms: u64,
    pub wall_ms: i64,
}

/// `GET /api/v1/sync/cursor` answer: the next sequence number the server expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub next_seq: u64,
    pub server_time_ms: i64,
}

/// `POST /api/v1/sync/push` body (JSON, usually `Content-Encoding: zstd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushBatch {
    pub clock: ClockSample,
    /// Non-zero when the kiosk no longer holds records below this sequence number (it pruned
    /// acknowledged records long ago and the server lost them since): the server may move its
    /// cursor past the hole, and records it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pruned_below: u64,
    pub records: Vec<Record>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A [`PushBatch`] of records whose bodies are already JSON; serialises the same way.
#[derive(Debug, Clone, Serialize)]
pub struct PushBatchRef<'a> {
    pub clock: ClockSample,
    #[serde(skip_serializing_if = "is_zero")]
    pub pruned_below: u64,
    pub records: Vec<crate::record::RecordRef<'a>>,
}

/// The answer to a push, sent only after the batch is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    /// Records newly stored.
    pub inserted: u64,
    /// Records the server already had (a retry): delivered, not stored twice.
    pub duplicates: u64,
    /// The next sequence number the server expects: everything below is committed.
    pub next_seq: u64,
    pub server_time_ms: i64,
    /// Leads erased on the server that this kiosk may still hold.
    #[serde(default)]
    pub erased_leads: Vec<Uuid>,
}

/// `POST /api/v1/enrol` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub app_version: String,
}

/// `POST /api/v1/enrol` answer: the kiosk's identity and secrets, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub kiosk_id: Uuid,
    pub name: String,
    /// The long-lived secret for `Authorization: Bearer <kiosk_id>.<secret>`; the server keeps
    /// only its hash.
    pub secret: String,
    /// Base64 key with which the kiosk signs QR tokens offline.
    pub token_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The server's public base URL, for the QR codes.
    pub public_url: String,
    pub server_time_ms: i64,
}

/// Error body of every API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code, e.g. `revoked`, `unauthorised`, `payload_too_large`.
    pub code: String,
    /// What happened and what to do, for the log and the staff overlay.
    pub message: String,
}

/// `Authorization` header value for a kiosk.
pub fn bearer(kiosk_id: Uuid, secret: &str) -> String {
    format!("Bearer {kiosk_id}.{secret}")
}

/// Parses `Bearer <kiosk_id>.<secret>`.
pub fn parse_bearer(header: &str) -> Option<(Uuid, &str)> {
    let token = header.strip_prefix("Bearer ")?;
    let (id, secret) = token.split_once('.')?;
    let id = Uuid::parse_str(id).ok()?;
    if secret.is_empty() {
        return None;
    }
    Some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_round_trips_and_rejects_garbage() {
        let id = Uuid::now_v7();
        let h = bearer(id, "s3cret");
        assert_eq!(parse_bearer(&h), Some((id, "s3cret")));
        assert_eq!(parse_bearer("Bearer nope"), None);
        assert_eq!(parse_bearer(&format!("Bearer {id}.")), None);
        assert_eq!(parse_bearer("Basic abc"), None);
    }
}
