CREATE TABLE visits (
    visit_id    BYTEA PRIMARY KEY,
    kiosk       BIGINT NOT NULL,
    delegation  TEXT NOT NULL,
    deck        TEXT NOT NULL,
    started_ms  BIGINT NOT NULL,
    ended_ms    BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    attendees   BIGINT NOT NULL,
    blank_ms    BIGINT NOT NULL,
    slides      TEXT NOT NULL,
    qr_nonces   TEXT NOT NULL,
    ended       TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX visits_delegation ON visits(delegation);
CREATE INDEX visits_started ON visits(started_ms);

CREATE TABLE delegation_members (
    delegation   TEXT NOT NULL,
    position     BIGINT NOT NULL,
    name         TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    organisation TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delegation, position)
);
