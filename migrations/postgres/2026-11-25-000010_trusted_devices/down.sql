DELETE FROM user_tokens WHERE purpose = 'unlock_account';
ALTER TABLE user_tokens DROP CONSTRAINT user_tokens_purpose_check;
ALTER TABLE user_tokens ADD CONSTRAINT user_tokens_purpose_check CHECK (purpose IN ('verify_email', 'reset_password'));
DROP TABLE trusted_devices;
