//! [`StaffStorage`] on PostgreSQL: accounts, sessions, lockout, audit, the dashboard. Emails
//! are compared in lower case (SQLite's `COLLATE NOCASE`).

use ::postgres::error::SqlState;
use uuid::Uuid;

use super::PostgresStorage;
use crate::store::*;

fn user(r: &::postgres::Row) -> User {
    User {
        id: r.get(0),
        email: r.get(1),
        password_hash: r.get(2),
        role: Role::stored(r.get(3)),
        org: r.get(4),
    }
}

impl StaffStorage for PostgresStorage {
    fn add_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
        org: &str,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        self.with(|c| {
            let row = c
                .query_one(
                    "INSERT INTO users(email, password_hash, role, org, created_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&email, &password_hash, &role.as_str(), &org, &now_ms],
                )
                .map_err(|e| match e.code() {
                    Some(c) if *c == SqlState::UNIQUE_VIOLATION => StorageError::Invalid(format!(
                        "a user with the email {email} already exists"
                    )),
                    _ => e.into(),
                })?;
            Ok(row.get(0))
        })
    }

    fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT id, email, password_hash, role, org FROM users
                 WHERE lower(email) = lower($1) AND disabled_ms IS NULL",
                &[&email],
            )?
            .as_ref()
            .map(user))
        })
    }

    fn set_password(&self, email: &str, password_hash: &str) -> Result<bool, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let Some(row) = tx.query_opt(
                "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until_ms = NULL
                 WHERE lower(email) = lower($1) RETURNING id",
                &[&email, &password_hash],
            )?
            else {
                return Ok(false);
            };
            let id: i64 = row.get(0);
            tx.execute("DELETE FROM staff_sessions WHERE user_id = $1", &[&id])?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM staff_sessions WHERE expires_ms < $1",
                &[&now_ms],
            )?;
            c.execute(
                "INSERT INTO staff_sessions(token_hash, user_id, csrf, created_ms, expires_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&token_hash, &user_id, &csrf, &now_ms, &expires_ms],
            )?;
            Ok(())
        })
    }

    fn session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(User, String)>, StorageError> {
        self.with(|c| {
            let Some(r) = c.query_opt(
                "SELECT u.id, u.email, u.password_hash, u.role, u.org, s.csrf,
                        coalesce(s.last_seen_ms, s.created_ms)
                 FROM staff_sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_ms > $2 AND u.disabled_ms IS NULL
                   AND coalesce(s.last_seen_ms, s.created_ms) > $2 - $3",
                &[&token_hash, &now_ms, &SESSION_IDLE_MS],
            )?
            else {
                return Ok(None);
            };
            let last_seen: i64 = r.get(6);
            // The idle clock moves at most once a minute: a page view is not a write.
            if now_ms - last_seen > 60_000 {
                c.execute(
                    "UPDATE staff_sessions SET last_seen_ms = $2 WHERE token_hash = $1",
                    &[&token_hash, &now_ms],
                )?;
            }
            Ok(Some((user(&r), r.get(5))))
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM staff_sessions WHERE token_hash = $1",
                &[&token_hash],
            )?;
            Ok(())
        })
    }

    fn end_sessions(&self, user_id: i64) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute("DELETE FROM staff_sessions WHERE user_id = $1", &[&user_id])?;
            Ok(())
        })
    }

    fn login_failed(&self, email: &str, now_ms: i64) -> Result<Option<i64>, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let row = tx.query_opt(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE lower(email) = lower($1)
                 RETURNING id, failed_logins",
                &[&email],
            )?;
            let until = row
                .and_then(|r| lockout_end(r.get(1), now_ms).map(|end| (r.get::<_, i64>(0), end)));
            if let Some((id, end)) = until {
                tx.execute(
                    "UPDATE users SET locked_until_ms = $2 WHERE id = $1",
                    &[&id, &end],
                )?;
            }
            tx.commit()?;
            Ok(until.map(|(_, end)| end))
        })
    }

    fn login_succeeded(&self, user_id: i64) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET failed_logins = 0, locked_until_ms = NULL
                 WHERE id = $1 AND (failed_logins <> 0 OR locked_until_ms IS NOT NULL)",
                &[&user_id],
            )?;
            Ok(())
        })
    }

    fn locked_until(&self, email: &str, now_ms: i64) -> Result<Option<i64>, StorageError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT locked_until_ms FROM users
                 WHERE lower(email) = lower($1) AND locked_until_ms > $2",
                &[&email, &now_ms],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn unlock_user(&self, email: &str) -> Result<bool, StorageError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE users SET failed_logins = 0, locked_until_ms = NULL
                 WHERE lower(email) = lower($1)",
                &[&email],
            )? > 0)
        })
    }

    fn quarantine(&self, limit: u64) -> Result<(Vec<QuarantineRow>, u64), StorageError> {
        self.with(|c| {
            let total: i64 = c.query_one("SELECT count(*) FROM quarantine", &[])?.get(0);
            let rows = c.query(
                "SELECT coalesce(k.name, ''), coalesce(k.uuid, ''), q.seq, q.kind, q.reason, q.received_ms
                 FROM quarantine q LEFT JOIN kiosks k ON k.id = q.kiosk
                 ORDER BY q.received_ms DESC, q.seq DESC LIMIT $1",
                &[&(limit.min(10_000) as i64)],
            )?;
            let rows = rows
                .iter()
                .map(|r| QuarantineRow {
                    kiosk_name: r.get(0),
                    kiosk: Uuid::parse_str(r.get::<_, &str>(1)).unwrap_or_default(),
                    seq: r.get(2),
                    kind: r.get(3),
                    reason: r.get(4),
                    received_ms: r.get(5),
                })
                .collect();
            Ok((rows, total as u64))
        })
    }

    fn create_user_link(
        &self,
        user_id: i64,
        token_hash: &str,
        purpose: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "DELETE FROM user_links WHERE user_id = $1 AND used_ms IS NULL",
                &[&user_id],
            )?;
            tx.execute(
                "INSERT INTO user_links(token_hash, user_id, purpose, created_ms, expires_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&token_hash, &user_id, &purpose, &now_ms, &expires_ms],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn user_link(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(User, String)>, StorageError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT u.id, u.email, u.password_hash, u.role, u.org, l.purpose
                 FROM user_links l JOIN users u ON u.id = l.user_id
                 WHERE l.token_hash = $1 AND l.used_ms IS NULL AND l.expires_ms > $2
                   AND u.disabled_ms IS NULL",
                &[&token_hash, &now_ms],
            )?
            .map(|r| (user(&r), r.get(5))))
        })
    }

    fn redeem_user_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<Option<User>, StorageError> {
        let Some((user, _)) = self.user_link(token_hash, now_ms)? else {
            return Ok(None);
        };
        self.with(|c| {
            let mut tx = c.transaction()?;
            // Used once: whoever comes second finds it used.
            let n = tx.execute(
                "UPDATE user_links SET used_ms = $2
                 WHERE token_hash = $1 AND used_ms IS NULL AND expires_ms > $2",
                &[&token_hash, &now_ms],
            )?;
            if n == 0 {
                return Ok(None);
            }
            // A link is the admins' recovery of an account: the second factor starts over.
            tx.execute(
                "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until_ms = NULL,
                     totp_secret = NULL, totp_step = NULL
                 WHERE id = $1",
                &[&user.id, &password_hash],
            )?;
            tx.execute("DELETE FROM staff_sessions WHERE user_id = $1", &[&user.id])?;
            tx.execute(
                "DELETE FROM login_challenges WHERE user_id = $1",
                &[&user.id],
            )?;
            tx.commit()?;
            Ok(Some(User {
                password_hash: password_hash.to_owned(),
                ..user.clone()
            }))
        })
    }

    fn users(&self) -> Result<Vec<UserRow>, StorageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT id, email, role, org, created_ms, disabled_ms, locked_until_ms
                 FROM users ORDER BY lower(email), id",
                &[],
            )?
            .iter()
            .map(|r| UserRow {
                id: r.get(0),
                email: r.get(1),
                role: Role::stored(r.get::<_, &str>(2)),
                org: r.get(3),
                created_ms: r.get(4),
                disabled_ms: r.get(5),
                locked_until_ms: r.get(6),
            })
            .collect())
        })
    }

    fn set_user_disabled(
        &self,
        user_id: i64,
        disabled: bool,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE users SET disabled_ms = $2 WHERE id = $1",
                &[&user_id, &disabled.then_some(now_ms)],
            )?;
            if disabled {
                tx.execute("DELETE FROM staff_sessions WHERE user_id = $1", &[&user_id])?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn set_user_role(&self, user_id: i64, role: Role, org: &str) -> Result<bool, StorageError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE users SET role = $2, org = $3 WHERE id = $1",
                &[&user_id, &role.as_str(), &org],
            )? == 1)
        })
    }

    fn totp_secret(&self, user_id: i64) -> Result<Option<String>, StorageError> {
        self.with(|c| {
            Ok(
                c.query_opt("SELECT totp_secret FROM users WHERE id = $1", &[&user_id])?
                    .and_then(|r| r.get(0)),
            )
        })
    }

    fn set_totp_secret(&self, user_id: i64, secret: Option<&str>) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET totp_secret = $2, totp_step = NULL WHERE id = $1",
                &[&user_id, &secret],
            )?;
            Ok(())
        })
    }

    fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StorageError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE users SET totp_step = $2
                 WHERE id = $1 AND totp_secret IS NOT NULL AND coalesce(totp_step, -1) < $2",
                &[&user_id, &step],
            )? == 1)
        })
    }

    fn create_login_challenge(
        &self,
        token_hash: &str,
        user_id: i64,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM login_challenges WHERE expires_ms < $1",
                &[&now_ms],
            )?;
            c.execute(
                "INSERT INTO login_challenges(token_hash, user_id, created_ms, expires_ms)
                 VALUES ($1, $2, $3, $4)",
                &[&token_hash, &user_id, &now_ms, &expires_ms],
            )?;
            Ok(())
        })
    }

    fn login_challenge(&self, token_hash: &str, now_ms: i64) -> Result<Option<User>, StorageError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT u.id, u.email, u.password_hash, u.role, u.org
                 FROM login_challenges l JOIN users u ON u.id = l.user_id
                 WHERE l.token_hash = $1 AND l.expires_ms > $2 AND u.disabled_ms IS NULL",
                &[&token_hash, &now_ms],
            )?
            .map(|r| user(&r)))
        })
    }

    fn end_login_challenge(&self, token_hash: &str) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM login_challenges WHERE token_hash = $1",
                &[&token_hash],
            )?;
            Ok(())
        })
    }

    fn locked_users(&self, now_ms: i64) -> Result<Vec<(String, i64)>, StorageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT email, locked_until_ms FROM users WHERE locked_until_ms > $1 ORDER BY email",
                &[&now_ms],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn audit(
        &self,
        user_id: Option<i64>,
        action: AuditAction,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let detail = capped(detail, AUDIT_DETAIL_MAX);
        self.with(|c| {
            c.execute(
                "INSERT INTO audit(at_ms, user_id, action, detail) VALUES ($1, $2, $3, $4)",
                &[&now_ms, &user_id, &action.as_str(), &detail],
            )?;
            Ok(())
        })
    }

    fn audit_log(&self, limit: u64, offset: u64) -> Result<(Vec<AuditEntry>, u64), StorageError> {
        self.with(|c| {
            let total: i64 = c.query_one("SELECT count(*) FROM audit", &[])?.get(0);
            let rows = c.query(
                "SELECT a.at_ms, u.email, a.action, a.detail FROM audit a
                 LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT $1 OFFSET $2",
                &[
                    &(limit.min(i64::MAX as u64) as i64),
                    &(offset.min(i64::MAX as u64) as i64),
                ],
            )?;
            let rows = rows
                .iter()
                .map(|r| AuditEntry {
                    at_ms: r.get(0),
                    email: r.get(1),
                    action: r.get(2),
                    detail: r.get(3),
                })
                .collect();
            Ok((rows, total as u64))
        })
    }

    fn summary(&self) -> Result<Summary, StorageError> {
        self.with(|c| {
            let kiosks = PostgresStorage::kiosk_list(c)?;
            let kinds = c
                .query(
                    "SELECT kind, sum(count)::BIGINT FROM rollup_kinds GROUP BY kind ORDER BY kind",
                    &[],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let leads = c
                .query_one("SELECT count(*) FROM leads WHERE erased_ms IS NULL", &[])?
                .get(0);
            let qr_opens = c.query_one("SELECT count(*) FROM qr_opens", &[])?.get(0);
            Ok(Summary {
                kiosks,
                kinds,
                leads,
                qr_opens,
            })
        })
    }
}
