//! The staff pages over HTTP: sign-in with the CSRF double-submit, the session cookie's
//! attributes, the dashboard, sign-out, and what happens to wrong passwords and forged forms.

use e2e::TestServer;
use reqwest::redirect::Policy;

fn cookie_value(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1
                .to_owned();
            (value, v.to_owned())
        })
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

#[test]
fn sign_in_see_the_dashboard_and_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let now = protocol::now_ms();
    let hash = sync_server::http::staff::hash_password("correct horse battery").unwrap();
    server
        .state
        .staff
        .add_user(
            "lan@dongnai.example",
            &hash,
            sync_server::store::Role::Staff,
            "Department of Foreign Affairs",
            now,
        )
        .unwrap();
    server
        .storage()
        .create_kiosk("Hall B kiosk", Some("korea-investment-2026"), now)
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Not signed in: the dashboard sends you to the sign-in page.
        let r = http.get(format!("{url}/staff")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/staff/login");

        let r = http.get(format!("{url}/staff/login")).send().await.unwrap();
        let (login_csrf, attrs) = cookie_value(&r, "promo_login_csrf").unwrap();
        assert!(
            attrs.contains("HttpOnly") && attrs.contains("SameSite=Strict"),
            "{attrs}"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("Đăng nhập cán bộ"), "Vietnamese by default");
        assert_eq!(hidden_csrf(&html), login_csrf);

        // A forged form (no matching cookie) is refused.
        let r = http
            .post(format!("{url}/staff/login"))
            .form(&[
                ("email", "lan@dongnai.example"),
                ("password", "correct horse battery"),
                ("csrf", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // A wrong password goes back to the form with an error.
        let r = http
            .post(format!("{url}/staff/login"))
            .header("cookie", format!("promo_login_csrf={login_csrf}"))
            .form(&[
                ("email", "lan@dongnai.example"),
                ("password", "wrong"),
                ("csrf", login_csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/staff/login?error=1");
        assert!(cookie_value(&r, "promo_session").is_none());

        let r = http
            .post(format!("{url}/staff/login"))
            .header("cookie", format!("promo_login_csrf={login_csrf}"))
            .form(&[
                ("email", "Lan@DongNai.example"),
                ("password", "correct horse battery"),
                ("csrf", login_csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (session, attrs) = cookie_value(&r, "promo_session").expect("a session cookie");
        assert!(
            attrs.contains("HttpOnly") && attrs.contains("SameSite=Strict"),
            "{attrs}"
        );

        let r = http
            .get(format!("{url}/staff?lang=en"))
            .header("cookie", format!("promo_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Hall B kiosk") && html.contains("korea-investment-2026"),
            "{html}"
        );
        assert!(html.contains("Sign out"));
        let csrf = hidden_csrf(&html);

        // Sign-out needs the session's CSRF token.
        let r = http
            .post(format!("{url}/staff/logout"))
            .header("cookie", format!("promo_session={session}"))
            .form(&[("csrf", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = http
            .post(format!("{url}/staff/logout"))
            .header("cookie", format!("promo_session={session}"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = http
            .get(format!("{url}/staff"))
            .header("cookie", format!("promo_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "the session is gone after sign-out");
    });
}

#[test]
fn kiosk_names_are_escaped_on_the_dashboard() {
    assert_eq!(
        sync_server::http::staff::esc("<script>alert('x')</script> & \"q\""),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
    );
}
