-- Organising units with their lead retention, and events (fairs, delegations, meetings) with
-- the unit that organises them and the person responsible. A unit sees its own events' leads.
CREATE TABLE orgs (
    name           TEXT PRIMARY KEY,
    retention_days INTEGER,            -- leads older than this are erased; NULL keeps them
    created_ms     INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO orgs(name, retention_days) VALUES
    ('Department of Culture, Sports and Tourism', 730),
    ('Department of Foreign Affairs', 730),
    ('Investment, Trade and Tourism Promotion Centre', 730);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,      -- the id content packs and kiosks use
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'fair',   -- fair | delegation | meeting
    starts      TEXT NOT NULL DEFAULT '',       -- YYYY-MM-DD
    ends        TEXT NOT NULL DEFAULT '',
    venue       TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    languages   TEXT NOT NULL DEFAULT '',       -- comma-separated tags
    org         TEXT NOT NULL,
    responsible TEXT NOT NULL DEFAULT '',       -- the plan's "clear person"
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;

CREATE INDEX leads_event ON leads(event_id);
CREATE INDEX leads_email ON leads(email) WHERE email <> '';
CREATE INDEX leads_phone ON leads(phone) WHERE phone <> '';
CREATE INDEX leads_created ON leads(created_ms);
-- A duplicate merged into another lead points at it (and is erased).
ALTER TABLE leads ADD COLUMN merged_into BLOB;
