-- A counter bumped in the transaction of every revocation. Each instance
-- caches the keys it has verified, and drops them all when it sees the
-- counter change (it reads it every 250 ms; on PostgreSQL a NOTIFY on
-- `facet_screen_keys` also tells it at once).
CREATE TABLE key_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO key_generation (id, generation) VALUES (1, 0);
