-- Roll-ups for the staff reports, so that a report never scans records: views per Vietnam day
-- (kept from rollup_views by triggers), sessions per hour and kiosk-days (kept at ingest by
-- sqlite_reports::ReportRollups).

-- rollup_views by Vietnam day (UTC+7): a date range of a report reads days, not hours.
CREATE TABLE rollup_views_day (
    event_id TEXT NOT NULL,
    day      INTEGER NOT NULL,         -- (corrected_ms + 7 h) / 86400000
    item     TEXT NOT NULL,
    lang     TEXT NOT NULL,
    origin   TEXT NOT NULL,            -- attract | visitor | presenter
    views    INTEGER NOT NULL,
    dwell_ms INTEGER NOT NULL,
    PRIMARY KEY (event_id, day, item, lang, origin)
) STRICT, WITHOUT ROWID;

-- Whoever writes rollup_views (ingest, a tool), the day roll-up follows in the same transaction.
CREATE TRIGGER rollup_views_day_insert AFTER INSERT ON rollup_views BEGIN
    INSERT INTO rollup_views_day(event_id, day, item, lang, origin, views, dwell_ms)
        VALUES (NEW.event_id, (NEW.hour + 7) / 24, NEW.item, NEW.lang, NEW.origin, NEW.views,
            NEW.dwell_ms)
        ON CONFLICT DO UPDATE SET views = views + excluded.views,
            dwell_ms = dwell_ms + excluded.dwell_ms;
END;
CREATE TRIGGER rollup_views_day_update AFTER UPDATE ON rollup_views BEGIN
    UPDATE rollup_views_day SET views = views - OLD.views, dwell_ms = dwell_ms - OLD.dwell_ms
        WHERE event_id = OLD.event_id AND day = (OLD.hour + 7) / 24 AND item = OLD.item
        AND lang = OLD.lang AND origin = OLD.origin;
    INSERT INTO rollup_views_day(event_id, day, item, lang, origin, views, dwell_ms)
        VALUES (NEW.event_id, (NEW.hour + 7) / 24, NEW.item, NEW.lang, NEW.origin, NEW.views,
            NEW.dwell_ms)
        ON CONFLICT DO UPDATE SET views = views + excluded.views,
            dwell_ms = dwell_ms + excluded.dwell_ms;
END;
CREATE TRIGGER rollup_views_day_delete AFTER DELETE ON rollup_views BEGIN
    UPDATE rollup_views_day SET views = views - OLD.views, dwell_ms = dwell_ms - OLD.dwell_ms
        WHERE event_id = OLD.event_id AND day = (OLD.hour + 7) / 24 AND item = OLD.item
        AND lang = OLD.lang AND origin = OLD.origin;
END;

-- Visitor sessions per hour: starts, ends and the ended sessions' total length.
CREATE TABLE rollup_sessions (
    event_id    TEXT NOT NULL,
    hour        INTEGER NOT NULL,      -- corrected_ms / 3600000 (UTC hours since epoch)
    started     INTEGER NOT NULL,
    ended       INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (event_id, hour)
) STRICT, WITHOUT ROWID;

-- Every (Vietnam day, kiosk, event) with at least one record: kiosk-days of the yearly report.
CREATE TABLE rollup_kiosk_days (
    day      INTEGER NOT NULL,         -- (corrected_ms + 7 h) / 86400000
    kiosk    INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    records  INTEGER NOT NULL,
    PRIMARY KEY (day, kiosk, event_id)
) STRICT, WITHOUT ROWID;

-- The funnel counts QR opens per event and period.
CREATE INDEX qr_opens_event ON qr_opens(event_id, at_ms);
-- Leads per event, country and source are counted from this index alone.
CREATE INDEX leads_report ON leads(event_id, country, source, created_ms) WHERE merged_into IS NULL;

-- What was recorded before this migration (a one-time scan; ingest keeps them from now on).
INSERT INTO rollup_views_day(event_id, day, item, lang, origin, views, dwell_ms)
    SELECT event_id, (hour + 7) / 24, item, lang, origin, sum(views), sum(dwell_ms)
    FROM rollup_views GROUP BY 1, 2, 3, 4, 5;

INSERT INTO rollup_sessions(event_id, hour, started, ended, duration_ms)
    SELECT COALESCE(event_id, ''), corrected_ms / 3600000,
        coalesce(sum(json_extract(body, '$.phase.phase') = 'start'), 0),
        coalesce(sum(json_extract(body, '$.phase.phase') = 'end'), 0),
        coalesce(sum(CASE WHEN json_extract(body, '$.phase.phase') = 'end'
            THEN coalesce(json_extract(body, '$.phase.duration_ms'), 0) ELSE 0 END), 0)
    FROM records WHERE kind = 'session' GROUP BY 1, 2;

INSERT INTO rollup_kiosk_days(day, kiosk, event_id, records)
    SELECT (corrected_ms + 25200000) / 86400000, kiosk, COALESCE(event_id, ''), count(*)
    FROM records GROUP BY 1, 2, 3;
