-- Browsers that signed in to an account before: the signed `keel_device` cookie names one. Failed
-- sign-ins that present it are counted here, apart from the account's count for unknown sources,
-- so a stranger's guesses do not lock the owner out (README, "Sign-in security").
CREATE TABLE trusted_devices (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP NOT NULL
);
CREATE INDEX trusted_devices_user ON trusted_devices (user_id);

-- The "account locked" e-mail's one-time unlock link is a user token too.
ALTER TABLE user_tokens DROP CONSTRAINT user_tokens_purpose_check;
ALTER TABLE user_tokens ADD CONSTRAINT user_tokens_purpose_check CHECK (purpose IN ('verify_email', 'reset_password', 'unlock_account'));
