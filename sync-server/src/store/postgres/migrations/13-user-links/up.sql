-- One-time links an admin gives a person to set their password: an invitation for a new
-- account, or a reset. Only the token's sha256 is kept; a link works once, until it expires,
-- and a newer link for the same account replaces it.
CREATE TABLE user_links (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    purpose    TEXT NOT NULL,          -- invite | reset
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX user_links_user ON user_links(user_id);
