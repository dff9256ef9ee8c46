-- QR codes shown on kiosks per (event, item, language, hour, purpose): the first step of the
-- funnel per item, language and hour (phones' opens and leads carry their item and language).
CREATE TABLE rollup_qr (
    event_id TEXT NOT NULL,            -- '' for no event
    item     TEXT NOT NULL,            -- '' for a code shown on no item's page
    lang     TEXT NOT NULL,
    hour     INTEGER NOT NULL,         -- corrected_ms / 3600000 (UTC hours since epoch)
    purpose  TEXT NOT NULL,            -- take_away | interest
    shown    INTEGER NOT NULL,
    PRIMARY KEY (event_id, item, lang, hour, purpose)
) STRICT, WITHOUT ROWID;

-- The codes shown before this roll-up existed, from the records as the kiosks sent them (a
-- record is stored as qr_shown only when its body read as one).
INSERT INTO rollup_qr(event_id, item, lang, hour, purpose, shown)
SELECT coalesce(event_id, ''), coalesce(json_extract(body, '$.item'), ''),
       coalesce(json_extract(body, '$.lang'), ''), corrected_ms / 3600000,
       coalesce(json_extract(body, '$.purpose'), ''), count(*)
FROM records WHERE kind = 'qr_shown'
GROUP BY 1, 2, 3, 4, 5;
