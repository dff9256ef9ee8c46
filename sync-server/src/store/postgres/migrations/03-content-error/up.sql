ALTER TABLE kiosks ADD COLUMN content_error TEXT;
