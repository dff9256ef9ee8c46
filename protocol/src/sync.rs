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
    /// What staff set for this kiosk on the server (absent from older servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<KioskSettings>,
    /// Staff asked for a picture of the screen: the kiosk sends one
    /// (`POST /api/v1/sync/screenshot`, a JPEG of at most [`MAX_SCREENSHOT_BYTES`]) with its
    /// next round, once the screen shows no visitor's personal data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub screenshot_wanted: bool,
}

/// Largest screenshot a kiosk sends.
pub const MAX_SCREENSHOT_BYTES: usize = 1 << 20;
/// A screenshot is scaled down to at most this width before it is sent.
pub const SCREENSHOT_WIDTH: u32 = 960;

/// Settings staff give one kiosk on the server, delivered in every cursor answer and applied
/// by the kiosk without a restart. A field left out keeps the kiosk's own value (its
/// configuration file, or its pack).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskSettings {
    /// Grows by one at every change staff make: a kiosk applies settings whose revision is
    /// above the one it applied last, so a choice made at the kiosk since (its staff overlay's
    /// event) is not undone by the same old settings at every round.
    pub revision: u64,
    /// The event the kiosk serves: its playlist, its languages, and the event its records
    /// carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Seconds without a touch before the kiosk returns to the attract loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_seconds: Option<u32>,
    /// The languages offered to visitors, in this order (the first is the attract loop's).
    /// Languages the kiosk's pack does not have are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// Seconds each item stays on screen in the attract loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attract_item_seconds: Option<u32>,
    /// The argon2 hash (PHC string) of the staff PIN; the PIN itself never travels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_pin_hash: Option<String>,
}

impl KioskSettings {
    /// Shortest idle timeout a kiosk accepts: a visitor needs time to read.
    pub const MIN_IDLE_SECONDS: u32 = 15;
    pub const MAX_IDLE_SECONDS: u32 = 3600;
    pub const MIN_ITEM_SECONDS: u32 = 3;
    pub const MAX_ITEM_SECONDS: u32 = 600;

    /// The idle timeout within the bounds a kiosk accepts.
    pub fn idle_seconds(&self) -> Option<u32> {
        self.idle_seconds
            .map(|s| s.clamp(Self::MIN_IDLE_SECONDS, Self::MAX_IDLE_SECONDS))
    }

    /// The attract loop's item duration within the bounds a kiosk accepts.
    pub fn attract_item_seconds(&self) -> Option<u32> {
        self.attract_item_seconds
            .map(|s| s.clamp(Self::MIN_ITEM_SECONDS, Self::MAX_ITEM_SECONDS))
    }
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
    fn settings_are_optional_on_the_wire_and_clamped() {
        let c: Cursor = serde_json::from_str(r#"{"next_seq":3,"server_time_ms":1}"#).unwrap();
        assert_eq!(c.settings, None);
        let s = KioskSettings {
            revision: 2,
            idle_seconds: Some(1),
            attract_item_seconds: Some(100_000),
            ..Default::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"revision":2,"idle_seconds":1,"attract_item_seconds":100000}"#
        );
        assert_eq!(s.idle_seconds(), Some(KioskSettings::MIN_IDLE_SECONDS));
        assert_eq!(
            s.attract_item_seconds(),
            Some(KioskSettings::MAX_ITEM_SECONDS)
        );
        // A newer server's field is ignored, not an error.
        let newer: KioskSettings =
            serde_json::from_str(r#"{"revision":1,"brightness":80}"#).unwrap();
        assert_eq!(newer.revision, 1);
    }

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
