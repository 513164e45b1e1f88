-- the incident register, breach notices as sent, and the outbox that delivers them.
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reporter_tenant TEXT REFERENCES customers(id),
    reported_to TEXT NOT NULL,
    aware_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    details TEXT NOT NULL,
    version INTEGER NOT NULL
) STRICT;

CREATE TABLE incident_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL
) STRICT;
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE incident_customers (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    due_at INTEGER NOT NULL,
    scope TEXT,
    added_at INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (incident_id, tenant)
) STRICT;
CREATE INDEX incident_customers_tenant ON incident_customers (tenant);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    step INTEGER NOT NULL,
    language TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    content TEXT NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    UNIQUE (incident_id, tenant, step, language)
) STRICT;
CREATE INDEX notices_tenant ON notices (tenant, incident_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id INTEGER NOT NULL REFERENCES notices(id),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE webhooks (
    tenant TEXT PRIMARY KEY REFERENCES customers(id),
    url TEXT,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;
