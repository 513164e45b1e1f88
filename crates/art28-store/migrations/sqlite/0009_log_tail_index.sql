-- appends touch one table only. The per-customer index moves out of the append path
-- into `access_log_tenant`, which each fold fills for the entries its checkpoint covers
-- (in key order, in the fold's transaction); entries past the last checkpoint are found by
-- scanning the short unfolded tail. The access id column duplicated the entry's bytes;
-- dropping it rewrites the log table once, at the first start of this version (time and
-- WAL space in proportion to the log's size).
DROP INDEX access_log_tenant;
ALTER TABLE access_log DROP COLUMN access_id;

CREATE TABLE access_log_tenant (
    tenant TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO access_log_tenant (tenant, seq)
    SELECT tenant, seq FROM access_log
    WHERE tenant IS NOT NULL AND seq < (SELECT COALESCE(MAX(size), 0) FROM checkpoints)
    ORDER BY tenant, seq;
