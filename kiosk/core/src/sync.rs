//! The sync worker: pushes the store's records to the server until every one is acknowledged,
//! on its own thread with its own tokio runtime, never on the render thread.
//!
//! One round is a pipeline of steps (as atuin does): ask the server for its cursor, read a
//! batch from there, compress and push it, and move the local cursor only to what the server
//! says it committed. Retries are safe because the server dedupes on `(kiosk, seq)` and on
//! `id`. The policy parts (backoff, batch sizing, what an answer means) are pure functions
//! tested by table.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::sync::{Cursor, PushAck, PushBatch, PushBatchRef};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};

use crate::clock::Clock;
use crate::store::{Identity, Store, StoreError};

/// Tuning of the sync worker. Defaults suit a kiosk on fair Wi-Fi.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Records per push at most.
    pub batch_records: usize,
    /// Uncompressed JSON bytes per push at most (the server refuses more than 8 MiB).
    pub batch_bytes: usize,
    /// Time between rounds when there is nothing to push.
    pub interval: Duration,
    /// First retry delay; doubles up to `backoff_max`, with full jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long acknowledged records stay on the kiosk (for a server restored from backup).
    pub keep_acked: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Allow plain HTTP to a host that is not loopback.
    pub insecure: bool,
    /// Time between content checks.
    pub pull_interval: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            batch_records: 10_000,
            batch_bytes: 4 << 20,
            interval: Duration::from_secs(15),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(300),
            keep_acked: Duration::from_secs(30 * 24 * 3600),
            request_timeout: Duration::from_secs(30),
            insecure: false,
            pull_interval: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this kiosk is not enrolled: run `kiosk enrol --server URL --code CODE`")]
    NotEnrolled,
    #[error(
        "the server revoked this kiosk (401); its records stay on the kiosk. Ask staff to enrol it again"
    )]
    Revoked,
    #[error(
        "the server address {0} is plain HTTP and not loopback: use https, or mark it insecure in the configuration"
    )]
    Insecure(String),
    #[error("the server could not be reached: {0}")]
    Network(String),
    #[error("the server answered {status}: {message}")]
    Server {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("the server did not advance its cursor past {0}; will retry")]
    NoProgress(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Errors that retrying will not fix; the worker stops pushing until told again.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            SyncError::NotEnrolled | SyncError::Revoked | SyncError::Insecure(_)
        )
    }
}

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

/// The outcome of one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub batches: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub wire_bytes: u64,
    pub next_seq: u64,
}

/// Full-jitter exponential backoff: a random delay in `[0, min(max, base·2^attempt)]`, never
/// below `retry_after` when the server asked for one.
pub fn backoff(
    attempt: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
    rng: &mut impl Rng,
) -> Duration {
    let ceiling = base
        .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
        .min(max);
    let jittered = ceiling.mul_f64(rng.random_range(0.0..=1.0));
    match retry_after {
        Some(ra) => jittered.max(ra.min(max)),
        None => jittered,
    }
}

/// The batch size after an answer: halved on 413 (down to one record), grown back towards the
/// configured size after a success.
pub fn next_batch_size(current: usize, configured: usize, status: Option<u16>) -> usize {
    match status {
        Some(413) => (current / 2).max(1),
        Some(200) => (current.saturating_mul(2)).min(configured).max(1),
        _ => current,
    }
}

/// Where the server wants records from, given the store's own counters.
///
/// `Resume(seq)`: push from `seq` (it may be below what we had acknowledged: a server
/// restored from an older backup gets them again). `Renumber`: the server is ahead of this
/// store (the store was restored from an older copy); the unacknowledged records must move
/// above the server's cursor so that no sequence number means two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumePlan {
    Resume(u64),
    Renumber { from: u64, to: u64 },
}

pub fn resume_plan(server_next: u64, local_acked: u64, local_next: u64) -> ResumePlan {
    if server_next > local_next {
        ResumePlan::Renumber {
            from: local_acked.min(local_next),
            to: server_next,
        }
    } else {
        ResumePlan::Resume(server_next)
    }
}

/// Checks that the server address may be used: HTTPS, or plain HTTP to loopback, or plain
/// HTTP explicitly allowed.
pub fn check_url(url: &str, insecure: bool) -> Result<(), SyncError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || insecure {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = if host.starts_with('[') {
            host.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false);
        if loopback {
            return Ok(());
        }
    }
    Err(SyncError::Insecure(url.to_owned()))
}

/// An HTTP client for the sync API: rustls, `TCP_NODELAY`, timeouts.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("promo-kiosk/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is valid")
}

/// One client session with the server, for one enrolled identity.
pub struct SyncClient {
    pub http: reqwest::Client,
    pub identity: Identity,
    pub clock: Clock,
    pub config: SyncConfig,
    batch_size: usize,
    /// Settings from the server kept in the store by the last round and not yet taken by the
    /// app ([`SyncClient::take_new_settings`]).
    new_settings: Option<protocol::sync::KioskSettings>,
    /// The last cursor asked for a screenshot.
    screenshot_wanted: bool,
}

impl SyncClient {
    pub fn new(identity: Identity, clock: Clock, config: SyncConfig) -> Result<Self, SyncError> {
        check_url(&identity.server_url, config.insecure)?;
        Ok(SyncClient {
            http: http_client(config.request_timeout),
            batch_size: config.batch_records,
            new_settings: None,
            screenshot_wanted: false,
            identity,
            clock,
            config,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.identity.server_url.trim_end_matches('/'))
    }

    /// `Authorization` header value of this kiosk.
    pub fn auth_header(&self) -> String {
        protocol::sync::bearer(self.identity.kiosk_id, &self.identity.secret)
    }

    /// `GET /api/v1/sync/cursor`.
    pub async fn cursor(&self) -> Result<Cursor, SyncError> {
        let sent = self.clock.wall_ms();
        let resp = self
            .http
            .get(self.url("/api/v1/sync/cursor"))
            .header(AUTHORIZATION, self.auth_header())
            .send()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let resp = check_status(resp).await?;
        let cursor: Cursor = resp
            .json()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        self.clock.observe_server_time(sent, cursor.server_time_ms);
        Ok(cursor)
    }

    /// Whether a round was asked for a screenshot since the last call.
    pub fn take_screenshot_wanted(&mut self) -> bool {
        std::mem::take(&mut self.screenshot_wanted)
    }

    /// `POST /api/v1/sync/screenshot`: a picture of the screen staff asked for.
    pub async fn send_screenshot(&self, jpeg: Vec<u8>) -> Result<(), SyncError> {
        let resp = self
            .http
            .post(self.url("/api/v1/sync/screenshot"))
            .header(AUTHORIZATION, self.auth_header())
            .header(CONTENT_TYPE, "image/jpeg")
            .body(jpeg)
            .send()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        check_status(resp).await?;
        Ok(())
    }

    /// Settings a round received and kept, once.
    pub fn take_new_settings(&mut self) -> Option<protocol::sync::KioskSettings> {
        self.new_settings.take()
    }

    /// Pushes one batch; returns the acknowledgement and the compressed size.
    pub async fn push(&self, batch: &PushBatch) -> Result<(PushAck, u64), SyncError> {
        let json = serde_json::to_vec(batch).map_err(StoreError::from)?;
        let body = compress(&json)?;
        send_push(self.sender(), body).await
    }

    fn sender(&self) -> Sender {
        Sender {
            http: self.http.clone(),
            url: self.url("/api/v1/sync/push"),
            auth: self.auth_header(),
            clock: self.clock.clone(),
        }
    }

    /// Starts sending a prepared batch on the runtime; never more than one is in flight.
    fn launch(&self, batch: Prepared) -> InFlight {
        (
            tokio::spawn(send_push(self.sender(), batch.body)),
            batch.from,
            batch.end,
        )
    }

    /// Reads and encodes the batch that starts at `from`; `None` when there is nothing to send.
    fn prepare(&self, store: &Store, from: u64) -> Result<Option<Prepared>, SyncError> {
        let stored = store.read_batch_raw(from, self.batch_size, self.config.batch_bytes)?;
        // Records below `from` that this store no longer has (pruned after a long time)
        // are declared, so the server's cursor can move past them.
        let first = stored.first().map(|s| s.seq).unwrap_or(from);
        if stored.is_empty() {
            return Ok(None);
        }
        let kiosk_id = self.identity.kiosk_id;
        let batch = PushBatchRef {
            clock: self.clock.protocol_sample(),
            pruned_below: if first > from { first } else { 0 },
            records: stored.iter().map(|s| s.as_wire(kiosk_id)).collect(),
        };
        let json = serde_json::to_vec(&batch).map_err(StoreError::from)?;
        Ok(Some(Prepared {
            from,
            end: stored.last().map(|s| s.seq + 1).unwrap_or(from),
            body: compress(&json)?,
        }))
    }

    /// One round: ask where to resume, then push until the backlog is empty. While the server
    /// stores one batch, the next one is read and encoded.
    pub async fn round(&mut self, store: &mut Store) -> Result<RoundReport, SyncError> {
        let cursor = self.cursor().await?;
        self.screenshot_wanted |= cursor.screenshot_wanted;
        // Settings first: they are kept even if a push of this round fails.
        if let Some(s) = &cursor.settings
            && store.save_settings_if_newer(s)?
        {
            tracing::info!(revision = s.revision, event = ?s.event_id, "new settings from the server");
            self.new_settings = Some(s.clone());
        }
        let from = match resume_plan(cursor.next_seq, store.acked_seq()?, store.next_seq()?) {
            ResumePlan::Resume(seq) => {
                // The server committed more than we heard of (an answer was lost): those
                // records are acknowledged now, even if nothing is left to send.
                if seq > store.acked_seq()? {
                    store.mark_acked(seq, self.clock.now().corrected_ms)?;
                }
                seq
            }
            ResumePlan::Renumber { from, to } => {
                tracing::warn!(
                    from,
                    to,
                    "the server is ahead of this store (restored from a copy?): renumbering unsynced records"
                );
                store.renumber_from(from, to)?;
                to
            }
        };
        let mut report = RoundReport {
            next_seq: from,
            ..Default::default()
        };
        let mut in_flight = self.prepare(store, from)?.map(|b| self.launch(b));
        while let Some((sending, batch_from, batch_end)) = in_flight.take() {
            // While the server stores this batch, read and encode the next one.
            let ahead = self.prepare(store, batch_end)?;
            let result = sending
                .await
                .map_err(|e| SyncError::Network(format!("the push task failed: {e}")))?;
            match result {
                Ok((ack, wire)) => {
                    // The batch read ahead is right only if the server is where we expected
                    // and no erasure touched what it holds: then it goes out at once, and the
                    // bookkeeping below overlaps with it.
                    let in_order = ack.next_seq == batch_end && ack.erased_leads.is_empty();
                    if in_order {
                        in_flight = ahead.map(|b| self.launch(b));
                    }
                    self.batch_size =
                        next_batch_size(self.batch_size, self.config.batch_records, Some(200));
                    report.batches += 1;
                    report.inserted += ack.inserted;
                    report.duplicates += ack.duplicates;
                    report.wire_bytes += wire;
                    report.next_seq = ack.next_seq;
                    if !ack.erased_leads.is_empty() {
                        store.erase_leads(&ack.erased_leads)?;
                    }
                    store.mark_acked(
                        ack.next_seq.min(store.next_seq()?),
                        self.clock.now().corrected_ms,
                    )?;
                    if ack.next_seq <= batch_from {
                        return Err(SyncError::NoProgress(batch_from));
                    }
                    if !in_order {
                        in_flight = self.prepare(store, ack.next_seq)?.map(|b| self.launch(b));
                    }
                }
                Err(SyncError::Server { status: 413, .. }) if self.batch_size > 1 => {
                    self.batch_size =
                        next_batch_size(self.batch_size, self.config.batch_records, Some(413));
                    tracing::info!(
                        batch = self.batch_size,
                        "payload too large: halving the batch"
                    );
                    in_flight = self.prepare(store, batch_from)?.map(|b| self.launch(b));
                }
                Err(e) => return Err(e),
            }
        }
        let keep = self.config.keep_acked.as_millis() as i64;
        store.prune_acked(self.clock.now().corrected_ms - keep)?;
        Ok(report)
    }
}

/// A push being sent, with the range of sequence numbers it carries.
type InFlight = (
    tokio::task::JoinHandle<Result<(PushAck, u64), SyncError>>,
    u64,
    u64,
);

/// An encoded batch ready to send.
struct Prepared {
    from: u64,
    /// One past the last sequence number in the batch.
    end: u64,
    body: Vec<u8>,
}

/// What a push needs, owned, so that it can run on another task.
struct Sender {
    http: reqwest::Client,
    url: String,
    auth: String,
    clock: Clock,
}

fn compress(json: &[u8]) -> Result<Vec<u8>, SyncError> {
    zstd::bulk::compress(json, 3).map_err(|e| SyncError::Network(format!("zstd: {e}")))
}

async fn send_push(s: Sender, body: Vec<u8>) -> Result<(PushAck, u64), SyncError> {
    let wire = body.len() as u64;
    let sent = s.clock.wall_ms();
    let resp = s
        .http
        .post(&s.url)
        .header(AUTHORIZATION, &s.auth)
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_ENCODING, "zstd")
        .body(body)
        .send()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let resp = check_status(resp).await?;
    let ack: PushAck = resp
        .json()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    s.clock.observe_server_time(sent, ack.server_time_ms);
    Ok((ack, wire))
}

pub(crate) async fn check_status(resp: reqwest::Response) -> Result<reqwest::Response, SyncError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    if status == StatusCode::UNAUTHORIZED {
        return Err(SyncError::Revoked);
    }
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let message = resp.text().await.unwrap_or_default();
    let message: String = message.chars().take(300).collect();
    Err(SyncError::Server {
        status: status.as_u16(),
        message,
        retry_after,
    })
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

impl SyncWorker {
    /// Starts the worker on its own thread. It opens its own connection to the store file and
    /// appends a heartbeat (versions, backlog, free disk, uptime) every few minutes.
    pub fn spawn(
        store_path: PathBuf,
        clock: Clock,
        config: SyncConfig,
        content_version: Option<String>,
        cache: Option<crate::pull::ContentCache>,
    ) -> SyncWorker {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
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
                rt.block_on(run(store_path, clock, config, cache, rx, st, r));
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

    /// A handle other threads use to ask for a round (the recorder, after each write).
    pub fn waker(&self) -> Waker {
        Waker(self.tx.clone())
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
    clock: Clock,
    config: SyncConfig,
    cache: Option<crate::pull::ContentCache>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
    status: Arc<Mutex<SyncStatus>>,
    ready: Arc<Ready>,
) {
    let set = |f: &dyn Fn(&mut SyncStatus)| {
        if let Ok(mut s) = status.lock() {
            f(&mut s)
        }
    };
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
            let event = store.meta("event_id").ok().flatten();
            if let Err(e) = store.append(clock.now(), event.as_deref(), body) {
                tracing::warn!(error = %e, "heartbeat not recorded");
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
                    let event = store.meta("event_id").ok().flatten();
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
    cache: &crate::pull::ContentCache,
    client: &SyncClient,
    event: Option<&str>,
    on_screen: Option<&str>,
    status: &Mutex<SyncStatus>,
    new_content: &Mutex<Option<crate::content::LoadedPack>>,
) -> bool {
    use crate::pull::{PullError, Pulled};
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

/// Exchanges a one-time enrolment code for the kiosk's identity and saves it in the store.
pub async fn enrol(
    store: &mut Store,
    server_url: &str,
    code: &str,
    insecure: bool,
) -> Result<Identity, SyncError> {
    check_url(server_url, insecure)?;
    let http = http_client(Duration::from_secs(30));
    let resp = http
        .post(format!("{}/api/v1/enrol", server_url.trim_end_matches('/')))
        .json(&protocol::sync::EnrolRequest {
            code: code.trim().to_owned(),
            app_version: crate::APP_VERSION.to_owned(),
        })
        .send()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let resp = check_status(resp).await?;
    let e: protocol::sync::Enrolment = resp
        .json()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let token_key = base64_decode(&e.token_key)
        .ok_or_else(|| SyncError::Network("the server sent an unreadable token key".into()))?;
    let identity = Identity {
        kiosk_id: e.kiosk_id,
        name: e.name,
        secret: e.secret,
        token_key,
        server_url: server_url.trim_end_matches('/').to_owned(),
        public_url: e.public_url,
    };
    store.set_identity(&identity)?;
    if let Some(ev) = e.event_id {
        store.set_meta("event_id", &ev)?;
    }
    Ok(identity)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let base = Duration::from_millis(500);
        let max = Duration::from_secs(300);
        for attempt in 0..40 {
            let d = backoff(attempt, base, max, None, &mut rng);
            let ceiling = base.saturating_mul(1 << attempt.min(20)).min(max);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
        let d = backoff(0, base, max, Some(Duration::from_secs(7)), &mut rng);
        assert!(d >= Duration::from_secs(7));
        // A hostile Retry-After cannot park the kiosk beyond the cap.
        let d = backoff(0, base, max, Some(Duration::from_secs(1_000_000)), &mut rng);
        assert!(d <= max);
    }

    #[test]
    fn batch_size_halves_on_413_and_recovers() {
        let cases = [
            (1000, 1000, Some(413), 500),
            (1, 1000, Some(413), 1),
            (500, 1000, Some(200), 1000),
            (800, 1000, Some(200), 1000),
            (250, 1000, Some(503), 250),
            (250, 1000, None, 250),
        ];
        for (current, configured, status, want) in cases {
            assert_eq!(
                next_batch_size(current, configured, status),
                want,
                "{current} {status:?}"
            );
        }
    }

    #[test]
    fn resume_plan_follows_the_server() {
        use ResumePlan::*;
        let cases = [
            // (server_next, local_acked, local_next) -> plan
            ((1, 1, 1), Resume(1)),
            ((5, 5, 10), Resume(5)),
            ((3, 8, 10), Resume(3)),   // server restored from an older backup
            ((10, 8, 10), Resume(10)), // ack lost after commit
            ((15, 8, 10), Renumber { from: 8, to: 15 }), // store restored from a copy
        ];
        for ((s, a, n), want) in cases {
            assert_eq!(resume_plan(s, a, n), want, "{s} {a} {n}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback_or_when_marked_insecure() {
        assert!(check_url("https://kiosk.example.vn", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_url("http://localhost:8080/x", false).is_ok());
        assert!(check_url("http://[::1]:8080", false).is_ok());
        assert!(check_url("http://192.168.1.10:8080", false).is_err());
        assert!(check_url("http://localhost.evil.example", false).is_err());
        assert!(check_url("http://192.168.1.10:8080", true).is_ok());
    }
}
