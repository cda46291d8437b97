-- The answers and the evaluation (a few KB each) are compressed with lz4
-- rather than pglz when stored: pglz was about a tenth of PostgreSQL's time
-- per creation under load. Rows already stored keep their compression.
-- A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE screenings
        ALTER COLUMN answers SET COMPRESSION lz4,
        ALTER COLUMN evaluation SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: the answers stay compressed with pglz';
END
$$;
