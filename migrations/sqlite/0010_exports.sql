-- Every export of a clinic's record: who (the key), when, and the range
-- asked for. Written before the first line is sent.
CREATE TABLE exports (
    id          TEXT PRIMARY KEY,
    clinic      TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    range_from  TEXT,
    range_to    TEXT
);
CREATE INDEX exports_by_clinic ON exports (clinic, at);
