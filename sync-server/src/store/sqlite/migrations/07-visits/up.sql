-- Delegation visits presented from kiosks: one row per visit, kept at ingest from the `visit`
-- records (sqlite_visits::insert_visit, in the ingest transaction). A visit is counted once
-- however often it is pushed: the key is the kiosk's visit id, not the record.
CREATE TABLE visits (
    visit_id    BLOB PRIMARY KEY,
    kiosk       INTEGER NOT NULL,
    delegation  TEXT NOT NULL,
    deck        TEXT NOT NULL,
    started_ms  INTEGER NOT NULL,      -- corrected time of the record minus duration_ms
    ended_ms    INTEGER NOT NULL,      -- corrected time of the record
    duration_ms INTEGER NOT NULL,
    attendees   INTEGER NOT NULL,      -- as the host entered it
    blank_ms    INTEGER NOT NULL,
    slides      TEXT NOT NULL,         -- JSON array of protocol::SlideShown, in the order shown
    qr_nonces   TEXT NOT NULL,         -- JSON array of the closing slide's QR nonces (hex)
    ended       TEXT NOT NULL,         -- host | interrupted
    received_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX visits_delegation ON visits(delegation);
CREATE INDEX visits_started ON visits(started_ms);

-- The members of each delegation as the content pack gave them. Kept on the server only: the
-- manifest kiosks pull carries their number, never their names.
CREATE TABLE delegation_members (
    delegation   TEXT NOT NULL,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    organisation TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delegation, position)
) STRICT, WITHOUT ROWID;

-- Visits a newer kiosk pushed before this migration (stored then as records of an unknown
-- kind, body intact): a one-time scan; ingest keeps the table from now on.
INSERT OR IGNORE INTO visits(visit_id, kiosk, delegation, deck, started_ms, ended_ms,
        duration_ms, attendees, blank_ms, slides, qr_nonces, ended, received_ms)
    SELECT unhex(replace(json_extract(body, '$.visit_id'), '-', '')), kiosk,
        json_extract(body, '$.delegation'), json_extract(body, '$.deck'),
        corrected_ms - json_extract(body, '$.duration_ms'), corrected_ms,
        json_extract(body, '$.duration_ms'), json_extract(body, '$.attendees'),
        coalesce(json_extract(body, '$.blank_ms'), 0),
        coalesce(json(json_extract(body, '$.slides')), '[]'),
        coalesce(json(json_extract(body, '$.qr_nonces')), '[]'),
        json_extract(body, '$.ended'), received_ms
    FROM records
    WHERE kind IN ('visit', 'unknown') AND json_valid(body)
        AND json_extract(body, '$.kind') = 'visit'
        AND length(unhex(replace(json_extract(body, '$.visit_id'), '-', ''))) = 16
        AND json_type(body, '$.delegation') = 'text' AND json_type(body, '$.deck') = 'text'
        AND json_type(body, '$.duration_ms') = 'integer'
        AND json_type(body, '$.attendees') = 'integer'
        AND json_extract(body, '$.ended') IN ('host', 'interrupted')
    ORDER BY kiosk, seq;
