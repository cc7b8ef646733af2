DROP TABLE audit_log;
DROP TABLE rate_limits;
DROP TABLE user_tokens;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN email_verified_at;
