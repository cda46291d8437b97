-- Screenings, their append-only audit trail, and idempotency keys.
-- Times are UTC RFC 3339 text with microseconds (sortable as text), the same
-- representation as on SQLite so that one set of queries serves both.
CREATE TABLE screenings (
    id               TEXT PRIMARY KEY,
    clinic           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending_review', 'confirmed', 'overridden')),
    suggested        TEXT NOT NULL,
    final_outcome    TEXT,
    answers          TEXT NOT NULL,
    evaluation       TEXT NOT NULL,
    answers_version  BIGINT NOT NULL,
    review           TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX screenings_by_clinic_created ON screenings (clinic, created_at, id);
CREATE INDEX screenings_queue ON screenings (status, created_at, id);

CREATE TABLE screening_events (
    id            TEXT PRIMARY KEY,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    data          TEXT NOT NULL,
    UNIQUE (screening_id, seq)
);

CREATE FUNCTION screening_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'screening_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER screening_events_no_change BEFORE UPDATE OR DELETE ON screening_events
FOR EACH ROW EXECUTE FUNCTION screening_events_append_only();

CREATE TABLE idempotency_keys (
    clinic        TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    created_at    TEXT NOT NULL,
    PRIMARY KEY (clinic, key)
);
