-- periodic jobs that run once per cluster (`ClusterStore`): when each is due next, and who holds
-- it until when while it runs. A lease that ran out (its holder died) may be taken by another.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL,
    holder TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0
) STRICT;

-- facts every node must match, such as the fingerprint of the log's signing key (`pin`).
CREATE TABLE pins (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
