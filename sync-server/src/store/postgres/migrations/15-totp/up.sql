-- The optional second factor: a TOTP secret (RFC 6238, base32) per account, and the last
-- 30-second step a code was accepted in, so that a code works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_step BIGINT;

-- A sign-in whose password was right and whose code is still due: not a session, nothing
-- is reachable with it but the code form. Only the cookie token's sha256 is kept.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
