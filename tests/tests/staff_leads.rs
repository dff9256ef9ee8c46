//! The staff pages about leads over HTTP: the authorisation matrix (every role and unit against
//! every leads endpoint, another unit's leads included), filters and search, exports read back
//! by real parsers (CSV with BOM and formula neutralising, XLSX, vCard), status and notes,
//! erasure with its tombstone and audit entry, duplicates and merging, a person's request, and
//! retention.

use e2e::{Backend, TestServer, on_both_backends};
use reqwest::redirect::Policy;
use sync_server::store::{ALL_LEADS_ORG, EventRow, PhoneLead};
use uuid::Uuid;

const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const DOFA: &str = "Department of Foreign Affairs";
const PASSWORD: &str = "a long staff password";

struct Staff {
    http: reqwest::Client,
    csrf: String,
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

/// Signs in and returns a client with the session cookie and the session's CSRF token.
async fn sign_in(url: &str, email: &str) -> Staff {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
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
    let html = http
        .get(format!("{url}/staff/leads"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Staff {
        http,
        csrf: hidden_csrf(&html),
    }
}

fn lead(
    event: &str,
    kiosk: Uuid,
    name: &str,
    email: &str,
    phone: &str,
    country: &str,
) -> PhoneLead {
    PhoneLead {
        lead_id: Uuid::now_v7(),
        kiosk,
        event_id: event.into(),
        item: "long-thanh-airport".into(),
        lang: "ko".into(),
        contact: protocol::Contact {
            name: name.into(),
            organisation: "Hanwha".into(),
            email: email.into(),
            phone: phone.into(),
            country: country.into(),
            title: String::new(),
        },
        interests: vec!["invest".into()],
        consent: protocol::Consent::shown(
            "phone-consent-text",
            "ko",
            &phone_consent_words("ko"),
            protocol::now_ms(),
        ),
    }
}

/// The phone form's consent text, as the server's locales word it.
fn phone_consent_words(lang: &str) -> String {
    kiosk_core::i18n::Localiser::load(&e2e::repo_root().join("locales"))
        .unwrap()
        .t(lang, "phone-consent-text")
}

struct Fixture {
    server: TestServer,
    korea: Vec<Uuid>,
    delegation: Vec<Uuid>,
}

fn fixture(dir: &std::path::Path, backend: Backend) -> Fixture {
    let server = TestServer::start_on(&dir.join("server"), backend);
    let st = &server.state;
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
    for (id, org) in [
        ("korea-investment-2026", ITTPC),
        ("delegation-kr-2026", DOFA),
    ] {
        st.leads
            .upsert_event(
                &EventRow {
                    id: id.into(),
                    name: id.into(),
                    kind: "fair".into(),
                    org: org.into(),
                    responsible: "Nguyễn Văn An".into(),
                    ..Default::default()
                },
                now,
            )
            .unwrap();
    }
    let kiosk = server
        .storage()
        .create_kiosk("Hall B", Some("korea-investment-2026"), now)
        .unwrap();
    let kiosk = kiosk.uuid;
    let mut korea = Vec::new();
    for l in [
        lead(
            "korea-investment-2026",
            kiosk,
            "김민준",
            "minjun@example.kr",
            "+82 2 555 0100",
            "Korea",
        ),
        lead(
            "korea-investment-2026",
            kiosk,
            "Nguyễn Thị Hương",
            "huong@example.vn",
            "",
            "Vietnam",
        ),
        lead(
            "korea-investment-2026",
            kiosk,
            "=HYPERLINK(\"http://evil\")",
            "evil@example.com",
            "",
            "Korea",
        ),
        lead(
            "korea-investment-2026",
            kiosk,
            "김민준 (2)",
            "MINJUN@example.kr",
            "",
            "Korea",
        ),
    ] {
        korea.push(l.lead_id);
        st.phone.upsert_phone_lead(&l, now).unwrap();
    }
    let tanaka = lead(
        "delegation-kr-2026",
        kiosk,
        "田中 宏",
        "tanaka@example.jp",
        "",
        "Japan",
    );
    st.phone.upsert_phone_lead(&tanaka, now).unwrap();
    let delegation = vec![tanaka.lead_id];
    Fixture {
        server,
        korea,
        delegation,
    }
}

on_both_backends!(every_role_against_every_leads_endpoint);
fn every_role_against_every_leads_endpoint(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path(), backend);
    let url = f.server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Signed out: every page sends to the sign-in page, every form too.
        let anon = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let k0 = f.korea[0];
        for path in [
            "/staff/leads".to_owned(),
            "/staff/leads/export?format=csv".to_owned(),
            format!("/staff/leads/{k0}"),
            "/staff/duplicates".to_owned(),
            "/staff/privacy".to_owned(),
            "/staff/events".to_owned(),
            "/staff/audit".to_owned(),
        ] {
            let r = anon.get(format!("{url}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 303, "GET {path} signed out");
        }
        for path in [
            format!("/staff/leads/{k0}"),
            format!("/staff/leads/{k0}/erase"),
            "/staff/duplicates".to_owned(),
            "/staff/privacy".to_owned(),
            "/staff/events".to_owned(),
            "/staff/orgs".to_owned(),
        ] {
            let r = anon
                .post(format!("{url}{path}"))
                .form(&[
                    ("csrf", "x"),
                    ("status", "new"),
                    ("ids", ""),
                    ("who", ""),
                    ("name", "x"),
                ])
                .send()
                .await
                .unwrap();
            assert!(
                [303, 422].contains(&r.status().as_u16()),
                "POST {path} signed out: {}",
                r.status()
            );
            assert_ne!(r.status(), 200);
        }

        // Who sees what: (email, sees korea, sees delegation, admin).
        let matrix = [
            ("admin@dn.example", true, true, true),
            ("culture@dn.example", true, true, false),
            ("dofa@dn.example", false, true, false),
            ("ittpc@dn.example", true, false, false),
        ];
        for (email, korea, delegation, admin) in matrix {
            let s = sign_in(&url, email).await;
            let list = s
                .http
                .get(format!("{url}/staff/leads"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(list.contains("Nguyễn Thị Hương"), korea, "{email} list");
            assert_eq!(list.contains("田中 宏"), delegation, "{email} list");
            for (id, visible) in [(f.korea[0], korea), (f.delegation[0], delegation)] {
                let want = if visible { 200 } else { 404 };
                let r = s
                    .http
                    .get(format!("{url}/staff/leads/{id}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), want, "{email} GET lead {id}");
                let r = s
                    .http
                    .post(format!("{url}/staff/leads/{id}"))
                    .form(&[
                        ("csrf", s.csrf.as_str()),
                        ("status", "contacted"),
                        ("notes", "called"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.status(),
                    if visible { 303 } else { 404 },
                    "{email} POST lead {id}"
                );
                // A forged form is refused whatever the scope.
                let r = s
                    .http
                    .post(format!("{url}/staff/leads/{id}"))
                    .form(&[("csrf", "forged"), ("status", "new")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 403, "{email} forged POST");
            }
            // Another unit's lead cannot be erased (404); nothing is erased without "ERASE".
            if !korea {
                let r = s
                    .http
                    .post(format!("{url}/staff/leads/{}/erase", f.korea[1]))
                    .form(&[("csrf", s.csrf.as_str()), ("confirm", "ERASE")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 404, "{email} erases another unit's lead");
            }
            // Exports hold only the leads in scope.
            let csv = s
                .http
                .get(format!("{url}/staff/leads/export?format=csv"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(csv.contains("huong@example.vn"), korea, "{email} csv");
            assert_eq!(csv.contains("tanaka@example.jp"), delegation, "{email} csv");
            let r = s
                .http
                .get(format!("{url}/staff/audit"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), if admin { 200 } else { 403 }, "{email} audit");
            let r = s
                .http
                .post(format!("{url}/staff/orgs"))
                .form(&[
                    ("csrf", s.csrf.as_str()),
                    ("name", DOFA),
                    ("retention_days", "365"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                if admin { 303 } else { 403 },
                "{email} retention"
            );
            // Events: staff add their own unit's, not another's.
            let r = s
                .http
                .post(format!("{url}/staff/events"))
                .form(&[
                    ("csrf", s.csrf.as_str()),
                    ("id", "itb-asia-2026"),
                    ("name", "ITB Asia 2026"),
                    ("org", DOFA),
                ])
                .send()
                .await
                .unwrap();
            let own = admin || email.starts_with("dofa");
            assert_eq!(
                r.status(),
                if own { 303 } else { 403 },
                "{email} event for DOFA"
            );
        }
    });
}

on_both_backends!(filters_exports_erasure_duplicates_privacy_and_retention);
fn filters_exports_erasure_duplicates_privacy_and_retention(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path(), backend);
    let url = f.server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = sign_in(&url, "admin@dn.example").await;
        let get = |path: String| {
            let http = s.http.clone();
            let url = url.clone();
            async move { http.get(format!("{url}{path}")).send().await.unwrap() }
        };
        // Filters and search.
        let html = get("/staff/leads?event=delegation-kr-2026".into())
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("田中 宏") && !html.contains("Nguyễn Thị Hương"));
        let html = get("/staff/leads?q=h%C6%B0%C6%A1ng".into())
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Nguyễn Thị Hương") && !html.contains("김민준"),
            "search"
        );
        let html = get("/staff/leads?country=japan".into())
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("田中 宏") && !html.contains("김민준"),
            "country, any case"
        );
        let html = get("/staff/leads?source=badge".into())
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("김민준"), "source");
        let html = get("/staff/leads?q=%25".into()).await.text().await.unwrap();
        assert!(
            !html.contains("김민준"),
            "a % is searched for, not a wildcard"
        );

        // CSV: BOM, Vietnamese headers, exact names, formula neutralised.
        let r = get("/staff/leads/export?format=csv&event=korea-investment-2026".into()).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(".csv")
        );
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let headers = reader.headers().unwrap().clone();
        assert!(headers.iter().any(|h| h == "Họ tên"), "{headers:?}");
        let name_col = headers.iter().position(|h| h == "Họ tên").unwrap();
        let names: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[name_col].to_owned())
            .collect();
        assert_eq!(names.len(), 4);
        assert!(names.contains(&"김민준".to_owned()));
        assert!(names.contains(&"Nguyễn Thị Hương".to_owned()));
        assert!(
            names.contains(&"'=HYPERLINK(\"http://evil\")".to_owned()),
            "{names:?}"
        );

        // XLSX read back with calamine: the formula is text, not a formula.
        let bytes = get("/staff/leads/export?format=xlsx".into())
            .await
            .bytes()
            .await
            .unwrap();
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let cells: Vec<String> = sheet.cells().map(|(_, _, c)| c.to_string()).collect();
        assert!(cells.iter().any(|c| c == "田中 宏"));
        assert!(cells.iter().any(|c| c.contains("HYPERLINK")));
        let formulas = book
            .worksheet_formula(&book.sheet_names()[0].clone())
            .unwrap();
        assert!(
            formulas.cells().all(|(_, _, f)| f.is_empty()),
            "no formulas"
        );

        // vCard 4.
        let vcf = get("/staff/leads/export?format=vcf".into())
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(vcf.matches("BEGIN:VCARD").count(), 5);
        assert!(vcf.contains("VERSION:4.0") && vcf.contains("FN:김민준"));

        // Errors are pages in the staff member's language, with their status.
        let r = get("/staff/leads/not-a-lead".into()).await;
        assert_eq!(r.status(), 404);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Trang hoặc khách này không tồn tại")
        );
        let r = s
            .http
            .post(format!("{url}/staff/leads/{}", f.korea[2]))
            .form(&[("csrf", s.csrf.as_str()), ("status", "lost")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("Yêu cầu không hợp lệ"));

        // Status and notes.
        let id = f.korea[1];
        let r = s
            .http
            .post(format!("{url}/staff/leads/{id}"))
            .form(&[
                ("csrf", s.csrf.as_str()),
                ("status", "qualified"),
                ("notes", "Gặp tại gian hàng B"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let html = get(format!("/staff/leads/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Gặp tại gian hàng B"));
        // The consent text the visitor agreed to is shown, in their language.
        assert!(html.contains("동나이 투자"), "consent text in Korean");

        // Duplicates: same email (any case) in one event; merge keeps one.
        let html = get("/staff/duplicates".into()).await.text().await.unwrap();
        assert!(html.contains("김민준 (2)"), "the duplicate group is listed");
        let ids = format!("{},{}", f.korea[0], f.korea[3]);
        let r = s
            .http
            .post(format!("{url}/staff/duplicates"))
            .form(&[("csrf", s.csrf.as_str()), ("ids", ids.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let html = get("/staff/leads".into()).await.text().await.unwrap();
        assert!(!html.contains("김민준 (2)") && html.contains("김민준"));

        // Erase: tombstone, audit, and a re-upload stays erased.
        let r = s
            .http
            .post(format!("{url}/staff/leads/{id}/erase"))
            .form(&[("csrf", s.csrf.as_str()), ("confirm", "ERASE")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(get(format!("/staff/leads/{id}")).await.status(), 404);
        let mut again = lead(
            "korea-investment-2026",
            Uuid::nil(),
            "Nguyễn Thị Hương",
            "huong@example.vn",
            "",
            "Vietnam",
        );
        again.lead_id = id;
        // Storage is blocking (PostgreSQL's client must not run on the async threads).
        assert!(
            !tokio::task::block_in_place(|| f
                .server
                .state
                .phone
                .upsert_phone_lead(&again, protocol::now_ms()))
            .unwrap()
        );
        let audit = get("/staff/audit".into()).await.text().await.unwrap();
        for action in ["export", "erase", "merge", "lead-status"] {
            assert!(
                audit.contains(&format!("<td>{action}</td>")),
                "audit has {action}"
            );
        }

        // A person's request: found by email, then erased.
        let html = get("/staff/privacy?who=tanaka%40example.jp".into())
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("田中 宏"));
        let r = s
            .http
            .post(format!("{url}/staff/privacy"))
            .form(&[
                ("csrf", s.csrf.as_str()),
                ("who", "tanaka@example.jp"),
                ("confirm", "ERASE"),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("id=\"erased\""));
        let html = get("/staff/leads".into()).await.text().await.unwrap();
        assert!(!html.contains("田中 宏"));
    });

    // Retention: a unit keeping leads 30 days loses a lead from 40 days ago, not today's.
    let st = &f.server.state;
    st.leads.upsert_org(ITTPC, Some(30)).unwrap();
    let old = lead(
        "korea-investment-2026",
        Uuid::nil(),
        "Old lead",
        "old@example.com",
        "",
        "Korea",
    );
    let day = 86_400_000;
    st.phone
        .upsert_phone_lead(&old, protocol::now_ms() - 40 * day)
        .unwrap();
    let erased = sync_server::retention::sweep_retention(st, protocol::now_ms()).unwrap();
    assert_eq!(erased, 1);
    use sync_server::store::{LeadFilter, Scope};
    let (rows, _) = st
        .leads
        .leads(&Scope::All, &LeadFilter::default(), 100, 0)
        .unwrap();
    assert!(rows.iter().all(|r| r.contact.name != "Old lead"));
    assert!(rows.iter().any(|r| r.contact.name == "김민준"));
}

on_both_backends!(kiosks_and_content_versions_are_managed_by_admins_and_seen_by_all);
fn kiosks_and_content_versions_are_managed_by_admins_and_seen_by_all(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path(), backend);
    let url = f.server.url();
    let v1 = e2e::publish(&f.server, &e2e::demo_pack_dir());
    // A second version: same pack, another version string.
    let mut v2 = v1.clone();
    v2.version = format!("{}-b", v1.version);
    f.server
        .storage()
        .publish(&v2, protocol::now_ms() + 1)
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for (email, admin) in [("admin@dn.example", true), ("ittpc@dn.example", false)] {
            let s = sign_in(&url, email).await;
            let html = s
                .http
                .get(format!("{url}/staff/kiosks"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains("Hall B"), "{email} sees the kiosks");
            let r = s
                .http
                .post(format!("{url}/staff/kiosks"))
                .form(&[
                    ("csrf", s.csrf.as_str()),
                    ("name", "Hall C"),
                    ("event", "korea-investment-2026"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                if admin { 200 } else { 403 },
                "{email} adds a kiosk"
            );
            if admin {
                let html = r.text().await.unwrap();
                assert!(html.contains("id=\"code\"") && html.contains("data:image/png;base64,"));
                // The code shown enrols a kiosk.
                let at = html.find("id=\"code\">").unwrap() + 10;
                let code = &html[at..at + html[at..].find('<').unwrap()];
                let (u, c, p) = (url.clone(), code.to_owned(), dir.path().join("c.sqlite"));
                let id = std::thread::spawn(move || {
                    let mut st = kiosk_core::store::Store::open(&p).unwrap();
                    kiosk_core::runtime()
                        .unwrap()
                        .block_on(kiosk_core::sync::enrol(&mut st, &u, &c, false, None))
                })
                .join()
                .unwrap()
                .unwrap();
                assert_eq!(id.name, "Hall C");
            }
            let kiosk = f
                .server
                .storage()
                .kiosks()
                .unwrap()
                .into_iter()
                .find(|k| k.name == "Hall B")
                .unwrap();
            let r = s
                .http
                .post(format!("{url}/staff/kiosks/{}/revoke", kiosk.uuid))
                .form(&[("csrf", s.csrf.as_str()), ("confirm", "REVOKE")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), if admin { 303 } else { 403 }, "{email} revokes");
            let html = s
                .http
                .get(format!("{url}/staff/content"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains(&v1.version) && html.contains(&v2.version));
            let r = s
                .http
                .post(format!("{url}/staff/content/publish"))
                .form(&[("csrf", s.csrf.as_str()), ("version", v1.version.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                if admin { 303 } else { 403 },
                "{email} publishes"
            );
        }
    });
    // The admin's rollback made v1 current again, and Hall B is revoked.
    assert_eq!(
        f.server
            .storage()
            .current_manifest()
            .unwrap()
            .unwrap()
            .version,
        v1.version
    );
    assert!(
        f.server
            .storage()
            .kiosks()
            .unwrap()
            .iter()
            .any(|k| k.name == "Hall B" && k.revoked)
    );
}

// Each consent text's version is named by its words: leads pushed by a kiosk before and after
// the text changed in `locales/`, a badge lead and a lead from a kiosk built before versions
// each show on their staff page the words that lead agreed to; the server archives each
// version once, when it first sees it, and the leads themselves keep only its digest.
on_both_backends!(consent_text_of_each_version_is_kept);
fn consent_text_of_each_version_is_kept(backend: Backend) {
    use e2e::RowExt;
    use kiosk_core::form::{BADGE_CONSENT_ID, CONSENT_ID, consent_words};
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path(), backend);
    let l10n = kiosk_core::i18n::Localiser::load(&e2e::repo_root().join("locales")).unwrap();
    let before = consent_words(&l10n, CONSENT_ID, "ko");
    // The text as a later edit of locales/ko/kiosk.ftl would make it.
    let after = format!("{before} 보관 기간은 2년입니다.");
    let badge_words = consent_words(&l10n, BADGE_CONSENT_ID, "ko");
    assert!(badge_words.contains(&before) && badge_words.len() > before.len());

    let clock = kiosk_core::clock::Clock::system();
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = e2e::enrol_store(&f.server, &store_path, &f.server.url());
    let mut store = kiosk_core::store::Store::open(&store_path).unwrap();
    let lead = |name: &str, consent: Option<protocol::Consent>| protocol::record::LeadBody {
        lead_id: Uuid::now_v7(),
        contact: protocol::Contact {
            name: name.into(),
            email: format!("{}@example.kr", name.to_lowercase()),
            country: "KR".into(),
            ..Default::default()
        },
        interests: vec!["invest".into()],
        source: protocol::LeadSource::KioskForm,
        consent,
        item: Some("long-thanh-airport".into()),
        lang: Some("ko".into()),
        redacted: false,
    };
    let now = protocol::now_ms();
    let legacy = protocol::Consent {
        text_id: CONSENT_ID.into(),
        version: 1,
        lang: "ko".into(),
        at_ms: now,
        digest: None,
        text: None,
    };
    let kiosk_core::badge::Scan::Badge(scanned) =
        kiosk_core::badge::parse("MECARD:N:Lee,Jiwoo;EMAIL:lee@example.kr;;")
    else {
        panic!("the badge parses")
    };
    let badge = kiosk_core::form::badge_lead(
        &scanned,
        Some("korea-investment-2026"),
        "ko",
        None,
        &[],
        &badge_words,
        now,
    );
    let leads = [
        lead(
            "Kim",
            Some(protocol::Consent::shown(CONSENT_ID, "ko", &before, now)),
        ),
        lead(
            "Park",
            Some(protocol::Consent::shown(CONSENT_ID, "ko", &after, now)),
        ),
        lead("Choi", Some(legacy)),
        badge,
    ];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let push = |store: &mut kiosk_core::store::Store| {
        let mut client = kiosk_core::sync::SyncClient::new(
            identity.clone(),
            clock.clone(),
            kiosk_core::sync::SyncConfig::default(),
        )
        .unwrap();
        rt.block_on(client.round(store)).unwrap();
        assert_eq!(store.backlog().unwrap(), 0);
    };
    for l in &leads {
        store
            .append(
                clock.now(),
                Some("korea-investment-2026"),
                protocol::RecordBody::Lead(Box::new(l.clone())),
            )
            .unwrap();
    }
    push(&mut store);
    let archived = f.server.rows(e2e::Table::ConsentTexts);
    assert_eq!(
        archived.len(),
        3,
        "two form versions and the badge's: {archived:?}"
    );
    let first_seen: Vec<i64> = archived.iter().map(|r| r.int("first_seen_ms")).collect();
    // The leads keep the digest, not the words.
    for r in f.server.rows(e2e::Table::Leads) {
        assert!(
            !r.text("consent").contains(&before),
            "{}",
            r.text("consent")
        );
    }
    // Seen again later, a version keeps its first sighting.
    std::thread::sleep(std::time::Duration::from_millis(5));
    store
        .append(
            clock.now(),
            Some("korea-investment-2026"),
            protocol::RecordBody::Lead(Box::new(lead(
                "Jung",
                Some(protocol::Consent::shown(CONSENT_ID, "ko", &before, now)),
            ))),
        )
        .unwrap();
    push(&mut store);
    let again = f.server.rows(e2e::Table::ConsentTexts);
    assert_eq!(
        again
            .iter()
            .map(|r| r.int("first_seen_ms"))
            .collect::<Vec<_>>(),
        first_seen
    );

    rt.block_on(async {
        let url = f.server.url();
        let admin = sign_in(&url, "admin@dn.example").await;
        let page = |id: Uuid| {
            let http = admin.http.clone();
            let url = url.clone();
            async move {
                let r = http
                    .get(format!("{url}/staff/leads/{id}?lang=en"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.text().await.unwrap()
            }
        };
        let quote = |html: &str| -> String {
            let at = html
                .find("id=\"consent-text\"")
                .expect("the consent's words");
            let start = at + html[at..].find('>').unwrap() + 1;
            let end = start + html[start..].find("</blockquote>").unwrap();
            e2e::pages::unescape(&html[start..end])
        };
        let note = |html: &str| -> String {
            let at = html
                .find("id=\"consent-note\"")
                .expect("a note on the words");
            let start = at + html[at..].find('>').unwrap() + 1;
            let end = start + html[start..].find("</p>").unwrap();
            e2e::pages::unescape(&html[start..end])
        };
        let kim = page(leads[0].lead_id).await;
        let park = page(leads[1].lead_id).await;
        assert_eq!(quote(&kim), before);
        assert_eq!(quote(&park), after, "the newer lead shows the newer words");
        for (html, l) in [(&kim, &leads[0]), (&park, &leads[1])] {
            let label = l.consent.as_ref().unwrap().version_label();
            assert!(html.contains(&format!("version {label}")), "{label}");
            assert!(note(html).contains("exactly as the visitor was shown"));
        }
        assert_ne!(
            leads[0].consent.as_ref().unwrap().version_label(),
            leads[1].consent.as_ref().unwrap().version_label()
        );
        let lee = page(leads[3].lead_id).await;
        assert_eq!(
            quote(&lee),
            badge_words,
            "the badge question and the consent"
        );
        // Before versions: today's words, and the page says so.
        let choi = page(leads[2].lead_id).await;
        assert!(choi.contains("version 1"));
        assert!(note(&choi).contains("today's text"), "{}", note(&choi));
    });
}
