-- 0008_persisted_commitment: the storage-proof commitment kept on disk, so a restart loads it and
-- refreshes from it instead of rebuilding every bucket (docs/PROTOCOL.md (Storage proofs) §2.5).

-- Every change to messages since the persisted commitment, in commit order. The store's events
-- are in memory and lost with a crash; these rows are written in the store's own transaction, so
-- a restart knows exactly which messages to read again. The refresh that persists a commitment
-- deletes the rows it took (id <= its watermark) in the same transaction as the commitment.
CREATE TABLE proof_change_log (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL
);

CREATE TRIGGER proof_change_log_on_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO proof_change_log (hash) VALUES (NEW.hash);
END;

CREATE TRIGGER proof_change_log_on_delete AFTER DELETE ON messages
BEGIN
  INSERT INTO proof_change_log (hash) VALUES (OLD.hash);
END;

CREATE TRIGGER proof_change_log_on_update AFTER UPDATE OF hash, expiry, data ON messages
BEGIN
  INSERT INTO proof_change_log (hash) VALUES (OLD.hash);
  INSERT INTO proof_change_log (hash) VALUES (NEW.hash);
END;

-- The persisted commitment's header (one row): the generation its buckets were written in, its
-- proof timestamp T and root, the change-log watermark it includes, its top tree's kept levels
-- (4 MB: loading them saves hashing the tree again) and SHA-256 over every bucket root in order
-- (a loader checks the buckets it read against it).
CREATE TABLE proof_commitment (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  root BLOB NOT NULL,
  message_count INTEGER NOT NULL,
  log_watermark INTEGER NOT NULL,
  top BLOB NOT NULL,
  roots_digest BLOB NOT NULL
);

-- One row per non-empty bucket: its record (src/proofs/bucket.ts layout), SHA-256 of the record,
-- and the generation that wrote it. A row newer than the header is from a write that never
-- finished (a crash mid-refresh); a loader rebuilds such a bucket, and one whose digest does not
-- match, from the messages.
CREATE TABLE proof_buckets (
  bucket INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL,
  digest BLOB NOT NULL,
  record BLOB NOT NULL
);
