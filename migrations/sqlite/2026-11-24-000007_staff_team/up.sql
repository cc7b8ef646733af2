-- Back-office permissions and client team members (tables of their own keep `users` narrow).

-- A staff user's granted permissions (administrators hold all and have no row).
CREATE TABLE staff_members (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permissions TEXT NOT NULL,           -- JSON array of permission names
    disabled_at TIMESTAMP,               -- set: cannot sign in
    updated_at  TIMESTAMP NOT NULL
);

-- People a client gave access to their account. An invitation until accepted (user_id NULL).
CREATE TABLE account_members (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,           -- trimmed and lower-cased
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    permissions TEXT NOT NULL,           -- JSON array of areas: billing, services, domains, support
    token_hash  TEXT UNIQUE,             -- SHA-256 of the invitation token; NULL once accepted
    invited_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP
);
CREATE UNIQUE INDEX account_members_email ON account_members (account_id, email);
CREATE INDEX account_members_user ON account_members (user_id);
