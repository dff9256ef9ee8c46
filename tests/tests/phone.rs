//! The visitor's phone pages over HTTP: a kiosk's signed token opens the item and the lead form
//! in the token's language; forged tokens get a clear page; leads are stored once per visitor
//! with their attribution and consent; the honeypot and the rate limits hold.

use e2e::{RowExt, Table, TestServer, enrol_store};
use reqwest::StatusCode;

struct Fixture {
    _dir: tempfile::TempDir,
    server: TestServer,
    identity: kiosk_core::store::Identity,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    e2e::publish(&server, &e2e::demo_pack_dir());
    let identity = enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    Fixture {
        _dir: dir,
        server,
        identity,
    }
}

fn token(f: &Fixture, item: &str, lang: &str) -> (protocol::token::QrToken, String) {
    kiosk_core::qr::token(
        &f.identity.token_key,
        f.identity.kiosk_id,
        protocol::now_ms(),
        true,
        "korea-investment-2026",
        item,
        lang,
    )
}

#[test]
fn the_item_page_opens_in_the_tokens_language_and_records_the_open() {
    let f = fixture();
    let (t, signed) = token(&f, "long-thanh-airport", "ko");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = reqwest::get(format!("{}/p/{signed}", f.server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.len() < 50_000, "{} bytes", html.len());
        assert!(html.contains("롱탄 국제공항"), "{html}");
        assert!(html.contains("lang=\"ko\""));
        assert!(
            !html.contains("<script") && !html.contains("src=\"http"),
            "no scripts, no external resources"
        );
        // The language switcher.
        let r = reqwest::get(format!("{}/p/{signed}?lang=ja", f.server.url()))
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("ロンタイン国際空港"));
        // A forged or altered token gets a clear page, in the asked language.
        let mut forged = signed.clone();
        forged.pop();
        forged.push(if signed.ends_with('A') { 'B' } else { 'A' });
        let r = reqwest::get(format!("{}/p/{forged}?lang=en", f.server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("not made by one of our kiosks")
        );
        let r = reqwest::get(format!("{}/p/garbage%00%FF", f.server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    });
    let nonce = t.nonce_hex();
    let opens = f.server.count(Table::QrOpens, |r| {
        r.text("nonce") == nonce
            && r.text("item") == "long-thanh-airport"
            && r.text("lang") == "ko"
            && r.text("purpose") == "take_away"
    });
    assert_eq!(opens, 1, "language switches are not new opens");
}

#[test]
fn a_lead_from_the_phone_is_stored_once_with_attribution_and_consent() {
    let f = fixture();
    let (_, signed) = token(&f, "industrial-parks", "en");
    let url = format!("{}/i/{signed}", f.server.url());
    let http = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let form = http.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(form.contains("Stay in touch with Đồng Nai") && form.contains("Investment"));
        // Consent is required.
        let r = http
            .post(&url)
            .form(&[("name", "Kim Minji"), ("email", "minji@example.kr")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("consent box"));
        // An email or a phone is required.
        let r = http
            .post(&url)
            .form(&[("name", "Kim"), ("consent", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let lead = [
            ("name", "Kim Minji"),
            ("organisation", "Hanil Logistics"),
            ("email", "Minji@Example.kr"),
            ("country", "Korea"),
            ("interest_invest", "1"),
            ("interest_products", "1"),
            ("consent", "yes"),
        ];
        let r = http.post(&url).form(&lead).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("Thank you"));
        // The same visitor again: an update, not a second lead.
        let mut again = lead.to_vec();
        again[1] = ("organisation", "Hanil Logistics Co.");
        let r = http.post(&url).form(&again).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // A bot fills the honeypot: thanked, not stored.
        let mut bot = lead.to_vec();
        bot[2] = ("email", "bot@spam.example");
        bot.push(("website", "http://spam.example"));
        let r = http.post(&url).form(&bot).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    });
    let leads = f.server.rows(Table::Leads);
    assert_eq!(leads.len(), 1);
    let lead = &leads[0];
    let consent = lead.text("consent");
    assert_eq!(lead.text("organisation"), "Hanil Logistics Co.");
    assert_eq!(lead.text("email"), "minji@example.kr");
    assert_eq!(
        (lead.text("source"), lead.text("item"), lead.text("lang")),
        ("phone_form", "industrial-parks", "en")
    );
    assert_eq!(lead.text("interests"), "[\"invest\",\"products\"]");
    // The consent names its version by the digest of the English words the form showed; the
    // words themselves are archived once, not kept in the lead.
    let words = f.server.state.i18n.t("en", "phone-consent-text");
    let digest = protocol::Consent::digest_of(&words);
    assert!(
        consent.contains("\"text_id\":\"phone-consent-text\"")
            && consent.contains(&format!("\"digest\":\"{digest}\""))
            && !consent.contains(&words),
        "{consent}"
    );
    let archived = f.server.rows(Table::ConsentTexts);
    assert_eq!(archived.len(), 1);
    assert_eq!(
        (archived[0].text("digest"), archived[0].text("text")),
        (digest.as_str(), words.as_str())
    );
    assert_eq!(lead["kiosk"], f.server.kiosk_key(f.identity.kiosk_id));
}

#[test]
fn posts_are_rate_limited_per_code() {
    // Phones behind the venue's proxy, each from its own address: only the code's limit acts
    // (60 posts in ten minutes: a delegation's closing slide shows one code to a room).
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("server"), |c| {
        c.trusted_proxies = sync_server::http::client_ip::TrustedProxies::new(vec![
            sync_server::http::client_ip::parse_net("127.0.0.1").unwrap(),
        ]);
    });
    e2e::publish(&server, &e2e::demo_pack_dir());
    let identity = enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    let f = Fixture {
        _dir: dir,
        server,
        identity,
    };
    let (_, signed) = token(&f, "cat-tien", "vi");
    let url = format!("{}/i/{signed}", f.server.url());
    let http = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let statuses: Vec<StatusCode> = rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..62 {
            let email = format!("v{i}@example.vn");
            let r = http
                .post(&url)
                .header("x-forwarded-for", format!("198.18.0.{}", i + 1))
                .form(&[("email", email.as_str()), ("consent", "yes")])
                .send()
                .await
                .unwrap();
            out.push(r.status());
        }
        out
    });
    assert!(
        statuses[..60].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[60], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(f.server.rows(Table::Leads).len(), 60);
}

/// The page a visitor's phone opens shows the text their kiosk showed: the version published
/// to the token's event when it has its own (and a newer one within a second of publishing),
/// the default for any other event.
#[test]
fn the_item_page_reads_the_version_of_the_tokens_event() {
    let f = fixture();
    let storage = f.server.storage();
    let fleet = &f.server.state.fleet;
    let v1 = storage.current_manifest().unwrap().unwrap();
    let with_title = |version: &str, title: &str| {
        let mut m = v1.clone();
        m.version = version.into();
        let item = m
            .pack
            .items
            .iter_mut()
            .find(|i| i.id == "long-thanh-airport")
            .unwrap();
        item.text.get_mut("ko").unwrap().title = title.into();
        assert!(fleet.add_version(&m, protocol::now_ms()).unwrap());
        assert!(
            fleet
                .publish_to_event(&m.version, "korea-investment-2026", protocol::now_ms())
                .unwrap()
        );
    };
    with_title("korea@1", "롱탄 신공항");
    let (_, korea) = token(&f, "long-thanh-airport", "ko");
    let (_, home) = kiosk_core::qr::token(
        &f.identity.token_key,
        f.identity.kiosk_id,
        protocol::now_ms(),
        true,
        "dong-nai-home",
        "long-thanh-airport",
        "ko",
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let page = |signed: String| {
            let url = f.server.url();
            async move {
                reqwest::get(format!("{url}/p/{signed}"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        assert!(page(korea.clone()).await.contains("롱탄 신공항"));
        let other = page(home.clone()).await;
        assert!(
            other.contains("롱탄 국제공항") && !other.contains("롱탄 신공항"),
            "{other}"
        );
        // A newer version for the event reaches phones within a second.
        with_title("korea@2", "롱탄 공항 2026");
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        assert!(page(korea).await.contains("롱탄 공항 2026"));
    });
}
