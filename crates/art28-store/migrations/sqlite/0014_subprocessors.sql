-- the sub-processor register: entries with their history and signed contracts, changes
-- announced to customers with each customer's answer and its history, the announcements as
-- sent with their outbox, customers' requests for the list, and each customer's feed key
-- generation. Dates are 'YYYY-MM-DD' text, timestamps microseconds.
CREATE TABLE subprocessors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    entry TEXT NOT NULL,
    contract TEXT,
    contract_document BLOB,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE subprocessor_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subprocessor_id INTEGER NOT NULL REFERENCES subprocessors(id),
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    version INTEGER NOT NULL,
    note TEXT NOT NULL
) STRICT;
CREATE INDEX subprocessor_events_subprocessor ON subprocessor_events (subprocessor_id, id);

CREATE TABLE subprocessor_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    subprocessor INTEGER NOT NULL REFERENCES subprocessors(id),
    version INTEGER NOT NULL,
    entry TEXT NOT NULL,
    replaces_id INTEGER,
    replaces_name TEXT,
    effective TEXT NOT NULL,
    note TEXT NOT NULL,
    announced_at INTEGER NOT NULL,
    announced_by TEXT NOT NULL
) STRICT;

CREATE TABLE subprocessor_change_customers (
    change_id INTEGER NOT NULL REFERENCES subprocessor_changes(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    authorisation TEXT NOT NULL,
    state TEXT NOT NULL,
    rule TEXT,
    objection_until TEXT,
    decided_at INTEGER,
    termination_until TEXT,
    PRIMARY KEY (change_id, tenant)
) STRICT;
CREATE INDEX subprocessor_change_customers_tenant ON subprocessor_change_customers (tenant, change_id);

CREATE TABLE subprocessor_change_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL,
    FOREIGN KEY (change_id, tenant) REFERENCES subprocessor_change_customers (change_id, tenant)
) STRICT;
CREATE INDEX subprocessor_change_events_change ON subprocessor_change_events (change_id, tenant, id);

CREATE TABLE subprocessor_announcements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL REFERENCES subprocessor_changes(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    language TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE INDEX subprocessor_announcements_tenant ON subprocessor_announcements (tenant, id);
CREATE INDEX subprocessor_announcements_change ON subprocessor_announcements (change_id, id);

CREATE TABLE subprocessor_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    announcement_id INTEGER NOT NULL REFERENCES subprocessor_announcements(id),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER
) STRICT;
CREATE INDEX subprocessor_outbox_due ON subprocessor_outbox (status, next_attempt_at);
CREATE INDEX subprocessor_outbox_announcement ON subprocessor_outbox (announcement_id, id);

CREATE TABLE subprocessor_list_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES customers(id),
    requested_at INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    due_at INTEGER,
    note TEXT NOT NULL,
    answered_at INTEGER,
    answered_by TEXT,
    answer_on TEXT
) STRICT;
CREATE INDEX subprocessor_list_requests_tenant ON subprocessor_list_requests (tenant, id);

CREATE TABLE subprocessor_feeds (
    tenant TEXT PRIMARY KEY REFERENCES customers(id),
    generation INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
