//! Property tests of the badge scanner: whatever a keyboard-wedge reader types (a vCard, a
//! MeCard, a code, or noise), parsing answers without panicking, in bounded time, and the
//! buffer that collects keystrokes stays bounded.

use kiosk_core::badge::{ScanBuffer, parse};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

/// Pieces a badge is made of, shuffled into inputs more likely to reach deep branches than
/// random text alone.
fn badge_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("BEGIN:VCARD\r\n".to_owned()),
        Just("VERSION:4.0\r\n".to_owned()),
        Just("END:VCARD\r\n".to_owned()),
        Just("MECARD:".to_owned()),
        Just("FN:".to_owned()),
        Just("N:".to_owned()),
        Just("EMAIL;TYPE=work:".to_owned()),
        Just("TEL;VALUE=uri:tel:".to_owned()),
        Just("ORG:".to_owned()),
        Just(";;".to_owned()),
        Just("\\n".to_owned()),
        Just("\r\n ".to_owned()),
        "\\PC{0,40}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_parses_or_is_unreadable(s in "\\PC{0,4000}") {
        let started = std::time::Instant::now();
        let _ = parse(&s);
        prop_assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn badge_like_text_parses_or_is_unreadable(s in badge_like()) {
        let started = std::time::Instant::now();
        let _ = parse(&s);
        prop_assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn keystrokes_of_any_length_keep_the_buffer_bounded(
        keys in proptest::collection::vec((any::<char>(), any::<bool>(), 0u64..400), 0..3000)
    ) {
        let mut buffer = ScanBuffer::new();
        let mut now = 0u64;
        for (c, enter, gap) in keys {
            now += gap;
            if enter {
                if let Some(done) = buffer.push_enter(now) {
                    prop_assert!(done.text.chars().count() <= kiosk_core::badge::MAX_SCAN_CHARS);
                    let _ = done.scan();
                }
            } else {
                buffer.push_char(c, now);
            }
        }
    }
}
