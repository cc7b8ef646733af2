-- Foundation schema (PostgreSQL). Keep in step with migrations/sqlite: same tables, same columns.
-- Ids are opaque UUIDv7 strings; timestamps are UTC; money is integer minor units.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL,             -- stored trimmed and lower-cased
    password_hash TEXT NOT NULL,             -- argon2id PHC string
    role          TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'client')),
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_created ON users (role, created_at);

-- A signed-in session (one per login). Refresh tokens rotate inside it.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip           TEXT,
    user_agent   TEXT,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens, stored as SHA-256 hashes. A token is used once; using it again revokes its session.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE products (
    id           TEXT PRIMARY KEY NOT NULL,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    product_type TEXT NOT NULL,
    description  TEXT NOT NULL,
    features     TEXT NOT NULL,              -- JSON array of strings
    featured     BOOLEAN NOT NULL DEFAULT FALSE,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order   INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE product_prices (
    product_id      TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    cycle           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    setup_fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (setup_fee_minor >= 0),
    PRIMARY KEY (product_id, cycle, currency)
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,                -- JSON
    updated_at TIMESTAMP NOT NULL
);
