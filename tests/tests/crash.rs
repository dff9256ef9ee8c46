//! `kill -9` of a kiosk in the middle of pushing, then a restart: nothing lost or doubled.

use std::process::Command;
use std::time::{Duration, Instant};

use e2e::{Backend, TestServer, enrol_store, on_both_backends, store_records};
use kiosk_core::store::Store;

on_both_backends!(kill_dash_nine_mid_push_then_restart_loses_and_doubles_nothing);
fn kill_dash_nine_mid_push_then_restart_loses_and_doubles_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = enrol_store(&server, &store_path, &server.url());
    let bin = env!("CARGO_BIN_EXE_kiosk_sim");
    for round in 0..3 {
        let mut child = Command::new(bin)
            .arg(&store_path)
            .arg("100000")
            .spawn()
            .unwrap();
        // Kill it at a different point of its stream each time.
        let target = 300 + round * 700;
        let start = Instant::now();
        while server.records_of(identity.kiosk_id).len() < target {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "kiosk_sim made no progress"
            );
            std::thread::sleep(Duration::from_millis(5 + round as u64 * 7));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    // Restart: drain only.
    let status = Command::new(bin)
        .arg(&store_path)
        .arg("0")
        .status()
        .unwrap();
    assert!(status.success());
    let store = Store::open(&store_path).unwrap();
    let kiosk = store_records(&store);
    let server_side = server.records_of(identity.kiosk_id);
    assert!(kiosk.len() >= 1_700, "{} records", kiosk.len());
    assert_eq!(
        server_side, kiosk,
        "the server holds every record the kiosk made, once"
    );
    // Gap-free: sequence numbers 1..=n.
    assert!(
        kiosk
            .iter()
            .enumerate()
            .all(|(i, (seq, _))| *seq == i as u64 + 1)
    );
}
