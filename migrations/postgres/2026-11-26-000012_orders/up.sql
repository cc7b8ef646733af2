-- Commerce, part two: checkout into orders. Keep in step with migrations/sqlite.

-- Gapless sequences (order numbers; later invoice numbers), advanced inside the transaction
-- that uses the number: a rolled-back checkout gives its number back.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('order', 0);

CREATE TABLE orders (
    id               TEXT PRIMARY KEY NOT NULL,
    number           TEXT NOT NULL UNIQUE,
    account_id       TEXT NOT NULL REFERENCES users (id),
    placed_by        TEXT NOT NULL REFERENCES users (id),
    status           TEXT NOT NULL,
    currency         TEXT NOT NULL,
    subtotal_minor   BIGINT NOT NULL,
    discount_minor   BIGINT NOT NULL,
    tax_minor        BIGINT NOT NULL,
    total_minor      BIGINT NOT NULL CHECK (total_minor >= 0),
    tax_lines        TEXT NOT NULL,              -- JSON [TaxLine]
    tax_inclusive    BOOLEAN NOT NULL,
    reverse_charge   BOOLEAN NOT NULL,
    promo_code       TEXT,
    fraud_reasons    TEXT NOT NULL DEFAULT '[]', -- JSON [string]
    cancel_reason    TEXT,
    ip               TEXT,
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX orders_idempotency ON orders (account_id, idempotency_key);
CREATE INDEX orders_account_created ON orders (account_id, created_at, id);
CREATE INDEX orders_status_created ON orders (status, created_at, id);
CREATE INDEX orders_created ON orders (created_at, id);
CREATE INDEX orders_ip_created ON orders (ip, created_at);

CREATE TABLE order_items (
    id             TEXT PRIMARY KEY NOT NULL,
    order_id       TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no        INTEGER NOT NULL,
    product_id     TEXT NOT NULL REFERENCES products (id),
    product_name   TEXT NOT NULL,
    cycle          TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity >= 1),
    items          TEXT NOT NULL,                -- JSON [QuoteItem], per unit
    subtotal_minor BIGINT NOT NULL,
    discount_minor BIGINT NOT NULL,
    tax_minor      BIGINT NOT NULL,
    total_minor    BIGINT NOT NULL,
    renewal_minor  BIGINT NOT NULL,
    config         TEXT NOT NULL,                -- JSON CartLine as ordered
    domain         TEXT                          -- JSON DomainChoice
);
CREATE INDEX order_items_order ON order_items (order_id, line_no);

-- What a client bought, one row per unit of an order line; provisioning takes them from here.
CREATE TABLE services (
    id              TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT NOT NULL REFERENCES users (id),
    order_id        TEXT NOT NULL REFERENCES orders (id),
    order_item_id   TEXT NOT NULL REFERENCES order_items (id),
    product_id      TEXT NOT NULL REFERENCES products (id),
    status          TEXT NOT NULL,
    cycle           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    first_minor     BIGINT NOT NULL,
    recurring_minor BIGINT NOT NULL,
    domain          TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX services_account_created ON services (account_id, created_at, id);
CREATE INDEX services_order ON services (order_id);

CREATE TABLE promo_uses (
    promo_id   TEXT NOT NULL REFERENCES promo_codes (id),
    order_id   TEXT NOT NULL REFERENCES orders (id),
    account_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (promo_id, order_id)
);
CREATE INDEX promo_uses_account ON promo_uses (promo_id, account_id);
