-- 0003_storage_proofs: what the storage-proof module (src/proofs/) keeps in the database.

-- Messages whose expiry (or, against the rules, hash or data) was updated since the proof module
-- last looked. Inserts and deletes reach it through the store's added/removed events; updates
-- have no event, so this trigger records them inside the same transaction, whoever made them
-- (an RPC expire, a re-store extending the expiry, or SQL run by hand). Emptied every epoch.
CREATE TABLE proof_changes (
  hash TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER proof_changes_on_update AFTER UPDATE OF hash, expiry, data ON messages
BEGIN
  INSERT OR IGNORE INTO proof_changes (hash) VALUES (OLD.hash);
  INSERT OR IGNORE INTO proof_changes (hash) VALUES (NEW.hash);
END;

-- This node's signed StorageProofs (JSON, docs/protocol-parts/proofs.md §3), newest kept.
CREATE TABLE proof_history (
  timestamp INTEGER PRIMARY KEY,
  proof TEXT NOT NULL
);

-- The challenge ledger: one row per verdict this node reached as a challenger. `evidence` is the
-- self-contained evidence bundle (signed challenge and answer, keys, message data) for failures
-- and inconclusive results, NULL for passes.
CREATE TABLE proof_results (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  challenger_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  message_hash TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'inconclusive')),
  reason TEXT,
  evidence TEXT
);
CREATE INDEX proof_results_target ON proof_results (target_id, id);
