//! [`StaffStorage`]: accounts, sessions, lockout, audit, the dashboard.

use sync_server::store::{
    AUDIT_DETAIL_MAX, AuditAction, Role, SESSION_IDLE_MS, StaffStorage, StorageError,
};

use crate::common::*;
use crate::conformance;

fn accounts(s: &dyn StaffStorage) {
    let id = s
        .add_user(
            "Hong@DN.example",
            "hash-1",
            Role::Staff,
            "Department of Foreign Affairs",
            T0,
        )
        .unwrap();
    let admin = s
        .add_user(
            "admin@dn.example",
            "hash-2",
            Role::Admin,
            "Investment, Trade and Tourism Promotion Centre",
            T0,
        )
        .unwrap();
    assert_ne!(id, admin);
    // An email is one account in any case.
    match s.add_user("hong@dn.example", "h", Role::Staff, "x", T0) {
        Err(StorageError::Invalid(m)) => assert!(m.contains("already exists"), "{m}"),
        other => panic!("a second account for one email: {other:?}"),
    }
    let u = s
        .user_by_email("HONG@dn.example")
        .unwrap()
        .expect("found in any case");
    assert_eq!(
        (
            u.id,
            u.email.as_str(),
            u.password_hash.as_str(),
            u.role,
            u.org.as_str()
        ),
        (
            id,
            "Hong@DN.example",
            "hash-1",
            Role::Staff,
            "Department of Foreign Affairs"
        )
    );
    assert_eq!(
        s.user_by_email("admin@dn.example").unwrap().unwrap().role,
        Role::Admin
    );
    assert!(s.user_by_email("nobody@dn.example").unwrap().is_none());
    assert!(!s.set_password("nobody@dn.example", "h").unwrap());
}
conformance!(accounts);

fn sessions(s: &dyn StaffStorage) {
    let id = s
        .add_user("lan@dn.example", "h", Role::Staff, "Unit", T0)
        .unwrap();
    s.create_session(id, "token-a", "csrf-a", T0, T0 + 12 * 60 * MIN)
        .unwrap();
    s.create_session(id, "token-b", "csrf-b", T0, T0 + 12 * 60 * MIN)
        .unwrap();
    let (u, csrf) = s
        .session("token-a", T0 + MIN)
        .unwrap()
        .expect("a live session");
    assert_eq!((u.id, csrf.as_str()), (id, "csrf-a"));
    assert!(
        s.session("token-x", T0).unwrap().is_none(),
        "an unknown token"
    );
    // Idle: used 29 minutes after its last use it lives, and the use moves the clock on.
    let t = T0 + SESSION_IDLE_MS - MIN;
    assert!(s.session("token-a", t).unwrap().is_some());
    assert!(
        s.session("token-a", t + SESSION_IDLE_MS - MIN)
            .unwrap()
            .is_some()
    );
    // token-b was never used since T0: idle.
    assert!(
        s.session("token-b", T0 + SESSION_IDLE_MS + 1)
            .unwrap()
            .is_none()
    );
    // The absolute end holds however often it is used.
    s.create_session(id, "token-c", "csrf-c", T0, T0 + 10 * MIN)
        .unwrap();
    assert!(s.session("token-c", T0 + 9 * MIN).unwrap().is_some());
    assert!(s.session("token-c", T0 + 10 * MIN).unwrap().is_none());
    s.delete_session("token-a").unwrap();
    assert!(s.session("token-a", t + MIN).unwrap().is_none());
    // Signing out everywhere, and a new password, end every session.
    s.create_session(id, "token-d", "csrf-d", T0, T0 + 60 * MIN)
        .unwrap();
    s.create_session(id, "token-e", "csrf-e", T0, T0 + 60 * MIN)
        .unwrap();
    s.end_sessions(id).unwrap();
    assert!(s.session("token-d", T0 + MIN).unwrap().is_none());
    s.create_session(id, "token-f", "csrf-f", T0, T0 + 60 * MIN)
        .unwrap();
    assert!(s.set_password("LAN@dn.example", "new-hash").unwrap());
    assert!(s.session("token-f", T0 + MIN).unwrap().is_none());
    assert_eq!(
        s.user_by_email("lan@dn.example")
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
}
conformance!(sessions);

fn disabling_an_account(s: &dyn StaffStorage) {
    let admin = s
        .add_user("admin@dn.example", "h", Role::Admin, "A", T0)
        .unwrap();
    let hong = s
        .add_user("Hong@dn.example", "h", Role::Staff, "B", T0 + 1)
        .unwrap();
    s.create_session(hong, "tok-hong", "csrf", T0, T0 + 3_600_000)
        .unwrap();
    let users = s.users().unwrap();
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        emails,
        ["admin@dn.example", "Hong@dn.example"],
        "by email, any case"
    );
    assert_eq!((users[1].role, users[1].org.as_str()), (Role::Staff, "B"));
    assert_eq!(users[1].disabled_ms, None);
    assert!(s.set_user_disabled(hong, true, T0 + 10).unwrap());
    assert_eq!(
        s.session("tok-hong", T0 + 20).unwrap(),
        None,
        "its sessions ended"
    );
    assert_eq!(
        s.user_by_email("hong@dn.example").unwrap(),
        None,
        "it cannot sign in"
    );
    assert_eq!(s.users().unwrap()[1].disabled_ms, Some(T0 + 10));
    assert!(s.set_user_disabled(hong, false, T0 + 30).unwrap());
    assert_eq!(s.users().unwrap()[1].disabled_ms, None);
    assert!(s.user_by_email("hong@dn.example").unwrap().is_some());
    assert!(!s.set_user_disabled(admin + hong + 100, true, T0).unwrap());
}
conformance!(disabling_an_account);

fn one_time_links(s: &dyn StaffStorage) {
    let lan = s
        .add_user("lan@dn.example", "unusable", Role::Staff, "B", T0)
        .unwrap();
    s.create_session(lan, "tok-lan", "csrf", T0, T0 + 3_600_000)
        .unwrap();
    s.create_user_link(lan, "link-1", "invite", T0, T0 + 1_000)
        .unwrap();
    let (user, purpose) = s.user_link("link-1", T0 + 1).unwrap().unwrap();
    assert_eq!(
        (user.email.as_str(), purpose.as_str()),
        ("lan@dn.example", "invite")
    );
    assert_eq!(s.user_link("link-1", T0 + 1_000).unwrap(), None, "expired");
    assert_eq!(
        s.redeem_user_link("link-1", "h2", T0 + 1_000).unwrap(),
        None
    );
    // A newer link replaces the one not used.
    s.create_user_link(lan, "link-2", "reset", T0 + 2, T0 + 10_000)
        .unwrap();
    s.create_user_link(lan, "link-3", "reset", T0 + 3, T0 + 10_000)
        .unwrap();
    assert_eq!(s.user_link("link-2", T0 + 4).unwrap(), None);
    let redeemed = s.redeem_user_link("link-3", "h3", T0 + 5).unwrap().unwrap();
    assert_eq!(redeemed.password_hash, "h3");
    assert_eq!(
        s.user_by_email("lan@dn.example")
            .unwrap()
            .unwrap()
            .password_hash,
        "h3"
    );
    assert_eq!(
        s.session("tok-lan", T0 + 6).unwrap(),
        None,
        "sessions ended"
    );
    assert_eq!(
        s.redeem_user_link("link-3", "h4", T0 + 7).unwrap(),
        None,
        "once"
    );
    // A disabled account's link does not work.
    s.create_user_link(lan, "link-4", "reset", T0 + 8, T0 + 10_000)
        .unwrap();
    s.set_user_disabled(lan, true, T0 + 9).unwrap();
    assert_eq!(s.user_link("link-4", T0 + 10).unwrap(), None);
}
conformance!(one_time_links);

fn two_step_sign_in(s: &dyn StaffStorage) {
    let mai = s
        .add_user("mai@dn.example", "h", Role::Staff, "B", T0)
        .unwrap();
    assert_eq!(s.totp_secret(mai).unwrap(), None);
    assert!(
        !s.use_totp_step(mai, 10).unwrap(),
        "no secret: no step is taken"
    );
    s.set_totp_secret(mai, Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
        .unwrap();
    assert_eq!(
        s.totp_secret(mai).unwrap().as_deref(),
        Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    );
    // Each step once, never an older one.
    assert!(s.use_totp_step(mai, 10).unwrap());
    assert!(!s.use_totp_step(mai, 10).unwrap(), "the same code again");
    assert!(!s.use_totp_step(mai, 9).unwrap(), "an older code");
    assert!(s.use_totp_step(mai, 11).unwrap());
    // A challenge is not a session, lives until it expires, and ends.
    s.create_login_challenge("ch-1", mai, T0, T0 + 1_000)
        .unwrap();
    assert_eq!(s.session("ch-1", T0 + 1).unwrap(), None);
    assert_eq!(
        s.login_challenge("ch-1", T0 + 1).unwrap().unwrap().email,
        "mai@dn.example"
    );
    assert_eq!(
        s.login_challenge("ch-1", T0 + 1_000).unwrap(),
        None,
        "expired"
    );
    s.create_login_challenge("ch-2", mai, T0 + 2, T0 + 10_000)
        .unwrap();
    s.end_login_challenge("ch-2").unwrap();
    assert_eq!(s.login_challenge("ch-2", T0 + 3).unwrap(), None);
    s.create_login_challenge("ch-3", mai, T0 + 4, T0 + 10_000)
        .unwrap();
    s.set_user_disabled(mai, true, T0 + 5).unwrap();
    assert_eq!(s.login_challenge("ch-3", T0 + 6).unwrap(), None, "disabled");
    s.set_user_disabled(mai, false, T0 + 7).unwrap();
    // Another role and unit: what the account's session sees changes at once.
    s.create_session(mai, "tok-mai", "csrf", T0 + 7, T0 + 3_600_000)
        .unwrap();
    assert!(s.set_user_role(mai, Role::Admin, "Unit C").unwrap());
    let (u, _) = s.session("tok-mai", T0 + 8).unwrap().unwrap();
    assert_eq!((u.role, u.org.as_str()), (Role::Admin, "Unit C"));
    assert!(!s.set_user_role(9_999, Role::Admin, "x").unwrap());
    // An admin's reset link starts the second factor over.
    s.create_user_link(mai, "link-m", "reset", T0 + 8, T0 + 10_000)
        .unwrap();
    s.redeem_user_link("link-m", "h2", T0 + 9).unwrap().unwrap();
    assert_eq!(s.totp_secret(mai).unwrap(), None);
    assert_eq!(s.login_challenge("ch-3", T0 + 10).unwrap(), None);
    // Turned off, then on again: the steps start over.
    s.set_totp_secret(mai, Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
        .unwrap();
    assert!(s.use_totp_step(mai, 5).unwrap());
    s.set_totp_secret(mai, None).unwrap();
    assert_eq!(s.totp_secret(mai).unwrap(), None);
}
conformance!(two_step_sign_in);

fn lockout(s: &dyn StaffStorage) {
    let id = s
        .add_user("minh@dn.example", "h", Role::Staff, "Unit", T0)
        .unwrap();
    s.add_user("an@dn.example", "h", Role::Staff, "Unit", T0)
        .unwrap();
    // Every fifth failure in a row locks, for longer each time: 1 min, 5 min, 15 min, 1 h.
    let mut ends = Vec::new();
    for i in 1..=25 {
        if let Some(end) = s.login_failed("Minh@dn.example", T0 + i).unwrap() {
            ends.push((i, end - (T0 + i)));
        }
    }
    assert_eq!(
        ends,
        [
            (5, MIN),
            (10, 5 * MIN),
            (15, 15 * MIN),
            (20, 60 * MIN),
            (25, 60 * MIN)
        ]
    );
    assert_eq!(
        s.locked_until("minh@dn.example", T0 + 26).unwrap(),
        Some(T0 + 25 + 60 * MIN)
    );
    assert_eq!(
        s.locked_until("minh@dn.example", T0 + 25 + 60 * MIN)
            .unwrap(),
        None,
        "over"
    );
    assert_eq!(s.login_failed("nobody@dn.example", T0).unwrap(), None);
    for i in 1..=5 {
        s.login_failed("an@dn.example", T0 + i).unwrap();
    }
    assert_eq!(
        s.locked_users(T0 + 30).unwrap(),
        [
            ("an@dn.example".to_owned(), T0 + 5 + MIN),
            ("minh@dn.example".to_owned(), T0 + 25 + 60 * MIN)
        ]
    );
    assert!(s.unlock_user("AN@dn.example").unwrap());
    assert!(!s.unlock_user("nobody@dn.example").unwrap());
    assert_eq!(s.locked_until("an@dn.example", T0 + 30).unwrap(), None);
    // A success clears the count: four more failures do not lock.
    s.login_succeeded(id).unwrap();
    assert_eq!(s.locked_until("minh@dn.example", T0 + 30).unwrap(), None);
    for i in 1..=4 {
        assert_eq!(
            s.login_failed("minh@dn.example", T0 + 100 + i).unwrap(),
            None
        );
    }
    assert_eq!(s.locked_users(T0 + 200).unwrap(), []);
}
conformance!(lockout);

fn audit_and_dashboard(s: &dyn StaffStorage) {
    let id = s
        .add_user("admin@dn.example", "h", Role::Admin, "Unit", T0)
        .unwrap();
    s.audit(Some(id), AuditAction::Export, "leads csv: 3", T0)
        .unwrap();
    s.audit(
        None,
        AuditAction::LoginFailed,
        &"x".repeat(AUDIT_DETAIL_MAX * 3),
        T0,
    )
    .unwrap();
    s.audit(Some(id), AuditAction::Logout, "admin@dn.example", T0 + 1)
        .unwrap();
    let (entries, total) = s.audit_log(2, 0).unwrap();
    assert_eq!(total, 3);
    let got: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.at_ms,
                e.email.as_deref(),
                e.action.as_str(),
                e.detail.chars().count(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (T0 + 1, Some("admin@dn.example"), "logout", 16),
            // A flood of text is cut, and says so.
            (T0, None, "login_failed", AUDIT_DETAIL_MAX + 1),
        ],
        "newest first"
    );
    let (older, _) = s.audit_log(2, 2).unwrap();
    assert_eq!(older[0].detail, "leads csv: 3");
    // An empty server's dashboard and quarantine.
    let sum = s.summary().unwrap();
    assert_eq!(
        (sum.kiosks.len(), sum.kinds.len(), sum.leads, sum.qr_opens),
        (0, 0, 0, 0)
    );
    let (rows, total) = s.quarantine(100).unwrap();
    assert_eq!((rows.len(), total), (0, 0));
}
conformance!(audit_and_dashboard);
