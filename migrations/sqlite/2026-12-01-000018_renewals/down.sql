DROP INDEX invoices_kind_due;
ALTER TABLE invoices DROP COLUMN autocharged_at;
DROP INDEX services_next_invoice;
ALTER TABLE services DROP COLUMN next_invoice_on;
