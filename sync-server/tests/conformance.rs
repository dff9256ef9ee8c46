//! The storage conformance suite: every backend answers the same fixtures the same way. Each
//! check runs on SQLite (a fresh file) and on PostgreSQL (a fresh database in the cluster that
//! `pg_virtualenv` makes; `scripts/test.sh` runs the tests inside it). Test names contain
//! `postgres` when they run there.

use std::collections::BTreeMap;
use sync_server::store::postgres::PostgresStorage;
use sync_server::store::sqlite::SqliteStorage;

use protocol::RecordBody;
use serde_json::json;
use sync_server::store::{
    AUDIT_DETAIL_MAX, AuditAction, FleetStorage, IncomingBatch, IncomingRecord, KioskAuth,
    PhoneLead, PhoneStorage, QrOpen, Role, SESSION_IDLE_MS, StaffStorage, Storage, StorageError,
};
use uuid::Uuid;

/// A fresh SQLite database (the directory goes when the test ends).
fn sqlite() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.sqlite")).unwrap();
    (dir, s)
}

/// The cluster `pg_virtualenv` started, from the variables it exports.
fn cluster_url(database: &str) -> String {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    assert!(
        std::env::var("PGHOST").is_ok(),
        "no PostgreSQL cluster: run the tests with scripts/test.sh, or inside \
         `pg_virtualenv -o fsync=off cargo test ...` (package postgresql-common)"
    );
    format!(
        "postgres://{}:{}@{}:{}/{database}",
        var("PGUSER", "postgres"),
        var("PGPASSWORD", ""),
        var("PGHOST", "localhost"),
        var("PGPORT", "5432"),
    )
}

/// A fresh PostgreSQL database of its own for one test.
fn postgres() -> PostgresStorage {
    let name = format!("conformance_{}", uuid::Uuid::now_v7().simple());
    let mut admin = postgres::Client::connect(
        &cluster_url(&std::env::var("PGDATABASE").unwrap_or_else(|_| "postgres".into())),
        postgres::NoTls,
    )
    .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    PostgresStorage::open(&cluster_url(&name)).unwrap()
}

/// One check, once per backend.
macro_rules! conformance {
    ($check:ident) => {
        mod $check {
            #[test]
            fn sqlite() {
                let (_dir, s) = super::sqlite();
                super::$check(&s);
            }

            #[test]
            fn postgres() {
                super::$check(&super::postgres());
            }
        }
    };
}

const T0: i64 = 1_780_000_000_000;
const MIN: i64 = 60_000;

fn accounts(s: &dyn StaffStorage) {
    let id = s
        .add_user(
            "Hong@DN.example",
            "hash-1",
            Role::Staff,
            "Department of Foreign Affairs",
            T0,
        )
        .unwrap();
    let admin = s
        .add_user(
            "admin@dn.example",
            "hash-2",
            Role::Admin,
            "Investment, Trade and Tourism Promotion Centre",
            T0,
        )
        .unwrap();
    assert_ne!(id, admin);
    // An email is one account in any case.
    match s.add_user("hong@dn.example", "h", Role::Staff, "x", T0) {
        Err(StorageError::Invalid(m)) => assert!(m.contains("already exists"), "{m}"),
        other => panic!("a second account for one email: {other:?}"),
    }
    let u = s
        .user_by_email("HONG@dn.example")
        .unwrap()
        .expect("found in any case");
    assert_eq!(
        (
            u.id,
            u.email.as_str(),
            u.password_hash.as_str(),
            u.role,
            u.org.as_str()
        ),
        (
            id,
            "Hong@DN.example",
            "hash-1",
            Role::Staff,
            "Department of Foreign Affairs"
        )
    );
    assert_eq!(
        s.user_by_email("admin@dn.example").unwrap().unwrap().role,
        Role::Admin
    );
    assert!(s.user_by_email("nobody@dn.example").unwrap().is_none());
    assert!(!s.set_password("nobody@dn.example", "h").unwrap());
}
conformance!(accounts);

fn sessions(s: &dyn StaffStorage) {
    let id = s
        .add_user("lan@dn.example", "h", Role::Staff, "Unit", T0)
        .unwrap();
    s.create_session(id, "token-a", "csrf-a", T0, T0 + 12 * 60 * MIN)
        .unwrap();
    s.create_session(id, "token-b", "csrf-b", T0, T0 + 12 * 60 * MIN)
        .unwrap();
    let (u, csrf) = s
        .session("token-a", T0 + MIN)
        .unwrap()
        .expect("a live session");
    assert_eq!((u.id, csrf.as_str()), (id, "csrf-a"));
    assert!(
        s.session("token-x", T0).unwrap().is_none(),
        "an unknown token"
    );
    // Idle: used 29 minutes after its last use it lives, and the use moves the clock on.
    let t = T0 + SESSION_IDLE_MS - MIN;
    assert!(s.session("token-a", t).unwrap().is_some());
    assert!(
        s.session("token-a", t + SESSION_IDLE_MS - MIN)
            .unwrap()
            .is_some()
    );
    // token-b was never used since T0: idle.
    assert!(
        s.session("token-b", T0 + SESSION_IDLE_MS + 1)
            .unwrap()
            .is_none()
    );
    // The absolute end holds however often it is used.
    s.create_session(id, "token-c", "csrf-c", T0, T0 + 10 * MIN)
        .unwrap();
    assert!(s.session("token-c", T0 + 9 * MIN).unwrap().is_some());
    assert!(s.session("token-c", T0 + 10 * MIN).unwrap().is_none());
    s.delete_session("token-a").unwrap();
    assert!(s.session("token-a", t + MIN).unwrap().is_none());
    // Signing out everywhere, and a new password, end every session.
    s.create_session(id, "token-d", "csrf-d", T0, T0 + 60 * MIN)
        .unwrap();
    s.create_session(id, "token-e", "csrf-e", T0, T0 + 60 * MIN)
        .unwrap();
    s.end_sessions(id).unwrap();
    assert!(s.session("token-d", T0 + MIN).unwrap().is_none());
    s.create_session(id, "token-f", "csrf-f", T0, T0 + 60 * MIN)
        .unwrap();
    assert!(s.set_password("LAN@dn.example", "new-hash").unwrap());
    assert!(s.session("token-f", T0 + MIN).unwrap().is_none());
    assert_eq!(
        s.user_by_email("lan@dn.example")
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
}
conformance!(sessions);

fn lockout(s: &dyn StaffStorage) {
    let id = s
        .add_user("minh@dn.example", "h", Role::Staff, "Unit", T0)
        .unwrap();
    s.add_user("an@dn.example", "h", Role::Staff, "Unit", T0)
        .unwrap();
    // Every fifth failure in a row locks, for longer each time: 1 min, 5 min, 15 min, 1 h.
    let mut ends = Vec::new();
    for i in 1..=25 {
        if let Some(end) = s.login_failed("Minh@dn.example", T0 + i).unwrap() {
            ends.push((i, end - (T0 + i)));
        }
    }
    assert_eq!(
        ends,
        [
            (5, MIN),
            (10, 5 * MIN),
            (15, 15 * MIN),
            (20, 60 * MIN),
            (25, 60 * MIN)
        ]
    );
    assert_eq!(
        s.locked_until("minh@dn.example", T0 + 26).unwrap(),
        Some(T0 + 25 + 60 * MIN)
    );
    assert_eq!(
        s.locked_until("minh@dn.example", T0 + 25 + 60 * MIN)
            .unwrap(),
        None,
        "over"
    );
    assert_eq!(s.login_failed("nobody@dn.example", T0).unwrap(), None);
    for i in 1..=5 {
        s.login_failed("an@dn.example", T0 + i).unwrap();
    }
    assert_eq!(
        s.locked_users(T0 + 30).unwrap(),
        [
            ("an@dn.example".to_owned(), T0 + 5 + MIN),
            ("minh@dn.example".to_owned(), T0 + 25 + 60 * MIN)
        ]
    );
    assert!(s.unlock_user("AN@dn.example").unwrap());
    assert!(!s.unlock_user("nobody@dn.example").unwrap());
    assert_eq!(s.locked_until("an@dn.example", T0 + 30).unwrap(), None);
    // A success clears the count: four more failures do not lock.
    s.login_succeeded(id).unwrap();
    assert_eq!(s.locked_until("minh@dn.example", T0 + 30).unwrap(), None);
    for i in 1..=4 {
        assert_eq!(
            s.login_failed("minh@dn.example", T0 + 100 + i).unwrap(),
            None
        );
    }
    assert_eq!(s.locked_users(T0 + 200).unwrap(), []);
}
conformance!(lockout);

fn audit_and_dashboard(s: &dyn StaffStorage) {
    let id = s
        .add_user("admin@dn.example", "h", Role::Admin, "Unit", T0)
        .unwrap();
    s.audit(Some(id), AuditAction::Export, "leads csv: 3", T0)
        .unwrap();
    s.audit(
        None,
        AuditAction::LoginFailed,
        &"x".repeat(AUDIT_DETAIL_MAX * 3),
        T0,
    )
    .unwrap();
    s.audit(Some(id), AuditAction::Logout, "admin@dn.example", T0 + 1)
        .unwrap();
    let (entries, total) = s.audit_log(2, 0).unwrap();
    assert_eq!(total, 3);
    let got: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.at_ms,
                e.email.as_deref(),
                e.action.as_str(),
                e.detail.chars().count(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (T0 + 1, Some("admin@dn.example"), "logout", 16),
            // A flood of text is cut, and says so.
            (T0, None, "login_failed", AUDIT_DETAIL_MAX + 1),
        ],
        "newest first"
    );
    let (older, _) = s.audit_log(2, 2).unwrap();
    assert_eq!(older[0].detail, "leads csv: 3");
    // An empty server's dashboard and quarantine.
    let sum = s.summary().unwrap();
    assert_eq!(
        (sum.kiosks.len(), sum.kinds.len(), sum.leads, sum.qr_opens),
        (0, 0, 0, 0)
    );
    let (rows, total) = s.quarantine(100).unwrap();
    assert_eq!((rows.len(), total), (0, 0));
}
conformance!(audit_and_dashboard);

// ---------------------------------------------------------------------------------------
// Kiosks, the push, erasure, content, phones.

/// A kiosk created and enrolled at `T0`, signed in.
fn enrolled<S: Storage>(s: &S, name: &str, event: &str) -> KioskAuth {
    let k = s.create_kiosk(name, Some(event), T0).unwrap();
    let e = s.enrol(&k.code, "1.0", T0).unwrap();
    s.authenticate(e.uuid, &e.secret).unwrap()
}

/// Record `seq` of `kiosk`; its id is the same for the same kiosk and seq.
fn rec(kiosk: Uuid, seq: u64, event: &str, body: &str) -> IncomingRecord {
    let (hi, lo) = kiosk.as_u64_pair();
    IncomingRecord {
        id: Uuid::from_u64_pair(hi ^ lo, seq),
        kiosk_id: kiosk,
        seq,
        wall_ms: T0 + seq as i64 * 1_000,
        boot_id: Uuid::from_u128(7),
        mono_ms: 5_000 + seq * 1_000,
        clock_ok: true,
        event_id: Some(event.to_owned()),
        body: serde_json::value::RawValue::from_string(body.to_owned()).unwrap(),
    }
}

fn batch(records: Vec<IncomingRecord>, pruned_below: u64) -> IncomingBatch {
    let mono = records.iter().map(|r| r.mono_ms).max().unwrap_or(0) + 1_000;
    IncomingBatch {
        clock: protocol::sync::ClockSample {
            boot_id: Uuid::from_u128(7),
            mono_ms: mono,
            wall_ms: T0 + mono as i64,
        },
        pruned_below,
        records,
    }
}

fn view(item: &str, lang: &str) -> String {
    json!({"kind": "view", "item": item, "lang": lang, "dwell_ms": 4000, "origin": "visitor"})
        .to_string()
}

fn lead(id: Uuid, name: &str, email: &str) -> String {
    serde_json::to_string(&RecordBody::Lead(Box::new(protocol::record::LeadBody {
        lead_id: id,
        contact: protocol::record::Contact {
            name: name.into(),
            email: email.into(),
            ..Default::default()
        },
        interests: vec!["invest".into()],
        source: protocol::record::LeadSource::KioskForm,
        consent: None,
        item: Some("invest".into()),
        lang: Some("ko".into()),
        redacted: false,
    })))
    .unwrap()
}

/// Records per kind, as the dashboard counts them.
fn kinds<S: StaffStorage>(s: &S) -> BTreeMap<String, i64> {
    s.summary().unwrap().kinds.into_iter().collect()
}

fn kiosks_and_enrolment<S: Storage>(s: &S) {
    let k = s.create_kiosk("Booth A", Some("fair-2026"), T0).unwrap();
    assert!(matches!(
        s.enrol("WRONG-CODE", "1.0", T0),
        Err(StorageError::BadCode)
    ));
    // A code expires.
    let late = s.create_kiosk("Booth B", None, T0).unwrap();
    assert!(matches!(
        s.enrol(&late.code, "1.0", late.expires_ms + 1),
        Err(StorageError::BadCode)
    ));
    // The code typed in lower case with spaces is the same code, and works once.
    let typed = format!(" {} ", k.code.to_lowercase());
    let e = s.enrol(&typed, "1.0", T0).unwrap();
    assert_eq!((e.uuid, e.name.as_str()), (k.uuid, "Booth A"));
    assert_eq!(e.event_id.as_deref(), Some("fair-2026"));
    assert!(matches!(
        s.enrol(&k.code, "1.0", T0),
        Err(StorageError::BadCode)
    ));
    let auth = s.authenticate(e.uuid, &e.secret).unwrap();
    assert!(matches!(
        s.authenticate(e.uuid, "not the secret"),
        Err(StorageError::Unauthorised)
    ));
    assert!(matches!(
        s.authenticate(late.uuid, ""),
        Err(StorageError::Unauthorised)
    ));
    assert_eq!(s.token_key(e.uuid).unwrap(), e.token_key);
    assert!(matches!(
        s.token_key(late.uuid),
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.enrolled_kiosks().unwrap(), [e.uuid]);
    assert_eq!(s.cursor(&auth, T0).unwrap().next_seq, 1);
    // A kiosk moved to another event may sign codes for both.
    s.set_kiosk_event(e.uuid, Some("meeting-kr")).unwrap();
    let mut events = s.token_kiosk(e.uuid).unwrap().events;
    events.sort();
    assert_eq!(events, ["fair-2026", "meeting-kr"]);
    assert!(matches!(
        s.set_kiosk_event(Uuid::from_u128(1), None),
        Err(StorageError::NotFound)
    ));
    let stamp = s.kiosk_stamp().unwrap();
    s.revoke_kiosk(e.uuid, T0 + 5).unwrap();
    assert_ne!(
        s.kiosk_stamp().unwrap(),
        stamp,
        "a revocation changes the stamp"
    );
    assert!(matches!(
        s.authenticate(e.uuid, &e.secret),
        Err(StorageError::Revoked)
    ));
    assert!(s.token_kiosk(e.uuid).unwrap().revoked);
    let list = s.kiosks().unwrap();
    assert_eq!(
        list.iter()
            .map(|k| (k.name.as_str(), k.enrolled, k.revoked))
            .collect::<Vec<_>>(),
        [("Booth A", true, true), ("Booth B", false, false)]
    );
}
conformance!(kiosks_and_enrolment);

fn the_push_lands_exactly_once<S: Storage + StaffStorage>(s: &S) {
    let k = enrolled(s, "Booth A", "fair-2026");
    let u = k.uuid;
    let kim = Uuid::from_u128(0x4b11);
    let visit = serde_json::to_string(&RecordBody::Visit(Box::new(protocol::record::VisitBody {
        visit_id: Uuid::from_u128(0x7151),
        delegation: "kr-2026".into(),
        deck: "invest".into(),
        duration_ms: 600_000,
        attendees: 6,
        slides: vec![protocol::record::SlideShown {
            slide: 0,
            item: Some("invest".into()),
            shown_ms: 600_000,
        }],
        blank_ms: 0,
        qr_nonces: vec![],
        ended: protocol::record::VisitEnd::Host,
    })))
    .unwrap();
    let first = vec![
        rec(u, 1, "fair-2026", &serde_json::to_string(&RecordBody::Session {
                session_id: Uuid::from_u128(5),
                phase: protocol::SessionPhase::Start,
            })
            .unwrap()),
        rec(u, 2, "fair-2026", &view("invest", "ko")),
        rec(u, 3, "fair-2026", &view("tourism", "ja")),
        rec(u, 4, "fair-2026", &lead(kim, "Kim Min-jun", "kim@example.kr")),
        rec(u, 5, "fair-2026", &json!({"kind": "heartbeat", "app_version": "2.1", "content_version": "v7",
            "backlog": 12, "free_disk_bytes": 1000, "uptime_ms": 5, "content_error": "item 3: image"}).to_string()),
        // A negative dwell: acknowledged, quarantined, never counted.
        rec(u, 6, "fair-2026", r#"{"kind":"view","dwell_ms":-1}"#),
        rec(u, 7, "kr-2026", &visit),
    ];
    // Sent in any order.
    let mut shuffled = first.clone();
    shuffled.reverse();
    let ack = s.ingest(&k, batch(shuffled, 0), T0 + 60_000).unwrap();
    assert_eq!((ack.inserted, ack.duplicates, ack.next_seq), (7, 0, 8));
    // The answer was lost: the kiosk sends part of it again with more.
    let again = vec![
        first[3].clone(),
        first[5].clone(),
        first[6].clone(),
        rec(u, 8, "fair-2026", &view("invest", "ko")),
        rec(u, 9, "fair-2026", &view("invest", "en")),
    ];
    let ack = s.ingest(&k, batch(again.clone(), 0), T0 + 61_000).unwrap();
    assert_eq!((ack.inserted, ack.duplicates, ack.next_seq), (2, 3, 10));
    let ack = s.ingest(&k, batch(again, 0), T0 + 62_000).unwrap();
    assert_eq!((ack.inserted, ack.duplicates, ack.next_seq), (0, 5, 10));
    assert_eq!(s.count_records(Some(u)).unwrap(), 9);
    assert_eq!(s.cursor(&k, T0).unwrap().next_seq, 10);
    assert_eq!(
        kinds(s),
        BTreeMap::from([
            ("heartbeat".to_owned(), 1),
            ("lead".to_owned(), 1),
            ("session".to_owned(), 1),
            ("view".to_owned(), 4),
            ("visit".to_owned(), 1),
        ])
    );
    assert_eq!(s.summary().unwrap().leads, 1);
    let (held, total) = s.quarantine(100).unwrap();
    assert_eq!(total, 1);
    assert_eq!((held[0].seq, held[0].kiosk), (6, u));
    assert!(
        held[0].reason.contains("cannot be read"),
        "{}",
        held[0].reason
    );
    let info = &s.kiosks().unwrap()[0];
    assert_eq!(
        (
            info.app_version.as_deref(),
            info.content_version.as_deref(),
            info.backlog
        ),
        (Some("2.1"), Some("v7"), Some(12))
    );
    assert_eq!(info.content_error.as_deref(), Some("item 3: image"));
    assert_eq!(info.next_seq, 10);

    // A NUL in an event id and in a name (JSON can carry one; PostgreSQL's text cannot) is
    // stored, not lost or quarantined.
    let hostile = vec![
        rec(u, 10, "fair\u{0}2026", &view("invest", "ko")),
        rec(
            u,
            11,
            "fair-2026",
            &lead(Uuid::from_u128(0x4b12), "Lee\u{0}", "lee@example.kr"),
        ),
    ];
    let ack = s.ingest(&k, batch(hostile, 0), T0 + 63_000).unwrap();
    assert_eq!((ack.inserted, ack.next_seq), (2, 12));
    assert_eq!(s.quarantine(100).unwrap().1, 1);
    assert_eq!(s.summary().unwrap().leads, 2);

    // Records the kiosk pruned before they were sent leave a declared gap; one beyond a hole
    // waits for the hole to fill.
    let ack = s
        .ingest(
            &k,
            batch(vec![rec(u, 14, "fair-2026", &view("a", "vi"))], 13),
            T0 + 64_000,
        )
        .unwrap();
    assert_eq!((ack.inserted, ack.next_seq), (1, 13));
    let ack = s
        .ingest(
            &k,
            batch(vec![rec(u, 13, "fair-2026", &view("a", "vi"))], 13),
            T0 + 65_000,
        )
        .unwrap();
    assert_eq!((ack.inserted, ack.next_seq), (1, 15));

    // A record of another kiosk in the batch: refused whole, nothing stored.
    let other = enrolled(s, "Booth B", "fair-2026");
    let mixed = vec![
        rec(other.uuid, 1, "fair-2026", &view("a", "vi")),
        rec(u, 15, "fair-2026", &view("a", "vi")),
    ];
    assert!(matches!(
        s.ingest(&other, batch(mixed, 0), T0 + 66_000),
        Err(StorageError::Invalid(_))
    ));
    assert_eq!(s.count_records(Some(other.uuid)).unwrap(), 0);
    assert_eq!(s.count_records(None).unwrap(), 13);
}
conformance!(the_push_lands_exactly_once);

fn an_erased_lead_stays_erased<S: Storage + StaffStorage + PhoneStorage>(s: &S) {
    let k = enrolled(s, "Booth A", "fair-2026");
    let u = k.uuid;
    let kim = Uuid::from_u128(0x4b11);
    let first = rec(u, 1, "fair-2026", &lead(kim, "Kim", "kim@example.kr"));
    s.ingest(&k, batch(vec![first.clone()], 0), T0).unwrap();
    assert_eq!(s.summary().unwrap().leads, 1);
    s.erase_lead(kim, T0 + 1).unwrap();
    assert_eq!(s.summary().unwrap().leads, 0);
    // Sent again (the kiosk never heard), and edited on the kiosk afterwards: the kiosk is
    // told, and nothing comes back.
    let edited = rec(u, 2, "fair-2026", &lead(kim, "Kim M.", "kim@example.kr"));
    let ack = s.ingest(&k, batch(vec![first, edited], 0), T0 + 2).unwrap();
    assert_eq!((ack.inserted, ack.duplicates), (1, 1));
    assert_eq!(ack.erased_leads, [kim]);
    assert_eq!(s.summary().unwrap().leads, 0);
    // A person's request can come before the kiosk ever synced the lead.
    let lee = Uuid::from_u128(0x4b12);
    s.erase_lead(lee, T0 + 3).unwrap();
    let ack = s
        .ingest(
            &k,
            batch(
                vec![rec(u, 3, "fair-2026", &lead(lee, "Lee", "lee@example.kr"))],
                0,
            ),
            T0 + 4,
        )
        .unwrap();
    assert_eq!(ack.erased_leads, [lee]);
    assert_eq!(s.summary().unwrap().leads, 0);
    // The phone form cannot bring it back either.
    let phone = PhoneLead {
        lead_id: lee,
        kiosk: u,
        event_id: "fair-2026".into(),
        item: "invest".into(),
        lang: "ko".into(),
        contact: protocol::Contact {
            name: "Lee".into(),
            email: "lee@example.kr".into(),
            ..Default::default()
        },
        interests: vec![],
        consent: protocol::Consent {
            text_id: "phone-form".into(),
            version: 1,
            lang: "ko".into(),
            at_ms: T0,
        },
    };
    assert!(!s.upsert_phone_lead(&phone, T0 + 5).unwrap());
    let park = PhoneLead {
        lead_id: Uuid::from_u128(0x4b13),
        ..phone
    };
    assert!(s.upsert_phone_lead(&park, T0 + 5).unwrap());
    assert!(
        s.upsert_phone_lead(&park, T0 + 6).unwrap(),
        "a second send updates"
    );
    assert_eq!(s.summary().unwrap().leads, 1);
}
conformance!(an_erased_lead_stays_erased);

fn phones_open_codes_once_per_visitor<S: Storage + StaffStorage + PhoneStorage>(s: &S) {
    let k = enrolled(s, "Booth A", "fair-2026");
    let open = |visitor: &str, kiosk: Uuid| QrOpen {
        nonce: "n-1".into(),
        kiosk,
        event_id: "fair-2026".into(),
        item: "invest".into(),
        lang: "ko".into(),
        purpose: "item",
        visitor: visitor.into(),
    };
    s.record_open(&open("phone-a", k.uuid), T0).unwrap();
    s.record_open(&open("phone-a", k.uuid), T0 + 1).unwrap();
    s.record_opens(&[(open("phone-b", k.uuid), T0), (open("phone-a", k.uuid), T0)])
        .unwrap();
    // A code of a kiosk this server does not know is not counted.
    s.record_open(&open("phone-c", Uuid::from_u128(3)), T0)
        .unwrap();
    assert_eq!(s.summary().unwrap().qr_opens, 2);
}
conformance!(phones_open_codes_once_per_visitor);

fn content_versions_and_media<S: Storage + FleetStorage>(s: &S) {
    let manifest = |v: &str, items: usize| -> protocol::content::Manifest {
        let items: Vec<_> = (0..items)
            .map(|i| {
                json!({"id": format!("item-{i}"), "pillar": "invest",
                "text": {"vi": {"title": "Đồng Nai"}, "ko": {"title": "동나이"}}})
            })
            .collect();
        serde_json::from_value(json!({
            "version": v,
            "pack": {"id": "demo", "version": "1", "default_language": "vi",
                     "languages": ["vi", "ko"], "items": items},
            "media": [],
        }))
        .unwrap()
    };
    assert!(s.current_manifest().unwrap().is_none());
    assert!(s.current_stamp().unwrap().is_none());
    s.publish(&manifest("demo#1", 2), T0).unwrap();
    s.publish(&manifest("demo#2", 3), T0 + 1).unwrap();
    assert_eq!(s.current_manifest().unwrap().unwrap().version, "demo#2");
    let versions = s.content_versions().unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version.as_str(), v.items, v.current))
            .collect::<Vec<_>>(),
        [("demo#2", 3, true), ("demo#1", 2, false)]
    );
    let stamp = s.current_stamp().unwrap();
    assert!(s.republish("demo#1", T0 + 2).unwrap());
    assert!(!s.republish("demo#9", T0 + 2).unwrap());
    assert_eq!(s.current_manifest().unwrap().unwrap().version, "demo#1");
    assert_ne!(s.current_stamp().unwrap(), stamp);
    let sha = "ab".repeat(32);
    assert!(!s.media_known(&sha).unwrap());
    s.record_media(&sha, 10, T0).unwrap();
    s.record_media(&sha, 10, T0).unwrap();
    assert!(s.media_known(&sha).unwrap());
}
conformance!(content_versions_and_media);

/// Two servers (two handles on one database) take pushes for the same kiosks at once, the
/// same batches through both, as a kiosk retrying through a balancer does: every record is
/// stored once and counted once.
fn two_servers_push_the_same_kiosks_at_once<S: Storage + StaffStorage>(a: &S, b: &S) {
    const PER_KIOSK: u64 = 600;
    const BATCH: u64 = 50;
    let kiosks: Vec<KioskAuth> = (0..3)
        .map(|i| enrolled(a, &format!("Booth {i}"), "fair-2026"))
        .collect();
    let langs = ["vi", "en", "ko", "ja", "zh"];
    let records = |k: &KioskAuth, from: u64| -> Vec<IncomingRecord> {
        (from..(from + BATCH).min(PER_KIOSK + 1))
            .map(|seq| {
                let body = if seq % 100 == 0 {
                    lead(
                        Uuid::from_u64_pair(k.uuid.as_u64_pair().1, seq),
                        "Kim",
                        &format!("k{seq}@example.kr"),
                    )
                } else {
                    view(&format!("item-{}", seq % 7), langs[seq as usize % 5])
                };
                rec(k.uuid, seq, "fair-2026", &body)
            })
            .collect()
    };
    std::thread::scope(|scope| {
        for (t, server) in [a, b, a, b].into_iter().enumerate() {
            let kiosks = &kiosks;
            scope.spawn(move || {
                // Each thread walks every kiosk's records, starting at its own offset, so the
                // same batch arrives on both servers at about the same time.
                for round in 0..(PER_KIOSK / BATCH) {
                    for (i, k) in kiosks.iter().enumerate() {
                        let at = ((round + t as u64 + i as u64) % (PER_KIOSK / BATCH)) * BATCH + 1;
                        server
                            .ingest(k, batch(records(k, at), 0), T0 + 60_000)
                            .unwrap_or_else(|e| panic!("thread {t}: {e}"));
                    }
                }
            });
        }
    });
    for k in &kiosks {
        assert_eq!(a.count_records(Some(k.uuid)).unwrap(), PER_KIOSK);
        assert_eq!(b.cursor(k, T0).unwrap().next_seq, PER_KIOSK + 1);
    }
    let got = kinds(b);
    let leads = PER_KIOSK / 100;
    assert_eq!(
        got.get("view").copied(),
        Some((3 * (PER_KIOSK - leads)) as i64)
    );
    assert_eq!(got.get("lead").copied(), Some((3 * leads) as i64));
    assert_eq!(a.summary().unwrap().leads, (3 * leads) as i64);
}

mod two_servers_push_the_same_kiosks_at_once {
    #[test]
    fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite");
        let a = super::SqliteStorage::open(&path).unwrap();
        let b = super::SqliteStorage::open(&path).unwrap();
        super::two_servers_push_the_same_kiosks_at_once(&a, &b);
    }

    #[test]
    fn postgres() {
        let a = super::postgres();
        let b = super::PostgresStorage::open(&a.url()).unwrap();
        super::two_servers_push_the_same_kiosks_at_once(&a, &b);
    }
}
