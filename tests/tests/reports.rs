//! The staff reports over HTTP, from records pushed by a real kiosk store through the real sync
//! client: the numbers of every table checked exactly (views, sessions, dwell by item, pillar
//! and language, the funnel, leads by country, the day × hour heat map in Vietnam time), date
//! filters, the charts as SVG, scopes (another unit's event is 404), the yearly report and its
//! XLSX read back by calamine, the audit of the export, and the migration's back-fill.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::TestServer;
use e2e::pages::{get, keys, row, sign_in, table};
use kiosk_core::clock::{Clock, Stamp};
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig};
use protocol::content::{Item, ItemText, Manifest, Pack, Pillar};
use protocol::record::{LeadBody, SessionEnd, SessionPhase};
use protocol::{Contact, LeadSource, QrPurpose, RecordBody, ViewOrigin};
use sync_server::store::ReportStorage;
use sync_server::store::time::day_start_ms;
use sync_server::store::{ALL_LEADS_ORG, EventRow, PhoneLead, QrOpen};
use uuid::Uuid;

const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const DOFA: &str = "Department of Foreign Affairs";
const PASSWORD: &str = "a long staff password";
const KOREA: &str = "korea-investment-2026";
const DELEGATION: &str = "delegation-kr-2026";
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// Unix ms of a Vietnam date and time.
fn vn(date: &str, hour: i64, minute: i64) -> i64 {
    day_start_ms(date).unwrap() + hour * HOUR + minute * MIN
}

fn manifest() -> Manifest {
    let text = |title: &str| {
        BTreeMap::from([(
            "en".to_owned(),
            ItemText {
                title: title.into(),
                summary: String::new(),
                body: String::new(),
                facts: vec![],
                source: None,
            },
        )])
    };
    let item = |id: &str, pillar: &str, title: &str| Item {
        id: id.into(),
        pillar: pillar.into(),
        media: vec![],
        link: None,
        shows_from: None,
        shows_until: None,
        daily: None,
        text: text(title),
    };
    let pillar = |id: &str, en: &str, vi: &str| Pillar {
        id: id.into(),
        icon: None,
        color: None,
        title: BTreeMap::from([("en".into(), en.into()), ("vi".into(), vi.into())]),
    };
    Manifest {
        version: "reports-test@1".into(),
        pack: Pack {
            id: "reports-test".into(),
            version: "1".into(),
            default_language: "vi".into(),
            languages: vec!["vi".into(), "en".into(), "ko".into(), "ja".into()],
            title: BTreeMap::new(),
            pillars: vec![
                pillar("invest", "Invest", "Đầu tư"),
                pillar("tourism", "Tourism", "Du lịch"),
                pillar("culture", "Culture", "Văn hoá"),
            ],
            items: vec![
                item("long-thanh-airport", "invest", "Long Thành airport"),
                item("cat-tien", "tourism", "Cát Tiên national park"),
                item("bien-hoa-pottery", "culture", "Biên Hòa pottery"),
            ],
            playlists: vec![],
            events: vec![],
            delegations: vec![],
            decks: vec![],
            credits: BTreeMap::new(),
        },
        media: vec![],
    }
}

/// The records a kiosk made at known times: (time, event, body).
fn records(session: &mut impl FnMut() -> Uuid) -> Vec<(i64, &'static str, RecordBody)> {
    let d1 = "2026-03-10";
    let d2 = "2026-03-11";
    let view = |item: &str, lang: &str, dwell_ms: u64, origin| RecordBody::View {
        item: item.into(),
        lang: lang.into(),
        dwell_ms,
        origin,
    };
    let qr = |purpose, item: &str, lang: &str| RecordBody::QrShown {
        purpose,
        item: Some(item.into()),
        lang: lang.into(),
        nonce: Uuid::new_v4().simple().to_string(),
    };
    let mut sess = |duration_ms| {
        let id = session();
        (
            RecordBody::Session {
                session_id: id,
                phase: SessionPhase::Start,
            },
            RecordBody::Session {
                session_id: id,
                phase: SessionPhase::End {
                    reason: SessionEnd::Idle,
                    duration_ms,
                },
            },
        )
    };
    let lead = |country: &str, source| {
        RecordBody::Lead(Box::new(LeadBody {
            lead_id: Uuid::now_v7(),
            contact: Contact {
                name: "Kim".into(),
                email: format!("{}@example.com", Uuid::new_v4().simple()),
                country: country.into(),
                ..Default::default()
            },
            interests: vec!["invest".into()],
            source,
            consent: None,
            item: Some("long-thanh-airport".into()),
            lang: Some("ko".into()),
            redacted: false,
        }))
    };
    let (s1, e1) = sess(600_000);
    let (s2, e2) = sess(300_000);
    let (s3, e3) = sess(240_000);
    let (s4, e4) = sess(300_000);
    let (s5, e5) = sess(100_000);
    use ViewOrigin::*;
    vec![
        // Day 1: the attract loop, two visitors in the 9 o'clock hour, a presenter at 14:05.
        (
            vn(d1, 8, 0),
            KOREA,
            view("long-thanh-airport", "vi", 8_000, Attract),
        ),
        (
            vn(d1, 8, 1),
            KOREA,
            view("long-thanh-airport", "vi", 8_000, Attract),
        ),
        (
            vn(d1, 8, 2),
            KOREA,
            view("long-thanh-airport", "vi", 8_000, Attract),
        ),
        (vn(d1, 9, 10), KOREA, s1),
        (
            vn(d1, 9, 15),
            KOREA,
            view("long-thanh-airport", "vi", 10_000, Visitor),
        ),
        (vn(d1, 9, 16), KOREA, view("cat-tien", "vi", 5_000, Visitor)),
        (vn(d1, 9, 20), KOREA, e1),
        (vn(d1, 9, 30), KOREA, s2),
        (
            vn(d1, 9, 31),
            KOREA,
            view("long-thanh-airport", "en", 20_000, Visitor),
        ),
        (
            vn(d1, 9, 32),
            KOREA,
            qr(QrPurpose::Interest, "long-thanh-airport", "en"),
        ),
        (vn(d1, 9, 35), KOREA, e2),
        (vn(d1, 14, 5), KOREA, s3),
        (
            vn(d1, 14, 6),
            KOREA,
            view("bien-hoa-pottery", "ko", 30_000, Presenter),
        ),
        (
            vn(d1, 14, 7),
            KOREA,
            qr(QrPurpose::TakeAway, "bien-hoa-pottery", "ko"),
        ),
        (vn(d1, 14, 10), KOREA, e3),
        // Day 2: one visitor who leaves leads at the kiosk, and the delegation at 11:00.
        (vn(d2, 10, 0), KOREA, s4),
        (
            vn(d2, 10, 1),
            KOREA,
            view("cat-tien", "ko", 15_000, Visitor),
        ),
        (
            vn(d2, 10, 2),
            KOREA,
            qr(QrPurpose::Interest, "cat-tien", "ko"),
        ),
        (vn(d2, 10, 3), KOREA, lead("Korea", LeadSource::KioskForm)),
        (vn(d2, 10, 4), KOREA, lead("Japan", LeadSource::Badge)),
        (vn(d2, 10, 5), KOREA, e4),
        (vn(d2, 11, 0), DELEGATION, s5),
        (
            vn(d2, 11, 1),
            DELEGATION,
            view("long-thanh-airport", "ja", 7_000, Presenter),
        ),
        (vn(d2, 11, 2), DELEGATION, e5),
        (
            vn(d2, 23, 30),
            KOREA,
            RecordBody::Heartbeat {
                app_version: "1".into(),
                content_version: None,
                backlog: 0,
                free_disk_bytes: 1,
                uptime_ms: 1,
                content_error: None,
            },
        ),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
}

fn fixture(backend: e2e::Backend) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(&dir.path().join("server"), backend);
    let st = server.state.clone();
    let now = protocol::now_ms();
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
    for (id, name, org, starts, ends) in [
        (
            KOREA,
            "Korea investment fair",
            ITTPC,
            "2026-03-10",
            "2026-03-12",
        ),
        (
            DELEGATION,
            "Delegation from Gyeonggi",
            DOFA,
            "2026-03-11",
            "",
        ),
        (
            "tet-2025",
            "Tết fair 2025",
            ITTPC,
            "2025-01-20",
            "2025-01-25",
        ),
    ] {
        st.leads
            .upsert_event(
                &EventRow {
                    id: id.into(),
                    name: name.into(),
                    kind: "fair".into(),
                    starts: starts.into(),
                    ends: ends.into(),
                    venue: "Biên Hòa".into(),
                    country: "Vietnam".into(),
                    org: org.into(),
                    responsible: "Nguyễn Văn An".into(),
                    ..Default::default()
                },
                now,
            )
            .unwrap();
    }
    server.storage().publish(&manifest(), now).unwrap();

    // The kiosk's records, pushed by the real sync client. A boot the server never heard of
    // with a clock the kiosk trusted: the server dates each record at its wall time.
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = e2e::enrol_store(&server, &store_path, &server.url());
    let mut store = Store::open(&store_path).unwrap();
    let boot = Uuid::now_v7();
    let mut next = || Uuid::now_v7();
    let recs = records(&mut next);
    let first = recs[0].0;
    store
        .append_many(recs.into_iter().map(|(at, event, body)| {
            (
                Stamp {
                    wall_ms: at,
                    boot_id: boot,
                    mono_ms: (at - first) as u64 + 1_000,
                    clock_ok: true,
                    corrected_ms: at,
                },
                Some(event.to_owned()),
                body,
            )
        }))
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = SyncConfig {
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let mut client = SyncClient::new(identity.clone(), Clock::system(), config).unwrap();
    let start = Instant::now();
    while store.backlog().unwrap() > 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "push drained");
        let _ = rt.block_on(client.round(&mut store));
    }

    // Phones: QR codes opened, leads left on the phone form.
    let kiosk = identity.kiosk_id;
    for at in [vn("2026-03-10", 9, 33), vn("2026-03-11", 10, 2) + 30_000] {
        st.phone
            .record_open(
                &QrOpen {
                    nonce: Uuid::new_v4().simple().to_string(),
                    kiosk,
                    event_id: KOREA.into(),
                    item: "long-thanh-airport".into(),
                    lang: "en".into(),
                    purpose: "interest",
                    visitor: format!("phone-{at}"),
                },
                at,
            )
            .unwrap();
    }
    for (event, country, at) in [
        (KOREA, "Korea", vn("2026-03-10", 9, 40)),
        (KOREA, " korea ", vn("2026-03-11", 10, 6)),
        (KOREA, "<b>Vietnam</b>", vn("2026-03-11", 10, 7)),
        (DELEGATION, "Japan", vn("2026-03-11", 11, 3)),
    ] {
        st.phone
            .upsert_phone_lead(
                &PhoneLead {
                    lead_id: Uuid::now_v7(),
                    kiosk,
                    event_id: event.into(),
                    item: "long-thanh-airport".into(),
                    lang: "ko".into(),
                    contact: Contact {
                        name: "Lee".into(),
                        email: format!("{}@example.kr", Uuid::new_v4().simple()),
                        country: country.into(),
                        ..Default::default()
                    },
                    interests: vec!["invest".into()],
                    consent: protocol::Consent::shown(
                        "phone-consent-text",
                        "ko",
                        "I agree that the promotion centre keeps my contact.",
                        at,
                    ),
                },
                at,
            )
            .unwrap();
    }
    Fixture { _dir: dir, server }
}

fn summary(html: &str) -> BTreeMap<String, String> {
    e2e::pages::values(html, "summary")
}

fn heat(html: &str) -> BTreeMap<String, Vec<i64>> {
    table(html, "heat")
        .into_iter()
        .map(|(k, v)| (k, v[1..].iter().map(|n| n.parse().unwrap()).collect()))
        .collect()
}

/// 24 hours with these counts, and the total.
fn hours(counts: &[(usize, i64)]) -> Vec<i64> {
    let mut h = vec![0; 25];
    for (hour, n) in counts {
        h[*hour] = *n;
        h[24] += n;
    }
    h
}

e2e::on_both_backends!(the_event_report_counts_exactly_what_the_kiosk_and_the_phones_recorded);
fn the_event_report_counts_exactly_what_the_kiosk_and_the_phones_recorded(backend: e2e::Backend) {
    let f = fixture(backend);
    let url = f.server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for path in [
            "/staff/reports",
            "/staff/reports/yearly",
            "/staff/reports/yearly.xlsx",
            "/staff/reports/yearly.csv",
            "/staff/reports.csv",
            "/staff/reports.xlsx",
        ] {
            let r = anon.get(format!("{url}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 303, "{path} signed out");
        }

        let ittpc = sign_in(&url, "ittpc@dn.example", PASSWORD).await;
        let (status, html) = get(&ittpc, &format!("{url}/staff/reports?event={KOREA}&ui=en")).await;
        assert_eq!(status, 200);
        e2e::pages::keep_html("report-event-en", &html);
        assert!(html.contains("Korea investment fair"));
        assert!(
            html.contains("href=\"/staff/reports\" class=\"on\""),
            "nav link"
        );

        let s = summary(&html);
        let want: BTreeMap<String, String> = [
            ("views", "8"),
            ("views-visitor", "4"),
            ("views-presenter", "1"),
            ("views-attract", "3"),
            ("sessions", "4"),
            ("session-avg", "360.0"),
            ("qr-shown", "3"),
            ("qr-opened", "2"),
            ("phone-leads", "3"),
            ("leads", "5"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(s, want);

        // Dwell by item: id, title, pillar, views, total s, average s; most viewed first.
        let items = table(&html, "by-item");
        assert_eq!(
            row(&items, "long-thanh-airport"),
            [
                "long-thanh-airport",
                "Long Thành airport",
                "Invest",
                "2",
                "30.0",
                "15.0"
            ]
        );
        assert_eq!(
            row(&items, "cat-tien"),
            [
                "cat-tien",
                "Cát Tiên national park",
                "Tourism",
                "2",
                "20.0",
                "10.0"
            ]
        );
        assert_eq!(
            row(&items, "bien-hoa-pottery"),
            [
                "bien-hoa-pottery",
                "Biên Hòa pottery",
                "Culture",
                "1",
                "30.0",
                "30.0"
            ]
        );
        let order: Vec<usize> = ["long-thanh-airport", "cat-tien", "bien-hoa-pottery"]
            .iter()
            .map(|k| html.find(&format!("<tr data-key=\"{k}\"")).unwrap())
            .collect();
        assert!(order.is_sorted(), "most viewed first");

        let pillars = table(&html, "by-pillar");
        assert_eq!(row(&pillars, "invest"), ["Invest", "2", "30.0", "15.0"]);
        assert_eq!(row(&pillars, "tourism"), ["Tourism", "2", "20.0", "10.0"]);
        assert_eq!(row(&pillars, "culture"), ["Culture", "1", "30.0", "30.0"]);

        let langs = table(&html, "by-lang");
        assert_eq!(keys(&langs), ["en", "ko", "vi"]);
        assert_eq!(
            row(&langs, "ko"),
            ["한국어 (ko)", "2", "45.0", "22.5", "40.0 %"]
        );
        assert_eq!(
            row(&langs, "vi"),
            ["Tiếng Việt (vi)", "2", "15.0", "7.5", "40.0 %"]
        );
        assert_eq!(
            row(&langs, "en"),
            ["English (en)", "1", "20.0", "20.0", "20.0 %"]
        );

        let funnel = table(&html, "funnel");
        assert_eq!(row(&funnel, "qr-shown")[1..], ["3", "100.0 %"]);
        assert_eq!(row(&funnel, "qr-opened")[1..], ["2", "66.7 %"]);
        assert_eq!(row(&funnel, "phone-leads")[1..], ["3", "100.0 %"]);

        // The funnel per item, language and hour of the day (Vietnam time): codes shown,
        // opened on phones (and the rate), leads left on phones, every lead.
        let items = table(&html, "funnel-items");
        assert_eq!(
            row(&items, "long-thanh-airport"),
            [
                "long-thanh-airport",
                "Long Thành airport",
                "1",
                "2",
                "200.0 %",
                "3",
                "5"
            ]
        );
        assert_eq!(row(&items, "cat-tien")[2..], ["1", "0", "0.0 %", "0", "0"]);
        assert_eq!(
            row(&items, "bien-hoa-pottery")[2..],
            ["1", "0", "0.0 %", "0", "0"]
        );
        let langs = table(&html, "funnel-langs");
        assert_eq!(row(&langs, "en")[1..], ["1", "2", "200.0 %", "0", "0"]);
        assert_eq!(row(&langs, "ko")[1..], ["2", "0", "0.0 %", "3", "5"]);
        let hours_of_day = table(&html, "funnel-hours");
        assert_eq!(
            keys(&hours_of_day),
            ["09", "10", "14"],
            "the hours with something in them"
        );
        assert_eq!(
            row(&hours_of_day, "09"),
            ["09:00", "1", "1", "100.0 %", "1", "1"]
        );
        assert_eq!(
            row(&hours_of_day, "10"),
            ["10:00", "1", "1", "100.0 %", "2", "4"]
        );
        assert_eq!(row(&hours_of_day, "14")[1..3], ["1", "0"]);

        // The same report as CSV and as XLSX, audited as exports.
        let download = |path: String| {
            let c = ittpc.clone();
            async move {
                let r = c.get(path).send().await.unwrap();
                let status = r.status().as_u16();
                let name = r
                    .headers()
                    .get(reqwest::header::CONTENT_DISPOSITION)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                (status, name, r.bytes().await.unwrap().to_vec())
            }
        };
        let (status, name, csv) =
            download(format!("{url}/staff/reports.csv?event={KOREA}&ui=en")).await;
        assert_eq!(status, 200);
        assert!(
            name.contains(&format!("promo-kiosk-report-{KOREA}.csv")),
            "{name}"
        );
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
        let lines: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&csv[3..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let section = |title: &str| -> &[Vec<String>] {
            let at = lines
                .iter()
                .position(|l| l.len() == 1 && l[0] == title)
                .unwrap_or_else(|| panic!("no section {title}"));
            let end = lines[at + 1..]
                .iter()
                .position(|l| l.len() == 1)
                .map_or(lines.len(), |e| at + 1 + e);
            &lines[at + 1..end]
        };
        let by_item = section("Funnel by item");
        assert_eq!(by_item[0][..2], ["Item", "Title"]);
        assert!(
            by_item.contains(&vec![
                "long-thanh-airport".into(),
                "Long Thành airport".into(),
                "1".into(),
                "2".into(),
                "3".into(),
                "5".into()
            ]),
            "{by_item:?}"
        );
        let summary_rows = section("Summary");
        assert!(summary_rows.contains(&vec!["QR codes shown".into(), "3".into()]));
        assert_eq!(
            section("Funnel by hour of the day (Vietnam time)").len(),
            25
        );
        let (status, _, xlsx) =
            download(format!("{url}/staff/reports.xlsx?event={KOREA}&ui=en")).await;
        assert_eq!(status, 200);
        {
            use calamine::{Data, Reader};
            let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
            let names = book.sheet_names();
            for want in [
                "Summary",
                "Funnel by item",
                "Funnel by language",
                "Leads by country",
            ] {
                assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
            }
            let sheet = book.worksheet_range("Funnel by item").unwrap();
            let airport: Vec<Data> = sheet
                .rows()
                .find(|r| r[0] == Data::String("long-thanh-airport".into()))
                .unwrap()
                .to_vec();
            assert_eq!(
                airport[2..],
                [
                    Data::Float(1.0),
                    Data::Float(2.0),
                    Data::Float(3.0),
                    Data::Float(5.0)
                ]
            );
        }
        // Another unit's event is not downloadable either.
        let (status, _, _) = download(format!("{url}/staff/reports.csv?event={DELEGATION}")).await;
        assert_eq!(status, 404);
        let (status, _, yearly) =
            download(format!("{url}/staff/reports/yearly.csv?year=2026&ui=en")).await;
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&yearly).contains("Top content"));

        // Countries as visitors typed them, " korea " counted with "Korea"; markup stays text.
        let countries = table(&html, "by-country");
        assert_eq!(row(&countries, "Korea"), ["Korea", "3"]);
        assert_eq!(row(&countries, "Japan"), ["Japan", "1"]);
        assert_eq!(row(&countries, "<b>Vietnam</b>"), ["<b>Vietnam</b>", "1"]);
        assert_eq!(countries.len(), 3);
        assert!(
            !html.contains("<b>Vietnam</b>"),
            "escaped in tables and charts"
        );

        // Sessions by Vietnam day and hour.
        let h = heat(&html);
        assert_eq!(keys_of(&h), ["2026-03-10", "2026-03-11"]);
        assert_eq!(h["2026-03-10"], hours(&[(9, 2), (14, 1)]));
        assert_eq!(h["2026-03-11"], hours(&[(10, 1)]));

        // Charts: SVG drawn by charts-rs, inline.
        for id in [
            "chart-items",
            "chart-pillars",
            "chart-langs",
            "chart-funnel",
            "chart-countries",
            "chart-heat",
        ] {
            let at = html
                .find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no {id}"));
            assert!(html[at..].find("<svg").unwrap() < 200, "{id} holds an svg");
        }
        assert!(html.matches("<svg").count() >= 6);

        // One day: 2026-03-11.
        let (_, day2) = get(
            &ittpc,
            &format!("{url}/staff/reports?event={KOREA}&from=2026-03-11&to=2026-03-11&ui=en"),
        )
        .await;
        let s = summary(&day2);
        for (k, v) in [
            ("views", "1"),
            ("views-attract", "0"),
            ("sessions", "1"),
            ("session-avg", "300.0"),
            ("qr-shown", "1"),
            ("qr-opened", "1"),
            ("phone-leads", "2"),
            ("leads", "4"),
        ] {
            assert_eq!(s[k], v, "2026-03-11 {k}");
        }
        assert_eq!(keys_of(&heat(&day2)), ["2026-03-11"]);
        assert_eq!(keys(&table(&day2, "by-item")), ["cat-tien"]);
        // The first day alone: nothing of the second.
        let (_, day1) = get(
            &ittpc,
            &format!("{url}/staff/reports?event={KOREA}&from=2026-03-10&to=2026-03-10&ui=en"),
        )
        .await;
        let s = summary(&day1);
        assert_eq!((s["views"].as_str(), s["sessions"].as_str()), ("7", "3"));
        assert_eq!((s["leads"].as_str(), s["qr-opened"].as_str()), ("1", "1"));

        // Vietnamese: the same numbers with a decimal comma.
        let (_, vi) = get(&ittpc, &format!("{url}/staff/reports?event={KOREA}&ui=vi")).await;
        e2e::pages::keep_html("report-event-vi", &vi);
        assert!(vi.contains("Thời gian xem theo nội dung"));
        assert_eq!(summary(&vi)["session-avg"], "360,0");
        assert_eq!(row(&table(&vi, "by-pillar"), "invest")[0], "Đầu tư");

        // Scope: ITTPC's report of all events is its own; another unit's event is 404.
        let (_, all) = get(&ittpc, &format!("{url}/staff/reports?ui=en")).await;
        assert_eq!(summary(&all)["views"], "8");
        assert!(
            !all.contains(DELEGATION),
            "the other unit's event is not offered"
        );
        let (status, _) = get(&ittpc, &format!("{url}/staff/reports?event={DELEGATION}")).await;
        assert_eq!(status, 404);
        let (status, _) = get(&ittpc, &format!("{url}/staff/reports?event=no-such-event")).await;
        assert_eq!(status, 404);
        let dofa = sign_in(&url, "dofa@dn.example", PASSWORD).await;
        let (status, _) = get(&dofa, &format!("{url}/staff/reports?event={KOREA}")).await;
        assert_eq!(status, 404);
        let (status, d) = get(
            &dofa,
            &format!("{url}/staff/reports?event={DELEGATION}&ui=en"),
        )
        .await;
        assert_eq!(status, 200);
        let s = summary(&d);
        assert_eq!((s["views"].as_str(), s["sessions"].as_str()), ("1", "1"));
        assert_eq!(row(&table(&d, "by-country"), "Japan"), ["Japan", "1"]);

        // An admin sees every event together.
        let admin = sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (_, all) = get(&admin, &format!("{url}/staff/reports?ui=en")).await;
        let s = summary(&all);
        assert_eq!((s["views"].as_str(), s["sessions"].as_str()), ("9", "5"));
        assert_eq!(s["leads"], "6");
        assert_eq!(heat(&all)["2026-03-11"], hours(&[(10, 1), (11, 1)]));
        assert_eq!(row(&table(&all, "by-country"), "Japan"), ["Japan", "2"]);
    });
}

fn keys_of<V>(m: &BTreeMap<String, V>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

e2e::on_both_backends!(the_yearly_report_per_unit_printable_and_as_xlsx);
fn the_yearly_report_per_unit_printable_and_as_xlsx(backend: e2e::Backend) {
    let f = fixture(backend);
    let url = f.server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let admin = sign_in(&url, "admin@dn.example", PASSWORD).await;
        let (status, html) = get(
            &admin,
            &format!("{url}/staff/reports/yearly?year=2026&ui=en"),
        )
        .await;
        assert_eq!(status, 200);
        e2e::pages::keep_html("report-yearly-en", &html);
        assert!(html.contains("Yearly report 2026"));
        assert!(html.contains("@media print"), "print CSS");
        let units = table(&html, "units");
        // unit, events, kiosk-days, sessions, views, leads, then the delegations received,
        // their visits, attendees and leads (none: no kiosk presented a visit here; the
        // delegation's event is registered as a fair).
        assert_eq!(
            row(&units, ITTPC),
            [ITTPC, "1", "2", "4", "5", "5", "0", "0", "0", "0"]
        );
        assert_eq!(
            row(&units, DOFA),
            [DOFA, "1", "1", "1", "1", "1", "0", "0", "0", "0"]
        );
        assert_eq!(row(&units, ALL_LEADS_ORG)[1..], ["0"; 9]);
        // The 2025 fair is not in 2026.
        assert!(!html.contains("tet-2025"));
        let slug = "investment--trade-and-tourism-promotion-centre";
        let events = table(&html, &format!("events-{slug}"));
        assert_eq!(
            row(&events, KOREA),
            [
                KOREA,
                "Korea investment fair",
                "trade or tourism fair",
                "2026-03-10 – 2026-03-12",
                "Biên Hòa",
                "Nguyễn Văn An",
                "2",
                "4",
                "5",
                "5"
            ]
        );
        let markets = table(&html, &format!("markets-{slug}"));
        assert_eq!(row(&markets, "Korea")[1], "3");
        assert_eq!(row(&markets, "Japan")[1], "1");
        let top = table(&html, &format!("top-{slug}"));
        assert_eq!(
            row(&top, "long-thanh-airport"),
            [
                "1",
                "long-thanh-airport",
                "Long Thành airport",
                "2",
                "30.0",
                "15.0"
            ]
        );
        assert_eq!(row(&top, "bien-hoa-pottery")[0], "3");

        // The department's compilation (due 15 November) adds every unit up; each unit's own
        // report is due on 5 November.
        let dept = table(&html, "department-totals");
        for (k, v) in [
            ("events", "2"),
            ("kiosk-days", "3"),
            ("sessions", "5"),
            ("views", "6"),
            ("leads", "6"),
        ] {
            assert_eq!(row(&dept, k)[1], v, "department {k}");
        }
        assert_eq!(row(&table(&html, "department-markets"), "Korea")[1], "3");
        assert!(html.contains("Due on 15 November 2026"));
        assert!(html.contains(&format!("id=\"deadline-{slug}\"")));
        assert!(html.contains("report is due on 5 November 2026."));

        // Another year: the same units, nothing counted.
        let (_, y2025) = get(
            &admin,
            &format!("{url}/staff/reports/yearly?year=2025&ui=en"),
        )
        .await;
        assert_eq!(
            row(&table(&y2025, "units"), ITTPC)[1..],
            ["1", "0", "0", "0", "0", "0", "0", "0", "0"]
        );

        // A unit's staff see their unit only.
        let dofa = sign_in(&url, "dofa@dn.example", PASSWORD).await;
        let (_, mine) = get(
            &dofa,
            &format!("{url}/staff/reports/yearly?year=2026&ui=en"),
        )
        .await;
        assert_eq!(keys(&table(&mine, "units")), [DOFA]);
        assert!(!mine.contains(KOREA));
        assert!(
            !mine.contains("id=\"department\""),
            "a unit has no compilation"
        );
        assert!(mine.contains("report is due on 5 November 2026."));

        // XLSX, read back: numbers as numbers, text as text, no formulas.
        let r = admin
            .get(format!("{url}/staff/reports/yearly.xlsx?year=2026&ui=en"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()[reqwest::header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("promo-kiosk-report-2026.xlsx")
        );
        let bytes = r.bytes().await.unwrap();
        use calamine::{Data, Reader};
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(
            book.sheet_names(),
            [
                "All units",
                "Units",
                "Events",
                "Leads by market",
                "Top content"
            ]
        );
        // The department's compilation, first: its deadline, then the totals of all units.
        let all = book.worksheet_range("All units").unwrap();
        let rows: Vec<Vec<Data>> = all.rows().map(|r| r.to_vec()).collect();
        assert_eq!(
            rows[1][0],
            Data::String(
                "Due on 15 November 2026, compiled from every unit's report below.".into()
            )
        );
        assert!(rows.contains(&vec![Data::String("Leads".into()), Data::Float(6.0)]));
        assert!(rows.contains(&vec![
            Data::String("Leads by market: Korea".into()),
            Data::Float(3.0)
        ]));
        let units = book.worksheet_range("Units").unwrap();
        let ittpc: Vec<Data> = units
            .rows()
            .find(|r| r[0] == Data::String(ITTPC.into()))
            .unwrap()
            .to_vec();
        assert_eq!(
            ittpc[1..],
            [
                Data::Float(1.0),
                Data::Float(2.0),
                Data::Float(4.0),
                Data::Float(5.0),
                Data::Float(80.0),
                Data::Float(5.0),
                Data::Float(0.0),
                Data::Float(0.0),
                Data::Float(0.0),
                Data::Float(0.0)
            ]
        );
        let markets = book.worksheet_range("Leads by market").unwrap();
        let cells: Vec<String> = markets.cells().map(|(_, _, c)| c.to_string()).collect();
        assert!(cells.iter().any(|c| c == "<b>Vietnam</b>"));
        let content = book.worksheet_range("Top content").unwrap();
        assert!(
            content
                .rows()
                .any(|r| r[2] == Data::String("long-thanh-airport".into())
                    && r[4] == Data::Float(2.0))
        );
        for name in book.sheet_names() {
            let formulas = book.worksheet_formula(&name).unwrap();
            assert!(
                formulas.cells().all(|(_, _, f)| f.is_empty()),
                "no formulas"
            );
        }
        // The export is in the audit log.
        // Storage is blocking (PostgreSQL's client must not run on the async threads).
        let (log, _) =
            tokio::task::block_in_place(|| f.server.state.staff.audit_log(1_000, 0)).unwrap();
        let n = log
            .iter()
            .filter(|e| {
                e.action == sync_server::store::AuditAction::Export.as_str()
                    && e.email.as_deref() == Some("admin@dn.example")
                    && e.detail.starts_with("yearly report 2026")
            })
            .count();
        assert_eq!(n, 1);
        // The DOFA workbook holds DOFA only.
        let bytes = dofa
            .get(format!("{url}/staff/reports/yearly.xlsx?year=2026&ui=vi"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(book.sheet_names()[0], "Đơn vị");
        let units = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(units.height(), 2);
        assert_eq!(units.get((1, 0)), Some(&Data::String(DOFA.into())));
    });
}

#[test]
fn the_migration_back_fill_and_the_triggers_give_the_roll_ups_ingest_gives() {
    let f = fixture(e2e::Backend::Sqlite);
    let db = f.server.data_dir.join("server.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let dump = |conn: &rusqlite::Connection| -> Vec<String> {
        let mut out = Vec::new();
        for sql in [
            "SELECT event_id, day, item, lang, origin, views, dwell_ms FROM rollup_views_day ORDER BY 1, 2, 3, 4, 5",
            "SELECT event_id, hour, started, ended, duration_ms FROM rollup_sessions ORDER BY 1, 2",
            "SELECT day, kiosk, event_id, records FROM rollup_kiosk_days ORDER BY 1, 2, 3",
        ] {
            let mut q = conn.prepare(sql).unwrap();
            let n = q.column_count();
            let rows = q
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap();
            out.extend(rows.map(Result::unwrap));
        }
        out
    };
    let from_ingest = dump(&conn);
    assert!(from_ingest.len() > 10);
    let migration = std::fs::read_to_string(
        e2e::repo_root().join("sync-server/src/store/sqlite/migrations/06-report-rollups/up.sql"),
    )
    .unwrap();
    let (_, backfill) = migration
        .split_once("-- What was recorded before this migration")
        .unwrap();
    let backfill = &backfill[backfill.find('\n').unwrap()..];
    conn.execute_batch(
        "DELETE FROM rollup_views_day; DELETE FROM rollup_sessions; DELETE FROM rollup_kiosk_days;",
    )
    .unwrap();
    conn.execute_batch(backfill).unwrap();
    assert_eq!(dump(&conn), from_ingest);

    // Migration 17 fills the QR roll-up of the funnel from the records as ingest does.
    let qr_rows = |conn: &rusqlite::Connection| -> Vec<(String, String, String, i64, String, i64)> {
        let mut q = conn
            .prepare("SELECT event_id, item, lang, hour, purpose, shown FROM rollup_qr ORDER BY 1, 2, 3, 4, 5")
            .unwrap();
        q.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let qr_from_ingest = qr_rows(&conn);
    assert_eq!(qr_from_ingest.len(), 3, "{qr_from_ingest:?}");
    let migration = std::fs::read_to_string(
        e2e::repo_root().join("sync-server/src/store/sqlite/migrations/17-funnel/up.sql"),
    )
    .unwrap();
    let (_, backfill) = migration.split_once("-- The codes shown before").unwrap();
    conn.execute_batch("DELETE FROM rollup_qr").unwrap();
    conn.execute_batch(&backfill[backfill.find('\n').unwrap()..])
        .unwrap();
    assert_eq!(qr_rows(&conn), qr_from_ingest);

    // The day roll-up follows rollup_views through its triggers: insert, upsert, delete.
    let day_of = |conn: &rusqlite::Connection| -> (i64, i64) {
        conn.query_row(
            "SELECT views, dwell_ms FROM rollup_views_day WHERE event_id = ?1
             AND day = (?2 + 7) / 24 AND item = 'cat-tien' AND lang = 'ko' AND origin = 'visitor'",
            rusqlite::params![KOREA, vn("2026-03-11", 10, 1).div_euclid(HOUR)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(day_of(&conn), (1, 15_000));
    let upsert = "INSERT INTO rollup_views(event_id, item, lang, hour, origin, views, dwell_ms)
        VALUES (?1, 'cat-tien', 'ko', ?2, 'visitor', 2, 1000)
        ON CONFLICT DO UPDATE SET views = views + excluded.views,
            dwell_ms = dwell_ms + excluded.dwell_ms";
    let hour = vn("2026-03-11", 10, 1).div_euclid(HOUR);
    conn.execute(upsert, rusqlite::params![KOREA, hour])
        .unwrap();
    assert_eq!(day_of(&conn), (3, 16_000), "upsert of an hour seen");
    conn.execute(upsert, rusqlite::params![KOREA, hour + 3])
        .unwrap();
    assert_eq!(day_of(&conn), (5, 17_000), "another hour of the day");
    conn.execute(
        "DELETE FROM rollup_views WHERE event_id = ?1 AND hour = ?2",
        rusqlite::params![KOREA, hour + 3],
    )
    .unwrap();
    assert_eq!(day_of(&conn), (3, 16_000), "delete");

    // And report_data reads them in well under the time a page may take.
    let started = Instant::now();
    let storage = sync_server::store::sqlite::SqliteStorage::open(&db).unwrap();
    let d = storage
        .report(&sync_server::store::Scope::All, None, None, None)
        .unwrap();
    assert_eq!((d.views(), d.sessions, d.leads), (9 + 2, 5, 6));
    assert!(started.elapsed() < Duration::from_millis(200));
}

/// `cargo test --release -p e2e --test reports -- --ignored --nocapture`: report_data over the
/// roll-ups that ten million views leave (30 days of a fair's hours, 27 items, 5 languages,
/// attract loop and visitors, as `bench server` fills them) and 100,000 leads.
#[test]
#[ignore]
fn report_data_over_ten_million_views() {
    const VIEWS: i64 = 10_000_000;
    let dir = tempfile::tempdir().unwrap();
    let storage =
        sync_server::store::sqlite::SqliteStorage::open(&dir.path().join("server.sqlite")).unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("server.sqlite")).unwrap();
    let now = protocol::now_ms();
    let hour0 = now / HOUR - 30 * 24;
    let t = Instant::now();
    {
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO events(id, name, org, created_ms, updated_ms) VALUES (?1, ?1, ?2, 0, 0)",
            rusqlite::params![KOREA, ITTPC],
        )
        .unwrap();
        let mut cells = Vec::new();
        for d in 0..30 {
            for h in 8..18 {
                for item in 0..27 {
                    for lang in ["vi", "en", "ko", "ja", "zh-Hans"] {
                        for origin in ["attract", "visitor"] {
                            cells.push((hour0 + d * 24 + h, format!("item-{item}"), lang, origin));
                        }
                    }
                }
            }
        }
        let per = VIEWS / cells.len() as i64;
        let mut hourly = tx
            .prepare(
                "INSERT INTO rollup_views(event_id, hour, item, lang, origin, views, dwell_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .unwrap();
        let mut sessions = tx
            .prepare(
                "INSERT OR IGNORE INTO rollup_sessions(event_id, hour, started, ended, duration_ms)
                 VALUES (?1, ?2, 40, 40, 4000000)",
            )
            .unwrap();
        let extra = VIEWS - per * cells.len() as i64;
        for (i, (hour, item, lang, origin)) in cells.iter().enumerate() {
            let views = per + i64::from((i as i64) < extra);
            let p = rusqlite::params![KOREA, hour, item, lang, origin, views, views * 9_000];
            hourly.execute(p).unwrap();
            sessions.execute(rusqlite::params![KOREA, hour]).unwrap();
        }
        let mut leads = tx
            .prepare(
                "INSERT INTO leads(lead_id, event_id, source, country, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )
            .unwrap();
        let countries = ["Korea", "Japan", "China", "Vietnam", "Germany", "Singapore"];
        for i in 0..100_000i64 {
            leads
                .execute(rusqlite::params![
                    Uuid::now_v7().as_bytes().as_slice(),
                    KOREA,
                    if i % 3 == 0 { "badge" } else { "phone_form" },
                    countries[(i % 6) as usize],
                    now - i * 1000
                ])
                .unwrap();
        }
        drop((hourly, sessions, leads));
        tx.commit().unwrap();
    }
    eprintln!("setup {:.1} s", t.elapsed().as_secs_f64());
    let scope = sync_server::store::Scope::Org(ITTPC.into());
    let from = Some(hour0 * HOUR + 10 * 24 * HOUR);
    for (name, event, from, to) in [
        ("event", Some(KOREA), None, None),
        ("unit", None, None, None),
        (
            "event, 10 days",
            Some(KOREA),
            from,
            from.map(|f| f + 10 * 24 * HOUR),
        ),
    ] {
        let mut times = Vec::new();
        let mut views = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let d = storage.report(&scope, event, from, to).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            views = d.views();
        }
        times.sort_by(f64::total_cmp);
        eprintln!(
            "report_data {name}: median {:.1} ms, max {:.1} ms, {views} views",
            times[2], times[4]
        );
        assert!(times[2] < 200.0);
    }
    let t = Instant::now();
    let y = storage.yearly(&scope, 2026).unwrap();
    eprintln!(
        "yearly_data: {:.1} ms ({} units)",
        t.elapsed().as_secs_f64() * 1000.0,
        y.units.len()
    );
}
