-- Screenings, their append-only audit trail, and idempotency keys.
-- Times are UTC RFC 3339 text with microseconds (sortable as text).
CREATE TABLE screenings (
    id               TEXT PRIMARY KEY,
    clinic           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending_review', 'confirmed', 'overridden')),
    suggested        TEXT NOT NULL,
    final_outcome    TEXT,
    answers          TEXT NOT NULL,
    evaluation       TEXT NOT NULL,
    answers_version  INTEGER NOT NULL,
    review           TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX screenings_by_clinic_created ON screenings (clinic, created_at, id);
CREATE INDEX screenings_queue ON screenings (status, created_at, id);

CREATE TABLE screening_events (
    id            TEXT PRIMARY KEY,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    data          TEXT NOT NULL,
    UNIQUE (screening_id, seq)
);

CREATE TRIGGER screening_events_no_update BEFORE UPDATE ON screening_events
BEGIN SELECT RAISE(ABORT, 'screening_events is append-only'); END;
CREATE TRIGGER screening_events_no_delete BEFORE DELETE ON screening_events
BEGIN SELECT RAISE(ABORT, 'screening_events is append-only'); END;

CREATE TABLE idempotency_keys (
    clinic        TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    created_at    TEXT NOT NULL,
    PRIMARY KEY (clinic, key)
);
