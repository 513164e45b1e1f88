-- the per-customer index as runs: one row holds up to `log::RUN` of a customer's
-- sequence numbers (8 bytes big-endian each, ascending), keyed by the run's last one. A
-- fold adds one row per customer per `log::RUN` entries instead of one row per entry, and
-- groups the entries on a reader, so the writer only inserts a few rows per fold. A rowid
-- table keeps each run (at most 2 KiB) on its leaf page.
CREATE TABLE access_log_runs (
    tenant TEXT NOT NULL,
    last INTEGER NOT NULL CHECK (last >= 0),
    seqs BLOB NOT NULL CHECK (length(seqs) > 0 AND length(seqs) % 8 = 0),
    UNIQUE (tenant, last)
) STRICT;

INSERT INTO access_log_runs (tenant, last, seqs)
    SELECT tenant, MAX(seq), unhex(group_concat(printf('%016x', seq), '' ORDER BY seq))
    FROM access_log_tenant
    GROUP BY tenant, seq / 256;

DROP TABLE access_log_tenant;
