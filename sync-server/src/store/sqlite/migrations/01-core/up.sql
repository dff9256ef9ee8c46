-- The sync server's database: kiosks, every record exactly once, roll-ups, leads, content.
CREATE TABLE kiosks (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    event_id         TEXT,
    secret_hash      TEXT,              -- sha256 hex of the kiosk's secret; NULL until enrolled
    token_key        BLOB,              -- the key the kiosk signs QR tokens with
    enrol_code_hash  TEXT UNIQUE,       -- sha256 hex of the one-time code; NULL once used
    enrol_expires_ms INTEGER,
    created_ms       INTEGER NOT NULL,
    enrolled_ms      INTEGER,
    revoked_ms       INTEGER,
    next_seq         INTEGER NOT NULL DEFAULT 1,   -- the cursor: every seq below is stored
    last_seen_ms     INTEGER,
    app_version      TEXT,
    content_version  TEXT,
    backlog          INTEGER,
    free_disk_bytes  INTEGER,
    uptime_ms        INTEGER
) STRICT;

-- Where each boot of each kiosk stands against the server's clock.
CREATE TABLE kiosk_boots (
    kiosk         INTEGER NOT NULL REFERENCES kiosks(id),
    boot_id       BLOB NOT NULL,
    ref_server_ms INTEGER NOT NULL,
    ref_mono_ms   INTEGER NOT NULL,
    PRIMARY KEY (kiosk, boot_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE records (
    kiosk        INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    id           BLOB NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    event_id     TEXT,
    wall_ms      INTEGER NOT NULL,     -- the kiosk's clock, as it was
    boot_id      BLOB NOT NULL,
    mono_ms      INTEGER NOT NULL,
    clock_ok     INTEGER NOT NULL,
    corrected_ms INTEGER NOT NULL,     -- best estimate of real time
    time_quality TEXT NOT NULL,        -- boot | kiosk | received
    received_ms  INTEGER NOT NULL,
    body         TEXT NOT NULL,        -- the body's JSON as the kiosk sent it
    PRIMARY KEY (kiosk, seq)
) STRICT, WITHOUT ROWID;

-- Holes a kiosk declared it can no longer fill (it pruned them before a restore).
CREATE TABLE seq_gaps (
    kiosk    INTEGER NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq   INTEGER NOT NULL,
    noted_ms INTEGER NOT NULL
) STRICT;

-- Kept at ingest so that reports do not scan records.
CREATE TABLE rollup_views (
    event_id TEXT NOT NULL,
    item     TEXT NOT NULL,
    lang     TEXT NOT NULL,
    hour     INTEGER NOT NULL,         -- corrected_ms / 3600000
    origin   TEXT NOT NULL,
    views    INTEGER NOT NULL,
    dwell_ms INTEGER NOT NULL,
    PRIMARY KEY (event_id, item, lang, hour, origin)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollup_kinds (
    event_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    hour     INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (event_id, kind, hour)
) STRICT, WITHOUT ROWID;

CREATE TABLE leads (
    lead_id      BLOB PRIMARY KEY,
    kiosk        INTEGER,
    event_id     TEXT,
    item         TEXT,
    lang         TEXT,
    source       TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    organisation TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    interests    TEXT NOT NULL DEFAULT '[]',
    consent      TEXT,                 -- JSON of protocol::Consent
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'new',
    notes        TEXT NOT NULL DEFAULT '',
    erased_ms    INTEGER               -- tombstone: never restored by a re-upload
) STRICT;
CREATE INDEX leads_kiosk ON leads(kiosk);

CREATE TABLE media (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE content_versions (
    id           INTEGER PRIMARY KEY,
    version      TEXT NOT NULL UNIQUE,
    manifest     TEXT NOT NULL,        -- JSON of protocol::content::Manifest
    created_ms   INTEGER NOT NULL,
    published_ms INTEGER
) STRICT;
