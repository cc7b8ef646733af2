-- Changes of plan, options or add-ons (upgrades and downgrades), prorated for the rest of the
-- period. A service remembers what it has now once it differs from what was ordered.
-- Keep in step with migrations/sqlite.

ALTER TABLE services ADD COLUMN plan_name TEXT;          -- NULL: the order line's product name
ALTER TABLE services ADD COLUMN config TEXT;             -- JSON CartLine; NULL: the order line's
ALTER TABLE services ADD COLUMN items TEXT;              -- JSON [PriceItem] per period; NULL: the order line's
ALTER TABLE services ADD COLUMN period_paid_minor BIGINT; -- paid for the current period before tax; NULL: the recurring price

CREATE TABLE service_changes (
    id                 TEXT PRIMARY KEY NOT NULL,
    service_id         TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    account_id         TEXT NOT NULL,
    status             TEXT NOT NULL,
    settlement         TEXT NOT NULL,
    to_product_id      TEXT NOT NULL,
    to_config          TEXT NOT NULL,              -- JSON CartLine
    to_items           TEXT NOT NULL,              -- JSON [PriceItem]
    to_recurring_minor BIGINT NOT NULL,
    quote              TEXT NOT NULL,              -- JSON ServiceChangeQuote, as shown and charged
    invoice_id         TEXT REFERENCES invoices (id),
    effective_on       DATE,
    created_at         TIMESTAMP NOT NULL,
    applied_at         TIMESTAMP
);
CREATE INDEX service_changes_service ON service_changes (service_id, created_at);
CREATE INDEX service_changes_invoice ON service_changes (invoice_id);
CREATE INDEX service_changes_due ON service_changes (status, effective_on);
-- One open change per service: two racing requests cannot both wait.
CREATE UNIQUE INDEX service_changes_open ON service_changes (service_id) WHERE status IN ('pending', 'scheduled');
