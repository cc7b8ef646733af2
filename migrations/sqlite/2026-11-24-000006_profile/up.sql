-- Client profile and GDPR deletion requests (a table of its own keeps `users` narrow).
CREATE TABLE client_profiles (
    user_id               TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company               TEXT,
    phone                 TEXT,
    address               TEXT,          -- JSON Address
    billing_address       TEXT,          -- JSON Address; NULL: same as address
    tax_id                TEXT,
    currency              TEXT NOT NULL DEFAULT 'USD',
    language              TEXT NOT NULL DEFAULT 'en',
    deletion_requested_at TIMESTAMP,
    anonymised_at         TIMESTAMP,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX client_profiles_deletion ON client_profiles (deletion_requested_at);
