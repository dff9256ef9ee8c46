-- Why a kiosk's newest content version is not playing (from its heartbeats).
ALTER TABLE kiosks ADD COLUMN content_error TEXT;
