DROP TABLE service_changes;
ALTER TABLE services DROP COLUMN period_paid_minor;
ALTER TABLE services DROP COLUMN items;
ALTER TABLE services DROP COLUMN config;
ALTER TABLE services DROP COLUMN plan_name;
