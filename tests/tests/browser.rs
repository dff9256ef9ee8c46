//! The server's pages in a real browser: headless Chromium driven through WebDriver
//! (chromedriver). Staff sign in, filter and search the leads table, export a CSV that lands in
//! the download folder, erase a lead and switch the page language; a visitor on a phone-sized
//! screen opens the lead form from a kiosk's signed code in Korean, is stopped without consent,
//! then sends it, and the lead is stored with its attribution and consent.
//!
//! Needs `chromium` and `chromedriver` (`scripts/install-deps.sh test` installs them); without
//! them these tests fail, they never pass silently.

use std::path::Path;
use std::time::{Duration, Instant};

use e2e::TestServer;
use e2e::browser::*;
use serde_json::json;
use sync_server::store::{EventRow, LeadFilter, PhoneLead, Scope};
use uuid::Uuid;

const PASSWORD: &str = "a long staff password";
const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";
const DOFA: &str = "Department of Foreign Affairs";

/// The names in the leads table (empty when the page says that no lead matches).
async fn table_names(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return Array.from(document.querySelectorAll('#leads tbody tr td:nth-child(2)'))\
         .map(td => td.textContent)",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// Readable at 1366 px: no row of the leads table wraps into more than two lines; events by
/// name, times in Vietnam time, dates as Vietnamese write them.
async fn leads_rows_are_readable(c: &Client) {
    let rows = js(
        c,
        "return Array.from(document.querySelectorAll('#leads tbody tr')).map(tr => \
         [tr.getBoundingClientRect().height, tr.children[6].textContent, tr.children[0].textContent])",
    )
    .await;
    for row in rows.as_array().unwrap() {
        let height = row[0].as_f64().unwrap();
        assert!(height <= 64.0, "a leads row is {height} px tall: {row}");
        let event = row[1].as_str().unwrap();
        assert!(
            event == "Korea Investment Forum 2026" || event == "Korean delegation 2026",
            "{event}"
        );
        let created = row[2].as_str().unwrap();
        assert!(
            created.ends_with("(UTC+7)") && created.as_bytes()[2] == b'/',
            "{created}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Staff
// ---------------------------------------------------------------------------------------------

fn phone_lead(event: &str, kiosk: Uuid, name: &str, email: &str, country: &str) -> PhoneLead {
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
            phone: String::new(),
            country: country.into(),
            title: String::new(),
        },
        interests: vec!["invest".into()],
        consent: protocol::Consent::shown(
            "phone-consent-text",
            "ko",
            "I agree that the promotion centre keeps my contact.",
            protocol::now_ms(),
        ),
    }
}

/// A server with an admin, two events of two units and five leads; returns the id of
/// "Nguyễn Thị Hương" (Korea fair), the lead the test erases.
fn staff_fixture(dir: &Path) -> (TestServer, Uuid) {
    let server = TestServer::start(&dir.join("server"));
    let st = &server.state;
    let now = protocol::now_ms();
    let hash = sync_server::http::staff::hash_password(PASSWORD).unwrap();
    st.staff
        .add_user(
            "admin@dn.example",
            &hash,
            sync_server::store::Role::Admin,
            ITTPC,
            now,
        )
        .unwrap();
    for (id, name, org) in [
        (
            "korea-investment-2026",
            "Korea Investment Forum 2026",
            ITTPC,
        ),
        ("delegation-kr-2026", "Korean delegation 2026", DOFA),
    ] {
        st.leads
            .upsert_event(
                &EventRow {
                    id: id.into(),
                    name: name.into(),
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
        .unwrap()
        .uuid;
    let korea = "korea-investment-2026";
    let delegation = "delegation-kr-2026";
    let huong = phone_lead(
        korea,
        kiosk,
        "Nguyễn Thị Hương",
        "huong@example.vn",
        "Vietnam",
    );
    let erased = huong.lead_id;
    for l in [
        phone_lead(korea, kiosk, "김민준", "minjun@example.kr", "Korea"),
        huong,
        phone_lead(korea, kiosk, "Trần Văn Bình", "binh@example.vn", "Vietnam"),
        // Same search word, other event: only the event filter keeps it out.
        phone_lead(
            delegation,
            kiosk,
            "Lê Thị Hương",
            "le.huong@example.vn",
            "Vietnam",
        ),
        phone_lead(delegation, kiosk, "田中 宏", "tanaka@example.jp", "Japan"),
    ] {
        st.phone.upsert_phone_lead(&l, now).unwrap();
    }
    (server, erased)
}

#[test]
fn staff_sign_in_filter_export_erase_and_switch_language() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (server, erased_id) = staff_fixture(dir.path());
    let url = server.url();
    let downloads = dir.path().join("downloads");
    let state = server.state.clone();
    with_browser(
        dir.path(),
        Screen::Desktop {
            width: 1366,
            height: 768,
        },
        move |c| async move {
            // The sign-in page: Vietnamese by default, English through its link, and back.
            c.goto(&format!("{url}/staff/login")).await.unwrap();
            assert_eq!(page_lang(&c).await, "vi");
            assert_eq!(h1(&c).await, "Đăng nhập cán bộ");
            click(&c, "a[href='/staff/login?lang=en']").await;
            wait_lang(&c, "en").await;
            assert_eq!(h1(&c).await, "Staff sign-in");
            c.find(Locator::LinkText("Tiếng Việt"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_lang(&c, "vi").await;

            // A wrong password is refused, on the page, in Vietnamese.
            find(&c, "input[name=email]")
                .await
                .send_keys("admin@dn.example")
                .await
                .unwrap();
            find(&c, "input[name=password]")
                .await
                .send_keys("not the password")
                .await
                .unwrap();
            click(&c, "form button[type=submit]").await;
            wait_url(&c, "the sign-in error", |u| {
                u.query().is_some_and(|q| q.contains("error=1"))
            })
            .await;
            assert_eq!(
                find(&c, "p.err").await.text().await.unwrap(),
                "Email hoặc mật khẩu không đúng."
            );

            // Sign in through the form.
            find(&c, "input[name=email]")
                .await
                .send_keys("admin@dn.example")
                .await
                .unwrap();
            find(&c, "input[name=password]")
                .await
                .send_keys(PASSWORD)
                .await
                .unwrap();
            click(&c, "form button[type=submit]").await;
            wait_url(&c, "the dashboard after sign-in", |u| u.path() == "/staff").await;

            // The leads table holds every lead.
            c.goto(&format!("{url}/staff/leads")).await.unwrap();
            assert_eq!(h1(&c).await, "Khách quan tâm");
            find(&c, "#leads").await;
            keep_shot(&c, "leads-vi").await;
            leads_rows_are_readable(&c).await;
            let mut names = table_names(&c).await;
            names.sort();
            assert_eq!(
                names,
                [
                    "Lê Thị Hương",
                    "Nguyễn Thị Hương",
                    "Trần Văn Bình",
                    "田中 宏",
                    "김민준"
                ]
            );

            // The table and the filter form fit the window.
            let fits = js(
                &c,
                "return document.documentElement.scrollWidth <= window.innerWidth",
            )
            .await;
            assert_eq!(fits, json!(true), "no horizontal scroll at 1280 px");

            // Filter: one event, and a search typed with its diacritics.
            find(&c, "#filters select[name=event]")
                .await
                .select_by_value("korea-investment-2026")
                .await
                .unwrap();
            find(&c, "#filters input[name=q]")
                .await
                .send_keys("Hương")
                .await
                .unwrap();
            click(&c, "#filters button[type=submit]").await;
            wait_url(&c, "the filtered list", |u| {
                u.query_pairs().any(|(k, v)| k == "q" && v == "Hương")
            })
            .await;
            assert_eq!(table_names(&c).await, ["Nguyễn Thị Hương"]);
            // The form shows the filters in force.
            let event = find(&c, "#filters select[name=event]").await;
            assert_eq!(
                event.prop("value").await.unwrap().as_deref(),
                Some("korea-investment-2026")
            );
            assert_eq!(
                find(&c, "#filters input[name=q]")
                    .await
                    .prop("value")
                    .await
                    .unwrap()
                    .as_deref(),
                Some("Hương")
            );

            // The language switch keeps the filters; the choice is remembered.
            c.find(Locator::LinkText("English"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_lang(&c, "en").await;
            assert_eq!(h1(&c).await, "Leads");
            assert_eq!(table_names(&c).await, ["Nguyễn Thị Hương"]);
            c.goto(&format!("{url}/staff/leads")).await.unwrap();
            assert_eq!(page_lang(&c).await, "en", "the cookie remembers English");
            assert_eq!(table_names(&c).await.len(), 5);
            c.back().await.unwrap();
            c.find(Locator::LinkText("Tiếng Việt"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_lang(&c, "vi").await;
            assert_eq!(h1(&c).await, "Khách quan tâm");
            assert_eq!(table_names(&c).await, ["Nguyễn Thị Hương"]);

            // Export the filtered leads as CSV: the file lands in the download folder.
            find(&c, "#export-csv").await.click().await.unwrap();
            let dl = &downloads;
            let file = poll("the CSV download", || async move {
                std::fs::read_dir(dl)
                    .ok()?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| {
                        p.extension().is_some_and(|x| x == "csv")
                            && p.metadata().is_ok_and(|m| m.len() > 0)
                    })
            })
            .await;
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with("leads-"), "{name}");
            let bytes = std::fs::read(&file).unwrap();
            assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
            let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
            assert!(text.contains("Họ tên"), "Vietnamese headers: {text}");
            assert!(text.contains("Nguyễn Thị Hương"), "{text}");
            assert!(text.contains("huong@example.vn"), "{text}");
            for other in ["Lê Thị Hương", "김민준", "田中 宏", "Trần Văn Bình"] {
                assert!(
                    !text.contains(other),
                    "the export follows the filters: {text}"
                );
            }
            // Still on the leads page.
            assert_eq!(table_names(&c).await, ["Nguyễn Thị Hương"]);

            // Open the lead.
            c.find(Locator::LinkText("Nguyễn Thị Hương"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_url(&c, "the lead page", |u| {
                u.path() == format!("/staff/leads/{erased_id}")
            })
            .await;
            assert!(
                find(&c, "main")
                    .await
                    .text()
                    .await
                    .unwrap()
                    .contains("huong@example.vn")
            );

            // Anything but ERASE erases nothing.
            find(&c, "#erase-form input[name=confirm]")
                .await
                .send_keys("xoá")
                .await
                .unwrap();
            click(&c, "#erase-form button[type=submit]").await;
            find(&c, "#erase-form").await;
            assert!(c.find(Locator::Id("erased")).await.is_err());
            assert_eq!(
                find(&c, "#erase-form input[name=confirm]")
                    .await
                    .prop("value")
                    .await
                    .unwrap()
                    .as_deref(),
                Some(""),
                "the lead page was loaded again"
            );

            // ERASE erases.
            find(&c, "#erase-form input[name=confirm]")
                .await
                .send_keys("ERASE")
                .await
                .unwrap();
            click(&c, "#erase-form button[type=submit]").await;
            let done = find(&c, "#erased").await.text().await.unwrap();
            assert_eq!(done, "Đã xóa khách.");

            // Back to the list: the lead is gone, the others stay.
            click(&c, "main a[href='/staff/leads']").await;
            wait_url(&c, "the leads list", |u| {
                u.path() == "/staff/leads" && u.query().is_none_or(str::is_empty)
            })
            .await;
            find(&c, "#leads").await;
            leads_rows_are_readable(&c).await;
            let mut names = table_names(&c).await;
            names.sort();
            assert_eq!(
                names,
                ["Lê Thị Hương", "Trần Văn Bình", "田中 宏", "김민준"]
            );
            c.goto(&format!("{url}/staff/leads/{erased_id}"))
                .await
                .unwrap();
            assert!(c.find(Locator::Id("erase-form")).await.is_err());
            assert!(
                state
                    .leads
                    .leads(&Scope::All, &LeadFilter::default(), 100, 0)
                    .unwrap()
                    .0
                    .iter()
                    .all(|r| r.lead_id != erased_id),
                "erased on the server"
            );
        },
    );
    eprintln!("staff browser test: {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// A visitor's phone
// ---------------------------------------------------------------------------------------------

#[test]
fn phone_form_in_korean_on_a_phone_sized_screen() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    e2e::publish(&server, &e2e::demo_pack_dir());
    let identity = e2e::enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    let item = "long-thanh-airport";
    let (token, signed) = kiosk_core::qr::token(
        &identity.token_key,
        identity.kiosk_id,
        protocol::now_ms(),
        true,
        "korea-investment-2026",
        item,
        "ko",
    );
    let form_url =
        kiosk_core::qr::url(&identity.public_url, protocol::QrPurpose::Interest, &signed);
    let state = server.state.clone();
    let interest = with_browser_result(dir.path(), move |c| async move {
        c.goto(&form_url).await.unwrap();

        // Korean, as the kiosk was when the code was shown.
        assert_eq!(page_lang(&c).await, "ko");
        assert_eq!(h1(&c).await, "동나이와 계속 연락하세요");
        assert_eq!(
            find(&c, "button[type=submit]").await.text().await.unwrap(),
            "보내기"
        );

        // Readable on a 390×844 phone: the viewport meta applies, nothing is wider than the
        // screen, the fields' text is large enough not to zoom.
        let m = js(
            &c,
            "const hp = document.querySelector('.hp');\
             const wide = Array.from(document.querySelectorAll('main *'))\
               .filter(e => !hp.contains(e))\
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)\
               .map(e => e.outerHTML.slice(0, 80));\
             return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth,\
                      body: document.body.scrollWidth, wide,\
                      font: parseFloat(getComputedStyle(document.getElementById('name')).fontSize) };",
        )
        .await;
        assert_eq!(m["inner"], json!(390), "a 390 px wide viewport: {m}");
        assert!(
            m["scroll"].as_f64().unwrap() <= m["inner"].as_f64().unwrap()
                && m["body"].as_f64().unwrap() <= m["inner"].as_f64().unwrap(),
            "no horizontal scroll: {m}"
        );
        assert_eq!(m["wide"], json!([]), "elements wider than the screen: {m}");
        assert!(m["font"].as_f64().unwrap() >= 16.0, "field text size: {m}");
        // The honeypot is out of sight.
        let hp = find(&c, "#website").await.rectangle().await.unwrap();
        assert!(hp.0 + hp.2 <= 0.0, "the honeypot is off-screen: {hp:?}");

        // Fill in name and email, tick an interest.
        find(&c, "#name").await.send_keys("김민지").await.unwrap();
        find(&c, "#email")
            .await
            .send_keys("Minji@Example.kr")
            .await
            .unwrap();
        let first_interest = find(&c, "input[type=checkbox][name^=interest_]").await;
        let interest = first_interest
            .attr("name")
            .await
            .unwrap()
            .unwrap()
            .trim_start_matches("interest_")
            .to_owned();
        first_interest.click().await.unwrap();

        // Without consent the browser does not send the form (the box is required)…
        let before = c.current_url().await.unwrap();
        find(&c, "button[type=submit]").await.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(c.current_url().await.unwrap(), before);
        assert_eq!(
            js(
                &c,
                "return document.querySelector('input[name=consent]').validity.valueMissing"
            )
            .await,
            json!(true)
        );
        assert!(c.find(Locator::Css("p.err")).await.is_err());

        // …and a browser that sends it anyway gets the server's answer, in Korean, with
        // what was typed kept.
        js(&c, "document.querySelector('main form').noValidate = true").await;
        find(&c, "button[type=submit]").await.click().await.unwrap();
        let err = find(&c, "p.err").await.text().await.unwrap();
        assert_eq!(
            err,
            "동의란에 체크해 주세요. 동의하신 경우에만 연락처를 보관합니다."
        );
        assert_eq!(page_lang(&c).await, "ko");
        assert_eq!(
            find(&c, "#name")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("김민지")
        );
        assert_eq!(
            find(&c, "#email")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("Minji@Example.kr")
        );
        assert_eq!(
            find(&c, &format!("input[name=interest_{interest}]"))
                .await
                .prop("checked")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        assert!(
            state
                .leads
                .leads(&Scope::All, &LeadFilter::default(), 10, 0)
                .unwrap()
                .0
                .is_empty(),
            "nothing stored without consent"
        );

        // Tick consent and send: the thank-you page.
        find(&c, "input[name=consent]").await.click().await.unwrap();
        find(&c, "button[type=submit]").await.click().await.unwrap();
        let cr = &c;
        poll("the thank-you page", || async move {
            let t = cr.find(Locator::Css("h1")).await.ok()?.text().await.ok()?;
            (t == "감사합니다!").then_some(())
        })
        .await;
        assert!(c.find(Locator::Css("form")).await.is_err());
        let no_scroll = js(
            &c,
            "return document.documentElement.scrollWidth <= window.innerWidth",
        )
        .await;
        assert_eq!(no_scroll, json!(true), "the thank-you page fits too");
        interest
    });

    // On the server: one lead, attributed to the kiosk, event, item and language, with consent.
    let (rows, total) = server
        .state
        .leads
        .leads(&Scope::All, &LeadFilter::default(), 10, 0)
        .unwrap();
    assert_eq!((rows.len(), total), (1, 1), "{rows:?}");
    let r = &rows[0];
    let kiosk = server
        .storage()
        .kiosks()
        .unwrap()
        .into_iter()
        .find(|k| k.uuid == identity.kiosk_id)
        .expect("the enrolled kiosk");
    assert_eq!(token.kiosk_id, identity.kiosk_id);
    assert_eq!(r.kiosk_name, kiosk.name);
    assert_eq!(r.event_id, "korea-investment-2026");
    assert_eq!(r.item, item);
    assert_eq!(r.lang, "ko");
    assert_eq!(r.source, "phone_form");
    assert_eq!(r.contact.name, "김민지");
    assert_eq!(r.contact.email, "minji@example.kr");
    assert_eq!(r.interests, [interest]);
    let consent = r.consent.as_ref().expect("consent stored");
    assert_eq!(
        (consent.text_id.as_str(), consent.lang.as_str()),
        ("phone-consent-text", "ko")
    );
    // Its version is the Korean words the form showed, archived once on the server.
    let words = server.state.i18n.t("ko", "phone-consent-text");
    assert_eq!(
        consent.digest.as_deref(),
        Some(protocol::Consent::digest_of(&words).as_str())
    );
    let archived = server
        .state
        .leads
        .consent_text(consent.digest.as_deref().unwrap())
        .unwrap()
        .expect("the words of this version are kept");
    assert_eq!(archived.text, words);
    assert!((protocol::now_ms() - consent.at_ms).abs() < 120_000);
    eprintln!("phone browser test: {:?}", started.elapsed());
}

/// [`with_browser`] on a 390×844 phone screen, handing back what `body` returns.
fn with_browser_result<T, F, Fut>(dir: &Path, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let out = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = out.clone();
    with_browser(
        dir,
        Screen::Phone {
            width: 390,
            height: 844,
        },
        move |c| {
            let fut = body(c);
            async move {
                let v = fut.await;
                *slot.lock().unwrap() = Some(v);
            }
        },
    );
    let v = out.lock().unwrap().take();
    v.expect("the browser test gave its result")
}
