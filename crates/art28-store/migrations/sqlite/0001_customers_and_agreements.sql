CREATE TABLE processor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    registration TEXT NOT NULL,
    country TEXT NOT NULL
) STRICT;

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated', 'erased')),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;

CREATE TABLE customer_contacts (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    language TEXT NOT NULL,
    roles TEXT NOT NULL,
    PRIMARY KEY (customer_id, position)
) STRICT;

CREATE TABLE agreement_versions (
    agreement_id TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('standard', 'customer')),
    customer_id TEXT REFERENCES customers(id),
    effective_from TEXT NOT NULL,
    based_on_id TEXT,
    based_on_version INTEGER,
    source TEXT NOT NULL,
    resolved TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, version),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL))
) STRICT;

CREATE INDEX agreement_versions_customer ON agreement_versions (customer_id, effective_from);
