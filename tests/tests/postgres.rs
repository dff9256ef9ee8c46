//! The server on PostgreSQL (`serve --database postgres://…`), through its HTTP API as
//! kiosks, phones and staff use it: two servers on one database (as behind a balancer, with
//! the media folder shared) take kiosks' pushes, a visitor's form sent to one is exported from
//! the other, a staff session started on one is valid on the other, an erasure on one holds
//! on both, and the reports of both are the same numbers. Runs inside the throw-away cluster
//! `pg_virtualenv` makes (`scripts/test.sh` does).

use std::collections::BTreeSet;

use e2e::proxy::{DEFAULT_SCHEDULE, FaultProxy};
use e2e::{TestServer, enrol_store, fill_store};
use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig};
use protocol::RecordBody;
use reqwest::redirect::Policy;
use sync_server::store::{EventRow, Role, Scope};

const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const PASSWORD: &str = "a long staff password";

#[test]
fn two_server_processes_on_one_postgresql_database_serve_kiosks_phones_and_staff_as_one() {
    use sync_server::store::{LeadStorage, ReportStorage, StaffStorage, Storage};
    let db = e2e::test_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let a = e2e::ServerProcess::spawn(&data, &db);
    let b = e2e::ServerProcess::spawn(&data, &db);
    assert!(
        !data.join("server.sqlite").exists(),
        "no SQLite file when a database is named"
    );
    // This process's own handle on the database: what an administrator's shell would do.
    let storage = sync_server::store::postgres::PostgresStorage::open(&db).unwrap();
    let manifest = sync_server::content::import(
        &e2e::demo_pack_dir(),
        &storage,
        &data.join("media"),
        (3840, 2160),
    )
    .expect("import the demo pack");
    assert!(!manifest.pack.items.is_empty());
    let now = protocol::now_ms();
    let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
    storage
        .add_user("ittpc@dn.example", &hash, Role::Staff, ITTPC, now)
        .unwrap();
    storage
        .upsert_event(
            &EventRow {
                id: "test-event".into(),
                name: "Korea investment fair".into(),
                kind: "fair".into(),
                org: ITTPC.into(),
                ..Default::default()
            },
            now,
        )
        .unwrap();

    // Two kiosks, enrolled on A; the first pushes through B.
    const N: u64 = 6_000;
    let mut kiosks = Vec::new();
    for (i, via) in [&b, &a].into_iter().enumerate() {
        let path = dir.path().join(format!("kiosk-{i}.sqlite"));
        let mut identity = e2e::enrol_on(&storage, &path, &a.url());
        identity.server_url = via.url();
        let mut store = Store::open(&path).unwrap();
        fill_store(&mut store, &Clock::system(), 0, N);
        kiosks.push((identity, store));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut leads = BTreeSet::new();
    let mut visitor_views = 0;
    for (_, store) in &kiosks {
        for s in store.all().unwrap() {
            match s.body {
                RecordBody::Lead(l) => {
                    leads.insert(l.lead_id);
                }
                RecordBody::View {
                    origin: protocol::record::ViewOrigin::Visitor,
                    ..
                } => visitor_views += 1,
                _ => {}
            }
        }
    }
    async fn round(
        identity: kiosk_core::store::Identity,
        store: &mut Store,
    ) -> kiosk_core::sync::RoundReport {
        let mut client = SyncClient::new(identity, Clock::system(), SyncConfig::default()).unwrap();
        client.round(store).await.unwrap()
    }
    rt.block_on(async {
        let (first, second) = kiosks.split_at_mut(1);
        let (ra, rb) = tokio::join!(
            round(first[0].0.clone(), &mut first[0].1),
            round(second[0].0.clone(), &mut second[0].1)
        );
        assert_eq!((ra.inserted, rb.inserted), (N, N));
    });
    for (identity, store) in &kiosks {
        assert_eq!(store.backlog().unwrap(), 0);
        assert_eq!(storage.count_records(Some(identity.kiosk_id)).unwrap(), N);
    }

    // A visitor's form sent to A.
    let (identity, _) = &kiosks[0];
    let (_, signed) = kiosk_core::qr::token(
        &identity.token_key,
        identity.kiosk_id,
        protocol::now_ms(),
        true,
        "test-event",
        "industrial-parks",
        "ko",
    );
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let staff = rt.block_on(async {
        let r = http
            .post(format!("{}/i/{signed}", a.url()))
            .form(&[
                ("name", "Kim Minji"),
                ("email", "minji@example.kr"),
                ("country", "Korea"),
                ("consent", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);

        // Signed in on A; the same session cookie is valid on B (cookies do not name a port).
        let staff = e2e::pages::sign_in(&a.url(), "ittpc@dn.example", PASSWORD).await;
        let (status, csv) = e2e::pages::get(
            &staff,
            &format!("{}/staff/leads/export?format=csv", b.url()),
        )
        .await;
        assert_eq!(status, 200, "{csv}");
        assert!(
            csv.contains("minji@example.kr"),
            "the phone's lead, exported from B"
        );
        let exported = csv.lines().filter(|l| l.contains("@example.kr")).count();
        assert_eq!(
            exported,
            leads.len() + 1,
            "every kiosk lead once, and the phone's"
        );

        // Found on A; erased below, in the database.
        let (_, page) = e2e::pages::get(&staff, &format!("{}/staff/leads?q=minji", a.url())).await;
        assert!(page.contains("Kim Minji"), "{page}");
        staff
    });
    let phone_lead = storage
        .leads_of_person("minji@example.kr")
        .unwrap()
        .pop()
        .expect("the phone's lead");
    storage
        .erase_lead(phone_lead.lead_id, protocol::now_ms())
        .unwrap();
    rt.block_on(async {
        let (_, csv) = e2e::pages::get(
            &staff,
            &format!("{}/staff/leads/export?format=csv", b.url()),
        )
        .await;
        assert!(!csv.contains("minji@example.kr"));
        // The same report page from both servers.
        let report = |url: String| {
            let staff = &staff;
            async move { e2e::pages::get(staff, &format!("{url}/staff/reports?event=test-event")).await }
        };
        let (status, from_a) = report(a.url()).await;
        assert_eq!(status, 200, "{from_a}");
        let (_, from_b) = report(b.url()).await;
        assert_eq!(from_a, from_b);
    });

    // The numbers the kiosks recorded.
    let d = storage
        .report(&Scope::All, Some("test-event"), None, None)
        .unwrap();
    assert_eq!(d.visitor.views, visitor_views);
    assert_eq!(
        d.leads,
        leads.len() as i64 + 1,
        "an erased lead still counts"
    );
    assert_eq!(d.phone_leads, 1);
}

/// `sync-server backup` (pg_dump) taken while a kiosk pushes, `sync-server restore`
/// (pg_restore) into the same database: the kiosk sends again what the backup lacks, and every
/// record is there once.
#[test]
fn a_postgresql_server_restored_from_a_backup_taken_mid_push_gets_the_rest_from_the_kiosk() {
    let db = e2e::test_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let on_pg = |c: &mut sync_server::ServerConfig| c.database = Some(db.clone());
    let server = TestServer::start_with(&data, on_pg);
    e2e::publish(&server, &e2e::demo_pack_dir());
    let path = dir.path().join("kiosk.sqlite");
    let identity = enrol_store(&server, &path, &server.url());
    let mut store = Store::open(&path).unwrap();
    let clock = Clock::system();
    let config = SyncConfig {
        batch_records: 500,
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let count = |s: &TestServer| s.storage().count_records(Some(identity.kiosk_id)).unwrap();
    let drain = |identity: kiosk_core::store::Identity, store: &mut Store| {
        let mut client = SyncClient::new(identity, clock.clone(), config.clone()).unwrap();
        rt.block_on(async {
            while store.backlog().unwrap() > 0 {
                client.round(store).await.unwrap();
            }
        });
    };
    fill_store(&mut store, &clock, 0, 3_000);
    drain(identity.clone(), &mut store);
    fill_store(&mut store, &clock, 3_000, 4_000);
    let backup = dir.path().join("backup");
    std::thread::scope(|s| {
        let taker = s.spawn(|| {
            while count(&server) <= 3_000 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let info = sync_server::backup::backup(&server.state.config, &backup).unwrap();
            assert_eq!(info.backend, "postgres");
        });
        drain(identity.clone(), &mut store);
        taker.join().unwrap();
    });
    assert_eq!(count(&server), 7_000);
    let media = std::fs::read_dir(backup.join("media")).unwrap().count();
    assert!(media > 10, "{media} media files");
    assert_eq!(
        media,
        std::fs::read_dir(data.join("media")).unwrap().count()
    );

    server.stop();
    let restored = sync_server::ServerConfig {
        data_dir: data.clone(),
        database: Some(db.clone()),
        ..Default::default()
    };
    sync_server::backup::restore(&restored, &backup).unwrap();
    let server = TestServer::start_with(&data, on_pg);
    let held = count(&server);
    assert!(
        (3_000..=7_000).contains(&held),
        "{held} records in the backup"
    );
    let mut moved = identity.clone();
    moved.server_url = server.url();
    fill_store(&mut store, &clock, 7_000, 500);
    drain(moved, &mut store);
    assert_eq!(count(&server), 7_500, "every record once");
    // A SQLite backup is not restored into PostgreSQL by mistake.
    let wrong = dir.path().join("wrong");
    std::fs::create_dir_all(&wrong).unwrap();
    std::fs::write(
        wrong.join("backup.toml"),
        "backend = \"sqlite\"\ncreated_ms = 0\nmedia = 0\nserver_version = \"x\"\n",
    )
    .unwrap();
    let e = sync_server::backup::restore(&restored, &wrong).unwrap_err();
    assert!(e.to_string().contains("without --database"), "{e}");
}

/// 100,000 records of two kiosks through fault-injecting proxies to two `sync-server`
/// processes on one database, each round of each kiosk to either server at random: every
/// record stored once, every lead once.
#[test]
fn hundred_thousand_records_through_faulty_networks_to_two_server_processes_land_exactly_once() {
    use rand::{Rng, SeedableRng};
    use sync_server::store::{StaffStorage, Storage};
    let db = e2e::test_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let servers = [
        e2e::ServerProcess::spawn(&data, &db),
        e2e::ServerProcess::spawn(&data, &db),
    ];
    // This process's own handle on the database, to create kiosks and count what was stored.
    let storage = sync_server::store::postgres::PostgresStorage::open(&db).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let proxies = [
        rt.block_on(FaultProxy::start(
            servers[0].addr,
            0x5eed,
            &DEFAULT_SCHEDULE,
        )),
        rt.block_on(FaultProxy::start(
            servers[1].addr,
            0xfeed,
            &DEFAULT_SCHEDULE,
        )),
    ];
    const PER_KIOSK: u64 = 50_000;
    let clock = Clock::system();
    let mut kiosks = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let path = dir.path().join(format!("kiosk-{i}.sqlite"));
        let identity = e2e::enrol_on(&storage, &path, &server.url());
        let mut store = Store::open(&path).unwrap();
        fill_store(&mut store, &clock, 0, PER_KIOSK);
        kiosks.push((identity, store));
    }
    let leads: BTreeSet<uuid::Uuid> = kiosks
        .iter()
        .flat_map(|(_, s)| s.all().unwrap())
        .filter_map(|s| match s.body {
            RecordBody::Lead(l) => Some(l.lead_id),
            _ => None,
        })
        .collect();
    let config = SyncConfig {
        batch_records: 400,
        request_timeout: std::time::Duration::from_secs(10),
        ..Default::default()
    };
    async fn drain_to_either(
        identity: &kiosk_core::store::Identity,
        store: &mut Store,
        urls: &[String; 2],
        config: &SyncConfig,
        seed: u64,
    ) -> u32 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let start = std::time::Instant::now();
        let mut failures = 0;
        while store.backlog().unwrap() > 0 {
            assert!(start.elapsed().as_secs() < 300, "did not drain in 300 s");
            let mut via = identity.clone();
            via.server_url = urls[rng.random_range(0..2)].clone();
            let mut client = SyncClient::new(via, Clock::system(), config.clone()).unwrap();
            if let Err(e) = client.round(store).await {
                assert!(!e.is_permanent(), "permanent error: {e}");
                failures += 1;
            }
        }
        failures
    }
    let urls = [proxies[0].url(), proxies[1].url()];
    let (first, second) = kiosks.split_at_mut(1);
    let (fa, fb) = rt.block_on(async {
        tokio::join!(
            drain_to_either(&first[0].0, &mut first[0].1, &urls, &config, 1),
            drain_to_either(&second[0].0, &mut second[0].1, &urls, &config, 2),
        )
    });
    eprintln!(
        "failures={fa}+{fb} faults={:?} {:?}",
        proxies[0].fault_counts(),
        proxies[1].fault_counts()
    );
    assert!(fa + fb > 10, "the proxies injected faults");
    for (identity, _) in &kiosks {
        assert_eq!(
            storage.count_records(Some(identity.kiosk_id)).unwrap(),
            PER_KIOSK
        );
    }
    let summary = storage.summary().unwrap();
    assert_eq!(summary.leads, leads.len() as i64, "every lead once");
    let counted: i64 = summary.kinds.iter().map(|(_, n)| n).sum();
    assert_eq!(counted, 2 * PER_KIOSK as i64, "every record counted once");
    for k in &summary.kiosks {
        assert_eq!(k.next_seq, PER_KIOSK + 1);
    }
}

/// Storage is blocking and the server calls it on the blocking pool; called on an async worker
/// thread by mistake, PostgreSQL's client steps off the executor instead of aborting the
/// process (its own `block_on` panics there, and again while closing).
#[test]
fn storage_called_on_an_async_worker_thread_answers_instead_of_aborting() {
    use sync_server::store::{StaffStorage, Storage};
    let url = e2e::test_database();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = sync_server::store::postgres::PostgresStorage::open(&url).unwrap();
        assert!(s.kiosks().unwrap().is_empty());
        assert_eq!(s.summary().unwrap().leads, 0);
        drop(s);
    });
}
