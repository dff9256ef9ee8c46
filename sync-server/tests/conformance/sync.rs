//! [`Storage`] (kiosks, the push, erasure, content), [`PhoneStorage`] and [`FleetStorage`].

use std::collections::BTreeMap;

use protocol::RecordBody;
use serde_json::json;
use sync_server::store::{
    Draft, EventContent, FleetStorage, IncomingRecord, InspectStorage, KioskAuth, PhoneLead,
    PhoneStorage, QrOpen, StaffStorage, Storage, StorageError,
};
use uuid::Uuid;

use crate::common::*;
use crate::conformance;

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

fn settings_travel_in_the_cursor<S: Storage>(s: &S) {
    let k = s.create_kiosk("Booth S", Some("fair-2026"), T0).unwrap();
    let e = s.enrol(&k.code, "1.0", T0).unwrap();
    let auth = s.authenticate(e.uuid, &e.secret).unwrap();
    // Until staff change something, there is nothing to apply.
    assert_eq!(s.cursor(&auth, T0).unwrap().settings, None);
    // Every cursor is a contact, noted at most every CONTACT_EVERY_MS.
    let contact = |s: &S| {
        s.kiosks()
            .unwrap()
            .into_iter()
            .find(|x| x.uuid == e.uuid)
            .unwrap()
            .last_contact_ms
    };
    assert_eq!(contact(s), Some(T0));
    s.cursor(&auth, T0 + 1_000).unwrap();
    assert_eq!(contact(s), Some(T0));
    let later = T0 + sync_server::store::CONTACT_EVERY_MS;
    s.cursor(&auth, later).unwrap();
    assert_eq!(contact(s), Some(later));
    let wanted = protocol::sync::KioskSettings {
        revision: 99, // ignored: the server counts
        event_id: Some("ignored".into()),
        idle_seconds: Some(30),
        languages: Some(vec!["ko".into(), "en".into()]),
        attract_item_seconds: Some(12),
        staff_pin_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
    };
    assert_eq!(s.set_kiosk_settings(e.uuid, &wanted).unwrap(), 1);
    let got = s.cursor(&auth, T0).unwrap().settings.unwrap();
    assert_eq!(got.revision, 1);
    assert_eq!(
        got.event_id.as_deref(),
        Some("fair-2026"),
        "the event comes from the assignment"
    );
    assert_eq!(got.idle_seconds, Some(30));
    assert_eq!(got.languages, wanted.languages);
    assert_eq!(got.attract_item_seconds, Some(12));
    assert_eq!(got.staff_pin_hash, wanted.staff_pin_hash);
    // An assignment is a new revision, with the settings kept.
    s.set_kiosk_event(e.uuid, Some("fair-2027")).unwrap();
    let got = s.cursor(&auth, T0).unwrap().settings.unwrap();
    assert_eq!(
        (got.revision, got.event_id.as_deref()),
        (2, Some("fair-2027"))
    );
    assert_eq!(got.idle_seconds, Some(30));
    s.set_kiosk_event(e.uuid, None).unwrap();
    let got = s.cursor(&auth, T0).unwrap().settings.unwrap();
    assert_eq!((got.revision, got.event_id.as_deref()), (3, None));
    let listed = s.kiosks().unwrap();
    let listed = listed.iter().find(|x| x.uuid == e.uuid).unwrap();
    assert_eq!(listed.settings, got);
    assert!(matches!(
        s.set_kiosk_settings(Uuid::now_v7(), &wanted),
        Err(StorageError::NotFound)
    ));
}
conformance!(settings_travel_in_the_cursor);

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
        consent: protocol::Consent::shown(
            "phone-form",
            "ko",
            "I agree that the promotion centre keeps my contact.",
            T0,
        ),
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

    // A version of one event's own: its kiosks play it, every other kiosk the default.
    assert!(s.add_version(&manifest("demo#3", 4), T0 + 3).unwrap());
    assert!(
        !s.add_version(&manifest("demo#3", 4), T0 + 3).unwrap(),
        "stored once"
    );
    assert_eq!(
        s.current_manifest().unwrap().unwrap().version,
        "demo#1",
        "not published by storing"
    );
    assert!(s.event_manifest("fair").unwrap().is_none());
    assert!(s.publish_to_event("demo#3", "fair", T0 + 4).unwrap());
    assert!(!s.publish_to_event("demo#9", "fair", T0 + 4).unwrap());
    let of = |e: Option<&str>| s.manifest_for(e).unwrap().unwrap().version;
    assert_eq!(of(Some("fair")), "demo#3");
    assert_eq!(of(Some("home")), "demo#1");
    assert_eq!(of(None), "demo#1");
    assert_eq!(
        s.event_contents().unwrap(),
        [EventContent {
            event_id: "fair".into(),
            version: "demo#3".into(),
            published_ms: T0 + 4
        }]
    );
    assert_eq!(
        s.version_manifest("demo#3")
            .unwrap()
            .unwrap()
            .pack
            .items
            .len(),
        4
    );
    assert!(s.version_manifest("demo#9").unwrap().is_none());
    assert!(s.unpublish_event("fair").unwrap());
    assert!(!s.unpublish_event("fair").unwrap());
    assert_eq!(of(Some("fair")), "demo#1");

    // The one draft: saved, replaced, discarded.
    assert!(s.draft().unwrap().is_none());
    let m = manifest("demo#3", 4);
    let d = Draft {
        based_on: Some(m.version.clone()),
        pack: m.pack.clone(),
        media: vec![protocol::content::MediaEntry {
            path: "media/a.png".into(),
            sha256: sha.clone(),
            size: 10,
        }],
        updated_ms: T0,
        updated_by: "admin@dn.example".into(),
        revision: 0,
    };
    assert!(s.save_draft(&d).unwrap());
    assert!(!s.save_draft(&d).unwrap(), "a second new draft is refused");
    assert_eq!(
        s.draft().unwrap().unwrap(),
        Draft {
            revision: 1,
            ..d.clone()
        }
    );
    // Two admins read revision 1; the first save wins, the second is refused, not lost silently.
    let mut first = s.draft().unwrap().unwrap();
    let mut second = first.clone();
    first.pack.items.pop();
    first.based_on = None;
    assert!(s.save_draft(&first).unwrap());
    second.updated_by = "other@dn.example".into();
    assert!(!s.save_draft(&second).unwrap());
    let now = s.draft().unwrap().unwrap();
    assert_eq!((now.pack.items.len(), now.revision), (3, 2));
    // A save from before a discard does not bring the draft back.
    s.discard_draft().unwrap();
    assert!(!s.save_draft(&now).unwrap());
    assert!(s.draft().unwrap().is_none());
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
        let a = sync_server::store::sqlite::SqliteStorage::open(&path).unwrap();
        let b = sync_server::store::sqlite::SqliteStorage::open(&path).unwrap();
        super::two_servers_push_the_same_kiosks_at_once(&a, &b);
    }

    #[test]
    fn postgres() {
        let a = crate::common::postgres();
        let b = sync_server::store::postgres::PostgresStorage::open(&a.url()).unwrap();
        super::two_servers_push_the_same_kiosks_at_once(&a, &b);
    }
}

fn every_table_reads_as_stored<S: Storage + InspectStorage>(s: &S) {
    use sync_server::store::inspect::Table;
    let k = enrolled(s, "Booth A", "fair-2026");
    let u = k.uuid;
    let kim = Uuid::from_u128(0x4b11);
    let records = vec![
        rec(u, 1, "fair-2026", &view("invest", "ko")),
        rec(
            u,
            2,
            "fair-2026",
            &lead(kim, "Kim Min-jun", "kim@example.kr"),
        ),
        rec(u, 3, "fair-2026", &view("tourism", "ja")),
    ];
    s.ingest(&k, batch(records, 0), T0 + 60_000).unwrap();
    // Every table reads, whatever its column types.
    for t in Table::ALL {
        s.rows(t).unwrap_or_else(|e| panic!("{}: {e}", t.name()));
    }
    let kiosks = s.rows(Table::Kiosks).unwrap();
    assert_eq!(kiosks.len(), 1);
    assert_eq!(kiosks[0]["uuid"], json!(u.to_string()));
    assert_eq!(kiosks[0]["name"], json!("Booth A"));
    assert_eq!(kiosks[0]["revoked_ms"], serde_json::Value::Null);
    let internal = kiosks[0]["id"].clone();
    let rows = s.rows(Table::Records).unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["kiosk"].clone(),
                r["seq"].as_i64().unwrap(),
                r["id"].as_str().unwrap().to_owned(),
                r["kind"].as_str().unwrap().to_owned(),
                r["wall_ms"].as_i64().unwrap(),
                r["time_quality"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let id = |seq| rec(u, seq, "", "{}").id.to_string();
    assert_eq!(
        got,
        [
            (
                internal.clone(),
                1,
                id(1),
                "view".into(),
                T0 + 1_000,
                "boot".into()
            ),
            (
                internal.clone(),
                2,
                id(2),
                "lead".into(),
                T0 + 2_000,
                "boot".into()
            ),
            (
                internal.clone(),
                3,
                id(3),
                "view".into(),
                T0 + 3_000,
                "boot".into()
            ),
        ]
    );
    assert!(rows[1]["body"].as_str().unwrap().contains("kim@example.kr"));
    let leads = s.rows(Table::Leads).unwrap();
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["lead_id"], json!(kim.to_string()));
    assert_eq!(leads[0]["email"], json!("kim@example.kr"));
    assert_eq!(leads[0]["kiosk"], internal);
    let views: Vec<_> = s
        .rows(Table::RollupViews)
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["item"].clone(),
                r["lang"].clone(),
                r["views"].clone(),
                r["dwell_ms"].clone(),
            )
        })
        .collect();
    assert_eq!(
        views,
        [
            (json!("invest"), json!("ko"), json!(1), json!(4000)),
            (json!("tourism"), json!("ja"), json!(1), json!(4000)),
        ]
    );
    // A kiosk's boot id (bytes) reads as its UUID.
    let boots = s.rows(Table::KioskBoots).unwrap();
    assert_eq!(boots[0]["boot_id"], json!(Uuid::from_u128(7).to_string()));
}

conformance!(every_table_reads_as_stored);
