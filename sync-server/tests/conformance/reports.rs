//! [`ReportStorage`]: the event report and the yearly report, from what kiosks and phones
//! recorded, with exact numbers.

use protocol::RecordBody;
use serde_json::json;
use sync_server::store::reports::{HeatDay, ReportStorage, Views};
use sync_server::store::{
    IncomingRecord, PhoneLead, PhoneStorage, Scope, StaffStorage, Storage, StorageError,
};
use uuid::Uuid;

use crate::common::*;
use crate::conformance;

const HOUR: i64 = 3_600_000;
const DFA: &str = "Department of Foreign Affairs";

/// A record made at `at_ms` (the batch's clock places it there).
fn at(kiosk: Uuid, seq: u64, at_ms: i64, event: &str, body: &str) -> IncomingRecord {
    let mut r = rec(kiosk, seq, event, body);
    r.wall_ms = at_ms;
    r.mono_ms = (at_ms - T0) as u64;
    r
}

/// Ingests `records` at `now_ms`, with a clock sample that maps monotonic 0 to `T0`.
fn push<S: Storage>(
    s: &S,
    k: &sync_server::store::KioskAuth,
    records: Vec<IncomingRecord>,
    now_ms: i64,
) {
    let mut b = batch(records, 0);
    b.clock.mono_ms = (now_ms - T0) as u64;
    b.clock.wall_ms = now_ms;
    s.ingest(k, b, now_ms).unwrap();
}

fn view_of(item: &str, lang: &str, dwell_ms: u64, origin: &str) -> String {
    json!({"kind": "view", "item": item, "lang": lang, "dwell_ms": dwell_ms, "origin": origin})
        .to_string()
}

fn lead_from(id: u128, name: &str, country: &str) -> String {
    serde_json::to_string(&RecordBody::Lead(Box::new(protocol::record::LeadBody {
        lead_id: Uuid::from_u128(id),
        contact: protocol::record::Contact {
            name: name.into(),
            email: format!("{}@example.kr", name.to_lowercase()),
            country: country.into(),
            ..Default::default()
        },
        interests: vec![],
        source: protocol::record::LeadSource::KioskForm,
        consent: None,
        item: None,
        lang: Some("ko".into()),
        redacted: false,
    })))
    .unwrap()
}

fn session(phase: protocol::SessionPhase) -> String {
    serde_json::to_string(&RecordBody::Session {
        session_id: Uuid::from_u128(5),
        phase,
    })
    .unwrap()
}

/// A fair of no unit (kiosk A) and a delegation of the Department of Foreign Affairs (kiosk
/// B), on 29 May 2026 (Vietnam time).
fn fixtures<S: Storage + PhoneStorage>(s: &S) {
    let manifest: protocol::content::Manifest = serde_json::from_value(json!({
        "version": "demo#1",
        "pack": {"id": "demo", "version": "1", "default_language": "vi", "languages": ["vi", "ko"],
            "pillars": [
                {"id": "invest", "title": {"vi": "Đầu tư", "ko": "투자"}},
                {"id": "tourism", "title": {"vi": "Du lịch"}}
            ],
            "items": [
                {"id": "inv-1", "pillar": "invest", "text": {"vi": {"title": "Khu công nghiệp"}}},
                {"id": "tour-1", "pillar": "tourism", "text": {"vi": {"title": "Vườn quốc gia"}}}
            ]},
        "media": []
    }))
    .unwrap();
    s.publish(&manifest, T0).unwrap();
    let delegation: protocol::content::Delegation = serde_json::from_value(json!({
        "id": "kr-2026", "name": {"en": "Korean investors"}, "country": "kr",
        "languages": ["ko"], "date": "2026-05-29", "host": "Nguyễn Văn An", "org": DFA,
        "deck": "invest", "members": [{"name": "Kim Ji-woo"}]
    }))
    .unwrap();
    s.save_delegations(&[delegation], T0).unwrap();

    let a = enrolled(s, "Booth A", "fair-2026");
    let u = a.uuid;
    let fair = "fair-2026";
    use protocol::SessionPhase::{End, Start};
    let records = vec![
        at(u, 1, T0 + HOUR, fair, &session(Start)),
        at(
            u,
            2,
            T0 + HOUR,
            fair,
            &view_of("inv-1", "ko", 4000, "visitor"),
        ),
        at(
            u,
            3,
            T0 + HOUR,
            fair,
            &view_of("inv-1", "ko", 6000, "visitor"),
        ),
        at(
            u,
            4,
            T0 + 2 * HOUR,
            fair,
            &view_of("tour-1", "ja", 3000, "visitor"),
        ),
        at(
            u,
            5,
            T0 + 2 * HOUR,
            fair,
            &view_of("inv-1", "vi", 8000, "attract"),
        ),
        at(
            u,
            6,
            T0 + 2 * HOUR,
            fair,
            &json!({"kind": "qr_shown", "purpose": "interest",
            "item": "inv-1", "lang": "ko", "nonce": "n-1"})
            .to_string(),
        ),
        at(
            u,
            7,
            T0 + 2 * HOUR,
            fair,
            &session(End {
                reason: protocol::record::SessionEnd::Idle,
                duration_ms: 60_000,
            }),
        ),
        at(u, 8, T0 + 2 * HOUR, fair, &lead_from(1, "Kim", "Korea")),
        at(u, 9, T0 + 2 * HOUR, fair, &lead_from(2, "Park", "korea ")),
        at(u, 10, T0 + 2 * HOUR, fair, &lead_from(3, "Sato", "Japan")),
    ];
    push(s, &a, records, T0 + 2 * HOUR + 60_000);
    for visitor in ["phone-a", "phone-b"] {
        s.record_open(
            &sync_server::store::QrOpen {
                nonce: "n-1".into(),
                kiosk: u,
                event_id: fair.into(),
                item: "inv-1".into(),
                lang: "ko".into(),
                purpose: "interest",
                visitor: visitor.into(),
            },
            T0 + 2 * HOUR,
        )
        .unwrap();
    }
    s.upsert_phone_lead(
        &PhoneLead {
            lead_id: Uuid::from_u128(4),
            kiosk: u,
            event_id: fair.into(),
            item: "inv-1".into(),
            lang: "ko".into(),
            contact: protocol::Contact {
                name: "Choi".into(),
                email: "choi@example.kr".into(),
                country: "Korea".into(),
                ..Default::default()
            },
            interests: vec![],
            consent: protocol::Consent::shown(
                "phone-form",
                "ko",
                "I agree that the promotion centre keeps my contact.",
                T0,
            ),
        },
        T0 + 2 * HOUR,
    )
    .unwrap();

    let b = enrolled(s, "Meeting room", "kr-2026");
    let visit = serde_json::to_string(&RecordBody::Visit(Box::new(protocol::record::VisitBody {
        visit_id: Uuid::from_u128(0x7151),
        delegation: "kr-2026".into(),
        deck: "invest".into(),
        duration_ms: 600_000,
        attendees: 6,
        slides: vec![],
        blank_ms: 0,
        qr_nonces: vec![],
        ended: protocol::record::VisitEnd::Host,
    })))
    .unwrap();
    let records = vec![
        at(
            b.uuid,
            1,
            T0 + 3 * HOUR,
            "kr-2026",
            &view_of("inv-1", "ko", 20_000, "presenter"),
        ),
        at(b.uuid, 2, T0 + 3 * HOUR, "kr-2026", &visit),
        at(
            b.uuid,
            3,
            T0 + 3 * HOUR,
            "kr-2026",
            &lead_from(5, "Lee", "Korea"),
        ),
    ];
    push(s, &b, records, T0 + 3 * HOUR + 60_000);
}

fn the_event_report<
    S: Storage + PhoneStorage + StaffStorage + ReportStorage + sync_server::store::InspectStorage,
>(
    s: &S,
) {
    fixtures(s);
    let r = s
        .report(&Scope::All, Some("fair-2026"), None, None)
        .unwrap();
    assert_eq!(
        (r.attract, r.visitor, r.presenter),
        (
            Views {
                views: 1,
                dwell_ms: 8000
            },
            Views {
                views: 3,
                dwell_ms: 13_000
            },
            Views::default()
        )
    );
    assert_eq!((r.sessions, r.sessions_ended, r.session_ms), (1, 1, 60_000));
    let rows = |rows: &[sync_server::store::reports::DwellRow]| -> Vec<(String, String, i64, i64)> {
        rows.iter()
            .map(|d| {
                (
                    d.key.clone(),
                    d.titles.get("vi").cloned().unwrap_or_default(),
                    d.views,
                    d.dwell_ms,
                )
            })
            .collect()
    };
    let row = |k: &str, t: &str, v, d| (k.to_owned(), t.to_owned(), v, d);
    assert_eq!(
        rows(&r.by_item),
        [
            row("inv-1", "Khu công nghiệp", 2, 10_000),
            row("tour-1", "Vườn quốc gia", 1, 3000)
        ]
    );
    assert_eq!(
        rows(&r.by_pillar),
        [
            row("invest", "Đầu tư", 2, 10_000),
            row("tourism", "Du lịch", 1, 3000)
        ]
    );
    assert_eq!(
        rows(&r.by_lang),
        [row("ko", "", 2, 10_000), row("ja", "", 1, 3000)]
    );
    assert_eq!(
        (r.qr_shown, r.qr_opened, r.phone_leads, r.leads),
        (1, 2, 1, 4)
    );
    // The funnel per item, language and hour: the code shown on inv-1 in Korean at 05:26
    // (Vietnam time), its two opens and the phone lead; the kiosk form's leads have no item.
    let funnel =
        |rows: &[sync_server::store::reports::FunnelRow]| -> Vec<(String, i64, i64, i64, i64)> {
            rows.iter()
                .filter(|r| r.shown + r.opened + r.leads > 0)
                .map(|r| (r.key.clone(), r.shown, r.opened, r.phone_leads, r.leads))
                .collect()
        };
    assert_eq!(
        funnel(&r.funnel_items),
        [("inv-1".into(), 1, 2, 1, 1), ("".into(), 0, 0, 0, 3)]
    );
    assert_eq!(r.funnel_items[0].titles["vi"], "Khu công nghiệp");
    assert_eq!(funnel(&r.funnel_langs), [("ko".into(), 1, 2, 1, 4)]);
    assert_eq!(r.funnel_hours.len(), 24);
    assert_eq!(funnel(&r.funnel_hours), [("05".into(), 1, 2, 1, 4)]);
    let rollup = s
        .rows(sync_server::store::inspect::Table::RollupQr)
        .unwrap();
    assert_eq!(rollup.len(), 1, "{rollup:?}");
    assert_eq!(rollup[0]["purpose"], "interest");
    assert_eq!(
        r.by_country,
        [("Korea".to_owned(), 3), ("Japan".to_owned(), 1)]
    );
    // The session started at 04:26 on 29 May 2026, Vietnam time (day 20602 since 1970).
    let mut hours = [0; 24];
    hours[4] = 1;
    assert_eq!(r.heat, [HeatDay { day: 20602, hours }]);

    // From the hour of the second record on: the session that started before is not counted.
    let later = s
        .report(&Scope::All, Some("fair-2026"), Some(T0 + 2 * HOUR), None)
        .unwrap();
    assert_eq!((later.sessions, later.sessions_ended), (0, 1));
    assert_eq!(later.leads, 4);
    let none = s
        .report(
            &Scope::All,
            Some("fair-2026"),
            None,
            Some(T0 - 2 * 24 * HOUR),
        )
        .unwrap();
    assert_eq!((none.views(), none.leads, none.qr_opened), (0, 0, 0));

    // A unit sees its own events only.
    let dfa = Scope::Org(DFA.into());
    assert!(matches!(
        s.report(&dfa, Some("fair-2026"), None, None),
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        s.report(&Scope::All, Some("no-such-event"), None, None),
        Err(StorageError::NotFound)
    ));
    let mine = s.report(&dfa, None, None, None).unwrap();
    assert_eq!(
        (
            mine.presenter,
            mine.visitor.views,
            mine.leads,
            mine.by_country.clone()
        ),
        (
            Views {
                views: 1,
                dwell_ms: 20_000
            },
            0,
            1,
            vec![("Korea".to_owned(), 1)]
        )
    );
    let ids = |e: Vec<sync_server::store::reports::ReportEvent>| -> Vec<(String, String)> {
        e.into_iter().map(|e| (e.id, e.org)).collect()
    };
    assert_eq!(
        ids(s.report_events(&dfa).unwrap()),
        [("kr-2026".to_owned(), DFA.to_owned())]
    );
    assert_eq!(
        ids(s.report_events(&Scope::All).unwrap()),
        [
            ("kr-2026".to_owned(), DFA.to_owned()),
            ("fair-2026".to_owned(), String::new())
        ]
    );
}
conformance!(the_event_report);

fn the_yearly_report<S: Storage + PhoneStorage + StaffStorage + ReportStorage>(s: &S) {
    fixtures(s);
    let y = s.yearly(&Scope::All, 2026).unwrap();
    let units: Vec<_> = y
        .units
        .iter()
        .map(|u| {
            (
                u.org.as_str(),
                u.kiosk_days,
                u.sessions,
                u.views,
                u.dwell_ms,
                u.leads,
            )
        })
        .collect();
    assert_eq!(
        units,
        [
            ("Department of Culture, Sports and Tourism", 0, 0, 0, 0, 0),
            (DFA, 1, 0, 1, 20_000, 1),
            (
                "Investment, Trade and Tourism Promotion Centre",
                0,
                0,
                0,
                0,
                0
            ),
            ("", 1, 1, 3, 13_000, 4),
        ]
    );
    let dfa = &y.units[1];
    assert_eq!(
        (
            dfa.delegations,
            dfa.visits,
            dfa.attendees,
            dfa.delegation_leads
        ),
        (1, 1, 6, 1)
    );
    let e = &dfa.events[0];
    assert_eq!(
        (
            e.id.as_str(),
            e.name.as_str(),
            e.kind.as_str(),
            e.starts.as_str(),
            e.country.as_str()
        ),
        (
            "kr-2026",
            "Korean investors",
            "delegation",
            "2026-05-29",
            "KR"
        )
    );
    assert_eq!((e.known, e.kiosk_days, e.views, e.leads), (true, 1, 1, 1));
    let fair = &y.units[3];
    assert_eq!(
        fair.by_country,
        [("Korea".to_owned(), 3), ("Japan".to_owned(), 1)]
    );
    let e = &fair.events[0];
    assert_eq!(
        (e.id.as_str(), e.known, e.sessions, e.views, e.leads),
        ("fair-2026", false, 1, 3, 4)
    );
    assert_eq!(
        fair.top_items
            .iter()
            .map(|t| (t.key.as_str(), t.pillar.as_str(), t.views))
            .collect::<Vec<_>>(),
        [("inv-1", "invest", 2), ("tour-1", "tourism", 1)]
    );
    // Another year is empty, and a unit sees only itself.
    let before = s.yearly(&Scope::All, 2025).unwrap();
    assert!(
        before
            .units
            .iter()
            .all(|u| u.views == 0 && u.leads == 0 && u.visits == 0)
    );
    let mine = s.yearly(&Scope::Org(DFA.into()), 2026).unwrap();
    assert_eq!(
        mine.units
            .iter()
            .map(|u| u.org.as_str())
            .collect::<Vec<_>>(),
        [DFA]
    );
}
conformance!(the_yearly_report);
