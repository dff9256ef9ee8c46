//! A keyboard-wedge badge reader types anything: the parser and the keystroke buffer answer.
#![no_main]

use kiosk_core::badge::{ScanBuffer, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse(&text);
    let mut buffer = ScanBuffer::new();
    for (i, c) in text.chars().enumerate() {
        let now = i as u64 * 7;
        if c == '\n' {
            if let Some(done) = buffer.push_enter(now) {
                assert!(done.text.chars().count() <= kiosk_core::badge::MAX_SCAN_CHARS);
                let _ = done.scan();
            }
        } else {
            buffer.push_char(c, now);
        }
    }
});
