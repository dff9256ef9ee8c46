//! One client session with the server: the HTTP client, a push round as a pipeline of steps
//! (ask the server's cursor, read a batch from there, compress and push it, move the local
//! cursor only to what the server committed), screenshots, and enrolment.

use std::time::Duration;

use protocol::sync::{Cursor, PushAck, PushBatch, PushBatchRef};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};

use super::policy::{ResumePlan, SyncConfig, SyncError, check_url, next_batch_size, resume_plan};
use crate::clock::Clock;
use crate::store::{Identity, Store, StoreError};

/// The outcome of one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub batches: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub wire_bytes: u64,
    pub next_seq: u64,
}

/// An HTTP client for the sync API: rustls, `TCP_NODELAY`, timeouts. It trusts the public
/// certificate authorities and, if given, `ca_pem` (the server's own, from enrolment).
pub fn http_client(timeout: Duration, ca_pem: Option<&str>) -> Result<reqwest::Client, SyncError> {
    let mut builder = reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("promo-kiosk/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| SyncError::Trust(e.to_string()))?;
        if certs.is_empty() {
            return Err(SyncError::Trust("no certificate in it".into()));
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| SyncError::Trust(e.to_string()))
}

/// A request that failed before the server answered, with its causes: reqwest's own message
/// is only "error sending request for url (…)", and what to fix is in the causes (a
/// certificate from an unknown authority, a refused connection, a timeout).
pub(crate) fn network(e: &reqwest::Error) -> SyncError {
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = c.source();
    }
    SyncError::Network(message)
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
            http: http_client(config.request_timeout, identity.server_ca.as_deref())?,
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
            .map_err(|e| network(&e))?;
        let resp = check_status(resp).await?;
        let cursor: Cursor = resp.json().await.map_err(|e| network(&e))?;
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
            .map_err(|e| network(&e))?;
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
        .map_err(|e| network(&e))?;
    let resp = check_status(resp).await?;
    let ack: PushAck = resp.json().await.map_err(|e| network(&e))?;
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

/// Exchanges a one-time enrolment code for the kiosk's identity and saves it in the store.
/// `server_ca` (PEM) is trusted for this server from now on, besides the public authorities.
pub async fn enrol(
    store: &mut Store,
    server_url: &str,
    code: &str,
    insecure: bool,
    server_ca: Option<String>,
) -> Result<Identity, SyncError> {
    check_url(server_url, insecure)?;
    let http = http_client(Duration::from_secs(30), server_ca.as_deref())?;
    let resp = http
        .post(format!("{}/api/v1/enrol", server_url.trim_end_matches('/')))
        .json(&protocol::sync::EnrolRequest {
            code: code.trim().to_owned(),
            app_version: crate::APP_VERSION.to_owned(),
        })
        .send()
        .await
        .map_err(|e| network(&e))?;
    let resp = check_status(resp).await?;
    let e: protocol::sync::Enrolment = resp.json().await.map_err(|e| network(&e))?;
    let token_key = base64_decode(&e.token_key)
        .ok_or_else(|| SyncError::Network("the server sent an unreadable token key".into()))?;
    let identity = Identity {
        kiosk_id: e.kiosk_id,
        name: e.name,
        secret: e.secret,
        token_key,
        server_url: server_url.trim_end_matches('/').to_owned(),
        public_url: e.public_url,
        server_ca,
    };
    store.set_identity(&identity)?;
    if let Some(ev) = e.event_id {
        store.set_meta(crate::store::EVENT_KEY, &ev)?;
    }
    Ok(identity)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}
