-- Blind indexes version 3: e-mail addresses and ids are put in Unicode NFC before indexing.
-- Rows below it are re-indexed at start; the partial index that finds them names the new
-- number (BLIND_VERSION in the store's model).
DROP INDEX vault_records_blind_stale;
CREATE INDEX vault_records_blind_stale ON vault_records (tenant, id) WHERE blind_version < 3;
