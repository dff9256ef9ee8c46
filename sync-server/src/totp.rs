//! The optional second factor of staff sign-in: time-based one-time codes (RFC 6238: SHA-1,
//! six digits, 30-second steps, one step of clock drift either way) that any authenticator app
//! reads from a QR code. Codes are computed by `totp-rs`; which step a code belongs to is
//! found here, so that storage can take each step once.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds a code lives.
pub const STEP_S: u64 = 30;

/// A new secret: 160 random bits (RFC 4226's recommendation), base32 as apps show it.
pub fn new_secret() -> String {
    match Secret::Raw(rand::random::<[u8; 20]>().to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded gives an encoded secret"),
    }
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_S, bytes).ok()
}

/// Whether `secret` is one this module made or an app could use (base32, 128 bits or more).
pub fn valid_secret(secret: &str) -> bool {
    totp(secret).is_some()
}

/// The code of `secret` at Unix second `at` (for tests and for showing the current one).
pub fn code_at(secret: &str, at: u64) -> Option<String> {
    totp(secret).map(|t| t.generate(at))
}

/// The 30-second step `code` belongs to at Unix second `now` (the current step or one either
/// side), or None when it is not a code of `secret` now.
pub fn matching_step(secret: &str, code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret)?;
    let step = now / STEP_S;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| {
            let want = t.generate(s * STEP_S);
            crate::store::same_hash(&want, &code)
        })
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_uri(secret: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| crate::http::staff::html::urlencode(s);
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={STEP_S}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The secret in groups of four, as a person types it into an app.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let secret = new_secret();
        assert!(valid_secret(&secret));
        assert_eq!(secret.len(), 32);
        let now = 1_795_000_000;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now), Some(now / STEP_S));
        assert_eq!(
            matching_step(&secret, &code, now + STEP_S),
            Some(now / STEP_S),
            "a step late"
        );
        assert_eq!(
            matching_step(&secret, &code, now + 3 * STEP_S),
            None,
            "too late"
        );
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(&secret, &spaced, now), Some(now / STEP_S));
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(matching_step(&secret, bad, now), None, "{bad}");
        }
        assert!(!valid_secret("not base32!"));
        assert_eq!(matching_step("short", &code, now), None);
    }

    #[test]
    fn the_rfc_6238_test_vector() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890", SHA-1, at 59 s.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).unwrap(), "081804");
    }

    #[test]
    fn the_address_names_the_issuer_and_account() {
        let uri = otpauth_uri("JBSWY3DPEHPK3PXP", "promo-kiosk Đồng Nai", "a@dn.example");
        assert!(uri.starts_with("otpauth://totp/promo-kiosk%20"), "{uri}");
        assert!(
            uri.contains("secret=JBSWY3DPEHPK3PXP") && uri.contains("a%40dn.example"),
            "{uri}"
        );
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
    }
}
