-- Identity: verification, lockout, single-use tokens, rate limits and the audit log.
-- Keep in step with the other backend's tree (PostgreSQL).

ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;

-- E-mail verification and password reset tokens, stored as SHA-256 hashes; each works once.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Fixed-window counters shared by every process (per-IP and per-account limits).
CREATE TABLE rate_limits (
    key          TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL,
    actor_id    TEXT,                 -- who did it (NULL: anonymous or the system)
    account_id  TEXT,                 -- whose account trail it belongs to
    action      TEXT NOT NULL,        -- e.g. auth.login, auth.login_failed, password.changed
    target_type TEXT,
    target_id   TEXT,
    ip          TEXT,
    user_agent  TEXT,
    details     TEXT NOT NULL,        -- JSON
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);
CREATE INDEX audit_log_account ON audit_log (account_id, created_at);
CREATE INDEX audit_log_action ON audit_log (action, created_at);
