//! The server as a systemd service: the test plays systemd's side (its own `NOTIFY_SOCKET`,
//! `WATCHDOG_USEC`, then SIGTERM) against the real `sync-server serve` binary.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use e2e::{ServerProcess, TestServer, enrol_on, fill_store, store_records};
use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig};

/// Reads every notification as systemd does, at once (an unread socket fills and blocks its
/// sender), and hands them over in order.
fn listen(socket: UnixDatagram) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).trim_end().to_owned();
            if tx.send(m).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next notification, or `None` after `within`.
fn next(heard: &std::sync::mpsc::Receiver<String>, within: Duration) -> Option<String> {
    heard.recv_timeout(within).ok()
}

#[test]
fn server_watchdog_ready_pings_and_sigterm_mid_push_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let notify_path = dir.path().join("notify.sock");
    let socket = listen(UnixDatagram::bind(&notify_path).unwrap());
    let mut server = ServerProcess::spawn_with(
        &data,
        None,
        &[
            ("NOTIFY_SOCKET", notify_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "600000"),
        ],
    );

    // READY once it listens, then a ping every 200 ms (a third of the allowance).
    assert_eq!(
        next(&socket, Duration::from_secs(10)).as_deref(),
        Some("READY=1")
    );
    let start = Instant::now();
    let mut pings = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        if next(&socket, Duration::from_millis(600)).as_deref() == Some("WATCHDOG=1") {
            pings += 1;
        }
    }
    assert!((4..=10).contains(&pings), "{pings} watchdog pings in 1.5 s");

    // A kiosk with a big backlog pushes; systemd stops the server in the middle of it.
    let storage = sync_server::open_state(sync_server::config::ServerConfig {
        data_dir: data.clone(),
        ..Default::default()
    })
    .unwrap()
    .storage;
    let kiosk_dir = tempfile::tempdir().unwrap();
    let store_path = kiosk_dir.path().join("kiosk.sqlite");
    let identity = enrol_on(storage.as_ref(), &store_path, &server.url());
    let clock = Clock::system();
    let mut store = Store::open(&store_path).unwrap();
    fill_store(&mut store, &clock, 0, 150_000);
    let config = SyncConfig {
        batch_records: 1_000,
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let pushing = {
        let (identity, clock, config) = (identity.clone(), clock.clone(), config.clone());
        std::thread::spawn(move || {
            let rt = kiosk_core::runtime().unwrap();
            let mut client = SyncClient::new(identity, clock, config).unwrap();
            let result = rt.block_on(client.round(&mut store));
            (result.map_err(|e| e.to_string()), store)
        })
    };
    // Wait until the first batches are in, so that SIGTERM lands mid-round.
    let begun = Instant::now();
    loop {
        let acked = Store::open(&store_path).unwrap().acked_seq().unwrap();
        if acked >= 4_000 {
            break;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(60),
            "no batch acknowledged"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = server
        .terminate(Duration::from_secs(15))
        .expect("the server stops within 15 s of SIGTERM");
    assert!(status.success(), "exit after SIGTERM: {status}");
    let mut said = Vec::new();
    while let Some(m) = next(&socket, Duration::from_millis(200)) {
        said.push(m);
    }
    assert!(said.iter().any(|m| m == "STOPPING=1"), "{said:?}");
    let (result, mut store) = pushing.join().unwrap();
    let acked_at_stop = store.acked_seq().unwrap();
    assert!(acked_at_stop >= 4_000, "{result:?}");
    eprintln!("at SIGTERM: {acked_at_stop} of 150000 acknowledged; the round: {result:?}");

    // The server comes back: the rest arrives, and every record is there exactly once.
    let server = TestServer::start(&data);
    let mut client = SyncClient::new(
        kiosk_core::store::Identity {
            server_url: server.url(),
            ..identity.clone()
        },
        clock.clone(),
        config,
    )
    .unwrap();
    let rt = kiosk_core::runtime().unwrap();
    rt.block_on(client.round(&mut store)).unwrap();
    assert_eq!(store.backlog().unwrap(), 0);
    assert_eq!(
        server.records_of(identity.kiosk_id),
        store_records(&store),
        "the server holds each record once, gap-free"
    );
    assert_eq!(server.records_of(identity.kiosk_id).len(), 150_000);
}
