-- Staff accounts, their sessions, and the audit log of their actions.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,      -- argon2id PHC string
    role          TEXT NOT NULL,      -- admin | staff
    org           TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    disabled_ms   INTEGER
) STRICT;

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,      -- sha256 hex of the cookie value
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,
    user_id INTEGER,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
) STRICT;
