CREATE TABLE erased_members (
    delegation TEXT NOT NULL,
    name_hash  TEXT NOT NULL,
    erased_ms  BIGINT NOT NULL,
    PRIMARY KEY (delegation, name_hash)
);
