//! The running sync worker: its own thread and tokio runtime, never the render thread. It
//! pushes rounds with [`SyncClient`], pulls content with the [`ContentCache`], asks the
//! recorder to append a heartbeat every few minutes, and hands the app what arrived (content,
//! settings, screenshot requests) through slots the app takes between frames without blocking.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::SyncClient;
use super::policy::{SyncConfig, SyncError, backoff};
use crate::pull::{ContentCache, PullError, Pulled};
use crate::recorder::Recorder;
use crate::store::Store;

/// What the staff overlay shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub backlog: u64,
    /// `Some(true)` after an answer from the server, `Some(false)` after a failure.
    pub reachable: Option<bool>,
    pub revoked: bool,
    /// Corrected time of the last round that drained the backlog.
    pub last_sync_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Records pushed and acknowledged since start.
    pub pushed: u64,
    /// The content version playing (or ready to play).
    pub content_version: Option<String>,
    /// Why the server's newest content version is not playing, if it is not.
    pub content_error: Option<String>,
}

/// Wakes the sync worker; cheap to clone, safe from any thread.
#[derive(Clone)]
pub struct Waker(tokio::sync::mpsc::UnboundedSender<Command>);

impl Waker {
    pub fn wake(&self) {
        let _ = self.0.send(Command::NewRecords);
    }
}

/// Time between heartbeats.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(300);

enum Command {
    /// Staff asked: sync now, even while backing off.
    SyncNow,
    /// A record was written: sync soon, but not before a backoff delay has passed.
    NewRecords,
    Shutdown,
}

/// The running worker. Dropping it stops the thread after its current request.
pub struct SyncWorker {
    tx: tokio::sync::mpsc::UnboundedSender<Command>,
    status: Arc<Mutex<SyncStatus>>,
    ready: Arc<Ready>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the worker received for the app, taken by it between frames, and what the app hands
/// the worker to send.
#[derive(Default)]
struct Ready {
    content: Mutex<Option<crate::content::LoadedPack>>,
    settings: Mutex<Option<protocol::sync::KioskSettings>>,
    /// Staff asked for a picture of the screen.
    screenshot_wanted: std::sync::atomic::AtomicBool,
    /// The picture, encoded, waiting for the next round.
    screenshot: Mutex<Option<Vec<u8>>>,
    /// The content version the app shows: its files stay in the cache until it shows another.
    on_screen: Mutex<Option<String>>,
}

/// Where the app hands a screenshot to the worker, from any thread.
#[derive(Clone)]
pub struct ScreenshotSink {
    ready: Arc<Ready>,
    tx: tokio::sync::mpsc::UnboundedSender<Command>,
}

impl ScreenshotSink {
    /// Queues the JPEG for the next round, and asks for that round now.
    pub fn deliver(&self, jpeg: Vec<u8>) {
        if let Ok(mut s) = self.ready.screenshot.lock() {
            *s = Some(jpeg);
        }
        let _ = self.tx.send(Command::SyncNow);
    }
}

/// The worker's inbox, made before the worker so that the recorder, started before it, can
/// wake it after each write.
pub struct Inbox {
    tx: tokio::sync::mpsc::UnboundedSender<Command>,
    rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
}

impl Default for Inbox {
    fn default() -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        Inbox { tx, rx }
    }
}

impl Inbox {
    pub fn waker(&self) -> Waker {
        Waker(self.tx.clone())
    }
}

impl SyncWorker {
    /// Starts the worker on its own thread. It opens its own connection to the store file,
    /// reads records from it and writes there only what the server acknowledged; the heartbeat
    /// it sends every few minutes (versions, backlog, free disk, uptime) is appended by the
    /// `recorder`, the store's one writer of records.
    pub fn spawn(
        inbox: Inbox,
        store_path: PathBuf,
        recorder: Recorder,
        config: SyncConfig,
        content_version: Option<String>,
        cache: Option<ContentCache>,
    ) -> SyncWorker {
        let Inbox { tx, rx } = inbox;
        let status = Arc::new(Mutex::new(SyncStatus {
            content_version: content_version.clone(),
            ..Default::default()
        }));
        let st = status.clone();
        let ready = Arc::new(Ready {
            on_screen: Mutex::new(content_version.clone()),
            ..Default::default()
        });
        let r = ready.clone();
        let thread = std::thread::Builder::new()
            .name("sync".into())
            .spawn(move || {
                // One worker thread: a push runs there while this thread encodes the next batch.
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("sync-io")
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for the sync worker");
                rt.block_on(run(store_path, recorder, config, cache, rx, st, r));
            })
            .expect("spawn the sync thread");
        SyncWorker {
            tx,
            status,
            ready,
            thread: Some(thread),
        }
    }

    /// Asks for a round now (new records, or staff pressed "sync now").
    pub fn sync_now(&self) {
        let _ = self.tx.send(Command::SyncNow);
    }

    pub fn status(&self) -> SyncStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A content version pulled since the last call, ready to switch to. Never blocks: if the
    /// worker holds the lock, the answer is "not now".
    pub fn take_new_content(&self) -> Option<crate::content::LoadedPack> {
        let mut slot = self.ready.content.try_lock().ok()?;
        let pack = slot.take()?;
        // Marked as on screen while the worker cannot put another one in: what it tidies
        // next keeps this version's files.
        if let Ok(mut v) = self.ready.on_screen.lock() {
            *v = Some(pack.version.clone());
        }
        Some(pack)
    }

    /// The app now shows the version it took with [`SyncWorker::take_new_content`] (it
    /// adopted it between two attract items): the files of the one it showed before may go.
    pub fn showing(&self) {
        let _ = self.tx.send(Command::NewRecords);
    }

    /// Whether staff asked for a picture of the screen since the last call.
    pub fn take_screenshot_request(&self) -> bool {
        self.ready
            .screenshot_wanted
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// Where to hand the picture once it is taken.
    pub fn screenshot_sink(&self) -> ScreenshotSink {
        ScreenshotSink {
            ready: self.ready.clone(),
            tx: self.tx.clone(),
        }
    }

    /// Settings the server sent since the last call (already kept in the store), to apply
    /// now. Never blocks.
    pub fn take_new_settings(&self) -> Option<protocol::sync::KioskSettings> {
        self.ready
            .settings
            .try_lock()
            .ok()
            .and_then(|mut n| n.take())
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn run(
    store_path: PathBuf,
    recorder: Recorder,
    config: SyncConfig,
    cache: Option<ContentCache>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
    status: Arc<Mutex<SyncStatus>>,
    ready: Arc<Ready>,
) {
    let set = |f: &dyn Fn(&mut SyncStatus)| {
        if let Ok(mut s) = status.lock() {
            f(&mut s)
        }
    };
    let clock = recorder.clock().clone();
    let mut store = match Store::open(&store_path) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "sync worker cannot open the store");
            let msg = e.to_string();
            set(&|s| s.last_error = Some(msg.clone()));
            return;
        }
    };
    let mut attempt: u32 = 0;
    let mut client: Option<SyncClient> = None;
    let mut rng = rand::rng();
    let started = std::time::Instant::now();
    let mut last_heartbeat: Option<std::time::Instant> = None;
    let mut last_pull: Option<std::time::Instant> = None;
    let mut pulled_for: Option<String> = None;
    let mut released_for: Option<String> = None;
    loop {
        let on_screen = ready.on_screen.lock().ok().and_then(|v| v.clone());
        // The version the app showed before the one it shows now is no longer on any screen.
        if let Some(cache) = &cache
            && released_for != on_screen
        {
            cache.release(on_screen.as_deref());
            released_for = on_screen.clone();
        }
        let (content_version, content_error) = status
            .lock()
            .map(|s| (s.content_version.clone(), s.content_error.clone()))
            .unwrap_or_default();
        if last_heartbeat.is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY) {
            last_heartbeat = Some(std::time::Instant::now());
            let body = protocol::RecordBody::Heartbeat {
                app_version: crate::APP_VERSION.to_owned(),
                content_version: content_version.clone(),
                backlog: store.backlog().unwrap_or(0),
                free_disk_bytes: crate::config::free_disk_bytes(
                    store_path.parent().unwrap_or(std::path::Path::new(".")),
                ),
                uptime_ms: started.elapsed().as_millis() as u64,
                content_error: content_error.clone(),
            };
            let event = store.meta(crate::store::EVENT_KEY).ok().flatten();
            // Written by the recorder, in order with the app's records, and waited for, so that
            // this round sends it.
            let pending = recorder.record_durable(event.as_deref(), body);
            match tokio::task::spawn_blocking(move || pending.wait()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "heartbeat not recorded"),
                Err(e) => tracing::warn!(error = %e, "heartbeat not recorded"),
            }
            // The wake that write sent, and any request queued meanwhile, are this round; a stop
            // is kept.
            while let Ok(cmd) = rx.try_recv() {
                if matches!(cmd, Command::Shutdown) {
                    return;
                }
            }
        }
        let backlog = store.backlog().unwrap_or(0);
        set(&|s| s.backlog = backlog);
        if client.is_none() {
            match store.identity() {
                Ok(Some(id)) => match SyncClient::new(id, clock.clone(), config.clone()) {
                    Ok(c) => client = Some(c),
                    Err(e) => {
                        let msg = e.to_string();
                        set(&|s| s.last_error = Some(msg.clone()));
                    }
                },
                _ => set(&|s| s.enrolled = false),
            }
        }
        let mut wait = config.interval;
        if let Some(c) = client.as_mut() {
            set(&|s| s.enrolled = true);
            let result = c.round(&mut store).await;
            if let Some(s) = c.take_new_settings()
                && let Ok(mut n) = ready.settings.lock()
            {
                *n = Some(s);
            }
            if c.take_screenshot_wanted() {
                ready
                    .screenshot_wanted
                    .store(true, std::sync::atomic::Ordering::Release);
            }
            let shot = ready.screenshot.lock().ok().and_then(|mut s| s.take());
            if let Some(jpeg) = shot {
                match c.send_screenshot(jpeg.clone()).await {
                    Ok(()) => tracing::info!(bytes = jpeg.len(), "screenshot sent"),
                    // Offline: it goes with a later round.
                    Err(SyncError::Network(e)) => {
                        tracing::warn!(error = %e, "screenshot not sent yet");
                        if let Ok(mut s) = ready.screenshot.lock() {
                            s.get_or_insert(jpeg);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "screenshot refused; dropped"),
                }
            }
            match result {
                Ok(report) => {
                    attempt = 0;
                    let now = clock.now().corrected_ms;
                    let backlog = store.backlog().unwrap_or(0);
                    set(&|s| {
                        s.reachable = Some(true);
                        s.revoked = false;
                        s.last_sync_ms = Some(now);
                        s.last_error = None;
                        s.backlog = backlog;
                        s.pushed += report.inserted + report.duplicates;
                    });
                    // A new event (from staff or the overlay) may have its own version: ask
                    // at once rather than at the next pull.
                    let event = store.meta(crate::store::EVENT_KEY).ok().flatten();
                    if let Some(cache) = &cache
                        && (last_pull.is_none_or(|t| t.elapsed() >= config.pull_interval)
                            || pulled_for != event)
                    {
                        last_pull = Some(std::time::Instant::now());
                        // A failed pull for a new event is asked again next round, not in
                        // five minutes.
                        if pull_content(
                            cache,
                            c,
                            event.as_deref(),
                            on_screen.as_deref(),
                            &status,
                            &ready.content,
                        )
                        .await
                        {
                            pulled_for = event;
                        }
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    tracing::warn!(error = %msg, attempt, "sync round failed");
                    let revoked = matches!(e, SyncError::Revoked);
                    let reachable = !matches!(e, SyncError::Network(_));
                    set(&|s| {
                        s.last_error = Some(msg.clone());
                        s.revoked = revoked;
                        s.reachable = Some(reachable);
                    });
                    let retry_after = match &e {
                        SyncError::Server { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    if e.is_permanent() {
                        // Keep the data; try again only when told, or after the longest wait.
                        client = None;
                        wait = config.backoff_max;
                    } else {
                        wait = backoff(
                            attempt,
                            config.backoff_base,
                            config.backoff_max,
                            retry_after,
                            &mut rng,
                        );
                        attempt = attempt.saturating_add(1);
                    }
                }
            }
        }
        let deadline = tokio::time::Instant::now() + wait;
        let backing_off = attempt > 0 || client.is_none();
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    // New records do not cut a backoff short: a failing server is not hammered.
                    Some(Command::NewRecords) if backing_off => continue,
                    Some(Command::NewRecords) | Some(Command::SyncNow) => {
                        // Many writes in a burst make one round: take what is queued.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        while let Ok(c) = rx.try_recv() {
                            if matches!(c, Command::Shutdown) {
                                return;
                            }
                        }
                        break;
                    }
                    Some(Command::Shutdown) | None => return,
                },
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
    }
}

/// One content update; its outcome goes to the status (and so to heartbeats and staff).
/// Whether the server answered (with a new version, the same, or none).
async fn pull_content(
    cache: &ContentCache,
    client: &SyncClient,
    event: Option<&str>,
    on_screen: Option<&str>,
    status: &Mutex<SyncStatus>,
    new_content: &Mutex<Option<crate::content::LoadedPack>>,
) -> bool {
    match cache.update(client, event, on_screen).await {
        Ok(Pulled::Switched {
            version,
            downloaded,
        }) => {
            tracing::info!(%version, downloaded, "new content version ready");
            if let Some(pack) = cache.current_pack()
                && let Ok(mut n) = new_content.lock()
            {
                *n = Some(pack);
            }
            if let Ok(mut s) = status.lock() {
                s.content_version = Some(version);
                s.content_error = None;
            }
            true
        }
        Ok(Pulled::UpToDate(_)) | Ok(Pulled::NothingPublished) => true,
        Err(e) => {
            tracing::warn!(error = %e, "content update failed; the current version keeps playing");
            if let Ok(mut s) = status.lock()
                && matches!(e, PullError::DoesNotFit { .. })
            {
                s.content_error = Some(e.to_string());
            }
            false
        }
    }
}
