-- Settings staff give a kiosk on the server (idle timeout, languages, attract item duration,
-- staff PIN hash) as the JSON of `protocol::sync::KioskSettings`, and their revision, which
-- grows at every change (the event, kept in `event_id`, included): a kiosk applies a revision
-- above the one it applied last.
ALTER TABLE kiosks ADD COLUMN settings TEXT;
ALTER TABLE kiosks ADD COLUMN settings_rev BIGINT NOT NULL DEFAULT 0;
