//! [`LeadStorage`]: the leads table with its filters and scopes, status and notes, versions
//! and their restore, duplicates and merging, a person's leads and raw scans, events, units
//! and retention.

use serde_json::json;
use sync_server::store::{
    ALL_LEADS_ORG, EventRow, KioskAuth, LeadFilter, LeadRow, LeadStorage, LeadVersion, PhoneLead,
    PhoneStorage, RawScanRow, Scope, Storage,
};
use uuid::Uuid;

use crate::common::*;
use crate::conformance;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// 2026-06-01 00:00 in Vietnam.
const JUNE_1: i64 = 1_780_246_800_000;
const ITPC: &str = "Investment, Trade and Tourism Promotion Centre";
const DFA: &str = "Department of Foreign Affairs";

fn event(id: &str, name: &str, kind: &str, starts: &str, org: &str) -> EventRow {
    EventRow {
        id: id.into(),
        name: name.into(),
        kind: kind.into(),
        starts: starts.into(),
        ends: starts.into(),
        venue: format!("{name} hall"),
        country: "KR".into(),
        languages: "ko,vi".into(),
        org: org.into(),
        responsible: "Ms Hoa".into(),
    }
}

fn contact(name: &str, org: &str, email: &str, phone: &str, country: &str) -> protocol::Contact {
    protocol::Contact {
        name: name.into(),
        organisation: org.into(),
        email: email.into(),
        phone: phone.into(),
        country: country.into(),
        title: String::new(),
    }
}

fn consent(lang: &str, at_ms: i64) -> protocol::Consent {
    protocol::Consent::shown(
        "phone-form",
        lang,
        "I agree that the promotion centre keeps my contact.",
        at_ms,
    )
}

/// A lead left on a phone at `at` (created then, or updated then when it exists).
#[allow(clippy::too_many_arguments)]
fn phone<S: PhoneStorage>(
    s: &S,
    id: Uuid,
    kiosk: &KioskAuth,
    event: &str,
    lang: &str,
    contact: protocol::Contact,
    interests: &[&str],
    at: i64,
) {
    let lead = PhoneLead {
        lead_id: id,
        kiosk: kiosk.uuid,
        event_id: event.into(),
        item: "invest".into(),
        lang: lang.into(),
        contact,
        interests: interests.iter().map(|i| i.to_string()).collect(),
        consent: consent(lang, at),
    };
    assert!(s.upsert_phone_lead(&lead, at).unwrap());
}

fn raw_scan(raw: &str) -> String {
    json!({"kind": "raw_scan", "raw": raw, "reason": "not a badge"}).to_string()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1ead_0000 + n)
}

fn ids(rows: &[LeadRow]) -> Vec<Uuid> {
    rows.iter().map(|r| r.lead_id).collect()
}

fn names(rows: &[LeadRow]) -> Vec<&str> {
    rows.iter().map(|r| r.contact.name.as_str()).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn leads_filtered_and_scoped<S: Storage + PhoneStorage + LeadStorage>(s: &S) {
    s.upsert_event(
        &event("fair-2026", "Korea Fair", "fair", "2026-06-01", ITPC),
        T0,
    )
    .unwrap();
    s.upsert_event(
        &event(
            "kr-2026",
            "Busan delegation",
            "delegation",
            "2026-06-02",
            DFA,
        ),
        T0,
    )
    .unwrap();
    let a = enrolled(s, "Booth A", "fair-2026");
    let b = enrolled(s, "Booth B", "kr-2026");
    let (kim, sato, lee, nguyen, park) = (id(1), id(2), id(3), id(4), id(5));
    phone(
        s,
        kim,
        &a,
        "fair-2026",
        "ko",
        contact(
            "Kim Min-jun",
            "Samsung",
            "kim@example.kr",
            "+84 912 345 678",
            "KR",
        ),
        &["invest", "tourism"],
        JUNE_1 + HOUR,
    );
    phone(
        s,
        sato,
        &a,
        "fair-2026",
        "ja",
        contact("Sato 50%_off", "Toyota", "", "", "jp"),
        &["tour"],
        JUNE_1 + DAY + 2 * HOUR,
    );
    phone(
        s,
        lee,
        &b,
        "kr-2026",
        "ko",
        contact("Lee", "", "Lee@Example.kr", "", "KR"),
        &[],
        JUNE_1 + DAY + 3 * HOUR,
    );
    // An event no row names (no unit), and an interest with a NUL (PostgreSQL's text cannot
    // hold one; the filter must still work).
    phone(
        s,
        nguyen,
        &a,
        "expo-x",
        "vi",
        contact("Nguyễn Văn An", "", "", "", "VN"),
        &["a\u{0}b"],
        JUNE_1 + 2 * DAY + HOUR,
    );
    // A kiosk's lead, placed on the server's clock: a second before the push.
    let ack = s
        .ingest(
            &a,
            batch(
                vec![rec(
                    a.uuid,
                    1,
                    "fair-2026",
                    &lead(park, "Park", "park@example.com"),
                )],
                0,
            ),
            JUNE_1 + 3 * DAY,
        )
        .unwrap();
    assert_eq!(ack.inserted, 1);
    assert!(
        s.update_lead(
            &Scope::All,
            kim,
            "contacted",
            "Met at the booth; wants the BROCHURE",
            JUNE_1 + 4 * DAY,
        )
        .unwrap()
    );

    let kim_row = LeadRow {
        lead_id: kim,
        created_ms: JUNE_1 + HOUR,
        updated_ms: JUNE_1 + 4 * DAY,
        event_id: "fair-2026".into(),
        event_name: "Korea Fair".into(),
        org: ITPC.into(),
        kiosk_name: "Booth A".into(),
        item: "invest".into(),
        lang: "ko".into(),
        source: "phone_form".into(),
        contact: contact(
            "Kim Min-jun",
            "Samsung",
            "kim@example.kr",
            "+84 912 345 678",
            "KR",
        ),
        interests: vec!["invest".into(), "tourism".into()],
        status: "contacted".into(),
        notes: "Met at the booth; wants the BROCHURE".into(),
        // As stored: the digest names the words, kept once in the archive.
        consent: Some(consent("ko", JUNE_1 + HOUR).without_text()),
    };
    let park_row = LeadRow {
        lead_id: park,
        created_ms: JUNE_1 + 3 * DAY - 1_000,
        updated_ms: JUNE_1 + 3 * DAY - 1_000,
        event_id: "fair-2026".into(),
        event_name: "Korea Fair".into(),
        org: ITPC.into(),
        kiosk_name: "Booth A".into(),
        item: "invest".into(),
        lang: "ko".into(),
        source: "kiosk_form".into(),
        contact: contact("Park", "", "park@example.com", "", ""),
        interests: vec!["invest".into()],
        status: "new".into(),
        notes: String::new(),
        consent: None,
    };
    let nguyen_row = LeadRow {
        lead_id: nguyen,
        created_ms: JUNE_1 + 2 * DAY + HOUR,
        updated_ms: JUNE_1 + 2 * DAY + HOUR,
        event_id: "expo-x".into(),
        event_name: String::new(),
        org: String::new(),
        kiosk_name: "Booth A".into(),
        item: "invest".into(),
        lang: "vi".into(),
        source: "phone_form".into(),
        contact: contact("Nguyễn Văn An", "", "", "", "VN"),
        interests: vec!["a\u{0}b".into()],
        status: "new".into(),
        notes: String::new(),
        consent: Some(consent("vi", JUNE_1 + 2 * DAY + HOUR).without_text()),
    };

    // Everything, newest first.
    let (rows, total) = s
        .leads(&Scope::All, &LeadFilter::default(), 100, 0)
        .unwrap();
    assert_eq!(total, 5);
    assert_eq!(ids(&rows), [park, nguyen, lee, sato, kim]);
    assert_eq!(rows[0], park_row);
    assert_eq!(rows[1], nguyen_row);
    assert_eq!(rows[4], kim_row);
    assert_eq!(rows[2].org, DFA);
    assert_eq!(rows[2].kiosk_name, "Booth B");
    // Pages.
    let page = |limit, offset| {
        let (rows, total) = s
            .leads(&Scope::All, &LeadFilter::default(), limit, offset)
            .unwrap();
        (ids(&rows), total)
    };
    assert_eq!(page(2, 1), (vec![nguyen, lee], 5));
    assert_eq!(page(2, 4), (vec![kim], 5));
    assert_eq!(page(2, 10), (vec![], 5));
    assert_eq!(page(0, 0), (vec![], 5));
    assert_eq!(page(u64::MAX, u64::MAX), (vec![], 5));

    // Filters, alone and together; every one with how many pass.
    let (k, st, l, n, p) = (
        "Kim Min-jun",
        "Sato 50%_off",
        "Lee",
        "Nguyễn Văn An",
        "Park",
    );
    let f = |set: &dyn Fn(&mut LeadFilter)| {
        let mut filter = LeadFilter::default();
        set(&mut filter);
        filter
    };
    let cases: Vec<(LeadFilter, Vec<&str>)> = vec![
        (f(&|f| f.event = " fair-2026 ".into()), vec![p, st, k]),
        (f(&|f| f.event = "fair".into()), vec![]),
        (f(&|f| f.org = DFA.into()), vec![l]),
        (f(&|f| f.org = ITPC.into()), vec![p, st, k]),
        (f(&|f| f.kiosk = "Booth B".into()), vec![l]),
        (f(&|f| f.kiosk = "booth b".into()), vec![]),
        (f(&|f| f.from = "2026-06-02".into()), vec![p, n, l, st]),
        (f(&|f| f.to = "2026-06-02".into()), vec![l, st, k]),
        (
            f(&|f| {
                f.from = "2026-06-02".into();
                f.to = "2026-06-02".into();
            }),
            vec![l, st],
        ),
        (f(&|f| f.from = "2026-06-03".into()), vec![p, n]),
        (f(&|f| f.from = "2026-06-04".into()), vec![]),
        (f(&|f| f.to = "2026-05-31".into()), vec![]),
        (f(&|f| f.from = "not a date".into()), vec![p, n, l, st, k]),
        (f(&|f| f.country = "kr".into()), vec![l, k]),
        (f(&|f| f.country = " JP ".into()), vec![st]),
        (f(&|f| f.lang = "ko".into()), vec![p, l, k]),
        (f(&|f| f.interest = "tourism".into()), vec![k]),
        (f(&|f| f.interest = "tour".into()), vec![st]),
        (f(&|f| f.interest = "invest".into()), vec![p, k]),
        (f(&|f| f.interest = "touri".into()), vec![]),
        (f(&|f| f.interest = "a\u{0}b".into()), vec![n]),
        (f(&|f| f.source = "kiosk_form".into()), vec![p]),
        (f(&|f| f.source = "phone_form".into()), vec![n, l, st, k]),
        (f(&|f| f.status = "contacted".into()), vec![k]),
        (f(&|f| f.status = "new".into()), vec![p, n, l, st]),
        // Searched in name, organisation, email, phone and notes, in any case; `%` and `_`
        // are themselves.
        (f(&|f| f.q = "sato 50%".into()), vec![st]),
        (f(&|f| f.q = "%".into()), vec![st]),
        (f(&|f| f.q = "_".into()), vec![st]),
        (f(&|f| f.q = "5_%".into()), vec![]),
        (f(&|f| f.q = "EXAMPLE.KR".into()), vec![l, k]),
        (f(&|f| f.q = "toyota".into()), vec![st]),
        (f(&|f| f.q = "912 345".into()), vec![k]),
        (f(&|f| f.q = "brochure".into()), vec![k]),
        (f(&|f| f.q = "Văn".into()), vec![n]),
        (f(&|f| f.q = "\\".into()), vec![]),
        // A NUL (which PostgreSQL's text cannot hold) fails nothing. (In `q`, SQLite's LIKE
        // ends the pattern at a NUL, so that every lead matches; PostgreSQL matches none.)
        (f(&|f| f.kiosk = "Booth A\u{0}".into()), vec![]),
        (f(&|f| f.org = "\u{0}".into()), vec![]),
        (
            f(&|f| {
                f.q = "example".into();
                f.event = "fair-2026".into();
            }),
            vec![p, k],
        ),
        (
            f(&|f| {
                f.event = "fair-2026".into();
                f.lang = "ko".into();
                f.interest = "tourism".into();
            }),
            vec![k],
        ),
    ];
    for (filter, want) in &cases {
        let (rows, total) = s.leads(&Scope::All, filter, 100, 0).unwrap();
        assert_eq!(names(&rows), *want, "{filter:?}");
        assert_eq!(total, want.len() as u64, "{filter:?}");
    }
    // A filtered page counts all that pass.
    let (rows, total) = s
        .leads(&Scope::All, &f(&|f| f.lang = "ko".into()), 1, 1)
        .unwrap();
    assert_eq!((names(&rows), total), (vec![l], 3));

    // A unit sees its events' leads; a lead of an event no row names is no unit's.
    let scoped = |scope: Scope, filter: LeadFilter| {
        let (rows, total) = s.leads(&scope, &filter, 100, 0).unwrap();
        (strs(&names(&rows)), total)
    };
    let itpc = Scope::Org(ITPC.into());
    let dfa = Scope::Org(DFA.into());
    assert_eq!(
        scoped(itpc.clone(), LeadFilter::default()),
        (strs(&[p, st, k]), 3)
    );
    assert_eq!(scoped(dfa.clone(), LeadFilter::default()), (strs(&[l]), 1));
    assert_eq!(
        scoped(itpc.clone(), f(&|f| f.org = DFA.into())),
        (strs(&[]), 0)
    );
    assert_eq!(
        scoped(itpc.clone(), f(&|f| f.country = "kr".into())),
        (strs(&[k]), 1)
    );
    assert_eq!(
        scoped(Scope::Org("Nobody".into()), LeadFilter::default()),
        (strs(&[]), 0)
    );

    // One lead, in scope.
    assert_eq!(s.lead(&Scope::All, kim).unwrap(), Some(kim_row.clone()));
    assert_eq!(s.lead(&itpc, kim).unwrap(), Some(kim_row));
    assert_eq!(s.lead(&dfa, kim).unwrap(), None);
    assert_eq!(s.lead(&Scope::All, nguyen).unwrap(), Some(nguyen_row));
    assert_eq!(s.lead(&itpc, nguyen).unwrap(), None);
    assert_eq!(s.lead(&Scope::All, id(99)).unwrap(), None);
    // An erased lead is no lead.
    s.erase_lead(lee, JUNE_1 + 5 * DAY).unwrap();
    assert_eq!(s.lead(&Scope::All, lee).unwrap(), None);
    assert_eq!(scoped(dfa, LeadFilter::default()), (strs(&[]), 0));
    assert_eq!(
        scoped(Scope::All, LeadFilter::default()),
        (strs(&[p, n, st, k]), 4)
    );
}
conformance!(leads_filtered_and_scoped);

fn status_versions_and_restore<S: Storage + PhoneStorage + LeadStorage>(s: &S) {
    s.upsert_event(
        &event("fair-2026", "Korea Fair", "fair", "2026-06-01", ITPC),
        T0,
    )
    .unwrap();
    let a = enrolled(s, "Booth A", "fair-2026");
    let (kim, sato) = (id(1), id(2));
    let (t1, t2, t3) = (JUNE_1, JUNE_1 + HOUR, JUNE_1 + 2 * HOUR);
    let old = contact("Kim", "Samsung", "kim@example.kr", "", "KR");
    let new = contact(
        "Kim Min-jun",
        "Samsung Electronics",
        "minjun@example.kr",
        "0912 345 678",
        "KR",
    );
    phone(s, kim, &a, "fair-2026", "ko", old.clone(), &["invest"], t1);
    phone(
        s,
        sato,
        &a,
        "fair-2026",
        "ja",
        contact("Sato", "", "sato@example.jp", "", "JP"),
        &[],
        t1,
    );
    let all = Scope::All;
    let dfa = Scope::Org(DFA.into());

    // Status and notes: a known status, in scope.
    assert!(!s.update_lead(&all, kim, "lost", "x", t1 + 1).unwrap());
    assert!(!s.update_lead(&dfa, kim, "new", "x", t1 + 1).unwrap());
    assert!(!s.update_lead(&all, id(99), "new", "x", t1 + 1).unwrap());
    let row = s.lead(&all, kim).unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.notes.as_str(), row.updated_ms),
        ("new", "", t1)
    );
    assert!(
        s.update_lead(&all, kim, "qualified", "first note", t1 + 1)
            .unwrap()
    );
    let row = s.lead(&all, kim).unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.notes.as_str(), row.updated_ms),
        ("qualified", "first note", t1 + 1)
    );
    assert_eq!(row.contact, old);
    // Status and notes are no new version of the contact.
    assert_eq!(s.lead_versions(&all, kim).unwrap(), []);

    // The phone sends a new contact: the old one is kept as a version; status and notes stay.
    phone(s, kim, &a, "fair-2026", "ko", new.clone(), &["invest"], t2);
    let row = s.lead(&all, kim).unwrap().unwrap();
    assert_eq!(row.contact, new);
    assert_eq!(
        (row.status.as_str(), row.notes.as_str(), row.updated_ms),
        ("qualified", "first note", t2)
    );
    let v1 = LeadVersion {
        id: 1,
        replaced_ms: t2,
        updated_ms: t1 + 1,
        source: "phone_form".into(),
        contact: old.clone(),
    };
    assert_eq!(s.lead_versions(&all, kim).unwrap(), vec![v1.clone()]);
    assert_eq!(s.lead_versions(&dfa, kim).unwrap(), []);
    assert_eq!(s.lead_versions(&all, sato).unwrap(), []);

    // A restore: in scope, a version of this lead.
    assert!(!s.restore_lead_version(&dfa, kim, 1, t3).unwrap());
    assert!(!s.restore_lead_version(&all, kim, 99, t3).unwrap());
    assert!(!s.restore_lead_version(&all, sato, 1, t3).unwrap());
    assert_eq!(s.lead(&all, sato).unwrap().unwrap().updated_ms, t1);
    assert_eq!(s.lead(&all, kim).unwrap().unwrap().contact, new);
    assert!(s.restore_lead_version(&all, kim, 1, t3).unwrap());
    let row = s.lead(&all, kim).unwrap().unwrap();
    assert_eq!(row.contact, old);
    assert_eq!(
        (row.status.as_str(), row.notes.as_str(), row.updated_ms),
        ("qualified", "first note", t3)
    );
    // The contact it replaced is a version in turn.
    let v2 = LeadVersion {
        id: 2,
        replaced_ms: t3,
        updated_ms: t2,
        source: "phone_form".into(),
        contact: new,
    };
    assert_eq!(
        s.lead_versions(&all, kim).unwrap(),
        [v2.clone(), v1.clone()]
    );
    // Restoring what it already says changes no contact: no version more.
    assert!(s.restore_lead_version(&all, kim, 1, t3 + 1).unwrap());
    assert_eq!(s.lead_versions(&all, kim).unwrap(), [v2, v1]);

    // An erased lead has no versions and takes no changes.
    s.erase_lead(kim, t3 + 2).unwrap();
    assert_eq!(s.lead_versions(&all, kim).unwrap(), []);
    assert!(!s.restore_lead_version(&all, kim, 1, t3 + 3).unwrap());
    assert!(!s.update_lead(&all, kim, "new", "x", t3 + 3).unwrap());
    assert_eq!(s.lead(&all, kim).unwrap(), None);
}
conformance!(status_versions_and_restore);

fn duplicates_and_merge<S: Storage + PhoneStorage + LeadStorage>(s: &S) {
    s.upsert_event(
        &event("fair-2026", "Korea Fair", "fair", "2026-06-01", ITPC),
        T0,
    )
    .unwrap();
    s.upsert_event(
        &event(
            "kr-2026",
            "Busan delegation",
            "delegation",
            "2026-06-02",
            DFA,
        ),
        T0,
    )
    .unwrap();
    let a = enrolled(s, "Booth A", "fair-2026");
    let b = enrolled(s, "Booth B", "kr-2026");
    let t = |n: i64| JUNE_1 + n * HOUR;
    let fair = |n: u128, c: protocol::Contact, interests: &[&str]| {
        phone(s, id(n), &a, "fair-2026", "ko", c, interests, t(n as i64))
    };
    fair(1, contact("Kim", "", "kim@example.kr", "", ""), &["invest"]);
    fair(
        2,
        contact("", "Samsung", "KIM@example.kr", "0912-345-678", "KR"),
        &["tourism", "invest"],
    );
    fair(3, contact("Kim M.", "", "", "0912 345 678", "VN"), &[]);
    // The same email in another event is no duplicate.
    phone(
        s,
        id(4),
        &b,
        "kr-2026",
        "ko",
        contact("Kim K.", "", "kim@example.kr", "", ""),
        &[],
        t(4),
    );
    fair(
        5,
        contact("Park", "", "park@example.com", "0912345679", ""),
        &[],
    );
    for (n, phone_number) in [(6, "+84 90 111 2222"), (7, "+84-90-111-2222")] {
        phone(
            s,
            id(n),
            &b,
            "kr-2026",
            "ko",
            contact(&format!("Lee {n}"), "", "", phone_number, ""),
            &[],
            t(n as i64),
        );
    }
    // The same two leads by email and by phone: shown once.
    fair(8, contact("Sato", "", "sato@x.jp", "111111", ""), &[]);
    fair(9, contact("Sato S.", "", "SATO@x.jp", "111111", ""), &[]);

    let groups = |scope: &Scope| -> Vec<Vec<Uuid>> {
        s.duplicates(scope)
            .unwrap()
            .iter()
            .map(|g| ids(g))
            .collect()
    };
    let all = Scope::All;
    let itpc = Scope::Org(ITPC.into());
    let dfa = Scope::Org(DFA.into());
    // Email groups (by event, then address), then phone groups; each newest first.
    assert_eq!(
        groups(&all),
        [
            vec![id(2), id(1)],
            vec![id(9), id(8)],
            vec![id(3), id(2)],
            vec![id(7), id(6)],
        ]
    );
    assert_eq!(
        groups(&itpc),
        [vec![id(2), id(1)], vec![id(9), id(8)], vec![id(3), id(2)]]
    );
    assert_eq!(groups(&dfa), [vec![id(7), id(6)]]);
    assert_eq!(
        s.duplicates(&all).unwrap()[0][1],
        s.lead(&all, id(1)).unwrap().unwrap()
    );

    assert!(
        s.update_lead(&all, id(2), "new", "call back", t(10))
            .unwrap()
    );
    assert!(
        s.update_lead(&all, id(3), "new", "prefers Korean", t(10))
            .unwrap()
    );
    // Out of scope: nothing.
    assert_eq!(s.merge_leads(&dfa, id(1), &[id(2)], t(11)).unwrap(), 0);
    assert!(s.lead(&all, id(2)).unwrap().is_some());
    assert_eq!(s.lead(&all, id(1)).unwrap().unwrap().updated_ms, t(1));

    // Empty fields filled from the others in the order given, interests added, notes joined;
    // the lead itself and unknown ones are skipped.
    let m = JUNE_1 + DAY;
    assert_eq!(
        s.merge_leads(&all, id(1), &[id(2), id(3), id(1), id(99)], m)
            .unwrap(),
        2
    );
    let kept = s.lead(&all, id(1)).unwrap().unwrap();
    assert_eq!(
        kept.contact,
        contact("Kim", "Samsung", "kim@example.kr", "0912-345-678", "KR")
    );
    assert_eq!(kept.interests, ["invest", "tourism"]);
    assert_eq!(kept.notes, "call back\nprefers Korean");
    assert_eq!((kept.status.as_str(), kept.updated_ms), ("new", m));
    assert_eq!(s.lead(&all, id(2)).unwrap(), None);
    assert_eq!(s.lead(&all, id(3)).unwrap(), None);
    // What the kept lead said before is a version.
    let versions = s.lead_versions(&all, id(1)).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(
        (
            &versions[0].contact,
            versions[0].replaced_ms,
            versions[0].updated_ms
        ),
        (&contact("Kim", "", "kim@example.kr", "", ""), m, t(1))
    );
    assert_eq!(groups(&all), [vec![id(9), id(8)], vec![id(7), id(6)]]);
    assert_eq!(s.leads(&all, &LeadFilter::default(), 100, 0).unwrap().1, 7);

    // Another unit's lead is not merged (the kept one is written all the same).
    assert_eq!(s.merge_leads(&itpc, id(1), &[id(6)], m + 1).unwrap(), 0);
    assert!(s.lead(&all, id(6)).unwrap().is_some());
    let again = s.lead(&all, id(1)).unwrap().unwrap();
    assert_eq!((again.contact, again.updated_ms), (kept.contact, m + 1));
    // A kept lead that is erased merges nothing.
    s.erase_lead(id(8), m + 2).unwrap();
    assert_eq!(s.merge_leads(&all, id(8), &[id(9)], m + 3).unwrap(), 0);
    assert!(s.lead(&all, id(9)).unwrap().is_some());
    assert_eq!(groups(&all), [vec![id(7), id(6)]]);
}
conformance!(duplicates_and_merge);

fn leads_of_a_person<S: Storage + PhoneStorage + LeadStorage>(s: &S) {
    s.upsert_event(
        &event("fair-2026", "Korea Fair", "fair", "2026-06-01", ITPC),
        T0,
    )
    .unwrap();
    let a = enrolled(s, "Booth A", "fair-2026");
    let lead = |n: u128, event: &str, c: protocol::Contact| {
        phone(s, id(n), &a, event, "ko", c, &[], JUNE_1 + n as i64 * HOUR)
    };
    lead(
        1,
        "fair-2026",
        contact("Kim", "", "Kim@Example.KR", "+84 912 345 678", ""),
    );
    lead(
        2,
        "kr-2026",
        contact("Kim K.", "", "kim@example.kr", "", ""),
    );
    lead(
        3,
        "fair-2026",
        contact("Xkim", "", "xkim@example.kr", "912 345 678", ""),
    );
    lead(
        4,
        "fair-2026",
        contact("Kim P.", "", "", "0912-345-678", ""),
    );
    lead(
        5,
        "fair-2026",
        contact("Kim E.", "", "kim@example.kr", "", ""),
    );
    s.erase_lead(id(5), JUNE_1 + DAY).unwrap();

    let of = |who: &str| ids(&s.leads_of_person(who).unwrap());
    // Every event, any scope; exactly, never a suffix; erased leads are gone.
    assert_eq!(of("kim@example.kr"), [id(2), id(1)]);
    assert_eq!(of(" KIM@example.KR "), [id(2), id(1)]);
    assert_eq!(of("+84 912 345 678"), [id(4), id(1)]);
    assert_eq!(of("0084912345678"), [id(4), id(1)]);
    assert_eq!(of("912345678"), [id(3)]);
    assert_eq!(of("xkim@example.kr"), [id(3)]);
    assert_eq!(of("example.kr"), Vec::<Uuid>::new());
    assert_eq!(of("nobody@example.kr"), Vec::<Uuid>::new());
    assert_eq!(of(""), Vec::<Uuid>::new());
    assert_eq!(of("123"), Vec::<Uuid>::new());
    // The rows are the leads as the table shows them.
    let rows = s.leads_of_person("kim@example.kr").unwrap();
    assert_eq!(rows[1], s.lead(&Scope::All, id(1)).unwrap().unwrap());
    assert_eq!(
        (rows[0].event_id.as_str(), rows[0].org.as_str()),
        ("kr-2026", "")
    );
}
conformance!(leads_of_a_person);

fn events_units_and_event_ids_in_use<S: Storage + PhoneStorage + LeadStorage>(s: &S) {
    assert_eq!(s.events().unwrap(), []);
    let fair = event("b-fair", "Korea Fair", "fair", "2026-06-01", ITPC);
    let meeting = event("a-meet", "Investors", "meeting", "2026-06-01", DFA);
    let later = event("c-expo", "Expo", "fair", "2026-07-01", ITPC);
    for e in [&fair, &meeting, &later] {
        s.upsert_event(e, T0).unwrap();
    }
    // Newest first, then by id.
    assert_eq!(
        s.events().unwrap(),
        [later.clone(), meeting.clone(), fair.clone()]
    );
    // An upsert replaces every field.
    let moved = EventRow {
        name: "Korea Fair 2026".into(),
        kind: "meeting".into(),
        starts: "2026-08-01".into(),
        ends: "2026-08-03".into(),
        venue: "Hall B".into(),
        country: "JP".into(),
        languages: "ja".into(),
        org: DFA.into(),
        responsible: "Mr Nam".into(),
        ..fair.clone()
    };
    s.upsert_event(&moved, T0 + 1).unwrap();
    assert_eq!(s.events().unwrap(), [moved, later, meeting]);

    // Units: the three of the first start, 730 days each; added and changed.
    assert_eq!(
        s.orgs().unwrap(),
        [
            (ALL_LEADS_ORG.to_owned(), Some(730)),
            (DFA.to_owned(), Some(730)),
            (ITPC.to_owned(), Some(730)),
        ]
    );
    s.upsert_org("Zeta unit", None).unwrap();
    s.upsert_org("Alpha unit", Some(30)).unwrap();
    s.upsert_org(DFA, Some(365)).unwrap();
    s.upsert_org("Zeta unit", Some(1)).unwrap();
    s.upsert_org("Alpha unit", None).unwrap();
    assert_eq!(
        s.orgs().unwrap(),
        [
            ("Alpha unit".to_owned(), None),
            (ALL_LEADS_ORG.to_owned(), Some(730)),
            (DFA.to_owned(), Some(365)),
            (ITPC.to_owned(), Some(730)),
            ("Zeta unit".to_owned(), Some(1)),
        ]
    );

    // An event id is in use once a kiosk, a kiosk's past, a record or a lead names it; an
    // event row alone is not a use.
    let in_use = |id: &str| s.event_id_in_use(id).unwrap();
    assert!(!in_use("b-fair"));
    assert!(!in_use("kiosk-ev"));
    let k = enrolled(s, "Booth A", "kiosk-ev");
    assert!(in_use("kiosk-ev"));
    s.set_kiosk_event(k.uuid, Some("moved-ev")).unwrap();
    assert!(in_use("kiosk-ev"), "the kiosk served it");
    assert!(in_use("moved-ev"));
    s.ingest(
        &k,
        batch(vec![rec(k.uuid, 1, "pushed-ev", &view("invest", "ko"))], 0),
        JUNE_1,
    )
    .unwrap();
    assert!(in_use("pushed-ev"));
    assert!(!in_use("phone-ev"));
    phone(
        s,
        id(1),
        &k,
        "phone-ev",
        "ko",
        contact("Kim", "", "kim@example.kr", "", ""),
        &[],
        JUNE_1,
    );
    assert!(in_use("phone-ev"));
    assert!(!in_use("PHONE-EV"));
    assert!(!in_use(""));
    assert!(!in_use("nul\u{0}ev"));
}
conformance!(events_units_and_event_ids_in_use);

fn raw_scans_of_a_person_and_their_erasure<S: Storage + LeadStorage>(s: &S) {
    let a = enrolled(s, "Booth A", "fair-2026");
    let b = enrolled(s, "Booth B", "kr-2026");
    let mecard = "MECARD:N:Kim;EMAIL:kim@example.kr;TEL:+84 912 345 678;;";
    let vcard = "BEGIN:VCARD\nEMAIL:xkim@example.kr\nEND:VCARD";
    s.ingest(
        &a,
        batch(
            vec![
                rec(a.uuid, 1, "fair-2026", &raw_scan(mecard)),
                rec(a.uuid, 2, "fair-2026", &raw_scan(vcard)),
                rec(a.uuid, 3, "fair-2026", &raw_scan("mailto:KIM@example.kr")),
                rec(a.uuid, 4, "fair-2026", &view("invest", "ko")),
            ],
            0,
        ),
        JUNE_1,
    )
    .unwrap();
    s.ingest(
        &b,
        batch(
            vec![rec(b.uuid, 1, "kr-2026", &raw_scan("TEL:0912 345 678"))],
            0,
        ),
        JUNE_1 + HOUR,
    )
    .unwrap();
    let scan =
        |k: &KioskAuth, name: &str, seq: i64, event: &str, at_ms: i64, raw: &str| RawScanRow {
            kiosk: k.row,
            seq,
            kiosk_name: name.into(),
            event_id: event.into(),
            at_ms,
            raw: raw.into(),
        };
    // On the server's clock: seq n of a push of four is (5 - n) s before it.
    let a1 = scan(&a, "Booth A", 1, "fair-2026", JUNE_1 - 4_000, mecard);
    let a2 = scan(&a, "Booth A", 2, "fair-2026", JUNE_1 - 3_000, vcard);
    let a3 = scan(
        &a,
        "Booth A",
        3,
        "fair-2026",
        JUNE_1 - 2_000,
        "mailto:KIM@example.kr",
    );
    let b1 = scan(
        &b,
        "Booth B",
        1,
        "kr-2026",
        JUNE_1 + HOUR - 1_000,
        "TEL:0912 345 678",
    );
    let of = |who: &str| s.raw_scans_of_person(who).unwrap();
    assert_eq!(of("kim@example.kr"), [a3.clone(), a1.clone()]);
    assert_eq!(of("Kim@Example.kr"), [a3.clone(), a1.clone()]);
    assert_eq!(of("+84 912 345 678"), [b1.clone(), a1.clone()]);
    assert_eq!(of("xkim@example.kr"), vec![a2.clone()]);
    assert_eq!(of("example.kr"), []);
    assert_eq!(of("nobody@example.kr"), []);
    assert_eq!(of(""), []);

    // Erased: the text goes, the record stays; a view or an unknown record is not a scan.
    let now = JUNE_1 + DAY;
    assert_eq!(
        s.erase_raw_scans(
            &[(a.row, 1), (a.row, 4), (a.row, 99), (b.row + 100, 1)],
            now
        )
        .unwrap(),
        1
    );
    assert_eq!(of("kim@example.kr"), [a3]);
    assert_eq!(of("+84912345678"), [b1]);
    assert_eq!(of("xkim@example.kr"), [a2]);
    assert_eq!(s.count_records(None).unwrap(), 5);
    assert_eq!(s.erase_raw_scans(&[], now).unwrap(), 0);
    assert_eq!(
        s.erase_raw_scans(&[(a.row, 2), (a.row, 3), (b.row, 1)], now)
            .unwrap(),
        3
    );
    assert_eq!(of("kim@example.kr"), []);
    assert_eq!(of("+84912345678"), []);
    assert_eq!(of("xkim@example.kr"), []);
    assert_eq!(s.count_records(None).unwrap(), 5);
}
conformance!(raw_scans_of_a_person_and_their_erasure);

fn leads_and_raw_scans_expire_by_retention<S: Storage + PhoneStorage + LeadStorage>(s: &S) {
    s.upsert_org(DFA, Some(10)).unwrap();
    s.upsert_org(ITPC, Some(30)).unwrap();
    s.upsert_org(ALL_LEADS_ORG, Some(20)).unwrap();
    s.upsert_org("Keep forever", None).unwrap();
    // So long a period that days in ms do not fit in 64 bits: it keeps everything.
    s.upsert_org("Long memory", Some(i64::MAX)).unwrap();
    for (id, org) in [
        ("fair-2026", ITPC),
        ("kr-2026", DFA),
        ("forever-ev", "Keep forever"),
        ("long-ev", "Long memory"),
    ] {
        s.upsert_event(&event(id, id, "fair", "2026-06-01", org), T0)
            .unwrap();
    }
    // One kiosk per event ("expo-x" has no row: it falls under the unit that sees all), each
    // pushing a raw scan a minute after the one before, and a lead left on its code.
    let events = ["fair-2026", "kr-2026", "expo-x", "forever-ev", "long-ev"];
    let mut kiosks = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let k = enrolled(s, &format!("Booth {i}"), e);
        s.ingest(
            &k,
            batch(
                vec![rec(k.uuid, 1, e, &raw_scan("EMAIL:kim@example.kr"))],
                0,
            ),
            JUNE_1 + i as i64 * MIN,
        )
        .unwrap();
        phone(
            s,
            id(i as u128),
            &k,
            e,
            "ko",
            contact(&format!("Lead {i}"), "", "", "", ""),
            &[],
            JUNE_1,
        );
        kiosks.push(k);
    }
    phone(
        s,
        id(10),
        &kiosks[0],
        "fair-2026",
        "ko",
        contact("Lead 10", "", "", "", ""),
        &[],
        JUNE_1 + 5 * DAY,
    );

    let expired = |now: i64| {
        let mut ids = s.expired_leads(now).unwrap();
        ids.sort();
        ids
    };
    assert_eq!(expired(JUNE_1 + 10 * DAY), Vec::<Uuid>::new());
    assert_eq!(expired(JUNE_1 + 10 * DAY + 1), [id(1)]);
    assert_eq!(expired(JUNE_1 + 20 * DAY), [id(1)]);
    assert_eq!(expired(JUNE_1 + 20 * DAY + 1), [id(1), id(2)]);
    assert_eq!(expired(JUNE_1 + 30 * DAY + 1), [id(0), id(1), id(2)]);
    assert_eq!(
        expired(JUNE_1 + 35 * DAY + 1),
        [id(0), id(1), id(2), id(10)]
    );
    s.erase_lead(id(1), JUNE_1 + 40 * DAY).unwrap();
    assert_eq!(
        expired(JUNE_1 + 100_000 * DAY),
        [id(0), id(2), id(10)],
        "erased leads and units that keep them are not listed"
    );

    let booths = || -> Vec<String> {
        s.raw_scans_of_person("kim@example.kr")
            .unwrap()
            .into_iter()
            .map(|r| r.kiosk_name)
            .collect()
    };
    assert_eq!(
        booths(),
        ["Booth 4", "Booth 3", "Booth 2", "Booth 1", "Booth 0"]
    );
    // The scan of kiosk i was made a second before its push, i minutes after June 1.
    let made = |i: i64| JUNE_1 + i * MIN - 1_000;
    assert_eq!(s.expire_raw_scans(made(1) + 10 * DAY).unwrap(), 0);
    assert_eq!(s.expire_raw_scans(made(1) + 10 * DAY + 1).unwrap(), 1);
    assert_eq!(s.expire_raw_scans(made(1) + 10 * DAY + 1).unwrap(), 0);
    assert_eq!(booths(), ["Booth 4", "Booth 3", "Booth 2", "Booth 0"]);
    assert_eq!(s.expire_raw_scans(made(2) + 20 * DAY).unwrap(), 0);
    assert_eq!(s.expire_raw_scans(made(2) + 20 * DAY + 1).unwrap(), 1);
    assert_eq!(s.expire_raw_scans(made(0) + 30 * DAY + 1).unwrap(), 1);
    assert_eq!(s.expire_raw_scans(JUNE_1 + 100_000 * DAY).unwrap(), 0);
    assert_eq!(booths(), ["Booth 4", "Booth 3"]);
    assert_eq!(s.count_records(None).unwrap(), 5);
}
conformance!(leads_and_raw_scans_expire_by_retention);
