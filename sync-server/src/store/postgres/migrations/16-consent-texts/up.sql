-- Every version of a consent text, kept with its exact words the first time a lead agreed to
-- it: a lead's consent names its version by the sha256 of the text (its digest), and the staff
-- lead page shows the text of that version, not today's.
CREATE TABLE consent_texts (
    digest        TEXT PRIMARY KEY,
    text_id       TEXT NOT NULL,
    lang          TEXT NOT NULL,
    text          TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL
);
