//! How contacts are checked, compared and named: one rule for the kiosk form, the badge
//! parser, the phone form and a person's request for their data.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How many digits a phone number has, at least and at most.
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 6..=20;

/// `local@domain.tld`: one `@`, a non-empty local part, a dot inside the domain, no
/// whitespace.
pub fn plausible_email(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

/// 6–20 ASCII digits, and otherwise only `+ ( ) - .` and spaces.
pub fn plausible_phone(s: &str) -> bool {
    let mut digits = 0usize;
    for c in s.chars() {
        match c {
            '0'..='9' => digits += 1,
            '+' | '(' | ')' | '-' | '.' | ' ' => {}
            _ => return false,
        }
    }
    PHONE_DIGITS.contains(&digits)
}

/// A lead id derived from what names the lead (`|`-joined): the same parts give the same id,
/// so the same visitor sending the same contact again updates their lead instead of adding
/// one. The badge parser uses `["badge", event, who]`, the phone form `[code nonce, who]`.
pub fn derived_lead_id(parts: &[&str]) -> Uuid {
    let digest = Sha256::digest(parts.join("|").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The email as compared: trimmed, lower case. `None` when it is not an address at all.
pub fn email_key(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then_some(e)
}

/// The phone number as compared: its digits with the country code. `+84 912 345 678`,
/// `0084-912-345-678` and `(+84) 912.345.678` are one number. A national number with a
/// leading 0 (`0912 345 678`) is read as Vietnamese (country code 84), where the kiosks
/// stand. `None` for fewer than 6 digits: not a number anyone can be found by.
pub fn phone_key(phone: &str) -> Option<String> {
    let t = phone.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let international = t.trim_start_matches('(').trim_start().starts_with('+');
    let key = if international {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("84{rest}")
    } else {
        digits
    };
    (key.len() >= 6).then_some(key)
}

/// What a person's request names: an email (it has an `@`) or a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    Email(String),
    Phone(String),
}

impl PersonKey {
    pub fn parse(s: &str) -> Option<PersonKey> {
        if s.contains('@') {
            email_key(s).map(PersonKey::Email)
        } else {
            phone_key(s).map(PersonKey::Phone)
        }
    }

    /// Whether a contact's email or phone is this person's (exactly, after normalising).
    pub fn matches(&self, email: &str, phone: &str) -> bool {
        match self {
            PersonKey::Email(e) => email_key(email).as_ref() == Some(e),
            PersonKey::Phone(p) => phone_key(phone).as_ref() == Some(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_emails_and_phones() {
        for ok in ["minji@example.kr", "a.b+c@mail.co.jp"] {
            assert!(plausible_email(ok), "{ok}");
        }
        for bad in [
            "minji@",
            "@example.kr",
            "minji example@kr.com",
            "a@b@c.com",
            "a@.com",
            "a@com.",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
        for ok in ["+84 912 345 678", "(+84) 912.345.678", "123456"] {
            assert!(plausible_phone(ok), "{ok}");
        }
        for bad in [
            "12345",
            "+84 912 345 678 ext 2",
            "123456789012345678901",
            "phone",
        ] {
            assert!(!plausible_phone(bad), "{bad}");
        }
    }

    #[test]
    fn derived_lead_ids_are_stable_and_distinct() {
        let a = derived_lead_id(&["badge", "fair", "minji@example.kr"]);
        assert_eq!(a, derived_lead_id(&["badge", "fair", "minji@example.kr"]));
        assert_ne!(a, derived_lead_id(&["badge", "other", "minji@example.kr"]));
        // The ids leads already have: SHA-256 of the joined parts, as random-version bytes.
        let digest = Sha256::digest(b"badge|fair|minji@example.kr");
        let old = uuid::Builder::from_random_bytes(digest[..16].try_into().unwrap()).into_uuid();
        assert_eq!(a, old);
    }

    #[test]
    fn phones_are_digits_with_the_country_code() {
        for same in [
            "+84 912 345 678",
            "0084-912-345-678",
            "(+84) 912.345.678",
            "0912345678",
        ] {
            assert_eq!(phone_key(same).as_deref(), Some("84912345678"), "{same}");
        }
        assert_eq!(
            phone_key("+82 10-1234-5678").as_deref(),
            Some("821012345678")
        );
        assert_eq!(phone_key("123"), None);
        assert_eq!(phone_key("call me"), None);
    }

    #[test]
    fn a_request_matches_exactly_and_never_across_kinds() {
        let by_email = PersonKey::parse(" Minji@Example.KR ").unwrap();
        assert!(by_email.matches("minji@example.kr", ""));
        assert!(!by_email.matches("xminji@example.kr", ""));
        // An email's digits are not a phone number.
        let digits = PersonKey::parse("12345678@example.kr").unwrap();
        assert!(!digits.matches("", "+84 12345678"));
        let by_phone = PersonKey::parse("+84 912 345 678").unwrap();
        assert!(by_phone.matches("", "0912-345-678"));
        assert!(
            !by_phone.matches("", "+84 1912 345 678"),
            "a suffix is not a match"
        );
        assert!(!by_phone.matches("84912345678@x.vn", ""));
        assert_eq!(PersonKey::parse("@"), None);
    }
}
