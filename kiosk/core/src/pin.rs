//! The staff PIN that opens the kiosk's staff overlay: stored only as an argon2 hash, checked
//! off the render thread, with a lockout after repeated wrong attempts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Wrong attempts before the PIN pad locks.
pub const MAX_FAILURES: u32 = 5;
/// How long it stays locked: longer at each lockout in a row (1 min, 5 min, then 1 h).
pub const LOCKOUTS_MS: [i64; 3] = [60_000, 300_000, 3_600_000];

/// 4 to 12 digits.
pub fn check_pin(pin: &str) -> Result<(), &'static str> {
    if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err("a staff PIN is 4 to 12 digits");
    }
    Ok(())
}

/// An argon2id hash of the PIN with a random salt (PHC string).
pub fn hash_pin(pin: &str) -> Result<String, String> {
    check_pin(pin)?;
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `pin` matches `hash`; a malformed hash matches nothing.
pub fn verify_pin(hash: &str, pin: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Counts wrong attempts and locks the pad for a while after too many. It is kept in a file
/// beside the store, so that switching the kiosk off and on does not clear a lockout; times
/// are wall-clock milliseconds (the monotonic clock starts again at every boot).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PinGate {
    failures: u32,
    /// Lockouts in a row, without a right PIN between them.
    lockouts: u32,
    locked_until_ms: Option<i64>,
}

impl PinGate {
    /// The gate kept at `path`; a missing or unreadable file is a fresh gate.
    pub fn load(path: &std::path::Path) -> PinGate {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Keeps the gate at `path` (written aside, then renamed; readable by the kiosk's user
    /// only).
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Seconds left of a lockout, or None when a PIN may be tried. A clock set back cannot
    /// make a lockout longer than the longest one.
    pub fn locked_for(&self, now_ms: i64) -> Option<u64> {
        let longest = LOCKOUTS_MS[LOCKOUTS_MS.len() - 1];
        self.locked_until_ms
            .filter(|&until| until > now_ms)
            .map(|until| ((until - now_ms).min(longest) as u64).div_ceil(1000))
    }

    pub fn failed(&mut self, now_ms: i64) {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            self.failures = 0;
            let step = (self.lockouts as usize).min(LOCKOUTS_MS.len() - 1);
            self.lockouts = self.lockouts.saturating_add(1);
            self.locked_until_ms = Some(now_ms + LOCKOUTS_MS[step]);
        }
    }

    pub fn succeeded(&mut self) {
        *self = PinGate::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_stored_hashed_and_verified() {
        let h = hash_pin("2026").unwrap();
        assert!(!h.contains("2026"));
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_pin(&h, "2026"));
        assert!(!verify_pin(&h, "2027"));
        assert!(!verify_pin("not a hash", "2026"));
        assert!(hash_pin("12").is_err());
        assert!(hash_pin("12ab").is_err());
        assert!(hash_pin("1234567890123").is_err());
    }

    #[test]
    fn lockouts_grow_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin-gate.json");
        let mut g = PinGate::load(&path);
        for i in 0..MAX_FAILURES - 1 {
            g.failed(1000 + i64::from(i));
            assert_eq!(g.locked_for(1010), None);
        }
        g.failed(2000);
        assert_eq!(g.locked_for(2000), Some(60));
        assert_eq!(g.locked_for(2000 + 59_500), Some(1));
        g.save(&path).unwrap();
        // Switched off and on: still locked.
        let mut g = PinGate::load(&path);
        assert_eq!(g.locked_for(3000), Some(59));
        let t = 2000 + LOCKOUTS_MS[0];
        assert_eq!(g.locked_for(t), None);
        // The next five wrong: five minutes; the next: an hour, and no more.
        for _ in 0..MAX_FAILURES {
            g.failed(t);
        }
        assert_eq!(g.locked_for(t), Some(300));
        let t = t + LOCKOUTS_MS[1];
        for _ in 0..MAX_FAILURES {
            g.failed(t);
        }
        assert_eq!(g.locked_for(t), Some(3600));
        let t = t + LOCKOUTS_MS[2];
        for _ in 0..MAX_FAILURES {
            g.failed(t);
        }
        assert_eq!(g.locked_for(t), Some(3600));
        // A clock set back a year does not lock it for a year.
        assert_eq!(g.locked_for(t - 365 * 86_400_000), Some(3600));
        g.succeeded();
        assert_eq!(g, PinGate::default());
        // A corrupt file is a fresh gate, not a crash.
        std::fs::write(&path, b"\xff{").unwrap();
        assert_eq!(PinGate::load(&path), PinGate::default());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            g.save(&path).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
