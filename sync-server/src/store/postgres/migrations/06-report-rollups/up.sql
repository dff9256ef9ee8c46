-- Report roll-ups. rollup_views_day follows rollup_views by triggers, as on SQLite.
CREATE TABLE rollup_views_day (
    event_id TEXT NOT NULL,
    day      BIGINT NOT NULL,
    item     TEXT NOT NULL,
    lang     TEXT NOT NULL,
    origin   TEXT NOT NULL,
    views    BIGINT NOT NULL,
    dwell_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, day, item, lang, origin)
);

CREATE FUNCTION rollup_views_day_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE rollup_views_day SET views = views - OLD.views, dwell_ms = dwell_ms - OLD.dwell_ms
            WHERE event_id = OLD.event_id AND day = (OLD.hour + 7) / 24 AND item = OLD.item
            AND lang = OLD.lang AND origin = OLD.origin;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO rollup_views_day(event_id, day, item, lang, origin, views, dwell_ms)
            VALUES (NEW.event_id, (NEW.hour + 7) / 24, NEW.item, NEW.lang, NEW.origin, NEW.views,
                NEW.dwell_ms)
            ON CONFLICT (event_id, day, item, lang, origin) DO UPDATE
            SET views = rollup_views_day.views + excluded.views,
                dwell_ms = rollup_views_day.dwell_ms + excluded.dwell_ms;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER rollup_views_day_follow AFTER INSERT OR UPDATE OR DELETE ON rollup_views
    FOR EACH ROW EXECUTE FUNCTION rollup_views_day_follow();

CREATE TABLE rollup_sessions (
    event_id    TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    started     BIGINT NOT NULL,
    ended       BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, hour)
);

CREATE TABLE rollup_kiosk_days (
    day      BIGINT NOT NULL,
    kiosk    BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    records  BIGINT NOT NULL,
    PRIMARY KEY (day, kiosk, event_id)
);

CREATE INDEX qr_opens_event ON qr_opens(event_id, at_ms);
CREATE INDEX leads_report ON leads(event_id, country, source, created_ms) WHERE merged_into IS NULL;
