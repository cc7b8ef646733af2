-- E-mails that carry a secret (a new account's password): the full message sealed with
-- AES-256-GCM until it is sent, then erased; body_text/body_html keep the secret masked.
ALTER TABLE emails ADD COLUMN sealed_body TEXT;
