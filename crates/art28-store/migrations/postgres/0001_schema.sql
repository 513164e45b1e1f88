-- art28 on PostgreSQL (15+): the end state of migrations/sqlite/0001..0012, translated, plus
-- `log_head`. Same tables, columns (in the same order), keys, CHECKs, foreign keys and indexes.
--
-- For porters (where Rust binds/reads differently from the SQLite code):
--  * Every integer column is BIGINT: bind and read i64 only (tokio-postgres refuses i32/u32
--    for int8). Timestamps are BIGINT microseconds, as in SQLite. Exception: log_head.id is
--    SMALLINT (write the literal 1; i16 if ever bound).
--  * BOOLEAN: accounts.must_change_password (bind/read bool; TRUE/FALSE, not 1/0, in SQL).
--  * BYTEA (bind &[u8]/Vec<u8>, read &[u8]/Vec<u8>): access_log.entry, access_log.leaf_hash,
--    ledger_nodes.hash, checkpoints.root, access_log_runs.seqs, api_tokens.digest,
--    sessions.digest, vault_tenant_keys.wrapped, vault_subjects.ref_index,
--    vault_subjects.wrapped_key, vault_records.sealed, vault_records.blind, vault_blind.digest,
--    vault_legal_holds.subject_index, vault_erasures.subject_index.
--  * Identity ids (the SQLite AUTOINCREMENT ones): accounts, grants, security_events,
--    access_grants, vault_subjects, vault_legal_holds, vault_erasures, recoveries, incidents,
--    incident_events, notices, outbox. Insert without id and take it with RETURNING id
--    (there is no last_insert_rowid). A rolled-back insert uses up its id (gaps; SQLite
--    reused it). Ids follow commit order (security_events is paged by id) only because the
--    writes that insert them go through the writer, which holds log_head until its commit.
--  * accounts.username, login_attempts.username (COLLATE NOCASE in SQLite): unique on
--    lower(username). Compare as lower(username) = lower($1) and upsert with
--    ON CONFLICT (lower(username)); a plain `username = $1` is case-sensitive here.
--  * Every other TEXT column is COLLATE "C": =, <, >, ORDER BY, MIN/MAX compare bytes, as
--    SQLite's BINARY does, whatever the database's locale. The two username columns keep the
--    database's collation, so that lower() folds the column and the parameter alike.
--  * TEXT cannot hold U+0000 in PostgreSQL (SQLite stores it): a string with a NUL byte fails
--    to insert (SQLSTATE 22021) and must be refused before it reaches the store.
--  * Foreign keys are DEFERRABLE INITIALLY IMMEDIATE: checked per statement as in SQLite;
--    SET CONSTRAINTS ALL DEFERRED stands in for PRAGMA defer_foreign_keys.

-- The store keeps UTF-8 text exactly; "C" then orders it by code point, as SQLite does.
DO $$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'art28 needs a database with UTF8 encoding, not %', current_setting('server_encoding');
    END IF;
END
$$;

-- ---------------------------------------------------------------- customers and agreements

CREATE TABLE processor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    name TEXT COLLATE "C" NOT NULL,
    registration TEXT COLLATE "C" NOT NULL,
    country TEXT COLLATE "C" NOT NULL
);

CREATE TABLE customers (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    language TEXT COLLATE "C" NOT NULL CHECK (language IN ('nl', 'en')),
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'suspended', 'terminated', 'erased')),
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL
);

CREATE TABLE customer_contacts (
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    position BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    email TEXT COLLATE "C" NOT NULL,
    phone TEXT COLLATE "C",
    language TEXT COLLATE "C" NOT NULL,
    roles TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, position)
);

CREATE TABLE agreement_versions (
    agreement_id TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('standard', 'customer')),
    customer_id TEXT COLLATE "C" REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    -- an ISO date: compares correctly as text in "C"
    effective_from TEXT COLLATE "C" NOT NULL,
    based_on_id TEXT COLLATE "C",
    based_on_version BIGINT,
    source TEXT COLLATE "C" NOT NULL,
    resolved TEXT COLLATE "C" NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL,
    recorded_by TEXT COLLATE "C" NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, version),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL))
);
CREATE INDEX agreement_versions_customer ON agreement_versions (customer_id, effective_from);

-- ---------------------------------------------------------------- the access log

-- `seq` is the entry's leaf index in the Merkle tree (0-based), handed out from log_head.
-- Interior nodes are kept at every fourth level; the levels between are recomputed from the
-- stored level below (at most 15 hashes per node).
CREATE TABLE access_log (
    seq BIGINT PRIMARY KEY CHECK (seq >= 0),
    tenant TEXT COLLATE "C",
    time BIGINT NOT NULL,
    entry BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL CHECK (octet_length(leaf_hash) = 32)
);

CREATE TABLE ledger_nodes (
    level BIGINT NOT NULL CHECK (level > 0 AND level % 4 = 0),
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL CHECK (octet_length(root) = 32),
    note TEXT COLLATE "C" NOT NULL,
    signed_at BIGINT NOT NULL
);

-- The per-customer index as runs: one row holds up to `log::RUN` of a customer's sequence
-- numbers (8 bytes big-endian each, ascending), keyed by the run's last one. Each fold adds
-- the runs of the entries its checkpoint covers, in its transaction; entries past the newest
-- checkpoint are found by scanning the short unfolded tail of access_log.
CREATE TABLE access_log_runs (
    tenant TEXT COLLATE "C" NOT NULL,
    last BIGINT NOT NULL CHECK (last >= 0),
    seqs BYTEA NOT NULL CHECK (octet_length(seqs) > 0 AND octet_length(seqs) % 8 = 0),
    UNIQUE (tenant, last)
);

-- The log's size: exactly one row. Every writing transaction takes it FOR UPDATE first, so
-- leaf indices are gapless and in commit order across nodes.
CREATE TABLE log_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL CHECK (size >= 0)
);
INSERT INTO log_head (id, size) VALUES (1, 0);

-- ---------------------------------------------------------------- accounts

-- Ids are identities and user names unique forever (a disabled account keeps its row), so
-- neither is ever given to someone else. Failed logins live in login_attempts.
CREATE TABLE accounts (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL,
    display_name TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('staff', 'customer')),
    tenant TEXT COLLATE "C" REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    password_hash TEXT COLLATE "C",
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'disabled')),
    status_reason TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    last_used_at BIGINT,
    blocked_until BIGINT,
    blocked_by TEXT COLLATE "C",
    blocked_reason TEXT COLLATE "C",
    CHECK ((kind = 'customer') = (tenant IS NOT NULL))
);
-- UNIQUE COLLATE NOCASE in SQLite: compare with lower().
CREATE UNIQUE INDEX accounts_username_nocase ON accounts (lower(username));

CREATE TABLE grants (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE INITIALLY IMMEDIATE,
    role TEXT COLLATE "C" NOT NULL,
    tenant TEXT COLLATE "C" REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    granted_by TEXT COLLATE "C" NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_by TEXT COLLATE "C",
    revoked_at BIGINT
);
CREATE INDEX grants_account ON grants (account_id);

CREATE TABLE security_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    time BIGINT NOT NULL,
    account_id BIGINT REFERENCES accounts(id) DEFERRABLE INITIALLY IMMEDIATE,
    username TEXT COLLATE "C",
    kind TEXT COLLATE "C" NOT NULL,
    detail TEXT COLLATE "C" NOT NULL,
    client TEXT COLLATE "C"
);

-- Tokens and session keys are kept only as SHA-256 digests.
CREATE TABLE api_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    digest BYTEA NOT NULL UNIQUE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE INITIALLY IMMEDIATE,
    tenant TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    operations TEXT COLLATE "C" NOT NULL,
    purposes TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT COLLATE "C",
    last_used_at BIGINT
);

CREATE TABLE sessions (
    digest BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE INITIALLY IMMEDIATE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Time-bound access grants for the processor's staff (R2.2), with the customer's approval
-- where its agreement asks for it.
CREATE TABLE access_grants (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) DEFERRABLE INITIALLY IMMEDIATE,
    username TEXT COLLATE "C" NOT NULL,
    tenant TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    reason TEXT COLLATE "C" NOT NULL,
    ticket TEXT COLLATE "C" NOT NULL,
    requested_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'revoked')),
    decided_by TEXT COLLATE "C",
    decided_at BIGINT
);
CREATE INDEX access_grants_tenant ON access_grants (tenant, id);
CREATE INDEX access_grants_account ON access_grants (account_id, tenant);

-- Failed logins counted per user name, whether or not an account has it, so a wrong password
-- and an unknown name cost the same work (and both are throttled).
CREATE TABLE login_attempts (
    username TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until BIGINT
);
-- PRIMARY KEY COLLATE NOCASE in SQLite: compare and upsert with lower().
CREATE UNIQUE INDEX login_attempts_username_nocase ON login_attempts (lower(username));

-- ---------------------------------------------------------------- the vault

-- Keys form a hierarchy: the master key (outside the database) wraps each customer's key,
-- which wraps each data subject's key, which seals the subject's records. Deleting a key row
-- makes what it sealed unreadable at once (crypto-shredding); the purge of the sealed rows
-- follows in the background. Identifiers are kept only as keyed blind indexes.
CREATE TABLE vault_tenant_keys (
    tenant TEXT COLLATE "C" PRIMARY KEY REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    master_key_id TEXT COLLATE "C" NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vault_collections (
    tenant TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    name TEXT COLLATE "C" NOT NULL,
    definition TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE vault_subjects (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant TEXT COLLATE "C" NOT NULL,
    ref_index BYTEA NOT NULL CHECK (octet_length(ref_index) = 32),
    wrapped_key BYTEA NOT NULL,
    UNIQUE (tenant, ref_index)
);

-- `blind` holds the record's blind-index digests (32 bytes each) as in vault_blind.
-- `blind_version`: the normalisation of identifiers they were made with
-- (model::vault::BLIND_VERSION, now 3); rows below it are re-indexed at start
-- (Vault::reindex_blind), found by the partial index below, which stays empty once done.
CREATE TABLE vault_records (
    tenant TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    collection TEXT COLLATE "C" NOT NULL,
    subject BIGINT NOT NULL,
    version BIGINT NOT NULL,
    sealed BYTEA NOT NULL,
    blind BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    blind_version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX vault_records_subject ON vault_records (subject);
CREATE INDEX vault_records_collection ON vault_records (tenant, collection, id);
-- the queries spell `blind_version < 3` as here, so that the planner uses it
CREATE INDEX vault_records_blind_stale ON vault_records (tenant, id) WHERE blind_version < 3;

CREATE TABLE vault_blind (
    tenant TEXT COLLATE "C" NOT NULL,
    digest BYTEA NOT NULL,
    record TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, digest, record)
);

CREATE TABLE vault_legal_holds (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    subject_index BYTEA,
    reason TEXT COLLATE "C" NOT NULL,
    placed_by TEXT COLLATE "C" NOT NULL,
    placed_at BIGINT NOT NULL,
    lifted_by TEXT COLLATE "C",
    lifted_at BIGINT
);

CREATE TABLE vault_erasures (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant TEXT COLLATE "C" NOT NULL,
    subject_index BYTEA,
    erased_at BIGINT NOT NULL,
    erased_by TEXT COLLATE "C" NOT NULL,
    access_id TEXT COLLATE "C" NOT NULL,
    purged_at BIGINT
);

CREATE TABLE recoveries (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    started_at BIGINT NOT NULL,
    responsible TEXT COLLATE "C" NOT NULL,
    backup TEXT COLLATE "C" NOT NULL,
    backup_sha256 TEXT COLLATE "C" NOT NULL,
    erasures_replayed BIGINT NOT NULL,
    manual_steps TEXT COLLATE "C" NOT NULL,
    outcome TEXT COLLATE "C" NOT NULL
);

-- ---------------------------------------------------------------- incidents

-- The incident register, breach notices as sent, and the outbox that delivers them.
CREATE TABLE incidents (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    reported_by TEXT COLLATE "C" NOT NULL,
    reporter_tenant TEXT COLLATE "C" REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    reported_to TEXT COLLATE "C" NOT NULL,
    aware_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    details TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE incident_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) DEFERRABLE INITIALLY IMMEDIATE,
    at BIGINT NOT NULL,
    by TEXT COLLATE "C" NOT NULL,
    from_status TEXT COLLATE "C",
    to_status TEXT COLLATE "C" NOT NULL,
    note TEXT COLLATE "C" NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE incident_customers (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) DEFERRABLE INITIALLY IMMEDIATE,
    tenant TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    due_at BIGINT NOT NULL,
    scope TEXT COLLATE "C",
    added_at BIGINT NOT NULL,
    added_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (incident_id, tenant)
);
CREATE INDEX incident_customers_tenant ON incident_customers (tenant);

CREATE TABLE notices (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) DEFERRABLE INITIALLY IMMEDIATE,
    tenant TEXT COLLATE "C" NOT NULL REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    step BIGINT NOT NULL,
    language TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    body TEXT COLLATE "C" NOT NULL,
    content TEXT COLLATE "C" NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT COLLATE "C",
    UNIQUE (incident_id, tenant, step, language)
);
CREATE INDEX notices_tenant ON notices (tenant, incident_id);

CREATE TABLE outbox (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    notice_id BIGINT NOT NULL REFERENCES notices(id) DEFERRABLE INITIALLY IMMEDIATE,
    channel TEXT COLLATE "C" NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient TEXT COLLATE "C" NOT NULL,
    idempotency_key TEXT COLLATE "C" NOT NULL UNIQUE,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT COLLATE "C",
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- A removed webhook stays as a tombstone (url NULL), so the generation never repeats.
CREATE TABLE webhooks (
    tenant TEXT COLLATE "C" PRIMARY KEY REFERENCES customers(id) DEFERRABLE INITIALLY IMMEDIATE,
    url TEXT COLLATE "C",
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL
);

-- periodic jobs that run once per cluster (`ClusterStore`): when each is due next, and who holds
-- it until when while it runs. A lease that ran out (its holder died) may be taken by another.
CREATE TABLE jobs (
    name TEXT COLLATE "C" PRIMARY KEY,
    due_at BIGINT NOT NULL,
    holder TEXT COLLATE "C",
    lease_until BIGINT NOT NULL DEFAULT 0
);

-- facts every node must match, such as the fingerprint of the log's signing key (`pin`).
CREATE TABLE pins (
    name TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
