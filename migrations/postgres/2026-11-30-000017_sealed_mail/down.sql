ALTER TABLE emails DROP COLUMN sealed_body;
