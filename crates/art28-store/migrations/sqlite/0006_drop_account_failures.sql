-- failed logins live in login_attempts (5); the account row's copies are dropped so
-- nothing reads a count that no longer changes.
ALTER TABLE accounts DROP COLUMN failed_logins;
ALTER TABLE accounts DROP COLUMN last_failed_at;
ALTER TABLE accounts DROP COLUMN locked_until;
