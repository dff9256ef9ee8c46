//! The kiosk's clocks: wall time that may be wrong (no clock battery), a boot id and monotonic
//! milliseconds since boot that are always right within a boot, and the offset to the server's
//! time once the kiosk has talked to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

use uuid::Uuid;

/// A reading of all the kiosk's clocks at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub wall_ms: i64,
    pub boot_id: Uuid,
    pub mono_ms: u64,
    pub clock_ok: bool,
    /// The best estimate of real time: `wall_ms` corrected by the server offset when known.
    pub corrected_ms: i64,
}

/// Shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    boot_id: Uuid,
    /// Monotonic milliseconds since boot at `start`.
    base_mono_ms: u64,
    start: Instant,
    /// Added to the system clock: lets tests simulate a kiosk that booted at 1970.
    skew_ms: i64,
    /// server time − kiosk wall time, once known.
    offset_ms: AtomicI64,
    offset_known: AtomicBool,
}

impl Clock {
    /// The machine's clocks: Linux's boot id and uptime when available, so that an app restart
    /// within one machine boot keeps one monotonic timeline.
    pub fn system() -> Clock {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .unwrap_or_else(Uuid::now_v7);
        let base_mono_ms = std::fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map(|s| (s * 1000.0) as u64)
            .unwrap_or(0);
        Clock::new(boot_id, base_mono_ms, 0)
    }

    /// A clock with a given boot id and a wall clock off by `skew_ms` (for tests and the
    /// benchmark: a kiosk that "booted at 1970" has a skew of minus now).
    pub fn new(boot_id: Uuid, base_mono_ms: u64, skew_ms: i64) -> Clock {
        Clock {
            inner: Arc::new(Inner {
                boot_id,
                base_mono_ms,
                start: Instant::now(),
                skew_ms,
                offset_ms: AtomicI64::new(0),
                offset_known: AtomicBool::new(false),
            }),
        }
    }

    pub fn boot_id(&self) -> Uuid {
        self.inner.boot_id
    }

    pub fn mono_ms(&self) -> u64 {
        self.inner.base_mono_ms + self.inner.start.elapsed().as_millis() as u64
    }

    pub fn wall_ms(&self) -> i64 {
        protocol::now_ms() + self.inner.skew_ms
    }

    pub fn now(&self) -> Stamp {
        let wall_ms = self.wall_ms();
        let clock_ok = self.inner.offset_known.load(Ordering::Acquire);
        let offset = self.inner.offset_ms.load(Ordering::Acquire);
        Stamp {
            wall_ms,
            boot_id: self.inner.boot_id,
            mono_ms: self.mono_ms(),
            clock_ok,
            corrected_ms: if clock_ok { wall_ms + offset } else { wall_ms },
        }
    }

    /// Records the server's time from an answer to a request sent at `sent_wall_ms`.
    pub fn observe_server_time(&self, sent_wall_ms: i64, server_time_ms: i64) {
        let received = self.wall_ms();
        let midpoint = sent_wall_ms + (received - sent_wall_ms) / 2;
        self.inner
            .offset_ms
            .store(server_time_ms - midpoint, Ordering::Release);
        self.inner.offset_known.store(true, Ordering::Release);
    }

    pub fn offset_ms(&self) -> Option<i64> {
        self.inner
            .offset_known
            .load(Ordering::Acquire)
            .then(|| self.inner.offset_ms.load(Ordering::Acquire))
    }

    pub fn protocol_sample(&self) -> protocol::sync::ClockSample {
        protocol::sync::ClockSample {
            boot_id: self.inner.boot_id,
            mono_ms: self.mono_ms(),
            wall_ms: self.wall_ms(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kiosk_at_1970_is_corrected_once_it_hears_the_server() {
        let now = protocol::now_ms();
        let clock = Clock::new(Uuid::now_v7(), 0, -now);
        let before = clock.now();
        assert!(!before.clock_ok);
        assert!(before.wall_ms < 10_000);
        let sent = clock.wall_ms();
        clock.observe_server_time(sent, protocol::now_ms());
        let after = clock.now();
        assert!(after.clock_ok);
        assert!((after.corrected_ms - protocol::now_ms()).abs() < 1_000);
        assert!(after.mono_ms >= before.mono_ms);
    }
}
