-- A picture of a kiosk's screen on request: staff ask (the time they asked), the kiosk sends
-- a small JPEG with its next sync round; only the newest one is kept.
ALTER TABLE kiosks ADD COLUMN screenshot_requested_ms INTEGER;
CREATE TABLE kiosk_screenshots (
    kiosk    INTEGER PRIMARY KEY REFERENCES kiosks(id),
    taken_ms INTEGER NOT NULL,
    jpeg     BLOB NOT NULL
) STRICT;
