//! The staff PIN that opens the kiosk's staff overlay: stored only as an argon2 hash, checked
//! off the render thread, with a lockout after repeated wrong attempts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Wrong attempts before the PIN pad locks.
pub const MAX_FAILURES: u32 = 5;
/// How long it stays locked.
pub const LOCKOUT_MS: u64 = 60_000;

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

/// Counts wrong attempts and locks the pad for a while after too many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinGate {
    failures: u32,
    locked_until_ms: Option<u64>,
}

impl PinGate {
    /// Seconds left of a lockout, or None when a PIN may be tried.
    pub fn locked_for(&self, now_ms: u64) -> Option<u64> {
        self.locked_until_ms
            .filter(|&until| until > now_ms)
            .map(|until| (until - now_ms).div_ceil(1000))
    }

    pub fn failed(&mut self, now_ms: u64) {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            self.failures = 0;
            self.locked_until_ms = Some(now_ms + LOCKOUT_MS);
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
    fn five_wrong_attempts_lock_the_pad_for_a_minute() {
        let mut g = PinGate::default();
        for i in 0..MAX_FAILURES - 1 {
            g.failed(1000 + u64::from(i));
            assert_eq!(g.locked_for(1010), None);
        }
        g.failed(2000);
        assert_eq!(g.locked_for(2000), Some(60));
        assert_eq!(g.locked_for(2000 + 59_500), Some(1));
        assert_eq!(g.locked_for(2000 + LOCKOUT_MS), None);
        g.failed(70_000);
        g.succeeded();
        assert_eq!(g, PinGate::default());
    }
}
