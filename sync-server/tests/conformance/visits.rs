//! [`VisitStorage`]: delegations imported from a pack, visits pushed by kiosks, the QR opens and
//! leads they gathered, scopes by unit, and the erasure and expiry of members.

use protocol::RecordBody;
use protocol::content::{Delegation, Member};
use protocol::record::{SlideShown, VisitBody, VisitEnd};
use sync_server::store::{
    DelegationRow, PhoneLead, PhoneStorage, QrOpen, Scope, Storage, VisitOpen, VisitRow,
    VisitStorage,
};
use uuid::Uuid;

use crate::common::*;
use crate::conformance;

const DOFA: &str = "Department of Foreign Affairs";
const ITPC: &str = "Investment, Trade and Tourism Promotion Centre";
const DAY: i64 = 86_400_000;

fn member(name: &str) -> Member {
    Member {
        name: name.into(),
        title: " Director ".into(),
        organisation: " KOTRA ".into(),
    }
}

fn delegation(id: &str, date: &str, org: &str, members: &[&str]) -> Delegation {
    Delegation {
        id: id.into(),
        name: [("en".to_owned(), format!("Delegation {id}"))].into(),
        country: " kr ".into(),
        languages: vec!["ko".into(), "en".into()],
        date: date.into(),
        host: " Nguyễn Thị Hoa ".into(),
        org: format!(" {org} "),
        deck: "invest-kr".into(),
        members: members.iter().map(|m| member(m)).collect(),
        member_count: members.len() as u32,
    }
}

fn visit(
    id: u128,
    delegation: &str,
    attendees: u32,
    duration_ms: u64,
    nonces: &[&str],
) -> VisitBody {
    VisitBody {
        visit_id: Uuid::from_u128(id),
        delegation: delegation.into(),
        deck: "invest-kr".into(),
        duration_ms,
        attendees,
        slides: vec![
            SlideShown {
                slide: 0,
                item: Some("invest".into()),
                shown_ms: duration_ms - 60_000,
            },
            SlideShown {
                slide: 1,
                item: None,
                shown_ms: 60_000,
            },
        ],
        blank_ms: 5_000,
        qr_nonces: nonces.iter().map(|n| (*n).to_owned()).collect(),
        ended: if attendees.is_multiple_of(2) {
            VisitEnd::Host
        } else {
            VisitEnd::Interrupted
        },
    }
}

fn body(v: &VisitBody) -> String {
    serde_json::to_string(&RecordBody::Visit(Box::new(v.clone()))).unwrap()
}

fn members<S: VisitStorage>(s: &S, id: &str) -> Vec<String> {
    s.delegation_report(&Scope::All, id)
        .unwrap()
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.name)
        .collect()
}

fn delegations_visits_opens_and_leads<S: Storage + PhoneStorage + VisitStorage>(s: &S) {
    s.save_delegations(
        &[
            Delegation {
                name: [
                    ("en".to_owned(), "Korean delegation".to_owned()),
                    ("vi".to_owned(), " Đoàn Hàn Quốc ".to_owned()),
                ]
                .into(),
                ..delegation(
                    "kr-2026",
                    "2026-05-20",
                    DOFA,
                    &[" Kim Min-jun ", "Lee Ji-eun"],
                )
            },
            delegation("jp-2026", " 2026-06-01 ", ITPC, &[]),
        ],
        T0,
    )
    .unwrap();
    let k = enrolled(s, "Booth A", "kr-2026");
    let u = k.uuid;
    let v1 = visit(0x7151, "kr-2026", 6, 600_000, &["n1", "n2"]);
    let v2 = visit(0x7152, "kr-2026", 5, 300_000, &["n2", "n3"]);
    // A delegation no pack named: listed from its visit, with no unit.
    let v3 = visit(0x7153, "cn-2026", 3, 120_000, &["n9", "n\0x"]);
    let kim = Uuid::from_u128(0x4b11);
    let lee = Uuid::from_u128(0x4b12);
    let records = vec![
        rec(u, 1, "kr-2026", &body(&v1)),
        rec(u, 2, "kr-2026", &body(&v2)),
        rec(u, 3, "cn-2026", &body(&v3)),
        rec(u, 4, "kr-2026", &lead(kim, "Kim", "kim@example.kr")),
        rec(u, 5, "kr-2026", &lead(lee, "Lee", "lee@example.kr")),
    ];
    let now = T0 + MIN;
    let ack = s.ingest(&k, batch(records.clone(), 0), now).unwrap();
    assert_eq!((ack.inserted, ack.duplicates), (5, 0));
    // Pushed twice, and sent once more by a kiosk restored from a backup (a new record of
    // the same visit, with other numbers): each visit once, as it first came.
    let ack = s.ingest(&k, batch(records, 0), now + 1).unwrap();
    assert_eq!((ack.inserted, ack.duplicates), (0, 5));
    let again = VisitBody {
        attendees: 40,
        ..v1.clone()
    };
    let ack = s
        .ingest(
            &k,
            batch(vec![rec(u, 6, "kr-2026", &body(&again))], 0),
            now + 2,
        )
        .unwrap();
    assert_eq!((ack.inserted, ack.duplicates), (1, 0));
    // A phone lead for the delegation, and an erased one that no longer counts.
    let phone = PhoneLead {
        lead_id: Uuid::from_u128(0x4b13),
        kiosk: u,
        event_id: "kr-2026".into(),
        item: "invest".into(),
        lang: "ko".into(),
        contact: protocol::Contact {
            name: "Park".into(),
            email: "park@example.kr".into(),
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
    assert!(s.upsert_phone_lead(&phone, T0 + 2 * MIN).unwrap());
    s.erase_lead(lee, T0 + 2 * MIN).unwrap();
    // Phones open the closing slides' codes: once per visitor, code and purpose.
    let open = |nonce: &str, visitor: &str, kiosk: Uuid| QrOpen {
        nonce: nonce.into(),
        kiosk,
        event_id: "kr-2026".into(),
        item: "invest".into(),
        lang: if visitor == "b" { "en" } else { "ko" }.into(),
        purpose: "interest",
        visitor: visitor.into(),
    };
    for (i, (nonce, visitor)) in [
        ("n1", "a"),
        ("n2", "a"),
        ("n2", "b"),
        ("n3", "a"),
        ("n1", "a"),
        ("zz", "a"),
        ("n9", "a"),
        ("n\0x", "a"),
    ]
    .into_iter()
    .enumerate()
    {
        s.record_open(&open(nonce, visitor, u), T0 + (3 + i as i64) * MIN)
            .unwrap();
    }
    // A code of a kiosk the server does not know is not kept.
    s.record_open(&open("n1", "c", Uuid::from_u128(9)), T0 + 20 * MIN)
        .unwrap();

    let kr = DelegationRow {
        id: "kr-2026".into(),
        name: "Đoàn Hàn Quốc".into(),
        date: "2026-05-20".into(),
        country: "KR".into(),
        languages: "ko,en".into(),
        host: "Nguyễn Thị Hoa".into(),
        org: DOFA.into(),
        visits: 2,
        attendees: 11,
        qr_opens: 4,
        leads: 2,
    };
    let jp = DelegationRow {
        id: "jp-2026".into(),
        name: "Delegation jp-2026".into(),
        date: "2026-06-01".into(),
        country: "KR".into(),
        languages: "ko,en".into(),
        host: "Nguyễn Thị Hoa".into(),
        org: ITPC.into(),
        ..Default::default()
    };
    let cn = DelegationRow {
        id: "cn-2026".into(),
        name: "cn-2026".into(),
        visits: 1,
        attendees: 3,
        qr_opens: 2,
        ..Default::default()
    };
    // Newest first; a delegation without a day last.
    assert_eq!(
        s.delegations(&Scope::All).unwrap(),
        [jp.clone(), kr.clone(), cn.clone()]
    );
    assert_eq!(
        s.delegations(&Scope::Org(DOFA.into())).unwrap(),
        std::slice::from_ref(&kr)
    );
    assert_eq!(s.delegations(&Scope::Org(ITPC.into())).unwrap(), [jp]);
    assert_eq!(s.delegations(&Scope::Org("Hanoi".into())).unwrap(), []);

    let report = s
        .delegation_report(&Scope::Org(DOFA.into()), "kr-2026")
        .unwrap()
        .unwrap();
    assert_eq!(report.delegation, kr);
    assert_eq!(
        report.members,
        [
            Member {
                name: "Kim Min-jun".into(),
                title: "Director".into(),
                organisation: "KOTRA".into(),
            },
            Member {
                name: "Lee Ji-eun".into(),
                title: "Director".into(),
                organisation: "KOTRA".into(),
            },
        ]
    );
    // Each record's time is its visit's end: the push's boot places it on the server clock.
    let end1 = now - 5_000;
    let end2 = now - 4_000;
    let row = |v: &VisitBody, ended_ms: i64, ended: &str| VisitRow {
        visit_id: v.visit_id,
        kiosk_name: "Booth A".into(),
        deck: "invest-kr".into(),
        started_ms: ended_ms - v.duration_ms as i64,
        ended_ms,
        duration_ms: v.duration_ms as i64,
        attendees: i64::from(v.attendees),
        blank_ms: 5_000,
        slides: v.slides.clone(),
        qr_nonces: v.qr_nonces.clone(),
        ended: ended.into(),
    };
    // Oldest first: the longer visit started first.
    assert_eq!(
        report.visits,
        [row(&v1, end1, "host"), row(&v2, end2, "interrupted")]
    );
    let opened = |i: i64, nonce: &str, lang: &str| VisitOpen {
        at_ms: T0 + i * MIN,
        nonce: nonce.into(),
        kiosk_name: "Booth A".into(),
        lang: lang.into(),
        purpose: "interest".into(),
    };
    assert_eq!(
        report.opens,
        [
            opened(3, "n1", "ko"),
            opened(4, "n2", "ko"),
            opened(5, "n2", "en"),
            opened(6, "n3", "ko"),
        ]
    );

    let report = s
        .delegation_report(&Scope::All, "cn-2026")
        .unwrap()
        .unwrap();
    assert_eq!(report.delegation, cn);
    assert!(report.members.is_empty());
    assert_eq!(report.visits, [row(&v3, now - 3_000, "interrupted")]);
    assert_eq!(
        report.opens.iter().map(|o| o.at_ms).collect::<Vec<_>>(),
        [T0 + 9 * MIN, T0 + 10 * MIN]
    );
    // Another unit's delegation, or one nobody knows: nothing.
    assert_eq!(
        s.delegation_report(&Scope::Org(ITPC.into()), "kr-2026")
            .unwrap(),
        None
    );
    assert_eq!(
        s.delegation_report(&Scope::Org(DOFA.into()), "cn-2026")
            .unwrap(),
        None
    );
    assert_eq!(s.delegation_report(&Scope::All, "xx-2026").unwrap(), None);
}
conformance!(delegations_visits_opens_and_leads);

fn an_erased_member_stays_erased<S: Storage + VisitStorage>(s: &S) {
    let pack = [delegation(
        "kr-2026",
        "2026-05-20",
        DOFA,
        &[
            "Kim Min-jun",
            " Lee Ji-eun ",
            "Park Seo-yeon",
            "Kim Min-jun",
        ],
    )];
    s.save_delegations(&pack, T0).unwrap();
    // Out of scope, unknown, or no such member: nothing erased.
    assert!(
        !s.erase_member(&Scope::Org(ITPC.into()), "kr-2026", "Kim Min-jun", T0)
            .unwrap()
    );
    assert!(
        !s.erase_member(&Scope::All, "xx-2026", "Kim Min-jun", T0)
            .unwrap()
    );
    assert!(!s.erase_member(&Scope::All, "kr-2026", "Kim", T0).unwrap());
    assert_eq!(
        members(s, "kr-2026"),
        ["Kim Min-jun", "Lee Ji-eun", "Park Seo-yeon", "Kim Min-jun"]
    );
    // Every member of the name goes; the name is matched without its blanks.
    assert!(
        s.erase_member(&Scope::Org(DOFA.into()), "kr-2026", " Kim Min-jun ", T0 + 1)
            .unwrap()
    );
    assert!(
        s.erase_member(&Scope::All, "kr-2026", "Lee Ji-eun", T0 + 2)
            .unwrap()
    );
    assert!(
        !s.erase_member(&Scope::All, "kr-2026", "Lee Ji-eun", T0 + 3)
            .unwrap()
    );
    assert_eq!(members(s, "kr-2026"), ["Park Seo-yeon"]);
    // The same pack imported again, or with the name in capitals: they stay erased.
    s.save_delegations(&pack, T0 + MIN).unwrap();
    assert_eq!(members(s, "kr-2026"), ["Park Seo-yeon"]);
    let capitals = [delegation(
        "kr-2026",
        "2026-05-20",
        DOFA,
        &["KIM MIN-JUN", "Park Seo-yeon", "Choi Woo-sik"],
    )];
    s.save_delegations(&capitals, T0 + 2 * MIN).unwrap();
    assert_eq!(members(s, "kr-2026"), ["Park Seo-yeon", "Choi Woo-sik"]);
    // A tombstone is the delegation's: the same name elsewhere is kept.
    s.save_delegations(
        &[delegation("jp-2026", "2026-06-01", DOFA, &["Kim Min-jun"])],
        T0,
    )
    .unwrap();
    assert_eq!(members(s, "jp-2026"), ["Kim Min-jun"]);
}
conformance!(an_erased_member_stays_erased);

fn members_expire_by_their_units_retention<S: Storage + VisitStorage>(s: &S) {
    s.save_delegations(
        &[
            delegation(
                "kr-2024",
                "2024-03-01",
                DOFA,
                &["Kim Min-jun", "Lee Ji-eun"],
            ),
            delegation("jp-2024", "2024-03-02", ITPC, &["Sato Yuki"]),
            // A unit with no retention row, and a day that is not a date: kept.
            delegation(
                "us-2020",
                "2020-01-01",
                "Hanoi People's Committee",
                &["John Smith"],
            ),
            delegation("fr-2020", "soon", DOFA, &["Marie Curie"]),
        ],
        T0,
    )
    .unwrap();
    // 2024-03-01 00:00 UTC, and the default retention of 730 days.
    let day = 1_709_251_200_000;
    assert_eq!(s.expire_members(day + 730 * DAY).unwrap(), 0);
    assert_eq!(s.expire_members(day + 730 * DAY + 1).unwrap(), 2);
    assert!(members(s, "kr-2024").is_empty());
    assert_eq!(members(s, "jp-2024"), ["Sato Yuki"]);
    assert_eq!(s.expire_members(day + 731 * DAY + 1).unwrap(), 1);
    assert!(members(s, "jp-2024").is_empty());
    assert_eq!(s.expire_members(day + 10_000 * DAY).unwrap(), 0);
    assert_eq!(members(s, "us-2020"), ["John Smith"]);
    assert_eq!(members(s, "fr-2020"), ["Marie Curie"]);
    // Expired members stay erased when the pack is imported again.
    s.save_delegations(
        &[delegation(
            "kr-2024",
            "2024-03-01",
            DOFA,
            &["Kim Min-jun", "Lee Ji-eun", "Park"],
        )],
        T0,
    )
    .unwrap();
    assert_eq!(members(s, "kr-2024"), ["Park"]);
}
conformance!(members_expire_by_their_units_retention);
