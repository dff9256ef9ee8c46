//! Property tests of the decoders that read what the network sends: whatever the bytes, they
//! answer (a value or an error) without panicking, quickly, and a token only verifies with
//! the key that signed it.

use proptest::prelude::*;
use protocol::token::QrToken;

fn quick() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

/// Bounded time: each decode of an input of at most a few kB takes far less than this.
const BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

proptest! {
    #![proptest_config(quick())]

    #[test]
    fn any_string_is_a_token_or_an_error(s in ".{0,600}") {
        let started = std::time::Instant::now();
        let _ = QrToken::peek(&s);
        let _ = QrToken::verify(&s, b"key");
        prop_assert!(started.elapsed() < BUDGET);
    }

    #[test]
    fn any_base64url_is_a_token_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine;
        let s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        let _ = QrToken::peek(&s);
        // Without the key that made a tag, no bytes verify.
        prop_assert!(QrToken::verify(&s, b"key").is_err());
    }

    #[test]
    fn a_signed_token_round_trips_and_no_other_key_verifies_it(
        event in "[a-z0-9-]{0,64}",
        item in "\\PC{0,20}",
        lang in "[a-zA-Z-]{0,16}",
        issued_s: u32,
        clock_ok: bool,
        nonce: [u8; 8],
        key in proptest::collection::vec(any::<u8>(), 1..64),
        other in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let t = QrToken { kiosk_id: uuid::Uuid::now_v7(), issued_s, clock_ok, nonce, event, item, lang };
        if let Ok(s) = t.sign(&key) {
            prop_assert_eq!(QrToken::verify(&s, &key).unwrap(), t.clone());
            if other != key {
                prop_assert!(QrToken::verify(&s, &other).is_err());
            }
        }
    }

    #[test]
    fn any_json_is_a_record_or_an_error(s in "\\PC{0,2000}") {
        let started = std::time::Instant::now();
        let _ = serde_json::from_str::<protocol::Record>(&s);
        let _ = serde_json::from_str::<protocol::RecordBody>(&s);
        let _ = serde_json::from_str::<protocol::sync::PushBatch>(&s);
        prop_assert!(started.elapsed() < BUDGET);
    }

    #[test]
    fn record_bodies_with_any_enum_values_are_read_and_written_back(
        origin in "[a-z_]{1,20}",
        source in "[a-z_]{1,20}",
        dwell: u64,
    ) {
        let view = format!(r#"{{"kind":"view","item":"a","lang":"ko","dwell_ms":{dwell},"origin":"{origin}"}}"#);
        let mut body: protocol::RecordBody = serde_json::from_str(&view).unwrap();
        body.clamp_durations();
        let protocol::RecordBody::View { origin: o, dwell_ms, .. } = &body else { panic!() };
        prop_assert_eq!(o.as_str(), origin.as_str());
        prop_assert!(*dwell_ms <= protocol::record::MAX_DURATION_MS);
        let lead = format!(r#"{{"kind":"lead","lead_id":"019ac1f2-7c3e-7a10-9b2e-4f1d2c3b4a59","contact":{{}},"source":"{source}"}}"#);
        let body: protocol::RecordBody = serde_json::from_str(&lead).unwrap();
        let back = serde_json::to_string(&body).unwrap();
        let want = format!("\"source\":\"{source}\"");
        prop_assert!(back.contains(&want), "{}", back);
    }

    #[test]
    fn person_keys_never_match_across_kinds(digits in "[0-9]{6,14}", local in "[a-z]{1,8}") {
        use protocol::contact::PersonKey;
        let email = format!("{local}{digits}@example.kr");
        let by_email = PersonKey::parse(&email).unwrap();
        let plus = format!("+{digits}");
        let zeros = format!("00{digits}");
        let longer = format!("+1{digits}");
        prop_assert!(!by_email.matches("", &digits));
        prop_assert!(!by_email.matches("", &plus));
        let by_phone = PersonKey::parse(&plus).unwrap();
        prop_assert!(!by_phone.matches(&email, ""));
        prop_assert!(by_phone.matches("", &zeros));
        prop_assert!(!by_phone.matches("", &longer), "a longer number is another one");
    }
}
