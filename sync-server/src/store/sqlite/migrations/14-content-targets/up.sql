-- A content version published to one event: kiosks of that event play it instead of the
-- default (the version published last in content_versions).
CREATE TABLE event_content (
    event_id     TEXT PRIMARY KEY,
    version      TEXT NOT NULL REFERENCES content_versions(version),
    published_ms INTEGER NOT NULL
) STRICT;

-- The one draft staff edit in the browser before publishing it as a new version: the pack
-- (JSON of protocol::content::Pack) and its media (JSON of [protocol::content::MediaEntry]).
CREATE TABLE content_draft (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    based_on   TEXT,
    pack       TEXT NOT NULL,
    media      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    -- 1 when stored, and one more at every save: a save made from an older read is refused,
    -- never lost silently.
    revision   INTEGER NOT NULL DEFAULT 0
) STRICT;
