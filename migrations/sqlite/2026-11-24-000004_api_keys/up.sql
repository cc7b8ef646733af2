-- API keys for third parties: stored as SHA-256 hashes; the secret is shown once.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,             -- the first characters, to recognise a key
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,             -- JSON array: read, write, admin
    allowed_ips  TEXT NOT NULL,             -- JSON array; empty: any address
    expires_at   TIMESTAMP,
    last_used_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);
