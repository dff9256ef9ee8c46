-- Field hardening: which events each kiosk may sign QR codes for, its clock's offset (to judge
-- a token's age when the kiosk's clock was wrong), and one funnel open per visitor and code.

-- Every event a kiosk was assigned to on the server or served (its records carried it).
CREATE TABLE kiosk_events (
    kiosk    INTEGER NOT NULL REFERENCES kiosks(id),
    event_id TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    PRIMARY KEY (kiosk, event_id)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO kiosk_events(kiosk, event_id, first_ms)
    SELECT id, event_id, created_ms FROM kiosks WHERE event_id IS NOT NULL AND event_id != '';
INSERT OR IGNORE INTO kiosk_events(kiosk, event_id, first_ms)
    SELECT kiosk, event_id, min(received_ms) FROM records
    WHERE event_id IS NOT NULL AND event_id != '' GROUP BY kiosk, event_id;

-- The server's time minus the kiosk's wall clock at its last push (ms).
ALTER TABLE kiosks ADD COLUMN clock_offset_ms INTEGER;

-- A pseudonymous visitor key (a hash of the code and the phone's network, never the address
-- itself): a reload, a language switch or a flood from one network is one open.
ALTER TABLE qr_opens ADD COLUMN visitor TEXT;
CREATE UNIQUE INDEX qr_opens_visitor ON qr_opens(nonce, purpose, visitor);

-- Staff sign-in: failed attempts and a growing lockout per account, visible to staff and
-- lifted by an admin; sessions end after 30 minutes unused.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until_ms INTEGER;
ALTER TABLE staff_sessions ADD COLUMN last_seen_ms INTEGER;
CREATE INDEX staff_sessions_user ON staff_sessions(user_id);

-- A lead is never overwritten by someone else: before its contact changes (a second form
-- through the same QR code with the same email, a kiosk resending it, a restore), the fields
-- it had are kept here, with when and how they came, and the change is audited. Erasing the
-- lead erases these too.
CREATE TABLE lead_versions (
    id           INTEGER PRIMARY KEY,
    lead_id      BLOB NOT NULL,
    replaced_ms  INTEGER NOT NULL,
    source       TEXT NOT NULL,
    lang         TEXT,
    name         TEXT NOT NULL,
    organisation TEXT NOT NULL,
    email        TEXT NOT NULL,
    phone        TEXT NOT NULL,
    country      TEXT NOT NULL,
    title        TEXT NOT NULL,
    interests    TEXT,
    consent      TEXT,
    updated_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX lead_versions_lead ON lead_versions(lead_id);

CREATE TRIGGER lead_versions_keep BEFORE UPDATE OF name, organisation, email, phone, country, title ON leads
WHEN old.erased_ms IS NULL AND new.erased_ms IS NULL
     AND (old.name || old.organisation || old.email || old.phone) != ''
     AND (old.name IS NOT new.name OR old.organisation IS NOT new.organisation
          OR old.email IS NOT new.email OR old.phone IS NOT new.phone
          OR old.country IS NOT new.country OR old.title IS NOT new.title)
BEGIN
    INSERT INTO lead_versions(lead_id, replaced_ms, source, lang, name, organisation, email, phone,
        country, title, interests, consent, updated_ms)
    VALUES (old.lead_id, new.updated_ms, old.source, old.lang, old.name, old.organisation,
        old.email, old.phone, old.country, old.title, old.interests, old.consent, old.updated_ms);
    INSERT INTO audit(at_ms, user_id, action, detail)
    VALUES (new.updated_ms, NULL, 'lead_overwritten', lower(hex(old.lead_id)));
END;

-- Raw badge scans (personal text) and lead records are found without scanning every record:
-- erasure, a person's request and retention reach them.
CREATE INDEX records_personal ON records(kind) WHERE kind IN ('raw_scan', 'lead');

-- Records that could not be read or stored as their kind: kept (the raw record stays in
-- `records` as kind `quarantined`), acknowledged to the kiosk, shown to admins, counted nowhere.
CREATE TABLE quarantine (
    kiosk       INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,     -- the kind the body claims ('' when it names none)
    reason      TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (kiosk, seq)
) STRICT, WITHOUT ROWID;
