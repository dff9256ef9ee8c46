CREATE TABLE orgs (
    name           TEXT PRIMARY KEY,
    retention_days BIGINT,
    created_ms     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO orgs(name, retention_days) VALUES
    ('Department of Culture, Sports and Tourism', 730),
    ('Department of Foreign Affairs', 730),
    ('Investment, Trade and Tourism Promotion Centre', 730);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'fair',
    starts      TEXT NOT NULL DEFAULT '',
    ends        TEXT NOT NULL DEFAULT '',
    venue       TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    languages   TEXT NOT NULL DEFAULT '',
    org         TEXT NOT NULL,
    responsible TEXT NOT NULL DEFAULT '',
    created_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL
);

CREATE INDEX leads_event ON leads(event_id);
CREATE INDEX leads_email ON leads(email) WHERE email <> '';
CREATE INDEX leads_phone ON leads(phone) WHERE phone <> '';
CREATE INDEX leads_created ON leads(created_ms);
ALTER TABLE leads ADD COLUMN merged_into BYTEA;
