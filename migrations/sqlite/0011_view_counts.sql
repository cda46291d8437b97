-- Repeated reads of a record by one key are kept as one row: `at` is the
-- first read, `last_at` the last, `reads` how many. A read joins the key's
-- latest row when that row's last read is less than the window ago and the
-- screening has not changed since the row began; otherwise it starts a row.
-- `follows` is the `n` of the key's row the new one came after (0 for its
-- first; null when reads are not collapsed): unique, so that two reads
-- racing to start the key's next row make one row, counted twice.
-- Rows already kept were one read each. The table stays append-only but for
-- one change: a read counted again (`reads` + 1, `last_at` not earlier).
-- The table is made anew (SQLite cannot add a NOT NULL column without a
-- constant default), keeping every row and its `n`.
DROP TRIGGER screening_views_no_update;
DROP TRIGGER screening_views_no_delete;
CREATE TABLE screening_views_counted (
    n             INTEGER PRIMARY KEY AUTOINCREMENT,
    screening_id  TEXT NOT NULL REFERENCES screenings (id),
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    reads         INTEGER NOT NULL CHECK (reads >= 1),
    last_at       TEXT NOT NULL,
    follows       INTEGER
);
INSERT INTO screening_views_counted (n, screening_id, at, actor, reads, last_at, follows)
SELECT n, screening_id, at, actor, 1, at,
       COALESCE(LAG(n) OVER (PARTITION BY screening_id, actor ORDER BY n), 0)
FROM screening_views;
DROP TABLE screening_views;
ALTER TABLE screening_views_counted RENAME TO screening_views;
CREATE INDEX screening_views_by_screening ON screening_views (screening_id, at, n);
CREATE INDEX screening_views_by_key ON screening_views (screening_id, actor, n);
CREATE UNIQUE INDEX screening_views_one_next ON screening_views (screening_id, actor, follows);
CREATE TRIGGER screening_views_count_only BEFORE UPDATE ON screening_views
WHEN NOT (NEW.n = OLD.n AND NEW.screening_id = OLD.screening_id AND NEW.at = OLD.at
          AND NEW.actor = OLD.actor AND NEW.follows IS OLD.follows
          AND NEW.reads = OLD.reads + 1 AND NEW.last_at >= OLD.last_at)
BEGIN SELECT RAISE(ABORT, 'screening_views is append-only: a read may only be counted again'); END;
CREATE TRIGGER screening_views_no_delete BEFORE DELETE ON screening_views
BEGIN SELECT RAISE(ABORT, 'screening_views is append-only'); END;
