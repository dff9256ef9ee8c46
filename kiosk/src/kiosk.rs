//! What the app knows: content, localisation, the recorder and the sync worker, the identity,
//! the visitor session. Prepared in [`Setup::prepare`] before the window opens (all disk I/O
//! happens there), then held as Bevy resources.

use bevy::prelude::*;
use kiosk_core::clock::Clock;
use kiosk_core::config::KioskConfig;
use kiosk_core::content::LoadedPack;
use kiosk_core::i18n::Localiser;
use kiosk_core::recorder::{Recorder, RecorderThread};
use kiosk_core::session::Visitor;
use kiosk_core::store::{Identity, Store};
use kiosk_core::sync::{SyncConfig, SyncWorker};
use protocol::RecordBody;

/// Everything read from disk before the app starts.
pub struct Setup {
    pub pack: LoadedPack,
    pub i18n: Localiser,
    pub font: Option<Vec<u8>>,
    pub identity: Option<Identity>,
    pub recorder: Recorder,
    pub recorder_thread: RecorderThread,
    pub sync: SyncWorker,
    pub event: Option<String>,
    pub lang: String,
    /// The language asked for at start (`--lang`), the attract loop's while it is offered.
    pub preferred_lang: Option<String>,
    pub languages: Vec<String>,
    pub idle_ms: u64,
    pub countdown_ms: u64,
    /// What staff set on the server, applied last (none until they set something).
    pub settings: Option<kiosk_core::settings::KioskSettings>,
    /// The argon2 hash of the staff PIN: set with `kiosk set-pin`, or in the configuration.
    pub pin_hash: Option<String>,
    pub store_path: std::path::PathBuf,
}

impl Setup {
    pub fn prepare(config: &KioskConfig, lang: Option<&str>) -> anyhow::Result<Setup> {
        // Content: a folder given on the command line, else the version pulled from the
        // server, else the demo pack.
        let cache = kiosk_core::pull::ContentCache::new(
            config.content_cache_dir(),
            config.content_quota_mb.saturating_mul(1 << 20),
        );
        let pulled = if config.content.is_none() {
            cache.current_pack()
        } else {
            None
        };
        let standalone = config.content.is_some();
        let pack = match pulled {
            Some(p) => p,
            None => LoadedPack::from_dir(&config.content_dir())?,
        };
        let i18n = Localiser::load(&config.locales_dir())?;
        let font = match config.font_path() {
            Some(p) => Some(
                std::fs::read(&p)
                    .map_err(|e| anyhow::anyhow!("cannot read the font {}: {e}", p.display()))?,
            ),
            None => {
                // Logging starts with the app; this must be seen before it.
                eprintln!(
                    "warning: no Noto Sans CJK font found: Vietnamese and CJK text will not render. \
                     Install fonts-noto-cjk or set `font` in the configuration"
                );
                None
            }
        };
        let store_path = config.store_path();
        let mut store = Store::open(&store_path)?;
        // A visit the kiosk stopped in the middle of (power cut, crash) is recorded now, from
        // its last checkpoint, before anything else is written.
        match kiosk_core::recorder::recover_visit(&mut store) {
            Ok(Some(v)) => eprintln!(
                "recorded an interrupted delegation visit ({}, {} slides)",
                v.delegation,
                v.slides.len()
            ),
            Ok(None) => {}
            Err(e) => eprintln!("warning: an interrupted visit could not be recorded: {e}"),
        }
        let identity = store.identity()?;
        let stored_event = store.meta(kiosk_core::store::EVENT_KEY)?;
        let settings = store.applied_settings()?;
        let pin_hash = store
            .meta("staff_pin_hash")?
            .or_else(|| config.staff_pin_hash.clone());
        drop(store);
        let event =
            kiosk_core::settings::boot_event(config.event.clone(), stored_event, settings.as_ref())
                // An event staff assigned on the server is served even if this pack does not describe
                // it (records carry it; the pack's default playlist plays); one from the configuration
                // must be the pack's, so a typo does not label every record.
                .filter(|e| {
                    pack.pack.event(e).is_some()
                        || settings.as_ref().is_some_and(|s| s.revision > 0)
                });
        let clock = Clock::system();
        // The recorder wakes the sync worker after each write; the worker's heartbeats go
        // through the recorder.
        let inbox = kiosk_core::sync::Inbox::default();
        let waker = inbox.waker();
        let (recorder, recorder_thread) =
            Recorder::start(store_path.clone(), clock, move || waker.wake())?;
        let sync = SyncWorker::spawn(
            inbox,
            store_path.clone(),
            recorder.clone(),
            SyncConfig {
                interval: std::time::Duration::from_secs(config.sync_interval_seconds.max(1)),
                insecure: config.insecure,
                pull_interval: std::time::Duration::from_secs(config.content_pull_seconds.max(5)),
                ..Default::default()
            },
            Some(pack.version.clone()),
            // A kiosk told to play a folder does not replace it with server content.
            (!standalone).then_some(cache),
        );
        let languages = kiosk_core::settings::languages(
            pack.languages(event.as_deref()),
            settings.as_ref().and_then(|s| s.languages.as_deref()),
        );
        let preferred_lang = lang.map(str::to_owned);
        let lang = kiosk_core::settings::attract_language(preferred_lang.as_deref(), &languages);
        Ok(Setup {
            pack,
            i18n,
            font,
            identity,
            recorder,
            recorder_thread,
            sync,
            event,
            lang,
            preferred_lang,
            languages,
            idle_ms: kiosk_core::settings::idle_ms(config.idle_seconds, settings.as_ref()),
            countdown_ms: config.countdown_seconds * 1000,
            settings,
            pin_hash,
            store_path,
        })
    }
}

/// Content and text.
#[derive(Resource)]
pub struct Content {
    pub pack: LoadedPack,
    pub i18n: Localiser,
    pub event: Option<String>,
    /// The languages offered, in order: the event's in the pack, as the server's settings
    /// order them ([`Content::refresh_languages`]).
    pub languages: Vec<String>,
    /// What staff set on the server, applied last.
    pub settings: Option<kiosk_core::settings::KioskSettings>,
    /// The corrected clock, by which items' date and time windows are honoured offline.
    pub clock: Clock,
    /// The language asked for at start (`--lang`).
    pub preferred_lang: Option<String>,
}

impl Content {
    pub fn t(&self, lang: &str, id: &str) -> String {
        self.i18n.t(lang, id)
    }

    /// Works out the languages again after the pack, the event or the settings changed.
    pub fn refresh_languages(&mut self) {
        self.languages = kiosk_core::settings::languages(
            self.pack.languages(self.event.as_deref()),
            self.settings.as_ref().and_then(|s| s.languages.as_deref()),
        );
    }

    /// The attract loop's language, which every new visitor starts in
    /// ([`kiosk_core::settings::attract_language`]).
    pub fn attract_language(&self) -> String {
        kiosk_core::settings::attract_language(self.preferred_lang.as_deref(), &self.languages)
    }

    /// Sets the language back to the attract loop's (marked changed only if it changes, so
    /// that nothing is redrawn for nothing).
    pub fn reset_language(&self, lang: &mut ResMut<Lang>) {
        let l = self.attract_language();
        if lang.0 != l {
            lang.0 = l;
        }
    }

    /// A pillar's items showing now (their windows read by the corrected clock).
    pub fn items_in(&self, pillar: &str) -> Vec<&protocol::content::Item> {
        self.pack.items_in(pillar, self.clock.now().corrected_ms)
    }

    /// The attract loop's items showing now and how long each stays on screen.
    pub fn playlist(&self) -> (Vec<&protocol::content::Item>, f32) {
        let now = self.clock.now().corrected_ms;
        let (items, secs) = self.pack.playlist(self.event.as_deref(), now);
        (
            items,
            kiosk_core::settings::attract_item_seconds(secs, self.settings.as_ref()),
        )
    }
}

/// The language the visitor reads now.
#[derive(Resource, Clone, PartialEq, Eq, Debug)]
pub struct Lang(pub String);

/// Where records go, and the kiosk's identity for QR codes.
#[derive(Resource)]
pub struct Services {
    pub recorder: Recorder,
    pub identity: Option<Identity>,
    /// Dropping it stops the sync thread.
    sync: SyncWorker,
    _recorder_thread: RecorderThread,
    store_path: std::path::PathBuf,
}

impl Services {
    pub fn new(
        setup_recorder: Recorder,
        thread: RecorderThread,
        identity: Option<Identity>,
        sync: SyncWorker,
        store_path: std::path::PathBuf,
    ) -> Self {
        Services {
            recorder: setup_recorder,
            identity,
            sync,
            _recorder_thread: thread,
            store_path,
        }
    }

    /// Where the staff PIN's lockout is kept, beside the store.
    pub fn pin_gate_path(&self) -> std::path::PathBuf {
        self.store_path.with_file_name("pin-gate.json")
    }

    /// Staff asked for a sync round now.
    pub fn sync_now(&self) {
        self.sync.sync_now();
    }

    pub fn sync_status(&self) -> kiosk_core::sync::SyncStatus {
        self.sync.status()
    }

    /// Keeps the event staff chose for the next start (written by the recorder).
    pub fn remember_event(&self, event_id: &str) {
        self.recorder.remember_event(event_id);
    }

    pub fn record(&self, content: &Content, body: RecordBody) {
        self.recorder.record(content.event.as_deref(), body);
    }

    /// Whether staff asked for a picture of the screen (once).
    pub fn take_screenshot_request(&self) -> bool {
        self.sync.take_screenshot_request()
    }

    /// Where a taken picture of the screen goes (from any thread).
    pub fn screenshot_sink(&self) -> kiosk_core::sync::ScreenshotSink {
        self.sync.screenshot_sink()
    }

    /// Settings the server sent, once, if any are ready (never blocks).
    pub fn take_new_settings(&self) -> Option<kiosk_core::settings::KioskSettings> {
        self.sync.take_new_settings()
    }

    /// The app shows the content version it took now: the one it showed before may leave the
    /// cache.
    pub fn showing(&self) {
        self.sync.showing();
    }

    /// A content version the sync worker pulled, if one is ready (never blocks).
    pub fn take_new_content(&self) -> Option<LoadedPack> {
        self.sync.take_new_content()
    }

    pub fn mono_ms(&self) -> u64 {
        self.recorder.clock().mono_ms()
    }
}

/// The visitor session (idle timer, views).
#[derive(Resource, Deref, DerefMut)]
pub struct Session(pub Visitor);
