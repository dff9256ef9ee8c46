-- The kiosk's store: every record it makes, in order, until the server has it.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE records (
    seq      INTEGER PRIMARY KEY,           -- gap-free per kiosk, assigned here
    id       BLOB NOT NULL UNIQUE,          -- UUIDv7, 16 bytes
    wall_ms  INTEGER NOT NULL,
    boot_id  BLOB NOT NULL,
    mono_ms  INTEGER NOT NULL,
    clock_ok INTEGER NOT NULL,
    event_id TEXT,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,                 -- JSON of protocol::RecordBody
    lead_id  BLOB,                          -- for erasure and redaction
    acked_ms INTEGER                        -- when the server acknowledged it
) STRICT;

CREATE INDEX records_lead ON records(lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX records_acked ON records(acked_ms) WHERE acked_ms IS NOT NULL;
