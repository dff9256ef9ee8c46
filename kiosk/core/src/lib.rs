//! The kiosk's logic without Bevy: the local store, the sync worker, content loading and the
//! content cache, localisation, the visitor session and badge parsing.
//!
//! Nothing here knows about Bevy or a window: the Bevy app in `kiosk/` calls into this crate
//! from the edge, and the end-to-end tests drive it directly.

pub mod badge;
pub mod clock;
pub mod config;
pub mod content;
pub mod doctor;
pub mod fonts;
pub mod form;
/// Localisation lives in the `locales` crate, beside the Fluent files; re-exported here.
pub use locales as i18n;
pub mod layout;
pub mod media;
pub mod pin;
pub mod presenter;
pub mod pull;
pub mod qr;
pub mod recorder;
pub mod script;
pub mod session;
pub mod settings;
pub mod store;
pub mod sync;

/// The kiosk's version, reported in heartbeats.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A small tokio runtime for one-off network calls from the command line (e.g. enrolment).
pub type Runtime = tokio::runtime::Runtime;

pub fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
