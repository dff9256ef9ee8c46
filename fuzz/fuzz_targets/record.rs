//! Record bodies from a kiosk of any version: they decode or fail, and what decodes writes
//! back to JSON that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::RecordBody;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut body) = serde_json::from_slice::<RecordBody>(data) {
        body.clamp_durations();
        let json = serde_json::to_string(&body).unwrap();
        let back: RecordBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, body);
    }
    let _ = serde_json::from_slice::<protocol::Record>(data);
});
