-- which normalisation of identifiers a record's blind indexes were made with (see
-- `model::vault::BLIND_VERSION`). Rows written before are at 1 (phone numbers as bare digits);
-- blind indexes are HMACs under each customer's key, which the database never sees, so the
-- vault re-indexes them at start (`Vault::reindex_blind`), finding them by the partial index,
-- which stays empty once that is done.
ALTER TABLE vault_records ADD COLUMN blind_version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX vault_records_blind_stale ON vault_records (tenant, id) WHERE blind_version < 2;
