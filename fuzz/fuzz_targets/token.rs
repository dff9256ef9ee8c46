//! A phone opens any URL: the token parser answers, and only the right key verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::token::QrToken;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = QrToken::peek(&text) {
        // Whatever peeks, re-signing it with a key makes a token that verifies with that key.
        if let Ok(s) = t.sign(b"fuzz key") {
            assert_eq!(QrToken::verify(&s, b"fuzz key").unwrap(), t);
        }
    }
    let _ = QrToken::verify(&text, b"fuzz key");
});
