//! Sync with the server: pushes the store's records to the server until every one is acknowledged,
//! on its own thread with its own tokio runtime, never on the render thread.
//!
//! One round is a pipeline of steps (as atuin does): ask the server for its cursor, read a
//! batch from there, compress and push it, and move the local cursor only to what the server
//! says it committed. Retries are safe because the server dedupes on `(kiosk, seq)` and on
//! `id`. The policy parts (backoff, batch sizing, what an answer means) are pure functions
//! tested by table.
//!
//! - [`policy`]: pure decisions (backoff, batch size, resume point, allowed addresses);
//! - [`client`]: one session with the server (push rounds, screenshots, enrolment);
//! - [`worker`]: the thread that runs rounds, pulls content ([`crate::pull`]) and hands the
//!   app what arrived.
//!
//! The imports run one way: `worker` → `pull` → `client` → `policy`.

pub mod client;
pub mod policy;
pub mod worker;

pub use client::{RoundReport, SyncClient, enrol, http_client};
pub use policy::{
    ResumePlan, SyncConfig, SyncError, backoff, check_url, next_batch_size, resume_plan,
};
pub use worker::{HEARTBEAT_EVERY, Inbox, ScreenshotSink, SyncStatus, SyncWorker, Waker};
