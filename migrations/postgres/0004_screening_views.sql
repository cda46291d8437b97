-- Reads of a record, kept apart from the screening's events: a read takes
-- no lock and no per-screening sequence, so it never waits for, or collides
-- with, a review or a correction. The order is the database's own (an
-- identity column). Append-only, like the events.
CREATE TABLE screening_views (
    n             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX screening_views_by_screening ON screening_views (screening_id, at, n);

CREATE FUNCTION append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER screening_views_no_change BEFORE UPDATE OR DELETE ON screening_views
FOR EACH ROW EXECUTE FUNCTION append_only();
