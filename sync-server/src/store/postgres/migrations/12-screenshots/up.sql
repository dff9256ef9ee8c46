-- A picture of a kiosk's screen on request: staff ask (the time they asked), the kiosk sends
-- a small JPEG with its next sync round; only the newest one is kept.
ALTER TABLE kiosks ADD COLUMN screenshot_requested_ms BIGINT;
CREATE TABLE kiosk_screenshots (
    kiosk    BIGINT PRIMARY KEY REFERENCES kiosks(id),
    taken_ms BIGINT NOT NULL,
    jpeg     BYTEA NOT NULL
);
