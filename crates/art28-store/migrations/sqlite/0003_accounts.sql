-- accounts and who may do what. Ids come from AUTOINCREMENT and usernames are unique
-- forever (a disabled account keeps its row), so neither is ever given to someone else.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'customer')),
    tenant TEXT REFERENCES customers(id),
    password_hash TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    status_reason TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_at INTEGER,
    locked_until INTEGER,
    blocked_until INTEGER,
    blocked_by TEXT,
    blocked_reason TEXT,
    CHECK ((kind = 'customer') = (tenant IS NOT NULL))
) STRICT;

CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL,
    tenant TEXT REFERENCES customers(id),
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    revoked_by TEXT,
    revoked_at INTEGER
) STRICT;
CREATE INDEX grants_account ON grants (account_id);

CREATE TABLE security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts(id),
    username TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    client TEXT
) STRICT;

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    operations TEXT NOT NULL,
    purposes TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT,
    last_used_at INTEGER
) STRICT;

CREATE TABLE sessions (
    digest BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
