//! Wire types shared by the kiosk and the sync server: the only types that cross the network.
//!
//! Everything here is versioned and tolerant: unknown fields are ignored when reading, unknown
//! record kinds deserialise to [`RecordBody::Unknown`] so that a server never rejects a batch
//! from a newer kiosk, and optional fields have defaults so that it accepts older kiosks.

pub mod contact;
pub mod content;
pub mod record;
pub mod schedule;
pub mod sync;
pub mod token;
mod wire_enum;

pub use record::{
    Consent, Contact, LeadSource, QrPurpose, Record, RecordBody, SessionPhase, SlideShown,
    ViewOrigin, VisitBody, VisitEnd,
};

/// The version of the HTTP API under `/api/v1`.
pub const API_VERSION: u32 = 1;

/// The record schema version written by this build.
pub const RECORD_SCHEMA: u16 = 1;

/// HTTP header carrying the server's wall time (unix milliseconds) on every API answer.
pub const SERVER_TIME_HEADER: &str = "x-server-time-ms";

/// Unix milliseconds now, from the system clock (which may be wrong on a kiosk).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
