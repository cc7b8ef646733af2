-- Billing and payments: invoices (numbered gaplessly per year when issued, frozen from then on),
-- payments and refunds, the credit ledger and the gateways' webhook events. Keep in step with
-- migrations/postgres.

CREATE TABLE invoices (
    id                   TEXT PRIMARY KEY NOT NULL,
    number               TEXT UNIQUE,                 -- none while a draft
    account_id           TEXT NOT NULL REFERENCES users (id),
    order_id             TEXT REFERENCES orders (id),
    kind                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    subtotal_minor       BIGINT NOT NULL,
    discount_minor       BIGINT NOT NULL,
    tax_minor            BIGINT NOT NULL,
    total_minor          BIGINT NOT NULL CHECK (total_minor >= 0),
    paid_minor           BIGINT NOT NULL DEFAULT 0,
    tax_lines            TEXT NOT NULL,               -- JSON [TaxLine]
    tax_inclusive        BOOLEAN NOT NULL,
    reverse_charge       BOOLEAN NOT NULL,
    seller               TEXT NOT NULL,               -- JSON Party, as at issue
    buyer                TEXT NOT NULL,               -- JSON Party, as at issue
    buyer_name           TEXT NOT NULL,
    payment_instructions TEXT,
    cancel_reason        TEXT,
    merged_into          TEXT,                        -- the invoice that took over its lines
    issued_at            TIMESTAMP,
    due_on               DATE NOT NULL,
    paid_at              TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX invoices_account_created ON invoices (account_id, created_at, id);
CREATE INDEX invoices_status_created ON invoices (status, created_at, id);
CREATE INDEX invoices_created ON invoices (created_at, id);
CREATE INDEX invoices_order ON invoices (order_id);
CREATE INDEX invoices_merged_into ON invoices (merged_into);

CREATE TABLE invoice_lines (
    id             TEXT PRIMARY KEY NOT NULL,
    invoice_id     TEXT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no        INTEGER NOT NULL,
    description    TEXT NOT NULL,
    service_id     TEXT REFERENCES services (id),
    period_from    DATE,
    period_to      DATE,
    quantity       INTEGER NOT NULL CHECK (quantity >= 1),
    unit_minor     BIGINT NOT NULL,
    discount_minor BIGINT NOT NULL,
    tax_minor      BIGINT NOT NULL,
    total_minor    BIGINT NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, line_no);

-- Payments (positive) and refunds (negative). A gateway's payment id is unique: the same payment
-- reported twice (two events, a replay) is recorded once.
CREATE TABLE payments (
    id           TEXT PRIMARY KEY NOT NULL,
    invoice_id   TEXT NOT NULL REFERENCES invoices (id),
    account_id   TEXT NOT NULL REFERENCES users (id),
    gateway      TEXT NOT NULL,
    external_id  TEXT,
    reference    TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    refund_of    TEXT REFERENCES payments (id),   -- a refund: the payment it gives back
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX payments_refund_of ON payments (refund_of);
CREATE UNIQUE INDEX payments_external ON payments (gateway, external_id);
CREATE INDEX payments_invoice ON payments (invoice_id, created_at);

-- The credit ledger; `credit_balances` holds each sum, updated in the entry's transaction (its
-- row is the lock that keeps two spends from both taking the last of it).
CREATE TABLE credit_entries (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES users (id),
    currency     TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    invoice_id   TEXT REFERENCES invoices (id),
    created_by   TEXT,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX credit_entries_account ON credit_entries (account_id, created_at, id);

CREATE TABLE credit_balances (
    account_id    TEXT NOT NULL REFERENCES users (id),
    currency      TEXT NOT NULL,
    balance_minor BIGINT NOT NULL CHECK (balance_minor >= 0),
    PRIMARY KEY (account_id, currency)
);

-- Every webhook a gateway sent, verified or not, with what Keel did with it.
CREATE TABLE payment_events (
    id          TEXT PRIMARY KEY NOT NULL,
    gateway     TEXT NOT NULL,
    event_id    TEXT,
    event_type  TEXT NOT NULL,
    verified    BOOLEAN NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    invoice_id  TEXT REFERENCES invoices (id),
    body        TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX payment_events_event ON payment_events (gateway, event_id);
CREATE INDEX payment_events_received ON payment_events (received_at, id);
CREATE INDEX payment_events_outcome ON payment_events (outcome, received_at, id);

-- Credit notes: corrections of an issued invoice (refunds), numbered from their own gapless
-- sequence per year (`CN-2026-000001`).
CREATE TABLE credit_notes (
    id           TEXT PRIMARY KEY NOT NULL,
    number       TEXT NOT NULL UNIQUE,
    invoice_id   TEXT NOT NULL REFERENCES invoices (id),
    account_id   TEXT NOT NULL REFERENCES users (id),
    payment_id   TEXT REFERENCES payments (id),
    currency     TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id, created_at);

-- Idempotency-Key store for POSTs that move money (pay, add funds, record a payment, refund):
-- the same key and request answer the stored response; kept a day.
CREATE TABLE idempotency_keys (
    account_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request      TEXT NOT NULL,               -- method and path
    request_hash TEXT NOT NULL,
    status       INTEGER,                     -- none while the first request runs
    body         TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Payment pages opened at a gateway (a Stripe Checkout Session, a Razorpay order): which invoice
-- and what amount each was for, so an event naming only the page is matched and checked.
CREATE TABLE gateway_checkouts (
    gateway      TEXT NOT NULL,
    checkout_id  TEXT NOT NULL,
    invoice_id   TEXT NOT NULL REFERENCES invoices (id),
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (gateway, checkout_id)
);

-- Files sent with an e-mail (an invoice's PDF), kept with it.
CREATE TABLE email_attachments (
    email_id     TEXT NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
    line_no      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    PRIMARY KEY (email_id, line_no)
);

-- A client's customer record at a gateway (Stripe's `cus_…`), made once.
CREATE TABLE gateway_customers (
    account_id  TEXT NOT NULL REFERENCES users (id),
    gateway     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, gateway)
);
CREATE UNIQUE INDEX gateway_customers_customer ON gateway_customers (gateway, customer_id);

-- Stored payment methods: the gateway's tokens and what identifies the card to its owner, never
-- card data.
CREATE TABLE payment_methods (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES users (id),
    gateway     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    method_id   TEXT NOT NULL,
    brand       TEXT NOT NULL,
    last4       TEXT NOT NULL,
    exp_month   INTEGER NOT NULL,
    exp_year    INTEGER NOT NULL,
    is_default  BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX payment_methods_method ON payment_methods (gateway, method_id);
CREATE INDEX payment_methods_account ON payment_methods (account_id, created_at);
