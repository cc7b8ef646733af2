DROP TABLE idempotency_keys;
DROP TABLE credit_notes;
DROP TABLE payment_events;
DROP TABLE credit_balances;
DROP TABLE credit_entries;
DROP TABLE payments;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DELETE FROM counters WHERE name LIKE 'invoice-%';
