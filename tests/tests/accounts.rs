//! Staff accounts on the web, in headless Chromium: a user changes their password (their other
//! sessions end, this one goes on), an admin disables the account (its session ends at once, it
//! cannot sign in) and enables it again, invites a new person (a one-time link to set the
//! password) and gives a reset link; every step is in the audit log.
//!
//! Needs Chromium and chromedriver (`scripts/install-deps.sh test`); without them this test
//! fails, never passes silently.

use e2e::browser::*;
use e2e::pages::{get, try_sign_in};
use e2e::{RowExt, Table, TestServer};
use sync_server::store::Role;

const ADMIN_PASSWORD: &str = "a long admin password";
const OLD: &str = "the first password";
const NEW: &str = "a better password 2026";
const ITTPC: &str = "Investment, Trade and Tourism Promotion Centre";

/// Whether a session still opens the dashboard (a signed-out one is sent to sign in).
async fn signed_in(http: &reqwest::Client, url: &str) -> bool {
    get(http, &format!("{url}/staff")).await.0 == 200
}

#[test]
fn change_password_then_disable_and_enable_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let st = &server.state;
    let now = protocol::now_ms();
    for (email, password, role) in [
        ("admin@dn.example", ADMIN_PASSWORD, Role::Admin),
        ("hong@dn.example", OLD, Role::Staff),
    ] {
        let hash = sync_server::http::staff::hash_password(password).unwrap();
        st.staff.add_user(email, &hash, role, ITTPC, now).unwrap();
    }
    let url = server.url();
    with_browser(
        dir.path(),
        Screen::Desktop {
            width: 1366,
            height: 768,
        },
        move |c| async move {
            // Hồng is signed in on another computer too.
            let other = try_sign_in(&url, "hong@dn.example", OLD, None).await;
            assert_eq!(other.status, 303);
            assert!(signed_in(&other.http, &url).await);

            sign_in(&c, &url, "hong@dn.example", OLD).await;
            click(&c, "#me").await;
            wait_url(&c, "the account page", |u| u.path() == "/staff/account").await;
            keep_shot(&c, "account-vi").await;
            let change = |current: &'static str, new: &'static str, again: &'static str| {
                let c = c.clone();
                async move {
                    fill(&c, "#password-form input[name=current]", current).await;
                    fill(&c, "#password-form input[name=new]", new).await;
                    fill(&c, "#password-form input[name=again]", again).await;
                    click(&c, "#password-form button[type=submit]").await;
                    wait_url(&c, "the answer", |u| {
                        u.query().is_some_and(|q| q.starts_with("done="))
                    })
                    .await;
                    find(&c, "#done").await.text().await.unwrap()
                }
            };
            // Wrong current password, two different new ones: nothing changes.
            let done = change("not my password", NEW, NEW).await;
            assert!(done.contains("không đúng"), "{done}");
            c.goto(&format!("{url}/staff/account")).await.unwrap();
            let done = change(OLD, NEW, "something else entirely").await;
            assert!(done.contains("không giống nhau"), "{done}");
            assert!(signed_in(&other.http, &url).await, "nothing changed yet");
            c.goto(&format!("{url}/staff/account")).await.unwrap();
            let done = change(OLD, NEW, NEW).await;
            assert!(done.contains("Đã đổi mật khẩu"), "{done}");
            // This browser goes on; the other computer's session has ended.
            c.goto(&format!("{url}/staff/leads")).await.unwrap();
            assert_eq!(h1(&c).await, "Khách quan tâm");
            assert!(
                !signed_in(&other.http, &url).await,
                "the other session ended"
            );
            let old_again = try_sign_in(&url, "hong@dn.example", OLD, None).await;
            assert!(
                old_again.location.contains("error"),
                "the old password is gone"
            );
            let with_new = try_sign_in(&url, "hong@dn.example", NEW, None).await;
            assert_eq!(with_new.location, "/staff");

            // An admin disables the account: Hồng's session ends at once.
            sign_out(&c).await;
            sign_in(&c, &url, "admin@dn.example", ADMIN_PASSWORD).await;
            c.goto(&format!("{url}/staff/users?ui=en")).await.unwrap();
            wait_lang(&c, "en").await;
            // Read by script until the row says what is expected: a click's answer replaces
            // the page, and the page before it (with its own `#done`) may still be the one read.
            let status = |c: Client, expect: &'static str| async move {
                let c = &c;
                poll(&format!("Hồng's row to say {expect}"), || async move {
                    let now = js(
                        c,
                        "const td = document.querySelector(\"tr[data-user='hong@dn.example'] td[data-status]\"); \
                         return document.readyState === 'complete' && td ? td.dataset.status : null",
                    )
                    .await;
                    (now.as_str() == Some(expect)).then_some(())
                })
                .await
            };
            status(c.clone(), "active").await;
            keep_shot(&c, "users-en").await;
            click(&c, "tr[data-user='hong@dn.example'] form.switch button").await;
            find(&c, "#done").await;
            status(c.clone(), "disabled").await;
            assert!(!signed_in(&with_new.http, &url).await, "its session ended");
            let refused = try_sign_in(&url, "hong@dn.example", NEW, None).await;
            assert!(
                refused.location.contains("error"),
                "a disabled account cannot sign in"
            );
            // The admin's own row has no button: nobody locks themselves out.
            let own = js(
                &c,
                "return document.querySelectorAll(\"tr[data-user='admin@dn.example'] form.switch button\").length",
            )
            .await;
            assert_eq!(own.as_u64(), Some(0));
            // Enabled again, Hồng signs in with the new password.
            click(&c, "tr[data-user='hong@dn.example'] form.switch button").await;
            find(&c, "#done").await;
            status(c.clone(), "active").await;
            let back = try_sign_in(&url, "hong@dn.example", NEW, None).await;
            assert_eq!(back.location, "/staff");
            assert!(signed_in(&back.http, &url).await);
            // Made an admin, Hồng's open session reaches the admins' pages at once; made staff
            // again, it does not.
            let users_page = |http: reqwest::Client| {
                let url = url.clone();
                async move { get(&http, &format!("{url}/staff/users")).await.0 }
            };
            assert_eq!(users_page(back.http.clone()).await, 403);
            for (role, expect) in [("admin", 200), ("staff", 403)] {
                c.goto(&format!("{url}/staff/users")).await.unwrap();
                click(&c, "tr[data-user='hong@dn.example'] details.role summary").await;
                choose(
                    &c,
                    "tr[data-user='hong@dn.example'] details.role select[name=role]",
                    role,
                )
                .await;
                click(&c, "tr[data-user='hong@dn.example'] details.role button").await;
                wait_url(&c, "the role changed", |u| {
                    u.query().is_some_and(|q| q.contains("done=role"))
                })
                .await;
                assert_eq!(users_page(back.http.clone()).await, expect, "{role}");
            }
            let own_role = js(
                &c,
                "return document.querySelectorAll(\"tr[data-user='admin@dn.example'] details.role\").length",
            )
            .await;
            assert_eq!(own_role.as_u64(), Some(0), "no admin demotes themselves");

            // An invitation: a new account, and a link to set its password, shown once.
            fill(&c, "#invite-form input[name=email]", "lan@dn.example").await;
            click(&c, "#invite-form button[type=submit]").await;
            let invite = find(&c, "#link")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap();
            assert!(
                invite.starts_with(&format!("{url}/staff/welcome/")),
                "{invite}"
            );
            keep_shot(&c, "invite-en").await;
            assert!(
                try_sign_in(&url, "lan@dn.example", "", None)
                    .await
                    .location
                    .contains("error"),
                "no password works before the link is used"
            );
            sign_out(&c).await;
            let set_through = |link: String, password: &'static str| {
                let c = c.clone();
                async move {
                    c.goto(&link).await.unwrap();
                    find(&c, "#whose").await;
                    fill(&c, "#welcome-form input[name=new]", password).await;
                    fill(&c, "#welcome-form input[name=again]", password).await;
                    click(&c, "#welcome-form button[type=submit]").await;
                    wait_url(&c, "signed in through the link", |u| u.path() == "/staff").await;
                    find(&c, "#me").await.text().await.unwrap()
                }
            };
            c.goto(&invite).await.unwrap();
            keep_shot(&c, "welcome-vi").await;
            let me = set_through(invite.clone(), "Lan's own password").await;
            assert!(me.contains("lan@dn.example"), "{me}");
            c.goto(&invite).await.unwrap();
            find(&c, "#dead-link").await;
            c.goto(&format!("{url}/staff")).await.unwrap();
            sign_out(&c).await;

            // A reset link for Hồng: the old password works until it is used, then not.
            sign_in(&c, &url, "admin@dn.example", ADMIN_PASSWORD).await;
            c.goto(&format!("{url}/staff/users")).await.unwrap();
            click(&c, "tr[data-user='hong@dn.example'] form.reset button").await;
            let reset = find(&c, "#link")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap();
            assert!(
                signed_in(&back.http, &url).await,
                "nothing ends before it is used"
            );
            sign_out(&c).await;
            let me = set_through(reset.clone(), "a third password 2026").await;
            assert!(me.contains("hong@dn.example"), "{me}");
            assert!(
                !signed_in(&back.http, &url).await,
                "the reset ended Hồng's sessions"
            );
            assert!(
                try_sign_in(&url, "hong@dn.example", NEW, None)
                    .await
                    .location
                    .contains("error")
            );
            c.goto(&reset).await.unwrap();
            find(&c, "#dead-link").await;
        },
    );
    let audit = server.rows(Table::Audit);
    let actions: Vec<&str> = audit.iter().map(|r| r.text("action")).collect();
    for wanted in [
        "user_password",
        "user_disable",
        "user_enable",
        "user_role",
        "login_failed",
    ] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
}

/// Two-step sign-in as a person with an authenticator app: turned on by scanning (here, by
/// reading the key), a code asked at every sign-in, a wrong or replayed code refused, turned off
/// with the password. The half-signed-in cookie reaches nothing. Every step is audited.
#[test]
fn two_step_sign_in_with_an_authenticator_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server"));
    let hash = sync_server::http::staff::hash_password(OLD).unwrap();
    server
        .state
        .staff
        .add_user(
            "hong@dn.example",
            &hash,
            Role::Staff,
            ITTPC,
            protocol::now_ms(),
        )
        .unwrap();
    let url = server.url();
    let code_in = |secret: &str, steps_ahead: u64| {
        let now = (protocol::now_ms() / 1000) as u64;
        sync_server::totp::code_at(secret, now + steps_ahead * sync_server::totp::STEP_S).unwrap()
    };
    // Signs in with the password only; lands on the code form.
    async fn password_step(c: &Client, url: &str) {
        c.goto(&format!("{url}/staff/login")).await.unwrap();
        fill(c, "input[name=email]", "hong@dn.example").await;
        fill(c, "input[name=password]", OLD).await;
        click(c, "form button[type=submit]").await;
        wait_url(c, "the code form", |u| u.path() == "/staff/login/code").await;
    }
    async fn enter_code(c: &Client, code: &str) {
        fill(c, "#code-form input[name=code]", code).await;
        click(c, "#code-form button[type=submit]").await;
    }
    with_browser(
        dir.path(),
        Screen::Desktop {
            width: 1366,
            height: 768,
        },
        move |c| async move {
            sign_in(&c, &url, "hong@dn.example", OLD).await;
            c.goto(&format!("{url}/staff/account")).await.unwrap();
            click(&c, "#totp-set-up").await;
            let key = find(&c, "#totp-key")
                .await
                .text()
                .await
                .unwrap()
                .replace(' ', "");
            assert!(find(&c, "#totp-qr svg").await.is_displayed().await.unwrap());
            keep_shot(&c, "totp-setup-vi").await;
            // A wrong code keeps it off and says so.
            let right = code_in(&key, 0);
            let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
            fill(&c, "#totp-form input[name=code]", &wrong).await;
            click(&c, "#totp-form button[type=submit]").await;
            find(&c, "#done.err").await;
            // The very code that turned it on (not one recomputed later: the step may have
            // moved on by then).
            let spent = code_in(&key, 0);
            fill(&c, "#totp-form input[name=code]", &spent).await;
            click(&c, "#totp-form button[type=submit]").await;
            wait_url(&c, "the account page", |u| {
                u.query().is_some_and(|q| q.contains("done=totp-on"))
            })
            .await;
            keep_shot(&c, "account-totp-vi").await;
            c.goto(&format!("{url}/staff/account?ui=en")).await.unwrap();
            wait_lang(&c, "en").await;
            keep_shot(&c, "account-totp-en").await;
            sign_out(&c).await;

            // The password alone is not enough: the code form, and nothing else opens.
            let half = try_sign_in(&url, "hong@dn.example", OLD, None).await;
            assert_eq!(
                (half.status, half.location.as_str()),
                (303, "/staff/login/code")
            );
            assert!(
                !signed_in(&half.http, &url).await,
                "a challenge is not a session"
            );

            password_step(&c, &url).await;
            keep_shot(&c, "login-code-en").await;
            c.goto(&format!("{url}/staff/login/code?ui=vi"))
                .await
                .unwrap();
            wait_lang(&c, "vi").await;
            keep_shot(&c, "login-code-vi").await;
            // The code used to turn it on is spent; the app's next one works.
            enter_code(&c, &spent).await;
            find(&c, "#code-error").await;
            let next = code_in(&key, 1);
            enter_code(&c, &next).await;
            wait_url(&c, "the dashboard", |u| u.path() == "/staff").await;
            // Someone else with the password and that code read over a shoulder: refused; and
            // a code from further ahead than one step of drift: refused.
            for code in [next.clone(), code_in(&key, 3)] {
                let other = try_sign_in(&url, "hong@dn.example", OLD, None).await;
                let r = other
                    .http
                    .post(format!("{url}/staff/login/code"))
                    .form(&[("code", code.as_str())])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.headers()["location"], "/staff/login/code?error=1");
                assert!(!signed_in(&other.http, &url).await);
            }
            // Off with the password (a wrong one changes nothing).
            c.goto(&format!("{url}/staff/account")).await.unwrap();
            fill(&c, "#totp-off-form input[name=current]", "not my password").await;
            click(&c, "#totp-off-form button[type=submit]").await;
            find(&c, "#done.err").await;
            assert!(
                find(&c, "#totp-off-form")
                    .await
                    .is_displayed()
                    .await
                    .unwrap()
            );
            fill(&c, "#totp-off-form input[name=current]", OLD).await;
            click(&c, "#totp-off-form button[type=submit]").await;
            wait_url(&c, "the account page", |u| {
                u.query().is_some_and(|q| q.contains("done=totp-off"))
            })
            .await;
            find(&c, "#totp-set-up").await;
            sign_out(&c).await;
            sign_in(&c, &url, "hong@dn.example", OLD).await;
            assert_eq!(c.current_url().await.unwrap().path(), "/staff");
        },
    );
    let audit = server.rows(Table::Audit);
    let has = |action: &str, detail: &str| {
        audit
            .iter()
            .any(|r| r.text("action") == action && r.text("detail").contains(detail))
    };
    assert!(has("user_totp_on", "hong@dn.example"));
    assert!(has("user_totp_off", "hong@dn.example"));
    assert!(has("login", "hong@dn.example (code)"));
    assert!(has("login_failed", "hong@dn.example (code)"));
}
