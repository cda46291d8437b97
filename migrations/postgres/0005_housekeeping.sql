-- Scheduled housekeeping. With several instances on one database, which one
-- does a run is settled here: a guarded update of the job's row, so that
-- each run happens once.
CREATE TABLE housekeeping (
    job       TEXT PRIMARY KEY,
    last_run  TEXT NOT NULL
);
CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
CREATE INDEX cds_jwt_ids_by_expiry ON cds_jwt_ids (expires_at);
