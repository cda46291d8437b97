-- Keys may end on their own: a key past `expires_at` is refused like a
-- revoked one. Keys made before this migration never expire.
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
CREATE INDEX api_keys_by_clinic ON api_keys (clinic, created_at, id);
