-- Delegation members erased by staff (Law 91/2025). Only a hash of the delegation and the name
-- is kept, so that importing the same pack again does not bring the member back, and the
-- tombstone itself holds no personal data.
CREATE TABLE erased_members (
    delegation TEXT NOT NULL,
    name_hash  TEXT NOT NULL,   -- hex sha256 of "<delegation>\n<name, trimmed, lower-case>"
    erased_ms  INTEGER NOT NULL,
    PRIMARY KEY (delegation, name_hash)
) STRICT;
