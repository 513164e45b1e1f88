-- failed logins counted per user name, whether or not an account has it, so a wrong
-- password and an unknown name cost the same work (and both are throttled).
CREATE TABLE login_attempts (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    failures INTEGER NOT NULL,
    last_failed_at INTEGER NOT NULL,
    locked_until INTEGER
) STRICT, WITHOUT ROWID;
