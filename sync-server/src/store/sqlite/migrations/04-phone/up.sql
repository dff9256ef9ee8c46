-- Phones opening the kiosks' QR codes: one row per open, for the funnel QR shown → opened → lead.
CREATE TABLE qr_opens (
    id       INTEGER PRIMARY KEY,
    nonce    TEXT NOT NULL,
    kiosk    INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    item     TEXT NOT NULL,
    lang     TEXT NOT NULL,
    purpose  TEXT NOT NULL,         -- take_away | interest
    at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX qr_opens_nonce ON qr_opens(nonce);
