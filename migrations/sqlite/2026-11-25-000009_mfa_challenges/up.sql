-- The password step of a two-factor sign-in: the mfa_token names one of these (its `jti`), so
-- that a token opens one session at most and has at most five codes checked against it.
CREATE TABLE mfa_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
