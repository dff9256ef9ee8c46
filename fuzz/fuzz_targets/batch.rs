//! A push body of any shape, as the server reads it (the envelope typed, each body kept raw),
//! and as the kiosk's own wire type.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = serde_json::from_slice::<sync_server::storage::IncomingBatch>(data) {
        for r in &batch.records {
            let _ = serde_json::from_str::<protocol::RecordBody>(r.body.get());
        }
    }
    let _ = serde_json::from_slice::<protocol::sync::PushBatch>(data);
});
