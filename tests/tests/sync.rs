//! Every record lands on the server exactly once, whatever the network, a crash or a restore
//! does: the real server on loopback, the real kiosk store and sync client.

use std::time::{Duration, Instant};

use e2e::proxy::{DEFAULT_SCHEDULE, FaultProxy};
use e2e::{
    Backend, RowExt, Table, TestServer, enrol_store, fill_store, on_both_backends, store_records,
};
use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig, SyncError};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn fast_config() -> SyncConfig {
    SyncConfig {
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

/// A server on loopback and an enrolled, empty kiosk store.
struct Setup {
    dir: tempfile::TempDir,
    server: TestServer,
    rt: tokio::runtime::Runtime,
    identity: kiosk_core::store::Identity,
    store: Store,
    clock: Clock,
}

fn setup(backend: Backend) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = enrol_store(&server, &store_path, &server.url());
    let store = Store::open(&store_path).unwrap();
    Setup {
        dir,
        server,
        rt: rt(),
        identity,
        store,
        clock: Clock::system(),
    }
}

/// Runs rounds until the server has every record, retrying through faults.
async fn drain(client: &mut SyncClient, store: &mut Store, deadline: Duration) -> u32 {
    let start = Instant::now();
    let mut failures = 0;
    loop {
        assert!(start.elapsed() < deadline, "did not drain in {deadline:?}");
        match client.round(store).await {
            Ok(_) if store.backlog().unwrap() == 0 => return failures,
            Ok(_) => {}
            Err(e) => {
                assert!(!e.is_permanent(), "permanent error: {e}");
                failures += 1;
            }
        }
    }
}

#[test]
fn hundred_thousand_records_through_a_faulty_network_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let store_path = dir.path().join("kiosk.sqlite");
    let rt = rt();
    let proxy = rt.block_on(FaultProxy::start(server.addr, 0x5eed, &DEFAULT_SCHEDULE));
    let identity = enrol_store(&server, &store_path, &server.url());
    let mut store = Store::open(&store_path).unwrap();
    let clock = Clock::system();
    fill_store(&mut store, &clock, 0, 100_000);

    let mut identity_via_proxy = identity.clone();
    identity_via_proxy.server_url = proxy.url();
    // Small batches: hundreds of requests, so that every kind of fault happens many times.
    let config = SyncConfig {
        batch_records: 400,
        ..fast_config()
    };
    let mut client = SyncClient::new(identity_via_proxy, clock, config).unwrap();
    let failures = rt.block_on(drain(&mut client, &mut store, Duration::from_secs(240)));

    let faults = proxy.fault_counts();
    eprintln!("failures={failures} faults={faults:?}");
    for f in [
        "Duplicate",
        "DropMidResponse",
        "DropMidRequest",
        "Answer413",
        "Answer503",
        "Reset",
    ] {
        assert!(
            faults.get(f).copied().unwrap_or(0) >= 5,
            "schedule injected {f} fewer than 5 times"
        );
    }
    let server_records = server.records_of(identity.kiosk_id);
    let kiosk_records = store_records(&store);
    assert_eq!(server_records.len(), 100_000);
    assert_eq!(
        server_records, kiosk_records,
        "record by record, same seq and id"
    );
    // Leads lost their personal fields on the kiosk once acknowledged.
    assert_eq!(store.personal_records().unwrap(), 0);
}

#[test]
fn server_restart_and_restore_from_an_older_backup_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    let store_path = dir.path().join("kiosk.sqlite");
    let rt = rt();
    let server = TestServer::start(&server_dir);
    let identity = enrol_store(&server, &store_path, &server.url());
    let mut store = Store::open(&store_path).unwrap();
    let clock = Clock::system();

    fill_store(&mut store, &clock, 0, 3_000);
    let mut client = SyncClient::new(identity.clone(), clock.clone(), fast_config()).unwrap();
    rt.block_on(drain(&mut client, &mut store, Duration::from_secs(60)));
    // `sync-server backup` while the kiosk pushes the next 4,000 records.
    let backup = dir.path().join("backup");
    fill_store(&mut store, &clock, 3_000, 4_000);
    std::thread::scope(|s| {
        let taker = s.spawn(|| {
            let start = Instant::now();
            while server
                .storage()
                .count_records(Some(identity.kiosk_id))
                .unwrap()
                <= 3_000
                && start.elapsed() < Duration::from_secs(20)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            server.backup_to(&backup);
        });
        rt.block_on(drain(&mut client, &mut store, Duration::from_secs(60)));
        taker.join().unwrap();
    });
    assert_eq!(server.records_of(identity.kiosk_id).len(), 7_000);

    // Restart: same database, new port.
    server.stop();
    let server = TestServer::start(&server_dir);
    fill_store(&mut store, &clock, 7_000, 1_000);
    let mut moved = identity.clone();
    moved.server_url = server.url();
    let mut client = SyncClient::new(moved.clone(), clock.clone(), fast_config()).unwrap();
    rt.block_on(drain(&mut client, &mut store, Duration::from_secs(60)));
    assert_eq!(server.records_of(identity.kiosk_id).len(), 8_000);

    // `sync-server restore` from the backup taken mid-push: the kiosk sends the rest again.
    server.stop();
    let config = sync_server::ServerConfig {
        data_dir: server_dir.clone(),
        ..Default::default()
    };
    sync_server::backup::restore(&config, &backup).unwrap();
    let server = TestServer::start(&server_dir);
    let restored = server.records_of(identity.kiosk_id);
    assert!(
        restored.len() >= 3_000 && restored.len() <= 7_000,
        "{} records in the backup",
        restored.len()
    );
    assert_eq!(
        restored[..],
        store_records(&store)[..restored.len()],
        "the backup holds whole pushes: records 1 to {}",
        restored.len()
    );
    moved.server_url = server.url();
    let mut client = SyncClient::new(moved, clock.clone(), fast_config()).unwrap();
    fill_store(&mut store, &clock, 8_000, 500);
    rt.block_on(drain(&mut client, &mut store, Duration::from_secs(60)));
    assert_eq!(server.records_of(identity.kiosk_id), store_records(&store));
    assert_eq!(store_records(&store).len(), 8_500);

    // A damaged backup is refused, and the server's database is left as it was.
    server.stop();
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(backup.join("backup.toml"), bad.join("backup.toml")).unwrap();
    std::fs::write(
        bad.join("server.sqlite"),
        b"not a database, cut short by a full disk",
    )
    .unwrap();
    assert!(sync_server::backup::restore(&config, &bad).is_err());
    let server = TestServer::start(&server_dir);
    assert_eq!(server.records_of(identity.kiosk_id).len(), 8_500);
}

on_both_backends!(a_revoked_kiosk_gets_401_and_keeps_its_records);
fn a_revoked_kiosk_gets_401_and_keeps_its_records(backend: Backend) {
    let Setup {
        dir: _dir,
        server,
        rt,
        identity,
        mut store,
        clock,
        ..
    } = setup(backend);
    fill_store(&mut store, &clock, 0, 10);
    server
        .storage()
        .revoke_kiosk(identity.kiosk_id, protocol::now_ms())
        .unwrap();
    let mut client = SyncClient::new(identity, clock, fast_config()).unwrap();
    let err = rt.block_on(client.round(&mut store)).unwrap_err();
    assert!(matches!(err, SyncError::Revoked), "{err}");
    assert!(err.is_permanent());
    assert_eq!(store.backlog().unwrap(), 10);
    assert_eq!(store.personal_records().unwrap(), 1);
}

on_both_backends!(an_enrolment_code_works_once);
fn an_enrolment_code_works_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let k = server
        .storage()
        .create_kiosk("hall A", None, protocol::now_ms())
        .unwrap();
    let rt = rt();
    let mut a = Store::open(&dir.path().join("a.sqlite")).unwrap();
    let mut b = Store::open(&dir.path().join("b.sqlite")).unwrap();
    let lower = k.code.to_lowercase().replace('-', " ");
    let id = rt
        .block_on(kiosk_core::sync::enrol(
            &mut a,
            &server.url(),
            &lower,
            false,
            None,
        ))
        .unwrap();
    assert_eq!(id.kiosk_id, k.uuid);
    assert_eq!(id.token_key.len(), 32);
    let again = rt.block_on(kiosk_core::sync::enrol(
        &mut b,
        &server.url(),
        &k.code,
        false,
        None,
    ));
    assert!(
        matches!(again, Err(SyncError::Server { status: 403, .. })),
        "{again:?}"
    );
}

on_both_backends!(records_from_a_kiosk_that_booted_at_1970_or_a_year_ahead_are_dated_right);
fn records_from_a_kiosk_that_booted_at_1970_or_a_year_ahead_are_dated_right(backend: Backend) {
    for skew in [-protocol::now_ms(), 365 * 24 * 3600 * 1000] {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_on(&dir.path().join("server"), backend);
        let store_path = dir.path().join("kiosk.sqlite");
        let rt = rt();
        let identity = enrol_store(&server, &store_path, &server.url());
        let mut store = Store::open(&store_path).unwrap();
        let clock = Clock::new(uuid::Uuid::now_v7(), 5_000, skew);
        // Before the kiosk has talked to the server in this boot.
        fill_store(&mut store, &clock, 0, 20);
        assert!(!store.all().unwrap()[0].stamp.clock_ok);
        std::thread::sleep(Duration::from_millis(300));
        let mut client = SyncClient::new(identity.clone(), clock.clone(), fast_config()).unwrap();
        rt.block_on(drain(&mut client, &mut store, Duration::from_secs(30)));
        // After.
        fill_store(&mut store, &clock, 20, 20);
        assert!(store.all().unwrap()[25].stamp.clock_ok);
        rt.block_on(drain(&mut client, &mut store, Duration::from_secs(30)));

        let rows: Vec<(i64, i64, i64, String)> = server
            .rows(Table::Records)
            .iter()
            .map(|r| {
                (
                    r.int("wall_ms"),
                    r.int("corrected_ms"),
                    r.int("received_ms"),
                    r.text("time_quality").to_owned(),
                )
            })
            .collect();
        assert_eq!(rows.len(), 40);
        for (i, (wall, corrected, received, quality)) in rows.iter().enumerate() {
            assert_eq!(quality, "boot");
            assert!(
                (wall - received).abs() > 3_600_000,
                "the kiosk clock was wrong"
            );
            assert!(corrected <= received, "record {i} dated after it arrived");
            assert!(
                received - corrected < 5_000,
                "record {i}: corrected {corrected}, received {received}"
            );
        }
        // Records made before contact are dated before the first contact.
        assert!(rows[0].1 <= rows[19].1 && rows[19].1 <= rows[20].1);
    }
}

on_both_backends!(a_hostile_push_gets_a_clear_error_and_loses_nothing);
fn a_hostile_push_gets_a_clear_error_and_loses_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let store_path = dir.path().join("kiosk.sqlite");
    let rt = rt();
    let identity = enrol_store(&server, &store_path, &server.url());
    let http = reqwest::Client::new();
    let auth = protocol::sync::bearer(identity.kiosk_id, &identity.secret);
    let url = format!("{}/api/v1/sync/push", server.url());
    rt.block_on(async {
        // Not JSON.
        let r = http.post(&url).header("authorization", &auth).body("{{{").send().await.unwrap();
        assert_eq!(r.status(), 400);
        // A zstd bomb: 100 MB of zeros compressed to a few kB.
        let bomb = zstd::bulk::compress(&vec![b' '; 100 << 20], 19).unwrap();
        let r = http
            .post(&url)
            .header("authorization", &auth)
            .header("content-encoding", "zstd")
            .body(bomb)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        // A record claiming to come from another kiosk.
        let body = serde_json::json!({"clock": {"boot_id": uuid::Uuid::now_v7(), "mono_ms": 1, "wall_ms": 1},
            "records": [{"id": uuid::Uuid::now_v7(), "kiosk_id": uuid::Uuid::now_v7(), "seq": 1, "wall_ms": 1,
            "boot_id": uuid::Uuid::now_v7(), "mono_ms": 1, "body": {"kind": "interaction", "target": "x"}}]});
        let r = http.post(&url).header("authorization", &auth).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 400);
        // No credentials.
        let r = http.post(&url).body("{}").send().await.unwrap();
        assert_eq!(r.status(), 401);
    });
    // Nothing was stored, and a real push still works.
    assert_eq!(server.records_of(identity.kiosk_id).len(), 0);
    let mut store = Store::open(&store_path).unwrap();
    fill_store(&mut store, &Clock::system(), 0, 100);
    let mut client = SyncClient::new(identity.clone(), Clock::system(), fast_config()).unwrap();
    rt.block_on(drain(&mut client, &mut store, Duration::from_secs(30)));
    assert_eq!(server.records_of(identity.kiosk_id).len(), 100);
}

on_both_backends!(an_erased_lead_is_not_restored_by_a_re_upload_and_the_erasure_reaches_the_kiosk);
fn an_erased_lead_is_not_restored_by_a_re_upload_and_the_erasure_reaches_the_kiosk(
    backend: Backend,
) {
    let Setup {
        dir: _dir,
        server,
        rt,
        identity,
        mut store,
        clock,
        ..
    } = setup(backend);
    fill_store(&mut store, &clock, 0, 1); // record 0 is a lead
    let lead_id = match &store.all().unwrap()[0].body {
        protocol::RecordBody::Lead(l) => l.lead_id,
        other => panic!("{other:?}"),
    };
    // Staff erase it on the server before the kiosk uploads (e.g. the ack was lost before).
    server
        .storage()
        .erase_lead(lead_id, protocol::now_ms())
        .unwrap();
    let mut client = SyncClient::new(identity, clock, fast_config()).unwrap();
    rt.block_on(drain(&mut client, &mut store, Duration::from_secs(30)));
    let leads = server.rows_where(Table::Leads, |r| r.uuid("lead_id") == lead_id);
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0].text("email"), "");
    assert!(leads[0].opt_int("erased_ms").is_some());
    let raw = server.rows_where(Table::Records, |r| r.text("kind") == "lead");
    assert_eq!(raw.len(), 1);
    let raw = raw[0].text("body");
    assert!(
        !raw.contains("@example"),
        "the raw record kept personal data: {raw}"
    );
    assert_eq!(store.personal_records().unwrap(), 0);
}

on_both_backends!(an_answer_lost_after_the_last_commit_is_acknowledged_by_the_next_round);
fn an_answer_lost_after_the_last_commit_is_acknowledged_by_the_next_round(backend: Backend) {
    let Setup {
        dir: _dir,
        server,
        rt,
        identity,
        mut store,
        clock,
        ..
    } = setup(backend);
    fill_store(&mut store, &clock, 0, 50); // record 0 is a lead
    // The batch is committed, but its answer never reaches the store (the kiosk lost it,
    // or was killed before it could record it).
    let client = SyncClient::new(identity.clone(), clock.clone(), fast_config()).unwrap();
    let batch = protocol::sync::PushBatch {
        clock: clock.protocol_sample(),
        pruned_below: 0,
        records: store
            .all()
            .unwrap()
            .into_iter()
            .map(|s| s.into_record(identity.kiosk_id))
            .collect(),
    };
    rt.block_on(client.push(&batch)).unwrap();
    assert_eq!(store.backlog().unwrap(), 50);
    assert_eq!(store.personal_records().unwrap(), 1);
    // The next round has nothing to send, and acknowledges everything the server holds.
    let mut client = SyncClient::new(identity.clone(), clock, fast_config()).unwrap();
    let report = rt.block_on(client.round(&mut store)).unwrap();
    assert_eq!(report.batches, 0);
    assert_eq!(store.backlog().unwrap(), 0);
    assert_eq!(
        store.personal_records().unwrap(),
        0,
        "personal fields go once the server has them"
    );
    assert_eq!(server.records_of(identity.kiosk_id), store_records(&store));
}
