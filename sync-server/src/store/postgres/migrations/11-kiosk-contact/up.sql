-- When a kiosk last asked for its cursor (every sync round, every 15 s by default, pushing or
-- not): the fleet view's online / late / offline.
ALTER TABLE kiosks ADD COLUMN last_contact_ms BIGINT;
