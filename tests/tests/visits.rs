//! Delegation visits end to end: a content pack with delegations, a deck and members imported
//! (members stay on the server, kiosks get their number), visits pushed by a real kiosk store
//! through the real sync client (the same record twice and the same visit twice count once), a
//! visitor's phone opening the closing slide's QR code and leaving a lead, then the staff
//! pages: the delegations list, the visit report (visits, attendees, every slide's seconds, QR
//! opens, leads), the CSV and XLSX downloads read back by parsers and audited, 404 for another
//! unit, the yearly report's delegation counts, and members erased by staff and by their
//! unit's retention. What the server stored is read through [`TestServer::rows`], the same on
//! both backends (the migration's back-fill of SQLite's `visits` is checked beside it, in
//! sync-server's `store::sqlite::visits`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use e2e::pages::{csrf, get, keys, row, sign_in, table, text, values};
use e2e::{Backend, RowExt, Table, TestServer};
use kiosk_core::clock::{Clock, Stamp};
use kiosk_core::store::{Identity, Store};
use kiosk_core::sync::{SyncClient, SyncConfig};
use protocol::record::{SlideShown, VisitBody, VisitEnd};
use protocol::{RecordBody, ViewOrigin};
use sync_server::store::time::day_start_ms;
use sync_server::store::time::{day_label, vn_day};
use sync_server::store::{ALL_LEADS_ORG, EventRow, PhoneLead};
use uuid::Uuid;

const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const DOFA: &str = "Department of Foreign Affairs";
const PASSWORD: &str = "a long staff password";
const DELEGATION: &str = "kr-gyeonggi-2026";
const OSAKA: &str = "jp-osaka-2026";
const AIRPORT: &str = "long-thanh-airport";
const PARK: &str = "cat-tien";
const CLOSING: &str = "Closing slide (QR code for contacts)";
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// The pack: two items (the airport with two pictures), a deck of three slides, the Gyeonggi
/// delegation of the Department of Foreign Affairs (two members) and the Osaka delegation of
/// the promotion centre (`osaka_id`), both on `day`.
fn write_pack(dir: &Path, day: &str, kim_title: &str, osaka_id: &str) {
    std::fs::create_dir_all(dir.join("media")).unwrap();
    for (name, shade) in [
        ("airport-1.png", 40),
        ("airport-2.png", 90),
        ("park.png", 160),
    ] {
        image::RgbImage::from_pixel(16, 9, image::Rgb([shade, 120, 200]))
            .save(dir.join("media").join(name))
            .unwrap();
    }
    let toml = format!(
        r#"id = "visits-test"
version = "1"
default_language = "vi"
languages = ["vi", "en", "ko", "ja"]

[[pillars]]
id = "invest"
[pillars.title]
vi = "Đầu tư"
en = "Investment"

[[items]]
id = "{AIRPORT}"
pillar = "invest"
media = ["media/airport-1.png", "media/airport-2.png"]
[items.text.vi]
title = "Sân bay Long Thành"
[items.text.en]
title = "Long Thành airport"

[[items]]
id = "{PARK}"
pillar = "invest"
media = ["media/park.png"]
[items.text.vi]
title = "Vườn quốc gia Cát Tiên"
[items.text.en]
title = "Cát Tiên national park"

[[decks]]
id = "invest-deck"
[decks.title]
vi = "Đầu tư vào Đồng Nai"
en = "Invest in Đồng Nai"
[[decks.slides]]
item = "{AIRPORT}"
[decks.slides.notes]
vi = "Sân bay khai thác từ năm 2026."
[[decks.slides]]
item = "{PARK}"
[[decks.slides]]
item = "{AIRPORT}"
media = 1

[[delegations]]
id = "{DELEGATION}"
country = "kr"
languages = ["ko", "vi"]
date = "{day}"
host = "Trần Thị Hoa"
org = "{DOFA}"
deck = "invest-deck"
[delegations.name]
vi = "Đoàn Gyeonggi"
en = "Gyeonggi delegation"
[[delegations.members]]
name = "Kim Minji"
title = "{kim_title}"
organisation = "Gyeonggi Province"
[[delegations.members]]
name = "Park Jisoo"

[[delegations]]
id = "{osaka_id}"
country = "JP"
languages = ["ja"]
date = "{day}"
host = "Lê Văn Nam"
org = "{ITTPC}"
deck = "invest-deck"
[delegations.name]
en = "Osaka delegation"
[[delegations.members]]
name = "Tanaka Hiroshi"
"#
    );
    std::fs::write(dir.join("pack.toml"), toml).unwrap();
}

/// Unix ms of a Vietnam date and time.
fn vn(day: &str, hour: i64, minute: i64) -> i64 {
    day_start_ms(day).unwrap() + hour * HOUR + minute * MIN
}

fn slide(slide: u32, item: Option<&str>, shown_ms: u64) -> SlideShown {
    SlideShown {
        slide,
        item: item.map(str::to_owned),
        shown_ms,
    }
}

fn visit_record(v: &VisitBody) -> RecordBody {
    RecordBody::Visit(Box::new(v.clone()))
}

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
    /// The Vietnam day of the visits (today, so that the phone's lead falls in the same year).
    day: String,
    first: VisitBody,
    second: VisitBody,
    /// The nonce of the closing slide's QR code the phone opened.
    opened: String,
    /// The lead the phone left through it.
    lead: Uuid,
}

/// Pushes the store's backlog with the real sync client.
fn drain(rt: &tokio::runtime::Runtime, identity: &Identity, store: &mut Store) {
    let config = SyncConfig {
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let mut client = SyncClient::new(identity.clone(), Clock::system(), config).unwrap();
    let start = Instant::now();
    while store.backlog().unwrap() > 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "push drained");
        let _ = rt.block_on(client.round(store));
    }
}

fn fixture(backend: Backend) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let st = server.state.clone();
    let now = protocol::now_ms();
    let day = day_label(vn_day(now));
    let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
    for (email, role, org) in [
        ("admin@dn.example", "admin", ITTPC),
        ("culture@dn.example", "staff", ALL_LEADS_ORG),
        ("dofa@dn.example", "staff", DOFA),
        ("ittpc@dn.example", "staff", ITTPC),
    ] {
        st.staff
            .add_user(
                email,
                &hash,
                sync_server::store::Role::parse(role).unwrap(),
                org,
                now,
            )
            .unwrap();
    }
    let pack = dir.path().join("pack");
    write_pack(&pack, &day, "Director", OSAKA);
    e2e::publish(&server, &pack);

    // The kiosk presents twice; the first visit's closing slide showed two QR codes.
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = e2e::enrol_store(&server, &store_path, &server.url());
    let mut store = Store::open(&store_path).unwrap();
    let token = |item: &str| {
        kiosk_core::qr::token(
            &identity.token_key,
            identity.kiosk_id,
            now,
            true,
            DELEGATION,
            item,
            "ko",
        )
    };
    let (opened, opened_signed) = token("");
    let (unopened, _) = token("");
    let (_, elsewhere_signed) = token("");
    let first = VisitBody {
        visit_id: Uuid::now_v7(),
        delegation: DELEGATION.into(),
        deck: "invest-deck".into(),
        duration_ms: 45 * MIN as u64,
        attendees: 12,
        slides: vec![
            slide(0, Some(AIRPORT), 90_000),
            slide(1, Some(PARK), 60_000),
            slide(0, Some(AIRPORT), 30_000),
            slide(2, Some(AIRPORT), 45_000),
            slide(3, None, 120_000),
        ],
        blank_ms: 5_000,
        qr_nonces: vec![opened.nonce_hex(), unopened.nonce_hex()],
        ended: VisitEnd::Host,
    };
    let second = VisitBody {
        visit_id: Uuid::now_v7(),
        duration_ms: 10 * MIN as u64,
        attendees: 3,
        slides: vec![
            slide(0, Some(AIRPORT), 20_000),
            slide(1, Some(PARK), 10_000),
        ],
        blank_ms: 0,
        qr_nonces: vec![],
        ended: VisitEnd::Interrupted,
        ..first.clone()
    };
    let boot = Uuid::now_v7();
    let at = |ms: i64| Stamp {
        wall_ms: ms,
        boot_id: boot,
        mono_ms: (ms - vn(&day, 0, 0)) as u64 + 1_000,
        clock_ok: true,
        corrected_ms: ms,
    };
    let presenter = |item: &str, dwell_ms| RecordBody::View {
        item: item.into(),
        lang: "ko".into(),
        dwell_ms,
        origin: ViewOrigin::Presenter,
    };
    let event = Some(DELEGATION.to_owned());
    store
        .append_many([
            (
                at(vn(&day, 10, 2)),
                event.clone(),
                presenter(AIRPORT, 90_000),
            ),
            (at(vn(&day, 10, 3)), event.clone(), presenter(PARK, 60_000)),
            (at(vn(&day, 10, 45)), event.clone(), visit_record(&first)),
        ])
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    drain(&rt, &identity, &mut store);

    // The same records pushed once more (an answer the kiosk never got): all duplicates.
    let client = SyncClient::new(identity.clone(), Clock::system(), SyncConfig::default()).unwrap();
    let batch = protocol::sync::PushBatch {
        clock: Clock::system().protocol_sample(),
        pruned_below: 0,
        records: store
            .all()
            .unwrap()
            .into_iter()
            .map(|s| s.into_record(identity.kiosk_id))
            .collect(),
    };
    let (ack, _) = rt.block_on(client.push(&batch)).unwrap();
    assert_eq!((ack.inserted, ack.duplicates), (0, 3), "{ack:?}");

    // The same visit in a new record (as a kiosk that wrote it again from its checkpoint,
    // differently): the visit stored first stays, counted once. Then the second visit.
    let again = VisitBody {
        attendees: 99,
        ended: VisitEnd::Interrupted,
        ..first.clone()
    };
    store
        .append_many([
            (at(vn(&day, 10, 46)), event.clone(), visit_record(&again)),
            (at(vn(&day, 15, 10)), event.clone(), visit_record(&second)),
        ])
        .unwrap();
    drain(&rt, &identity, &mut store);

    // A phone opens the closing slide's code and leaves a lead; another code of the
    // delegation that no visit showed is opened too (not one of the visits' opens).
    let http = reqwest::Client::new();
    let url = server.url();
    rt.block_on(async {
        for signed in [&opened_signed, &elsewhere_signed] {
            let r = http.get(format!("{url}/i/{signed}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        let r = http
            .post(format!("{url}/i/{opened_signed}"))
            .form(&[
                ("name", "Lee Jihoon"),
                ("organisation", "Gyeonggi Business Center"),
                ("email", "jihoon@example.kr"),
                ("phone", "+82 31 123 4567"),
                ("country", "Korea"),
                ("consent", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    let lead = server
        .rows_where(Table::Leads, |r| {
            r.text("email") == "jihoon@example.kr" && r.text("event_id") == DELEGATION
        })
        .first()
        .expect("the phone's lead")
        .uuid("lead_id");
    // A lead of the delegation that was erased since: never shown.
    let erased = Uuid::now_v7();
    st.phone
        .upsert_phone_lead(
            &PhoneLead {
                lead_id: erased,
                kiosk: identity.kiosk_id,
                event_id: DELEGATION.into(),
                item: String::new(),
                lang: "ko".into(),
                contact: protocol::Contact {
                    name: "Erased Person".into(),
                    email: "erased@example.kr".into(),
                    ..Default::default()
                },
                interests: vec![],
                consent: protocol::Consent::shown(
                    "phone-consent-text",
                    "ko",
                    "I agree that the promotion centre keeps my contact.",
                    now,
                ),
            },
            now,
        )
        .unwrap();
    server.storage().erase_lead(erased, now).unwrap();
    Fixture {
        _dir: dir,
        server,
        day,
        first,
        second,
        opened: opened.nonce_hex(),
        lead,
    }
}

fn strs<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// The server's row of an event.
fn event_row(server: &TestServer, id: &str) -> e2e::Row {
    server
        .rows_where(Table::Events, |r| r.text("id") == id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no event {id} on the server"))
}

#[test]
fn the_import_keeps_members_on_the_server_and_gives_kiosks_their_number() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let pack = dir.path().join("pack");
    write_pack(&pack, "2026-03-11", "Director", OSAKA);
    let m = e2e::publish(&server, &pack);

    // What kiosks pull: the delegations, their member counts, no names.
    let d = m.pack.delegation(DELEGATION).unwrap();
    assert!(d.members.is_empty());
    assert_eq!(d.member_count, 2);
    assert_eq!(m.pack.delegation(OSAKA).unwrap().member_count, 1);
    assert_eq!(m.pack.deck("invest-deck").unwrap().slides.len(), 3);
    let current = server.storage().current_manifest().unwrap().unwrap();
    assert_eq!(current, m);
    let versions = server.rows(Table::ContentVersions);
    let stored = versions
        .first()
        .expect("a content version")
        .text("manifest");
    for name in [
        "Kim Minji",
        "Park Jisoo",
        "Tanaka Hiroshi",
        "Gyeonggi Province",
    ] {
        assert!(
            !stored.contains(name),
            "{name} reached the published manifest"
        );
    }
    assert!(stored.contains("\"member_count\":2"));

    // What the server keeps: the delegation as an event of its unit, and the members.
    let event = event_row(&server, DELEGATION);
    let columns = [
        "name",
        "kind",
        "starts",
        "ends",
        "country",
        "languages",
        "org",
        "responsible",
    ]
    .map(|c| event.text(c));
    assert_eq!(
        columns,
        [
            "Đoàn Gyeonggi",
            "delegation",
            "2026-03-11",
            "2026-03-11",
            "KR",
            "ko,vi",
            DOFA,
            "Trần Thị Hoa"
        ]
    );
    let osaka = event_row(&server, OSAKA);
    assert_eq!(
        osaka.text("name"),
        "Osaka delegation",
        "English when there is no Vietnamese"
    );
    let members = || -> Vec<(String, i64, String, String, String)> {
        server
            .rows(Table::DelegationMembers)
            .iter()
            .map(|r| {
                (
                    r.text("delegation").to_owned(),
                    r.int("position"),
                    r.text("name").to_owned(),
                    r.text("title").to_owned(),
                    r.text("organisation").to_owned(),
                )
            })
            .collect()
    };
    let owned = |d: &str, p: i64, n: &str, t: &str, o: &str| {
        (d.to_owned(), p, n.to_owned(), t.to_owned(), o.to_owned())
    };
    assert_eq!(
        members(),
        [
            owned(OSAKA, 0, "Tanaka Hiroshi", "", ""),
            owned(DELEGATION, 0, "Kim Minji", "Director", "Gyeonggi Province"),
            owned(DELEGATION, 1, "Park Jisoo", "", ""),
        ]
    );

    // A member's title changed: the members are replaced; kiosks have nothing new to pull.
    write_pack(&pack, "2026-03-11", "Vice-governor", OSAKA);
    let again = e2e::publish(&server, &pack);
    assert_eq!(again.version, m.version);
    assert_eq!(members()[1].3, "Vice-governor");
    assert_eq!(members().len(), 3);

    // A delegation id that another unit's fair uses is refused, and nothing changes.
    server
        .state
        .leads
        .upsert_event(
            &EventRow {
                id: "hcm-fair".into(),
                name: "Fair".into(),
                kind: "fair".into(),
                org: ALL_LEADS_ORG.into(),
                ..Default::default()
            },
            protocol::now_ms(),
        )
        .unwrap();
    write_pack(&pack, "2026-03-12", "Director", "hcm-fair");
    let err = sync_server::content::import(
        &pack,
        server.storage().as_ref(),
        &server.state.media_dir(),
        (3840, 2160),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("already the fair \"hcm-fair\""), "{err}");
    let fair = event_row(&server, "hcm-fair");
    assert_eq!(
        (fair.text("kind"), fair.text("org")),
        ("fair", ALL_LEADS_ORG)
    );
    assert_eq!(
        server
            .storage()
            .current_manifest()
            .unwrap()
            .unwrap()
            .version,
        m.version,
        "not published"
    );
}

#[test]
fn visits_are_stored_once_and_reported_to_the_organising_unit() {
    let f = fixture(Backend::Sqlite);
    let url = f.server.url();
    let day = f.day.clone();

    // One row per visit: the record pushed twice and the visit sent again count once.
    assert_eq!(
        f.server
            .count(Table::Records, |r| r.text("kind") == "visit"),
        3
    );
    assert_eq!(f.server.count(Table::Visits, |_| true), 2);
    let visits = f
        .server
        .rows_where(Table::Visits, |r| r.uuid("visit_id") == f.first.visit_id);
    let visit = visits.first().expect("the first visit");
    assert_eq!(
        (
            visit.int("started_ms"),
            visit.int("ended_ms"),
            visit.int("attendees")
        ),
        (vn(&day, 10, 0), vn(&day, 10, 45), 12),
        "starts duration_ms before the record's time; the first version is kept"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for path in [
            "/staff/visits".to_owned(),
            format!("/staff/visits/{DELEGATION}"),
            format!("/staff/visits/{DELEGATION}.csv"),
            format!("/staff/visits/{DELEGATION}.xlsx"),
        ] {
            let r = anon.get(format!("{url}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 303, "{path} signed out");
        }

        // The delegations of the Department of Foreign Affairs.
        let dofa = sign_in(&url, "dofa@dn.example", PASSWORD).await;
        let (status, html) = get(&dofa, &format!("{url}/staff/visits?ui=en")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("href=\"/staff/visits\" class=\"on\""),
            "nav link"
        );
        let list = table(&html, "delegations");
        assert_eq!(
            keys(&list),
            [DELEGATION],
            "the other unit's delegation is not listed"
        );
        // date, name, country, languages, host, unit, visits, attendees, QR opens, leads
        assert_eq!(
            row(&list, DELEGATION),
            strs([
                &day,
                "Đoàn Gyeonggi",
                "KR",
                "ko,vi",
                "Trần Thị Hoa",
                DOFA,
                "2",
                "15",
                "1",
                "1"
            ])
        );
        let (_, vi) = get(&dofa, &format!("{url}/staff/visits?ui=vi")).await;
        assert!(vi.contains(">Đoàn khách</a>"), "the nav in Vietnamese");

        // The visit report.
        let (status, html) = get(&dofa, &format!("{url}/staff/visits/{DELEGATION}?ui=en")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Visit report: Đoàn Gyeonggi"));
        let details = values(&html, "delegation");
        assert_eq!(details["members"], "2");
        assert_eq!(details["host"], "Trần Thị Hoa");
        let summary = values(&html, "summary");
        let want: BTreeMap<String, String> = [
            ("visits", "2"),
            ("attendees", "15"),
            ("duration", "55.0"),
            ("qr-opens", "1"),
            ("leads", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(summary, want);
        let members = table(&html, "members");
        // Each member's row ends with the erase form (see the erasure test).
        let erase = "Type ERASE to erase for good:Erase member";
        assert_eq!(
            row(&members, "1"),
            strs(["Kim Minji", "Director", "Gyeonggi Province", erase])
        );
        assert_eq!(row(&members, "2"), strs(["Park Jisoo", "", "", erase]));

        // The first visit: what the host entered, every slide in order, time per slide.
        let v1 = values(&html, "visit-1-details");
        assert_eq!(v1["kiosk"], "test kiosk");
        assert_eq!(v1["time"], format!("{day} 10:00 – 10:45"));
        assert_eq!(v1["duration"], "45.0");
        assert_eq!(v1["attendees"], "12");
        assert_eq!(v1["ended"], "by the host");
        assert_eq!(v1["blank"], "5.0");
        assert_eq!(v1["deck"], "Invest in Đồng Nai (invest-deck)");
        assert_eq!(v1["visit-id"], f.first.visit_id.to_string());
        let slides = table(&html, "visit-1-slides");
        // order, slide, item, title, seconds
        assert_eq!(
            slides.values().cloned().collect::<Vec<_>>(),
            [
                strs(["1", "1", AIRPORT, "Long Thành airport", "90.0"]),
                strs(["2", "2", PARK, "Cát Tiên national park", "60.0"]),
                strs(["3", "1", AIRPORT, "Long Thành airport", "30.0"]),
                strs(["4", "3", AIRPORT, "Long Thành airport", "45.0"]),
                strs(["5", "4", "", CLOSING, "120.0"]),
            ]
        );
        let totals = table(&html, "visit-1-totals");
        // slide, item, title, times shown, seconds
        assert_eq!(
            totals.values().cloned().collect::<Vec<_>>(),
            [
                strs(["1", AIRPORT, "Long Thành airport", "2", "120.0"]),
                strs(["2", PARK, "Cát Tiên national park", "1", "60.0"]),
                strs(["3", AIRPORT, "Long Thành airport", "1", "45.0"]),
                strs(["4", "", CLOSING, "1", "120.0"]),
            ]
        );
        let v2 = values(&html, "visit-2-details");
        assert_eq!(v2["time"], format!("{day} 15:00 – 15:10"));
        assert_eq!(v2["attendees"], "3");
        assert_eq!(v2["ended"], "interrupted (the kiosk stopped)");
        assert_eq!(table(&html, "visit-2-slides").len(), 2);
        assert!(
            !html.contains("visit-3"),
            "the visit sent twice is one visit"
        );

        // The closing slide's code the phone opened (not the delegation's other code), and
        // the lead it left; the erased lead is not shown.
        let opens = table(&html, "opens");
        assert_eq!(opens.len(), 1);
        assert_eq!(row(&opens, "1")[3], f.opened);
        let leads = table(&html, "leads");
        assert_eq!(keys(&leads), [f.lead.to_string().as_str()]);
        assert_eq!(
            row(&leads, &f.lead.to_string())[..6],
            strs([
                "Lee Jihoon",
                "Gyeonggi Business Center",
                "jihoon@example.kr",
                "+82 31 123 4567",
                "Korea",
                "phone form"
            ])
        );
        assert!(!html.contains("Erased Person"));

        // In Vietnamese: the titles of the content, decimal commas.
        let (_, vi) = get(&dofa, &format!("{url}/staff/visits/{DELEGATION}?ui=vi")).await;
        assert_eq!(
            row(&table(&vi, "visit-1-slides"), "1"),
            strs(["1", "1", AIRPORT, "Sân bay Long Thành", "90,0"])
        );
        assert_eq!(values(&vi, "summary")["duration"], "55,0");
        assert!(vi.contains("do người giới thiệu kết thúc"));

        // CSV: one row per slide shown, BOM, parsed back.
        let r = dofa
            .get(format!("{url}/staff/visits/{DELEGATION}.csv?ui=en"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()[reqwest::header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains(&format!("visits-{DELEGATION}.csv"))
        );
        let bytes = r.bytes().await.unwrap();
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM");
        assert!(body.ends_with(b"\r\n"));
        let mut reader = csv::Reader::from_reader(body);
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header,
            strs([
                "Delegation",
                "Visit id",
                "Visit start",
                "Kiosk",
                "Attendees",
                "Order",
                "Slide",
                "Item",
                "Title",
                "Seconds"
            ])
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(rows.len(), 7);
        let (v1, v2) = (f.first.visit_id.to_string(), f.second.visit_id.to_string());
        let start1 = format!("{day} 10:00");
        let who = "Đoàn Gyeonggi (kr-gyeonggi-2026)";
        assert_eq!(
            rows[0],
            strs([
                who,
                &v1,
                &start1,
                "test kiosk",
                "12",
                "1",
                "1",
                AIRPORT,
                "Long Thành airport",
                "90"
            ])
        );
        assert_eq!(
            rows[4],
            strs([
                who,
                &v1,
                &start1,
                "test kiosk",
                "12",
                "5",
                "4",
                "",
                CLOSING,
                "120"
            ])
        );
        assert_eq!(
            rows[6][..6],
            strs([who, &v2, &format!("{day} 15:00"), "test kiosk", "3", "2"])
        );
        assert_eq!(rows[6][9], "10");
        let seconds: i64 = rows.iter().map(|r| r[9].parse::<i64>().unwrap()).sum();
        assert_eq!(seconds, 90 + 60 + 30 + 45 + 120 + 20 + 10);

        // XLSX: Visits, Slides, Leads; numbers as numbers; no formulas.
        let r = dofa
            .get(format!("{url}/staff/visits/{DELEGATION}.xlsx?ui=en"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        use calamine::{Data, Reader};
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(book.sheet_names(), ["Visits", "Slides", "Leads"]);
        let visits = book.worksheet_range("Visits").unwrap();
        assert_eq!(visits.height(), 3);
        let first: Vec<Data> = visits.rows().nth(1).unwrap().to_vec();
        assert_eq!(first[1], Data::String(v1.clone()));
        assert_eq!(first[3], Data::String(start1.clone()));
        assert_eq!(
            first[5..11],
            [
                Data::Float(45.0),
                Data::Float(12.0),
                Data::String("by the host".into()),
                Data::Float(5.0),
                Data::Float(5.0),
                Data::Float(1.0)
            ]
        );
        let slides = book.worksheet_range("Slides").unwrap();
        assert_eq!(slides.height(), 8);
        let total: f64 = slides
            .rows()
            .skip(1)
            .map(|r| match r[9] {
                Data::Float(s) => s,
                ref other => panic!("seconds {other:?}"),
            })
            .sum();
        assert_eq!(total, 375.0);
        assert_eq!(slides.get((5, 8)), Some(&Data::String(CLOSING.into())));
        let leads = book.worksheet_range("Leads").unwrap();
        assert_eq!(leads.height(), 2);
        assert_eq!(leads.get((1, 1)), Some(&Data::String("Lee Jihoon".into())));
        assert_eq!(
            leads.get((1, 5)),
            Some(&Data::String("+82 31 123 4567".into()))
        );
        for name in book.sheet_names() {
            let formulas = book.worksheet_formula(&name).unwrap();
            assert!(
                formulas.cells().all(|(_, _, f)| f.is_empty()),
                "no formulas"
            );
        }
        // Vietnamese sheet names.
        let bytes = dofa
            .get(format!("{url}/staff/visits/{DELEGATION}.xlsx?ui=vi"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(
            book.sheet_names(),
            ["Buổi giới thiệu", "Trang chiếu", "Liên hệ"]
        );

        // Every download is in the audit log.
        let audited = |format: &str| -> usize {
            let users = f.server.rows(Table::Users);
            let detail = format!("visits of {DELEGATION} {format}: 2 visits, 1 leads");
            f.server.count(Table::Audit, |a| {
                a.text("action") == "export"
                    && a.text("detail") == detail
                    && users
                        .iter()
                        .any(|u| u["id"] == a["user_id"] && u.text("email") == "dofa@dn.example")
            })
        };
        assert_eq!((audited("csv"), audited("xlsx")), (1, 2));

        // Another unit: not listed, and 404 for the report and its downloads.
        let ittpc = sign_in(&url, "ittpc@dn.example", PASSWORD).await;
        let (_, html) = get(&ittpc, &format!("{url}/staff/visits?ui=en")).await;
        let list = table(&html, "delegations");
        assert_eq!(keys(&list), [OSAKA]);
        assert_eq!(row(&list, OSAKA)[6..], strs(["0", "0", "0", "0"]));
        for path in [
            format!("/staff/visits/{DELEGATION}"),
            format!("/staff/visits/{DELEGATION}.csv"),
            format!("/staff/visits/{DELEGATION}.xlsx"),
            "/staff/visits/no-such-delegation".to_owned(),
        ] {
            let (status, _) = get(&ittpc, &format!("{url}{path}")).await;
            assert_eq!(status, 404, "{path}");
        }
        let (status, _) = get(&dofa, &format!("{url}/staff/visits/{OSAKA}")).await;
        assert_eq!(status, 404);
        assert_eq!(audited("csv"), 1, "a refused download is not an export");
        // Those who see every unit see both.
        for who in ["admin@dn.example", "culture@dn.example"] {
            let http = sign_in(&url, who, PASSWORD).await;
            let (_, html) = get(&http, &format!("{url}/staff/visits?ui=en")).await;
            assert_eq!(keys(&table(&html, "delegations")), [OSAKA, DELEGATION]);
            let (status, _) = get(&http, &format!("{url}/staff/visits/{DELEGATION}")).await;
            assert_eq!(status, 200);
        }

        // The dashboard names the new kind of record.
        let (_, dash) = get(&dofa, &format!("{url}/staff?lang=en")).await;
        assert!(dash.contains("delegation visits"));
    });
}

#[test]
fn the_yearly_report_counts_the_delegations_received() {
    let f = fixture(Backend::Sqlite);
    let url = f.server.url();
    let year = &f.day[..4];
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let admin = sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (status, html) = get(
            &admin,
            &format!("{url}/staff/reports/yearly?year={year}&ui=en"),
        )
        .await;
        assert_eq!(status, 200);
        let units = table(&html, "units");
        // ... leads, delegations received, visits, attendees, leads from delegations (the
        // erased lead counts, as erased leads do in every count of the yearly report).
        assert_eq!(row(&units, DOFA)[5..], strs(["2", "1", "2", "15", "2"]));
        assert_eq!(row(&units, ITTPC)[6..], strs(["0", "0", "0", "0"]));
        assert!(html.contains("Delegations received"));
        let slug = "department-of-foreign-affairs";
        let line = &html[html.find(&format!("id=\"delegations-{slug}\"")).unwrap()..];
        let line = &line[..line.find("</p>").unwrap()];
        assert!(
            text(line).contains("Delegations received: 1Delegation visits: 2Attendees: 15"),
            "{line}"
        );
        // The year before: nothing.
        let before = year.parse::<i32>().unwrap() - 1;
        let (_, html) = get(
            &admin,
            &format!("{url}/staff/reports/yearly?year={before}&ui=en"),
        )
        .await;
        assert_eq!(
            row(&table(&html, "units"), DOFA)[6..],
            strs(["0", "0", "0", "0"])
        );

        // And in the workbook's Units sheet.
        let bytes = admin
            .get(format!("{url}/staff/reports/yearly.xlsx?year={year}&ui=en"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        use calamine::{Data, Reader};
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let units = book.worksheet_range("Units").unwrap();
        let header: Vec<String> = units.rows().next().unwrap()[7..]
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            header,
            strs([
                "Delegations received",
                "Delegation visits",
                "Attendees",
                "Leads from delegations"
            ])
        );
        let dofa: Vec<Data> = units
            .rows()
            .find(|r| r[0] == Data::String(DOFA.into()))
            .unwrap()
            .to_vec();
        assert_eq!(
            dofa[7..],
            [
                Data::Float(1.0),
                Data::Float(2.0),
                Data::Float(15.0),
                Data::Float(2.0)
            ]
        );
    });
}

fn a_member_erased_by_staff_stays_erased_when_the_pack_is_imported_again(backend: Backend) {
    let f = fixture(backend);
    let url = f.server.url();
    let report = format!("{url}/staff/visits/{DELEGATION}");
    let erase = format!("{report}/erase-member");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Another unit cannot erase this delegation's members.
        let other = sign_in(&url, "ittpc@dn.example", PASSWORD).await;
        let (_, page) = get(&other, &format!("{url}/staff/visits")).await;
        let r = other
            .post(&erase)
            .form(&[
                ("csrf", csrf(&page).as_str()),
                ("confirm", "ERASE"),
                ("name", "Kim Minji"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        let dofa = sign_in(&url, "dofa@dn.example", PASSWORD).await;
        let (status, page) = get(&dofa, &report).await;
        assert_eq!(status, 200);
        assert!(page.contains("Kim Minji") && page.contains("class=\"erase-member\""));
        let token = csrf(&page);
        // Without the typed confirmation nothing happens.
        let r = dofa
            .post(&erase)
            .form(&[
                ("csrf", token.as_str()),
                ("confirm", ""),
                ("name", "Kim Minji"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert!(get(&dofa, &report).await.1.contains("Kim Minji"));
        // A forged form is refused.
        let r = dofa
            .post(&erase)
            .form(&[
                ("csrf", "0".repeat(64).as_str()),
                ("confirm", "ERASE"),
                ("name", "Kim Minji"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Erased.
        let r = dofa
            .post(&erase)
            .form(&[
                ("csrf", token.as_str()),
                ("confirm", "ERASE"),
                ("name", " Kim Minji "),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.ends_with("?done=member-erased"), "{to}");
        let (_, page) = get(&dofa, &format!("{url}{to}")).await;
        assert!(page.contains("id=\"member-erased\""));
        assert!(
            !page.contains("Kim Minji"),
            "the name is gone from the report"
        );
        assert!(page.contains("Park Jisoo"), "the other member stays");
        // Erasing again: nothing left to erase.
        let r = dofa
            .post(&erase)
            .form(&[
                ("csrf", token.as_str()),
                ("confirm", "ERASE"),
                ("name", "Kim Minji"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    });

    // The pack still lists her: importing it again does not bring her back.
    let pack = f._dir.path().join("pack");
    write_pack(&pack, &f.day, "Deputy director", OSAKA);
    e2e::publish(&f.server, &pack);
    let names: Vec<String> = f
        .server
        .rows_where(Table::DelegationMembers, |r| {
            r.text("delegation") == DELEGATION
        })
        .iter()
        .map(|r| r.text("name").to_owned())
        .collect();
    assert_eq!(names, ["Park Jisoo"]);
    // The tombstone and the audit log hold no name.
    let tombstones = f.server.rows(Table::ErasedMembers);
    assert!(!tombstones.is_empty(), "the erasure left a tombstone");
    let dump = tombstones
        .iter()
        .map(|r| format!("{}{}", r.text("delegation"), r.text("name_hash")))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!dump.to_lowercase().contains("kim"), "{dump}");
    let audit = f
        .server
        .rows_where(Table::Audit, |r| r.text("action") == "erase-member");
    let entry = audit.first().expect("the erasure is audited");
    assert_eq!(
        (entry.text("action"), entry.text("detail")),
        ("erase-member", DELEGATION)
    );
}

e2e::on_both_backends!(a_member_erased_by_staff_stays_erased_when_the_pack_is_imported_again);

fn members_are_erased_with_the_units_retention_counted_from_the_visit_day(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let pack = dir.path().join("pack");
    let day = 86_400_000;
    let now = protocol::now_ms();
    // One delegation 40 days ago, the other today.
    write_pack(&pack, &day_label(vn_day(now - 40 * day)), "Director", OSAKA);
    e2e::publish(&server, &pack);
    let mut osaka = server
        .state
        .leads
        .events()
        .unwrap()
        .into_iter()
        .find(|e| e.id == OSAKA)
        .unwrap();
    osaka.starts = day_label(vn_day(now));
    osaka.ends = osaka.starts.clone();
    server.state.leads.upsert_event(&osaka, now).unwrap();
    let count = |id: &str| server.count(Table::DelegationMembers, |r| r.text("delegation") == id);
    assert_eq!((count(DELEGATION), count(OSAKA)), (2, 1));
    // The unit keeps personal data 60 days: nothing goes yet.
    server.state.leads.upsert_org(DOFA, Some(60)).unwrap();
    sync_server::retention::sweep_retention(&server.state, now).unwrap();
    assert_eq!((count(DELEGATION), count(OSAKA)), (2, 1));
    // 30 days: the members of the visit 40 days ago go, today's stay.
    server.state.leads.upsert_org(DOFA, Some(30)).unwrap();
    sync_server::retention::sweep_retention(&server.state, now).unwrap();
    assert_eq!((count(DELEGATION), count(OSAKA)), (0, 1));
    let audit = server.rows_where(Table::Audit, |r| r.text("action") == "retention-erase");
    assert_eq!(
        audit
            .first()
            .expect("the retention is audited")
            .text("detail"),
        "2 delegation members"
    );
    // Importing the same pack again does not bring them back.
    e2e::publish(&server, &pack);
    assert_eq!(count(DELEGATION), 0);
}

e2e::on_both_backends!(members_are_erased_with_the_units_retention_counted_from_the_visit_day);
