-- CDS Hooks: JWT ids already seen, so that a token is never replayed.
CREATE TABLE cds_jwt_ids (
    iss         TEXT NOT NULL,
    jti         TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (iss, jti)
);
