-- the vault. Keys form a hierarchy: the master key (outside the database) wraps each
-- customer's key, which wraps each data subject's key, which seals the subject's records.
-- Deleting a key row makes what it sealed unreadable at once (crypto-shredding); the purge
-- of the sealed rows follows in the background. Identifiers are kept only as keyed blind
-- indexes, never in the clear.
CREATE TABLE vault_tenant_keys (
    tenant TEXT PRIMARY KEY REFERENCES customers(id),
    master_key_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE vault_collections (
    tenant TEXT NOT NULL REFERENCES customers(id),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
) STRICT;

CREATE TABLE vault_subjects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ref_index BLOB NOT NULL CHECK (length(ref_index) = 32),
    wrapped_key BLOB NOT NULL,
    UNIQUE (tenant, ref_index)
) STRICT;

CREATE TABLE vault_records (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    collection TEXT NOT NULL,
    subject INTEGER NOT NULL,
    version INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    blind BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX vault_records_subject ON vault_records (subject);
CREATE INDEX vault_records_collection ON vault_records (tenant, collection, id);

CREATE TABLE vault_blind (
    tenant TEXT NOT NULL,
    digest BLOB NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (tenant, digest, record)
) STRICT, WITHOUT ROWID;

CREATE TABLE vault_legal_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES customers(id),
    subject_index BLOB,
    reason TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    lifted_by TEXT,
    lifted_at INTEGER
) STRICT;

CREATE TABLE vault_erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    subject_index BLOB,
    erased_at INTEGER NOT NULL,
    erased_by TEXT NOT NULL,
    access_id TEXT NOT NULL,
    purged_at INTEGER
) STRICT;

CREATE TABLE recoveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at INTEGER NOT NULL,
    responsible TEXT NOT NULL,
    backup TEXT NOT NULL,
    backup_sha256 TEXT NOT NULL,
    erasures_replayed INTEGER NOT NULL,
    manual_steps TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
