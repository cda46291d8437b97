-- Reads of a record, kept apart from the screening's events: a read takes
-- no per-screening sequence, so it never collides with a review or a
-- correction. The order is the database's own (an autoincrement key).
-- Append-only, like the events.
CREATE TABLE screening_views (
    n             INTEGER PRIMARY KEY AUTOINCREMENT,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX screening_views_by_screening ON screening_views (screening_id, at, n);
CREATE TRIGGER screening_views_no_update BEFORE UPDATE ON screening_views
BEGIN SELECT RAISE(ABORT, 'screening_views is append-only'); END;
CREATE TRIGGER screening_views_no_delete BEFORE DELETE ON screening_views
BEGIN SELECT RAISE(ABORT, 'screening_views is append-only'); END;
