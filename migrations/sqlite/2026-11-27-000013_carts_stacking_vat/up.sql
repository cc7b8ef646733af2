-- Commerce, part three: server carts, stackable promo codes, VAT id checks. Keep in step with
-- migrations/postgres.

ALTER TABLE promo_codes ADD COLUMN stackable BOOLEAN NOT NULL DEFAULT FALSE;

-- A signed-in client's cart (shared::cart::Cart as JSON), merged with the guest cart on sign-in
-- and emptied by checkout.
CREATE TABLE carts (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Answers of the VAT id check (VIES), kept for a day so a quote and its checkout agree and the
-- service is not asked on every request.
CREATE TABLE vat_checks (
    vat_id     TEXT PRIMARY KEY NOT NULL,
    valid      BOOLEAN NOT NULL,
    name       TEXT,
    checked_at TIMESTAMP NOT NULL
);
