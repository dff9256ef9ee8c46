//! The server on PostgreSQL (`serve --database postgres://…`), through its HTTP API as
//! kiosks, phones and staff use it: two servers on one database (as behind a balancer, with
//! the media folder shared) take kiosks' pushes, a visitor's form sent to one is exported from
//! the other, a staff session started on one is valid on the other, an erasure on one holds
//! on both, and the reports of both are the same numbers. Runs inside the throw-away cluster
//! `pg_virtualenv` makes (`scripts/test.sh` does).

use std::collections::BTreeSet;

use e2e::{TestServer, enrol_store, fill_store};
use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig};
use protocol::RecordBody;
use reqwest::redirect::Policy;
use sync_server::store::{EventRow, Role, Scope};

const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const PASSWORD: &str = "a long staff password";

/// A fresh database in the test cluster.
fn database() -> String {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    assert!(
        std::env::var("PGHOST").is_ok(),
        "no PostgreSQL cluster: run the tests with scripts/test.sh, or inside \
         `pg_virtualenv -o fsync=off cargo test ...` (package postgresql-common)"
    );
    let url = |db: &str| {
        format!(
            "postgres://{}:{}@{}:{}/{db}",
            var("PGUSER", "postgres"),
            var("PGPASSWORD", ""),
            var("PGHOST", "localhost"),
            var("PGPORT", "5432"),
        )
    };
    let name = format!("e2e_{}", uuid::Uuid::now_v7().simple());
    let mut admin =
        postgres::Client::connect(&url(&var("PGDATABASE", "postgres")), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    url(&name)
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

async fn sign_in(http: &reqwest::Client, url: &str, email: &str) {
    let html = http
        .get(format!("{url}/staff/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(format!("{url}/staff/login"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", &hidden_csrf(&html)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{email} signs in");
}

async fn get_text(http: &reqwest::Client, url: String) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[test]
fn two_servers_on_one_postgresql_database_serve_kiosks_phones_and_staff_as_one() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let on_pg = |c: &mut sync_server::ServerConfig| c.database = Some(db.clone());
    let a = TestServer::start_with(&data, on_pg);
    let b = TestServer::start_with(&data, on_pg);
    assert!(
        !data.join("server.sqlite").exists(),
        "no SQLite file when a database is named"
    );
    e2e::publish(&a, &e2e::demo_pack_dir());
    let now = protocol::now_ms();
    let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
    a.state
        .staff
        .add_user("ittpc@dn.example", &hash, Role::Staff, ITTPC, now)
        .unwrap();
    a.state
        .leads
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
        let mut identity = enrol_store(&a, &path, &a.url());
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
        assert_eq!(
            a.storage().count_records(Some(identity.kiosk_id)).unwrap(),
            N
        );
        assert_eq!(
            b.storage().count_records(Some(identity.kiosk_id)).unwrap(),
            N
        );
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
    rt.block_on(async {
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
        sign_in(&http, &a.url(), "ittpc@dn.example").await;
        let (status, csv) =
            get_text(&http, format!("{}/staff/leads/export?format=csv", b.url())).await;
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

        // Erased through A: gone from B's export and from the raw records.
        let (_, page) = get_text(&http, format!("{}/staff/leads?q=minji", a.url())).await;
        assert!(page.contains("Kim Minji"), "{page}");
    });
    let phone_lead = a
        .state
        .leads
        .leads_of_person("minji@example.kr")
        .unwrap()
        .pop()
        .expect("the phone's lead");
    a.storage()
        .erase_lead(phone_lead.lead_id, protocol::now_ms())
        .unwrap();
    rt.block_on(async {
        let (_, csv) = get_text(&http, format!("{}/staff/leads/export?format=csv", b.url())).await;
        assert!(!csv.contains("minji@example.kr"));
        let (status, page) =
            get_text(&http, format!("{}/staff/reports?event=test-event", b.url())).await;
        assert_eq!(status, 200, "{page}");
    });

    // The same numbers from both servers, and the numbers the kiosks recorded.
    let scope = Scope::All;
    let from_a = a
        .state
        .reports
        .report(&scope, Some("test-event"), None, None)
        .unwrap();
    let from_b = b
        .state
        .reports
        .report(&scope, Some("test-event"), None, None)
        .unwrap();
    assert_eq!(from_a, from_b);
    assert_eq!(from_a.visitor.views, visitor_views);
    assert_eq!(
        from_a.leads,
        leads.len() as i64 + 1,
        "an erased lead still counts"
    );
    assert_eq!(from_a.phone_leads, 1);
    a.stop();
    b.stop();
}
