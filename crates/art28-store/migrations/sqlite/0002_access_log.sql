-- the access log. `seq` is the entry's leaf index in the Merkle tree (0-based). Interior
-- nodes are kept at every fourth level; the levels between are recomputed from the stored
-- level below (at most 15 hashes per node), which keeps the write cost of the tree small.
CREATE TABLE access_log (
    seq INTEGER PRIMARY KEY CHECK (seq >= 0),
    access_id TEXT NOT NULL,
    tenant TEXT,
    time INTEGER NOT NULL,
    entry BLOB NOT NULL,
    leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

CREATE INDEX access_log_tenant ON access_log (tenant, seq);

CREATE TABLE ledger_nodes (
    level INTEGER NOT NULL CHECK (level > 0 AND level % 4 = 0),
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL,
    signed_at INTEGER NOT NULL
) STRICT;
