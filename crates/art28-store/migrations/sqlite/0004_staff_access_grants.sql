-- time-bound access grants for the processor's staff (R2.2), with the customer's
-- approval where its agreement asks for it.
CREATE TABLE access_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL,
    tenant TEXT NOT NULL REFERENCES customers(id),
    reason TEXT NOT NULL,
    ticket TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'revoked')),
    decided_by TEXT,
    decided_at INTEGER
) STRICT;
CREATE INDEX access_grants_tenant ON access_grants (tenant, id);
CREATE INDEX access_grants_account ON access_grants (account_id, tenant);
