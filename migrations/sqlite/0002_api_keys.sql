-- API keys: long random secrets stored only as their SHA-256.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    secret_hash   TEXT NOT NULL UNIQUE,
    clinic        TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('intake', 'clinician', 'admin')),
    label         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

-- One row once the first-run admin key was made, so that two instances
-- starting on an empty database make only one.
CREATE TABLE bootstrap (
    name  TEXT PRIMARY KEY,
    at    TEXT NOT NULL
);
