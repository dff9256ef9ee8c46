//! The server as the person trying to get in, flood it or replay a stolen kiosk's secrets sees
//! it: each test plays one attack (or one crowd) against the real server over HTTP, and checks
//! that no visitor's lead is refused or lost and no door opens. Every test name contains
//! `hostile`, so `cargo test hostile` runs the suite.

use std::sync::Arc;

use e2e::{Backend, RowExt, Table, TestServer, enrol_store};
use kiosk_core::store::Identity;
use reqwest::StatusCode;
use serde_json::json;
use sync_server::store::{ALL_LEADS_ORG, EventRow};
use uuid::Uuid;

const EVENT: &str = "korea-investment-2026";
const PASSWORD: &str = "correct horse battery";
const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
    identity: Identity,
    rt: tokio::runtime::Runtime,
}

fn fixture(trusted: &[&str]) -> Fixture {
    fixture_on(trusted, Backend::Sqlite)
}

/// [`fixture`] with the server on `backend`.
fn fixture_on(trusted: &[&str], backend: Backend) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let nets = trusted
        .iter()
        .map(|n| sync_server::http::client_ip::parse_net(n).unwrap())
        .collect();
    let database = (backend == Backend::Postgres).then(e2e::test_database);
    let server = TestServer::start_with(&dir.path().join("server"), |c| {
        c.trusted_proxies = sync_server::http::client_ip::TrustedProxies::new(nets);
        c.database = database;
    });
    e2e::publish(&server, &e2e::demo_pack_dir());
    let k = server
        .storage()
        .create_kiosk("Hall B", Some(EVENT), protocol::now_ms())
        .unwrap();
    let mut store = kiosk_core::store::Store::open(&dir.path().join("kiosk.sqlite")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let identity = rt
        .block_on(kiosk_core::sync::enrol(
            &mut store,
            &server.url(),
            &k.code,
            false,
            None,
        ))
        .unwrap();
    Fixture {
        _dir: dir,
        server,
        identity,
        rt,
    }
}

impl Fixture {
    fn token_at(
        &self,
        event: &str,
        item: &str,
        lang: &str,
        issued_ms: i64,
        clock_ok: bool,
    ) -> (protocol::token::QrToken, String) {
        kiosk_core::qr::token(
            &self.identity.token_key,
            self.identity.kiosk_id,
            issued_ms,
            clock_ok,
            event,
            item,
            lang,
        )
    }

    fn token(&self, item: &str, lang: &str) -> (protocol::token::QrToken, String) {
        self.token_at(EVENT, item, lang, protocol::now_ms(), true)
    }

    /// Pushes raw JSON records (as a newer kiosk would write them) as this kiosk.
    fn push_raw(&self, identity: &Identity, wall_ms: i64, bodies: &[serde_json::Value]) -> u16 {
        self.rt
            .block_on(push_raw(&self.server.url(), identity, wall_ms, bodies))
    }

    /// The status of a GET of `path` on the server.
    fn get(&self, path: &str) -> StatusCode {
        self.rt.block_on(async {
            reqwest::get(format!("{}{path}", self.server.url()))
                .await
                .unwrap()
                .status()
        })
    }

    /// The status of a form POST to `path` on the server.
    fn post(&self, path: &str, form: &[(&str, String)]) -> StatusCode {
        self.rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{}{path}", self.server.url()))
                .form(form)
                .send()
                .await
                .unwrap()
                .status()
        })
    }

    fn add_user(&self, email: &str, role: &str, org: &str) {
        let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
        self.server
            .state
            .staff
            .add_user(
                email,
                &hash,
                sync_server::store::Role::parse(role).unwrap(),
                org,
                protocol::now_ms(),
            )
            .unwrap();
    }
}

async fn push_raw(
    url: &str,
    identity: &Identity,
    wall_ms: i64,
    bodies: &[serde_json::Value],
) -> u16 {
    let http = reqwest::Client::new();
    let auth = protocol::sync::bearer(identity.kiosk_id, &identity.secret);
    let cursor: serde_json::Value = http
        .get(format!("{url}/api/v1/sync/cursor"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = cursor["next_seq"].as_u64().unwrap();
    let boot = Uuid::now_v7();
    let records: Vec<serde_json::Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "v": 1, "id": Uuid::now_v7(), "kiosk_id": identity.kiosk_id,
                "seq": next + i as u64, "wall_ms": wall_ms, "boot_id": boot,
                "mono_ms": 1000 + i as u64, "clock_ok": false, "event_id": EVENT,
                "body": body,
            })
        })
        .collect();
    let batch = json!({
        "clock": {"boot_id": boot, "mono_ms": 5000, "wall_ms": wall_ms},
        "records": records,
    });
    http.post(format!("{url}/api/v1/sync/push"))
        .header("authorization", &auth)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whether `text` holds `part`, ASCII letters compared without case: what `LIKE '%part%'`
/// matched when these checks read the SQLite file.
fn holds(text: &str, part: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&part.to_ascii_lowercase())
}

/// The sum of an integer column over rows.
fn sum(rows: &[e2e::Row], column: &str) -> i64 {
    rows.iter().map(|r| r.int(column)).sum()
}

fn lead_form(email: &str, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_owned()),
        ("email", email.to_owned()),
        ("country", "Korea".to_owned()),
        ("consent", "yes".to_owned()),
    ]
}

#[test]
fn hostile_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let f = fixture(&[]);
    let (t, signed) = f.token("long-thanh-airport", "ko");
    let url = format!("{}/p/{signed}", f.server.url());
    let statuses: Vec<u16> = f.rt.block_on(async {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for i in 0..125u32 {
            let r = http
                .get(&url)
                .header(
                    "x-forwarded-for",
                    format!("198.18.{}.{}", i / 250, i % 250 + 1),
                )
                .header("forwarded", format!("for=198.19.0.{}", i % 250 + 1))
                .send()
                .await
                .unwrap();
            out.push(r.status().as_u16());
        }
        out
    });
    assert!(
        statuses.iter().filter(|s| **s == 429).count() >= 5,
        "a client cannot leave its limit by naming other addresses: {statuses:?}"
    );
    // One client reloading is one open in the funnel, however many addresses it claims.
    let nonce = t.nonce_hex();
    let opens = f.server.count(Table::QrOpens, |r| r.text("nonce") == nonce);
    assert_eq!(opens, 1);
}

#[test]
fn hostile_2000_client_addresses_through_a_trusted_proxy_are_each_served() {
    let f = fixture(&["127.0.0.1"]);
    // A fair's crowd: 2,000 phones behind the venue's proxy, ten per code shown.
    let tokens: Vec<String> = (0..200)
        .map(|_| f.token("industrial-parks", "en").1)
        .collect();
    let url = f.server.url();
    let (pages, posts) = f.rt.block_on(async {
        let http = reqwest::Client::new();
        let sem = Arc::new(tokio::sync::Semaphore::new(16));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..2000u32 {
            let (http, url, sem) = (http.clone(), url.clone(), sem.clone());
            let token = tokens[i as usize / 10].clone();
            set.spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                let ip = format!("198.18.{}.{}", i / 250, i % 250 + 1);
                let page = http
                    .get(format!("{url}/p/{token}"))
                    .header("x-forwarded-for", format!("6.6.6.6, {ip}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                let post = http
                    .post(format!("{url}/i/{token}"))
                    .header("x-forwarded-for", &ip)
                    .form(&lead_form(&format!("visitor{i}@example.kr"), "Visitor"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                (page, post)
            });
        }
        let mut pages = Vec::new();
        let mut posts = Vec::new();
        while let Some(r) = set.join_next().await {
            let (p, l) = r.unwrap();
            pages.push(p);
            posts.push(l);
        }
        (pages, posts)
    });
    let refused = |v: &[u16]| v.iter().filter(|s| **s != 200).count();
    assert_eq!(refused(&pages), 0, "every phone's page is served");
    assert_eq!(refused(&posts), 0, "every phone's lead is taken");
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("source") == "phone_form"
                && r.opt_int("erased_ms").is_none()),
        2000,
        "every lead stored once"
    );
    assert_eq!(
        f.server
            .count(Table::QrOpens, |r| r.text("purpose") == "take_away"),
        2000,
        "each visitor is one open"
    );
}

#[test]
fn hostile_a_revoked_kiosks_tokens_stop_at_once() {
    let f = fixture(&[]);
    let (_, signed) = f.token("long-thanh-airport", "en");
    let url = format!("{}/i/{signed}", f.server.url());
    let http = reqwest::Client::new();
    let post = |email: &str| {
        f.rt.block_on(async {
            http.post(&url)
                .form(&lead_form(email, "Thief"))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    assert_eq!(post("before@example.kr"), StatusCode::OK);
    // Revoked as `sync-server kiosk revoke` does it: through the database, not this process.
    f.server
        .storage()
        .revoke_kiosk(f.identity.kiosk_id, protocol::now_ms())
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(post("after@example.kr"), StatusCode::BAD_REQUEST);
    let page = f.get(&format!("/p/{signed}"));
    assert_eq!(page, StatusCode::BAD_REQUEST);
    // A token minted after revocation, with the stolen key, fares no better.
    let (_, fresh) = f.token("long-thanh-airport", "en");
    let status = f.get(&format!("/i/{fresh}"));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("email") == "after@example.kr"),
        0
    );
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("email") == "before@example.kr"),
        1
    );
}

#[test]
fn hostile_an_expired_token_gets_a_friendly_page_and_a_wrong_kiosk_clock_does_not_expire_fresh_ones()
 {
    let f = fixture(&[]);
    let day = 86_400_000i64;
    let (_, old) = f.token_at(
        EVENT,
        "long-thanh-airport",
        "ko",
        protocol::now_ms() - 31 * day,
        true,
    );
    let (status, html) = f.rt.block_on(async {
        let r = reqwest::get(format!("{}/p/{old}", f.server.url()))
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    });
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("만료") && html.contains("30"), "{html}");
    let status = f.post(&format!("/i/{old}"), &lead_form("late@example.kr", "Late"));
    assert_eq!(status, StatusCode::GONE);
    // A kiosk whose clock is a year behind (no battery, no network yet) issues a code now.
    let year_ago = protocol::now_ms() - 365 * day;
    assert_eq!(f.push_raw(&f.identity, year_ago, &[]), 200);
    let (_, fresh) = f.token_at(EVENT, "long-thanh-airport", "ko", year_ago, false);
    let status = f.get(&format!("/p/{fresh}"));
    assert_eq!(
        status,
        StatusCode::OK,
        "the server corrects the kiosk's clock"
    );
    // The same wrong clock, 31 days on, is expired.
    let (_, stale) = f.token_at(
        EVENT,
        "long-thanh-airport",
        "ko",
        year_ago - 31 * day,
        false,
    );
    let status = f.get(&format!("/p/{stale}"));
    assert_eq!(status, StatusCode::GONE);
}

#[test]
fn hostile_a_token_for_another_units_event_is_refused_and_logged() {
    let f = fixture(&[]);
    // The kiosk serves the Promotion Centre's fair; the demo pack's Korean delegation belongs
    // to the Department of Foreign Affairs.
    f.server
        .state
        .leads
        .upsert_event(
            &EventRow {
                id: EVENT.into(),
                name: "Korea 2026".into(),
                kind: "fair".into(),
                org: ITTPC.into(),
                ..Default::default()
            },
            protocol::now_ms(),
        )
        .unwrap();
    let open = |event: &str| {
        let (_, t) = f.token_at(event, "long-thanh-airport", "ko", protocol::now_ms(), true);
        f.get(&format!("/p/{t}"))
    };
    assert_eq!(
        open("kr-gyeonggi-demo"),
        StatusCode::BAD_REQUEST,
        "another unit's delegation"
    );
    // An event of the content that no other unit owns: staff may have chosen it on the
    // kiosk while it was offline.
    assert_eq!(open("itb-asia-demo"), StatusCode::OK);
    let (_, other) = f.token_at(
        "dofa-delegation-jp",
        "long-thanh-airport",
        "ja",
        protocol::now_ms(),
        true,
    );
    let status = f.post(
        &format!("/i/{other}"),
        &lead_form("planted@example.jp", "Planted"),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("email") == "planted@example.jp"),
        0
    );
    assert_eq!(
        f.server
            .count(Table::Audit, |r| r.text("action") == "token_refused_event"
                && holds(r.text("detail"), "dofa-delegation-jp")),
        1
    );
    assert_eq!(
        f.server
            .count(Table::Audit, |r| r.text("action") == "token_refused_event"
                && holds(r.text("detail"), "kr-gyeonggi-demo")),
        1
    );
    // An event the kiosk served since (its records carried it) is its own.
    let view = json!({"kind": "view", "item": "long-thanh-airport", "lang": "ja", "dwell_ms": 100, "origin": "visitor"});
    let status = f.rt.block_on(async {
        let http = reqwest::Client::new();
        let auth = protocol::sync::bearer(f.identity.kiosk_id, &f.identity.secret);
        let boot = Uuid::now_v7();
        let batch = json!({
            "clock": {"boot_id": boot, "mono_ms": 5000, "wall_ms": protocol::now_ms()},
            "records": [{"v": 1, "id": Uuid::now_v7(), "kiosk_id": f.identity.kiosk_id, "seq": 1,
                "wall_ms": protocol::now_ms(), "boot_id": boot, "mono_ms": 1, "clock_ok": true,
                "event_id": "dofa-delegation-jp", "body": view}],
        });
        http.post(format!("{}/api/v1/sync/push", f.server.url()))
            .header("authorization", auth)
            .json(&batch)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, StatusCode::OK);
    let status = f.get(&format!("/i/{other}"));
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn hostile_a_persons_request_by_email_does_not_match_phone_suffixes() {
    let f = fixture(&[]);
    let http = reqwest::Client::new();
    let post = |form: Vec<(&'static str, String)>| {
        let (_, signed) = f.token("long-thanh-airport", "en");
        f.rt.block_on(async {
            http.post(format!("{}/i/{signed}", f.server.url()))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let mut asker = lead_form("kim0912345678@example.kr", "Kim");
    asker.push(("phone", String::new()));
    assert_eq!(post(asker), StatusCode::OK);
    // Someone else whose phone ends in the digits of that email.
    let mut other = lead_form("", "Lee");
    other.push(("phone", "+84 912 345 678".into()));
    assert_eq!(post(other), StatusCode::OK);
    // And someone whose number merely ends like the asker's phone below.
    let mut suffix = lead_form("", "Park");
    suffix.push(("phone", "+84 1912 345 678".into()));
    assert_eq!(post(suffix), StatusCode::OK);
    let leads = &f.server.state.leads;
    let names = |who: &str| -> Vec<String> {
        leads
            .leads_of_person(who)
            .unwrap()
            .into_iter()
            .map(|l| l.contact.name)
            .collect()
    };
    assert_eq!(names("KIM0912345678@example.kr"), ["Kim"]);
    assert_eq!(
        names("0912 345 678"),
        ["Lee"],
        "national and international forms are one number"
    );
    assert_eq!(names("+84912345678"), ["Lee"]);
    assert!(names("345678").is_empty(), "a fragment matches nobody");
}

e2e::on_both_backends!(
    hostile_a_newer_kiosks_enum_values_and_fields_are_kept_and_its_lead_is_erasable
);
fn hostile_a_newer_kiosks_enum_values_and_fields_are_kept_and_its_lead_is_erasable(
    backend: Backend,
) {
    let f = fixture_on(&[], backend);
    let lead_id = Uuid::now_v7();
    let bodies = [
        json!({"kind": "lead", "lead_id": lead_id, "source": "nfc", "nfc_uid": "04A2B3C4",
               "contact": {"name": "Sato Yui", "email": "yui@example.jp", "wechat": "yui-sato"},
               "consent": {"text_id": "kiosk-consent-text", "version": 2, "lang": "ja", "at_ms": protocol::now_ms()},
               "lang": "ja"}),
        json!({"kind": "view", "item": "long-thanh-airport", "lang": "ja", "dwell_ms": 4200, "origin": "hologram", "gaze": true}),
        json!({"kind": "session", "session_id": Uuid::now_v7(), "phase": "paused"}),
        json!({"kind": "qr_shown", "purpose": "wallet_pass", "lang": "ja", "nonce": "0102030405060708"}),
    ];
    assert_eq!(f.push_raw(&f.identity, protocol::now_ms(), &bodies), 200);
    let lead = f
        .server
        .state
        .leads
        .lead(&sync_server::store::Scope::All, lead_id)
        .unwrap()
        .expect("the newer kiosk's lead is in the leads table");
    assert_eq!(lead.source, "nfc");
    assert_eq!(lead.contact.email, "yui@example.jp");
    assert_eq!(
        f.server.count(Table::Records, |r| r.text("kind") == "lead"
            && holds(r.text("body"), "nfc_uid")),
        1,
        "new fields are kept in the raw record"
    );
    assert_eq!(
        sum(
            &f.server
                .rows_where(Table::RollupViews, |r| r.text("origin") == "hologram"),
            "views"
        ),
        1
    );
    assert_eq!(
        f.server
            .count(Table::Records, |r| r.text("kind") == "unknown"),
        0
    );
    f.server
        .storage()
        .erase_lead(lead_id, protocol::now_ms())
        .unwrap();
    assert_eq!(
        f.server
            .count(Table::Records, |r| holds(r.text("body"), "yui@example.jp")
                || holds(r.text("body"), "Sato Yui")),
        0,
        "the erasure reaches the raw record"
    );
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("email") == "yui@example.jp"),
        0
    );
}

#[test]
fn hostile_an_overflowing_dwell_from_one_kiosk_does_not_block_another() {
    let f = fixture(&[]);
    let dir = tempfile::tempdir().unwrap();
    let other = enrol_store(&f.server, &dir.path().join("k2.sqlite"), &f.server.url());
    let now = protocol::now_ms();
    let huge = json!({"kind": "view", "item": "long-thanh-airport", "lang": "ko", "dwell_ms": i64::MAX as u64, "origin": "visitor"});
    assert_eq!(
        f.push_raw(&f.identity, now, std::slice::from_ref(&huge)),
        200
    );
    let normal = json!({"kind": "view", "item": "long-thanh-airport", "lang": "ko", "dwell_ms": 5000, "origin": "visitor"});
    for _ in 0..3 {
        assert_eq!(
            f.push_raw(&other, now, std::slice::from_ref(&normal)),
            200,
            "the other kiosk's batches go through"
        );
    }
    assert_eq!(f.push_raw(&f.identity, now, &[huge]), 200);
    let dwell = sum(
        &f.server.rows_where(Table::RollupViews, |r| {
            r.text("item") == "long-thanh-airport"
                && r.text("lang") == "ko"
                && r.text("origin") == "visitor"
        }),
        "dwell_ms",
    );
    assert_eq!(
        dwell,
        2 * protocol::record::MAX_DURATION_MS as i64 + 3 * 5000
    );
}

#[test]
fn hostile_an_event_id_with_leads_cannot_be_claimed_by_another_unit() {
    let f = fixture(&[]);
    // A kiosk serves an event no staff member created yet, and takes a lead there.
    let (_, signed) = f.token("long-thanh-airport", "ko");
    let status = f.post(
        &format!("/i/{signed}"),
        &lead_form("minji@example.kr", "Kim Minji"),
    );
    assert_eq!(status, StatusCode::OK);
    f.add_user("culture@dn.example", "staff", ALL_LEADS_ORG);
    f.add_user("other@dn.example", "staff", "Some Other Unit");
    f.add_user("admin@dn.example", "admin", ITTPC);
    let url = f.server.url();
    let create = |email: &'static str, org: &'static str| {
        let url = url.clone();
        f.rt.block_on(async move {
            let http = e2e::pages::sign_in(&url, email, PASSWORD).await;
            let (_, html) = e2e::pages::get(&http, &format!("{url}/staff/events")).await;
            let r = http
                .post(format!("{url}/staff/events"))
                .form(&[
                    ("csrf", e2e::pages::csrf(&html)),
                    ("id", EVENT.into()),
                    ("name", "Mine now".into()),
                    ("kind", "fair".into()),
                    ("org", org.into()),
                ])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let (_, leads) = e2e::pages::get(&http, &format!("{url}/staff/leads")).await;
            (status, leads.contains("minji@example.kr"))
        })
    };
    let (status, sees) = create("other@dn.example", "Some Other Unit");
    assert_eq!(status, 403, "another unit cannot claim the event");
    assert!(!sees, "nor read its leads");
    assert!(
        f.server
            .state
            .leads
            .events()
            .unwrap()
            .iter()
            .all(|e| e.id != EVENT)
    );
    let (status, sees) = create("admin@dn.example", ITTPC);
    assert_eq!(status, 303, "an admin can");
    assert!(sees);
    let events = f.server.state.leads.events().unwrap();
    let e: &EventRow = events.iter().find(|e| e.id == EVENT).unwrap();
    assert_eq!(e.org, ITTPC);
}

#[test]
fn hostile_csv_cells_with_leading_space_line_feed_or_full_width_signs_are_defused() {
    let f = fixture(&[]);
    // Kiosk forms and badges keep what was typed or scanned, leading blanks included.
    let bodies: Vec<serde_json::Value> = [
        ("  =HYPERLINK(\"http://evil\")", "\n+cmd|' /C calc'!A0"),
        ("\r\n-2+3", "＝1+1"),
        ("＠SUM(A1)", "＋1"),
        ("\u{3000}－1", " @x"),
    ]
    .iter()
    .map(|(name, org)| {
        json!({"kind": "lead", "lead_id": Uuid::now_v7(), "source": "badge",
               "contact": {"name": name, "organisation": org, "email": format!("{}@example.kr", Uuid::now_v7().simple())},
               "consent": {"text_id": "kiosk-badge-consent", "version": 1, "lang": "en", "at_ms": protocol::now_ms()}})
    })
    .collect();
    assert_eq!(f.push_raw(&f.identity, protocol::now_ms(), &bodies), 200);
    let reasons: Vec<String> = f
        .server
        .rows(Table::Quarantine)
        .iter()
        .map(|r| r.text("reason").to_owned())
        .collect();
    assert!(reasons.is_empty(), "{reasons:?}");
    let mut kinds = std::collections::BTreeMap::<String, i64>::new();
    for r in f.server.rows(Table::Records) {
        *kinds.entry(r.text("kind").to_owned()).or_default() += 1;
    }
    let kinds: Vec<(String, i64)> = kinds.into_iter().collect();
    let leads: Vec<(String, String)> = f
        .server
        .rows(Table::Leads)
        .iter()
        .map(|r| (r.text("source").to_owned(), r.text("name").to_owned()))
        .collect();
    assert_eq!(kinds, [("lead".to_owned(), 4)], "{leads:?}");
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("source") == "badge"),
        4
    );
    f.add_user("admin@dn.example", "admin", ITTPC);
    let url = f.server.url();
    let csv = f.rt.block_on(async {
        let http = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        http.get(format!("{url}/staff/leads/export?format=csv"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |names: [&str; 2]| {
        headers
            .iter()
            .position(|h| names.contains(&h))
            .unwrap_or_else(|| panic!("no column {names:?} in {headers:?}"))
    };
    let (name_col, org_col) = (col(["Name", "Họ tên"]), col(["Organisation", "Cơ quan"]));
    let mut seen = 0;
    for row in reader.records() {
        let row = row.unwrap();
        for cell in [&row[name_col], &row[org_col]] {
            assert!(cell.starts_with('\''), "{cell:?} is defused");
        }
        seen += 1;
    }
    assert_eq!(seen, 4);
}

/// A sign-in from `client`: its status, its `Location`, and how long it took.
async fn try_sign_in(
    url: &str,
    email: &str,
    password: &str,
    client: &str,
) -> (u16, String, std::time::Duration) {
    let a = e2e::pages::try_sign_in(url, email, password, Some(client)).await;
    (a.status, a.location, a.took)
}

#[test]
fn hostile_a_sign_in_flood_locks_the_account_and_unknown_emails_cost_the_same() {
    let f = fixture(&["127.0.0.1"]);
    f.add_user("hong@dn.example", "staff", ITTPC);
    f.add_user("admin@dn.example", "admin", ITTPC);
    let url = f.server.url();
    f.rt.block_on(async {
        // Each try from its own address, so that only the per-account rule acts.
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for i in 0..4 {
            let (s, loc, t) = try_sign_in(
                &url,
                "hong@dn.example",
                "wrong guess",
                &format!("198.18.1.{i}"),
            )
            .await;
            assert_eq!((s, loc.as_str()), (303, "/staff/login?error=1"));
            known.push(t);
            let (s, _, t) = try_sign_in(
                &url,
                &format!("nobody{i}@dn.example"),
                "wrong guess",
                &format!("198.18.2.{i}"),
            )
            .await;
            assert_eq!(s, 303);
            unknown.push(t);
        }
        let (k, u) = (known.iter().min().unwrap(), unknown.iter().min().unwrap());
        assert!(
            u.as_secs_f64() >= 0.5 * k.as_secs_f64(),
            "an unknown email ({u:?}) costs what a known one costs ({k:?})"
        );
        // The fifth wrong password in a row locks the account; the right one then waits too.
        let (_, loc, _) = try_sign_in(&url, "hong@dn.example", "wrong guess", "198.18.1.9").await;
        assert!(loc.starts_with("/staff/login?error=locked&until="), "{loc}");
        let (_, loc, _) = try_sign_in(&url, "hong@dn.example", PASSWORD, "198.18.3.1").await;
        assert!(loc.starts_with("/staff/login?error=locked"), "{loc}");
        let (_, page) =
            e2e::pages::get(&reqwest::Client::new(), &format!("{url}{loc}&lang=en")).await;
        assert!(
            page.contains("this account is locked until"),
            "staff see the lockout: {page}"
        );
        // An admin sees it on the audit page and lifts it.
        let admin = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (_, audit) = e2e::pages::get(&admin, &format!("{url}/staff/audit")).await;
        let locked = e2e::pages::table(&audit, "locked");
        assert!(locked.contains_key("hong@dn.example"), "{audit}");
        let r = admin
            .post(format!("{url}/staff/audit/unlock"))
            .form(&[
                ("csrf", e2e::pages::csrf(&audit)),
                ("email", "hong@dn.example".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (_, loc, _) = try_sign_in(&url, "hong@dn.example", PASSWORD, "198.18.3.2").await;
        assert_eq!(loc, "/staff");
    });
    // From one address, the 21st try in ten minutes is turned away before any work.
    let f = fixture(&[]);
    f.add_user("hong@dn.example", "staff", ITTPC);
    let url = f.server.url();
    let answers = f.rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..24 {
            let url = url.clone();
            set.spawn(async move {
                try_sign_in(&url, &format!("guess{i}@dn.example"), "x", "0.0.0.0")
                    .await
                    .1
            });
        }
        set.join_all().await
    });
    assert!(
        answers
            .iter()
            .filter(|l| l.as_str() == "/staff/login?error=busy")
            .count()
            >= 4,
        "{answers:?}"
    );
}

#[test]
fn hostile_a_15_mb_email_field_is_refused_and_the_audit_log_stays_small_and_paged() {
    let f = fixture(&[]);
    f.add_user("admin@dn.example", "admin", ITTPC);
    let url = f.server.url();
    f.rt.block_on(async {
        let huge = "a".repeat(15 << 20);
        let r = reqwest::Client::new()
            .post(format!("{url}/staff/login"))
            .form(&[("email", huge.as_str()), ("password", "x"), ("csrf", "x")])
            .send()
            .await;
        // Refused with 413, or the connection closed before the whole body was read.
        if let Ok(r) = r {
            assert_eq!(r.status(), 413, "a staff form is at most 64 kB");
        }
        let (s, _) = e2e::pages::get(&reqwest::Client::new(), &format!("{url}/staff/login")).await;
        assert_eq!(s, 200, "and the server carries on");
        // Under the body limit but over any email's length: capped in the log.
        let long = format!("{}@dn.example", "b".repeat(60_000));
        for _ in 0..3 {
            let (s, loc, _) = try_sign_in(&url, &long, "x", "-").await;
            assert_eq!((s, loc.as_str()), (303, "/staff/login?error=1"));
        }
    });
    let longest = f
        .server
        .rows(Table::Audit)
        .iter()
        .map(|r| r.text("detail").chars().count())
        .max()
        .expect("the sign-ins are logged");
    assert!(longest <= 255);
    for i in 0..250 {
        f.server
            .state
            .staff
            .audit(
                None,
                sync_server::store::AuditAction::Export,
                &format!("entry {i}"),
                protocol::now_ms(),
            )
            .unwrap();
    }
    f.rt.block_on(async {
        let admin = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (_, first) = e2e::pages::get(&admin, &format!("{url}/staff/audit")).await;
        assert_eq!(
            first.matches("<tr><td>").count(),
            100,
            "one page is 100 entries"
        );
        assert!(first.contains("entry 249") && !first.contains("entry 149<"));
        assert!(first.contains("/staff/audit?page=1"));
        let (_, third) = e2e::pages::get(&admin, &format!("{url}/staff/audit?page=2")).await;
        assert!(third.contains("entry 0<") && !third.contains("id=\"next\""));
    });
}

#[test]
fn hostile_staff_sessions_end_when_idle_at_sign_out_and_at_a_password_change_with_secure_host_cookies()
 {
    let f = fixture(&[]);
    f.add_user("hong@dn.example", "staff", ITTPC);
    let url = f.server.url();
    f.rt.block_on(async {
        let one = e2e::pages::sign_in(&url, "hong@dn.example", PASSWORD).await;
        let two = e2e::pages::sign_in(&url, "hong@dn.example", PASSWORD).await;
        let (s, html) = e2e::pages::get(&one, &format!("{url}/staff")).await;
        assert_eq!(s, 200);
        let r = one
            .post(format!("{url}/staff/logout"))
            .form(&[("csrf", e2e::pages::csrf(&html))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (s, _) = e2e::pages::get(&two, &format!("{url}/staff")).await;
        assert_eq!(s, 303, "signing out ends the other browser's session too");
    });
    // A password change ends every session of the account.
    f.rt.block_on(async {
        let one = e2e::pages::sign_in(&url, "hong@dn.example", PASSWORD).await;
        let hash = sync_server::http::staff::hash_password("a new password 2027").unwrap();
        assert!(
            f.server
                .state
                .staff
                .set_password("hong@dn.example", &hash)
                .unwrap()
        );
        let (s, _) = e2e::pages::get(&one, &format!("{url}/staff")).await;
        assert_eq!(s, 303, "the old session ended with the password change");
        e2e::pages::sign_in(&url, "hong@dn.example", "a new password 2027").await;
    });
    // Idle for 31 minutes, or past 12 hours: over.
    let staff = &f.server.state.staff;
    let uid = staff.user_by_email("hong@dn.example").unwrap().unwrap().id;
    let now = protocol::now_ms();
    staff
        .create_session(uid, "idle", "c", now - 31 * 60_000, now + 3_600_000)
        .unwrap();
    staff
        .create_session(uid, "busy", "c", now - 29 * 60_000, now + 3_600_000)
        .unwrap();
    staff
        .create_session(uid, "old", "c", now - 13 * 3_600_000, now - 3_600_000)
        .unwrap();
    assert!(staff.session("idle", now).unwrap().is_none());
    assert!(staff.session("busy", now).unwrap().is_some());
    assert!(staff.session("old", now).unwrap().is_none());
    // Used a minute ago, it lives 30 more minutes.
    assert!(staff.session("busy", now + 20 * 60_000).unwrap().is_some());
    // Behind a TLS proxy (public URL https), the cookie is Secure, __Host-, path /.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.public_url = "https://promo.example".into()
    });
    let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
    server
        .state
        .staff
        .add_user(
            "hong@dn.example",
            &hash,
            sync_server::store::Role::Staff,
            ITTPC,
            now,
        )
        .unwrap();
    let cookies = f.rt.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .get(format!("{}/staff/login", server.url()))
            .send()
            .await
            .unwrap();
        let csrf_cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("promo_login_csrf="))
            .unwrap();
        let html = r.text().await.unwrap();
        let r = http
            .post(format!("{}/staff/login", server.url()))
            .header("cookie", csrf_cookie.split(';').next().unwrap())
            .form(&[
                ("email", "hong@dn.example"),
                ("password", PASSWORD),
                ("csrf", &e2e::pages::csrf(&html)),
            ])
            .send()
            .await
            .unwrap();
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    });
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-promo_session="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(
        session.contains("; Secure") && session.contains("Path=/;") && session.contains("HttpOnly")
    );
}

#[test]
fn hostile_an_enrolment_flood_is_limited_and_logged() {
    let f = fixture(&["127.0.0.1"]);
    let code = f
        .server
        .storage()
        .create_kiosk("Hall D", Some(EVENT), protocol::now_ms())
        .unwrap()
        .code;
    assert!(code.len() >= 19, "80-bit codes: {code}");
    let url = f.server.url();
    let statuses = f.rt.block_on(async {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for i in 0..35 {
            let r = http
                .post(format!("{url}/api/v1/enrol"))
                .header("x-forwarded-for", "198.18.9.9")
                .json(&json!({"code": format!("AAAA-BBBB-CCCC-{i:04}"), "app_version": "x"}))
                .send()
                .await
                .unwrap();
            out.push(r.status().as_u16());
        }
        out
    });
    assert!(statuses[..30].iter().all(|s| *s == 403), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // The right code from the flooding address waits too; from the kiosk's network it works.
    let (blocked, ok) = f.rt.block_on(async {
        let http = reqwest::Client::new();
        let send = |ip: &'static str| {
            http.post(format!("{url}/api/v1/enrol"))
                .header("x-forwarded-for", ip)
                .json(&json!({"code": code.to_lowercase(), "app_version": "x"}))
                .send()
        };
        (
            send("198.18.9.9").await.unwrap().status().as_u16(),
            send("198.18.9.10").await.unwrap().status().as_u16(),
        )
    });
    assert_eq!((blocked, ok), (429, 200));
    assert_eq!(
        f.server
            .count(Table::Audit, |r| r.text("action") == "kiosk_enrol"
                && holds(r.text("detail"), "client=198.18.9.10")),
        1
    );
}

e2e::on_both_backends!(hostile_a_second_form_through_a_shared_qr_keeps_the_first_visitors_version);
fn hostile_a_second_form_through_a_shared_qr_keeps_the_first_visitors_version(backend: Backend) {
    let f = fixture_on(&[], backend);
    f.add_user("admin@dn.example", "admin", ITTPC);
    // A delegation's closing slide: one code for the whole room.
    let (_, signed) = f.token("long-thanh-airport", "ko");
    let url = f.server.url();
    let post = |name: &str, phone: &str| {
        let mut form = lead_form("office@hanwha.example", name);
        form.push(("phone", phone.to_owned()));
        f.rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{url}/i/{signed}"))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    assert_eq!(post("Kim Minji", "+82 10 1111 2222"), StatusCode::OK);
    assert_eq!(post("Park Jisoo", "+82 10 3333 4444"), StatusCode::OK);
    assert_eq!(
        f.server
            .count(Table::Leads, |r| r.text("email") == "office@hanwha.example"),
        1
    );
    let lead_id = f
        .server
        .rows_where(Table::Leads, |r| r.text("email") == "office@hanwha.example")[0]
        .uuid("lead_id");
    let versions = f
        .server
        .state
        .leads
        .lead_versions(&sync_server::store::Scope::All, lead_id)
        .unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].contact.name, "Kim Minji");
    assert_eq!(versions[0].contact.phone, "+82 10 1111 2222");
    assert_eq!(versions[0].source, "phone_form");
    assert_eq!(
        f.server
            .count(Table::Audit, |r| r.text("action") == "lead_overwritten"),
        1
    );
    // Staff see both and put the first visitor's back.
    f.rt.block_on(async {
        let admin = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        let page_url = format!("{url}/staff/leads/{lead_id}");
        let (_, html) = e2e::pages::get(&admin, &page_url).await;
        assert!(html.contains("Park Jisoo"), "the newer one is shown");
        let table = e2e::pages::table(&html, "versions");
        let row = e2e::pages::row(&table, &versions[0].id.to_string());
        assert!(row.iter().any(|c| c.contains("Kim Minji")), "{row:?}");
        let r = admin
            .post(format!("{page_url}/restore"))
            .form(&[
                ("csrf", e2e::pages::csrf(&html)),
                ("version", versions[0].id.to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = e2e::pages::get(&admin, &page_url).await;
        let current = html.split("id=\"versions\"").next().unwrap();
        assert!(current.contains("Kim Minji"), "restored");
        assert!(
            html.contains("Park Jisoo"),
            "and the one it replaced is kept"
        );
    });
    // Erasing the lead erases its history too.
    f.server
        .storage()
        .erase_lead(lead_id, protocol::now_ms())
        .unwrap();
    assert_eq!(f.server.rows(Table::LeadVersions).len(), 0);
}

e2e::on_both_backends!(
    hostile_raw_scans_are_erased_with_a_lead_by_a_persons_request_and_by_retention
);
fn hostile_raw_scans_are_erased_with_a_lead_by_a_persons_request_and_by_retention(
    backend: Backend,
) {
    let f = fixture_on(&[], backend);
    f.add_user("admin@dn.example", "admin", ITTPC);
    let scan = |raw: &str| json!({"kind": "raw_scan", "raw": raw, "reason": "the visitor said no"});
    let kim_lead = Uuid::now_v7();
    let bodies = [
        scan("BEGIN:VCARD\r\nFN:Kim Minji\r\nEMAIL;TYPE=work:Kim@Example.kr\r\nEND:VCARD"),
        scan("MECARD:N:Lee,Jun;TEL:+84 912 345 678;;"),
        scan("BEGIN:VCARD\nFN:Park\nEMAIL:park@example.kr\nEND:VCARD"),
        scan("BADGE-000123"),
        json!({"kind": "lead", "lead_id": kim_lead, "source": "kiosk_form",
               "contact": {"name": "Kim Minji", "email": "kim@example.kr"},
               "consent": {"text_id": "kiosk-consent-text", "version": 1, "lang": "ko", "at_ms": protocol::now_ms()}}),
    ];
    assert_eq!(f.push_raw(&f.identity, protocol::now_ms(), &bodies), 200);
    let holding = |text: &str| {
        f.server
            .count(Table::Records, |r| holds(r.text("body"), text))
    };
    assert_eq!(holding("Kim Minji"), 2);
    // 1. A lead's erasure takes the scans that hold its email.
    f.server
        .storage()
        .erase_lead(kim_lead, protocol::now_ms())
        .unwrap();
    assert_eq!(holding("Kim Minji"), 0);
    assert_eq!(
        holding("the visitor said no"),
        4,
        "the records and their reasons stay"
    );
    // 2. A person's request by phone shows the scan, then erases it.
    let url = f.server.url();
    f.rt.block_on(async {
        let admin = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        let who = "0912345678";
        let (_, html) = e2e::pages::get(&admin, &format!("{url}/staff/privacy?who={who}")).await;
        let scans = html
            .split("id=\"scans\"")
            .nth(1)
            .expect("the scans are listed");
        assert!(
            scans.contains("Lee,Jun") && !scans.contains("BADGE-000123"),
            "{html}"
        );
        let r = admin
            .post(format!("{url}/staff/privacy"))
            .form(&[
                ("csrf", e2e::pages::csrf(&html)),
                ("who", who.into()),
                ("confirm", "ERASE".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    assert_eq!(holding("Lee,Jun"), 0);
    assert_eq!(holding("park@example.kr"), 1);
    // 3. Retention: past the unit's 730 days, every scan's text goes.
    let later = protocol::now_ms() + 731 * 86_400_000;
    sync_server::retention::sweep_retention(&f.server.state, later).unwrap();
    assert_eq!(holding("park@example.kr"), 0);
    assert_eq!(holding("BADGE-000123"), 0);
}

#[test]
fn hostile_records_that_cannot_be_read_are_quarantined_and_never_block_the_batch() {
    let f = fixture(&[]);
    f.add_user("admin@dn.example", "admin", ITTPC);
    let bodies = [
        json!({"kind": "view", "item": "long-thanh-airport", "lang": "ko", "dwell_ms": -5, "origin": "visitor"}),
        json!({"kind": "lead", "lead_id": Uuid::now_v7(), "source": "badge"}),
        json!("not a record body"),
        json!({"kind": "view", "item": "long-thanh-airport", "lang": "ko", "dwell_ms": 1200, "origin": "visitor"}),
    ];
    assert_eq!(f.push_raw(&f.identity, protocol::now_ms(), &bodies), 200);
    let cursor = f
        .server
        .storage()
        .cursor(
            &f.server
                .storage()
                .authenticate(f.identity.kiosk_id, &f.identity.secret)
                .unwrap(),
            protocol::now_ms(),
        )
        .unwrap();
    assert_eq!(cursor.next_seq, 5, "all four acknowledged");
    assert_eq!(f.server.rows(Table::Quarantine).len(), 3);
    assert_eq!(
        f.server
            .count(Table::Records, |r| r.text("kind") == "quarantined"),
        3
    );
    assert_eq!(
        sum(&f.server.rows(Table::RollupViews), "views"),
        1,
        "only the readable view counts"
    );
    assert_eq!(sum(&f.server.rows(Table::RollupViews), "dwell_ms"), 1200);
    let url = f.server.url();
    f.rt.block_on(async {
        let admin = e2e::pages::sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (_, html) = e2e::pages::get(&admin, &format!("{url}/staff/audit?lang=en")).await;
        let held = e2e::pages::table(&html, "quarantine");
        assert_eq!(held.len(), 3, "{html}");
        let view = e2e::pages::row(&held, &format!("{}:1", f.identity.kiosk_id));
        assert!(
            view.iter()
                .any(|c| c.contains("invalid value: integer `-5`")),
            "{view:?}"
        );
    });
}

#[test]
fn hostile_a_manifest_cannot_fill_the_kiosks_disk_or_name_a_file_outside_its_cache() {
    let f = fixture(&[]);
    let good = f.server.storage().current_manifest().unwrap().unwrap();
    let client = kiosk_core::sync::SyncClient::new(
        f.identity.clone(),
        kiosk_core::clock::Clock::system(),
        kiosk_core::sync::SyncConfig::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = kiosk_core::pull::ContentCache::new(dir.path().join("cache"), 1 << 30);
    // The manifest says 100 bytes; the server sends the whole file.
    let mut short = good.clone();
    short.version = "short".into();
    short.media[0].size = 100;
    f.server
        .storage()
        .publish(&short, protocol::now_ms())
        .unwrap();
    let err =
        f.rt.block_on(cache.update(&client, None, None))
            .unwrap_err();
    assert!(
        matches!(err, kiosk_core::pull::PullError::TooLarge { .. }),
        "{err}"
    );
    let biggest = std::fs::read_dir(cache.media_dir())
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .max()
        .unwrap_or(0);
    assert!(
        biggest <= 100,
        "nothing past the manifest's size is kept: {biggest}"
    );
    // A media name that is not a sha256 is refused before any file is touched.
    let mut escape = good.clone();
    escape.version = "escape".into();
    escape.media[0].sha256 = "../../escaped".into();
    f.server
        .storage()
        .publish(&escape, protocol::now_ms())
        .unwrap();
    let err =
        f.rt.block_on(cache.update(&client, None, None))
            .unwrap_err();
    assert!(
        matches!(err, kiosk_core::pull::PullError::Manifest(_)),
        "{err}"
    );
    assert!(!dir.path().join("escaped").exists());
    assert!(cache.current().is_none(), "nothing half-switched");
}

/// A tmpfs of `size` mounted at `dir` for as long as it lives (None when this process may not
/// mount: not root, or no CAP_SYS_ADMIN in this container).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Option<Tmpfs> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"));
        if !root {
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn hostile_a_full_disk_answers_503_commits_nothing_partial_and_everything_drains_once_after() {
    use kiosk_core::clock::Clock;
    use kiosk_core::store::Store;
    use kiosk_core::sync::{SyncClient, SyncConfig, SyncError};
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&dir.path().join("small"), "48m") else {
        eprintln!(
            "SKIPPED hostile_a_full_disk…: mounting a tmpfs needs root (and CAP_SYS_ADMIN); run the tests as root to include it"
        );
        return;
    };
    let server = TestServer::start(&disk.0.join("server"));
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = enrol_store(&server, &store_path, &server.url());
    let (_, signed) = kiosk_core::qr::token(
        &identity.token_key,
        identity.kiosk_id,
        protocol::now_ms(),
        true,
        "test-event",
        "long-thanh-airport",
        "ko",
    );
    let mut store = Store::open(&store_path).unwrap();
    let clock = Clock::system();
    e2e::fill_store(&mut store, &clock, 0, 20_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut client =
        SyncClient::new(identity.clone(), Clock::system(), SyncConfig::default()).unwrap();
    // Fill what is left of the disk but a little, then push until it is full.
    let ballast = disk.0.join("ballast");
    let free = |p: &std::path::Path| {
        let out = std::process::Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let room = free(&disk.0).saturating_sub(700 << 10);
    std::fs::write(&ballast, vec![7u8; room as usize]).unwrap();
    let mut refused = None;
    for _ in 0..200 {
        match rt.block_on(client.round(&mut store)) {
            Ok(r) if store.backlog().unwrap() == 0 => panic!("the disk never filled: {r:?}"),
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("a push was refused");
    assert!(
        matches!(
            refused,
            SyncError::Server {
                status: 503,
                retry_after: Some(_),
                ..
            }
        ),
        "{refused:?}"
    );
    // Nothing partial: the server holds a gap-free prefix of the kiosk's records.
    let held = server.records_of(identity.kiosk_id);
    let kiosk_side = e2e::store_records(&store);
    assert_eq!(&kiosk_side[..held.len()], held.as_slice());
    assert!(held.len() < kiosk_side.len());
    // A phone's lead on a disk with no byte left (the log of the database emptied into it
    // first, so that the lead needs new room) gets a page that says to try again. The log is
    // emptied by a restart: SQLite writes it into the database and removes it when the last
    // connection closes. The kiosk is told where the restarted server listens.
    std::fs::remove_file(&ballast).unwrap();
    let data_dir = server.data_dir.clone();
    server.stop();
    let logs: Vec<_> = std::fs::read_dir(&data_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("-wal"))
        .filter(|e| e.metadata().is_ok_and(|m| m.len() > 0))
        .map(|e| e.path())
        .collect();
    assert!(logs.is_empty(), "the log is in the database: {logs:?}");
    let server = TestServer::start(&data_dir);
    client.identity.server_url = server.url();
    std::fs::write(&ballast, vec![7u8; free(&disk.0) as usize]).unwrap();
    let mut rest = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(disk.0.join("rest"))
        .unwrap();
    while std::io::Write::write_all(&mut rest, &[0u8; 4096]).is_ok() {}
    drop(rest);
    let (status, retry, html) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/i/{signed}", server.url()))
            .form(&lead_form("minji@example.kr", "Kim Minji"))
            .send()
            .await
            .unwrap();
        let retry = r.headers().get("retry-after").is_some();
        (r.status(), retry, r.text().await.unwrap())
    });
    assert_eq!((status, retry), (StatusCode::SERVICE_UNAVAILABLE, true));
    assert!(
        html.contains("1분 후에 다시") && html.contains("minji@example.kr"),
        "{html}"
    );
    assert_eq!(
        server
            .state
            .leads
            .leads_of_person("minji@example.kr")
            .unwrap()
            .len(),
        0,
        "nothing was stored"
    );
    // Space freed: everything drains, exactly once.
    std::fs::remove_file(&ballast).unwrap();
    std::fs::remove_file(disk.0.join("rest")).unwrap();
    let mut errors = Vec::new();
    for _ in 0..200 {
        if store.backlog().unwrap() == 0 {
            break;
        }
        if let Err(e) = rt.block_on(client.round(&mut store)) {
            errors.push(e.to_string());
        }
    }
    assert!(
        store.backlog().unwrap() == 0,
        "{:?}",
        &errors[..errors.len().min(5)]
    );
    assert_eq!(store.backlog().unwrap(), 0);
    assert_eq!(
        server.records_of(identity.kiosk_id),
        e2e::store_records(&store)
    );
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/i/{signed}", server.url()))
            .form(&lead_form("minji@example.kr", "Kim Minji"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server
            .state
            .leads
            .leads_of_person("minji@example.kr")
            .unwrap()
            .len(),
        1
    );
    server.stop();
    drop(disk);
}

#[test]
fn hostile_past_the_servers_capacity_phones_get_a_busy_page_at_once_and_keep_their_form() {
    let dir = tempfile::tempdir().unwrap();
    // No place at all: every phone request is past the ceiling.
    let server = TestServer::start_with(&dir.path().join("server"), |c| c.phone_max_in_flight = 0);
    e2e::publish(&server, &e2e::demo_pack_dir());
    let identity = enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    let (_, signed) = kiosk_core::qr::token(
        &identity.token_key,
        identity.kiosk_id,
        protocol::now_ms(),
        true,
        "test-event",
        "long-thanh-airport",
        "ja",
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let started = std::time::Instant::now();
        let r = reqwest::get(format!("{}/p/{signed}?lang=ja", server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "5");
        assert!(r.text().await.unwrap().contains("数秒後に"));
        let r = reqwest::Client::new()
            .post(format!("{}/i/{signed}", server.url()))
            .form(&lead_form("yui@example.jp", "Sato Yui"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("数秒後に") && html.contains("yui@example.jp"),
            "{html}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "answered at once"
        );
    });
    assert!(
        server
            .state
            .leads
            .leads_of_person("yui@example.jp")
            .unwrap()
            .is_empty()
    );
}
