-- Renewal invoicing: the due date of the first period not invoiced yet. The daily task invoices
-- a service when this comes within the billing settings' days ahead, and moves it on one cycle
-- in the same transaction (so a period is invoiced once); paying the invoice moves next_due_on.
-- Keep in step with migrations/sqlite and migrations/postgres.
ALTER TABLE services ADD COLUMN next_invoice_on DATE;
UPDATE services SET next_invoice_on = next_due_on;
CREATE INDEX services_next_invoice ON services (next_invoice_on);

-- When the daily task charged a renewal invoice to the client's default saved card: once per
-- invoice (the claim is a conditional update of this column).
ALTER TABLE invoices ADD COLUMN autocharged_at TIMESTAMP;
CREATE INDEX invoices_kind_due ON invoices (kind, status, due_on);
