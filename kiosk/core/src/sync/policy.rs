//! What the sync worker decides, as pure functions tested by table: its tuning, what an error
//! means (retry or give up), the backoff, the batch size after an answer, where to resume from
//! the server's cursor, and which server addresses may be used.

use std::time::Duration;

use rand::Rng;

use crate::store::StoreError;

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
    #[error(
        "the certificate authority given for the server cannot be used ({0}); give a PEM file with -----BEGIN CERTIFICATE-----"
    )]
    Trust(String),
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
            SyncError::NotEnrolled
                | SyncError::Revoked
                | SyncError::Insecure(_)
                | SyncError::Trust(_)
        )
    }
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
