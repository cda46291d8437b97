-- Repeated reads of a record by one key are kept as one row: `at` is the
-- first read, `last_at` the last, `reads` how many. A read joins the key's
-- latest row when that row's last read is less than the window ago and the
-- screening has not changed since the row began; otherwise it starts a row.
-- `follows` is the `n` of the key's row the new one came after (0 for its
-- first; null when reads are not collapsed): unique, so that two reads
-- racing to start the key's next row make one row, counted twice.
-- Rows already kept were one read each. The table stays append-only but for
-- one change: a read counted again (`reads` + 1, `last_at` not earlier).
DROP TRIGGER screening_views_no_change ON screening_views;
ALTER TABLE screening_views
    ADD COLUMN reads BIGINT NOT NULL DEFAULT 1 CHECK (reads >= 1),
    ADD COLUMN last_at TEXT,
    ADD COLUMN follows BIGINT;
UPDATE screening_views v SET last_at = v.at, follows = p.follows
FROM (SELECT n, COALESCE(LAG(n) OVER (PARTITION BY screening_id, actor ORDER BY n), 0) AS follows
      FROM screening_views) p
WHERE p.n = v.n;
ALTER TABLE screening_views
    ALTER COLUMN last_at SET NOT NULL,
    ALTER COLUMN reads DROP DEFAULT;
CREATE INDEX screening_views_by_key ON screening_views (screening_id, actor, n);
CREATE UNIQUE INDEX screening_views_one_next ON screening_views (screening_id, actor, follows);

CREATE FUNCTION screening_views_count_only() RETURNS trigger AS $$
BEGIN
    IF NEW.n = OLD.n AND NEW.screening_id = OLD.screening_id AND NEW.at = OLD.at
       AND NEW.actor = OLD.actor AND NEW.follows IS NOT DISTINCT FROM OLD.follows
       AND NEW.reads = OLD.reads + 1 AND NEW.last_at >= OLD.last_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'screening_views is append-only: a read may only be counted again';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER screening_views_count_only BEFORE UPDATE ON screening_views
FOR EACH ROW EXECUTE FUNCTION screening_views_count_only();
CREATE TRIGGER screening_views_no_delete BEFORE DELETE ON screening_views
FOR EACH ROW EXECUTE FUNCTION append_only();
