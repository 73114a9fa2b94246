-- 0014_change_log_autoincrement: the storage-proof
-- change log's ids (0008) never repeat. With a plain INTEGER PRIMARY KEY a log trimmed empty
-- (every row up to a refresh's watermark deleted) restarted at id 1, so rows logged after it had
-- ids at or below watermarks already taken. AUTOINCREMENT keeps ids above every id ever used; the
-- sequence starts above the persisted header's watermark too.
CREATE TABLE proof_change_log_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL,
  state INTEGER,
  owner INTEGER,
  namespace INTEGER,
  expiry INTEGER,
  size INTEGER,
  digest BLOB
);

INSERT INTO proof_change_log_new (id, hash, state, owner, namespace, expiry, size, digest)
  SELECT id, hash, state, owner, namespace, expiry, size, digest FROM proof_change_log;

DROP TRIGGER proof_change_log_on_insert;
DROP TRIGGER proof_change_log_on_delete;
DROP TRIGGER proof_change_log_on_update;
DROP TABLE proof_change_log;
ALTER TABLE proof_change_log_new RENAME TO proof_change_log;

INSERT INTO sqlite_sequence (name, seq)
  SELECT 'proof_change_log', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'proof_change_log');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT log_watermark FROM proof_commitment WHERE id = 1), 0))
  WHERE name = 'proof_change_log';

CREATE TRIGGER proof_change_log_on_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO proof_change_log (hash, state, owner, namespace, expiry, size, digest)
    VALUES (NEW.hash, CASE WHEN NEW.data_digest IS NULL THEN NULL ELSE 1 END, NEW.owner, NEW.namespace, NEW.expiry, length(NEW.data), NEW.data_digest);
END;

CREATE TRIGGER proof_change_log_on_delete AFTER DELETE ON messages
BEGIN
  INSERT INTO proof_change_log (hash, state) VALUES (OLD.hash, 0);
END;

CREATE TRIGGER proof_change_log_on_update AFTER UPDATE OF hash, expiry, data, data_digest ON messages
BEGIN
  INSERT INTO proof_change_log (hash, state) SELECT OLD.hash, 0 WHERE OLD.hash <> NEW.hash;
  INSERT INTO proof_change_log (hash, state, owner, namespace, expiry, size, digest)
    VALUES (NEW.hash, CASE WHEN NEW.data_digest IS NULL THEN NULL ELSE 1 END, NEW.owner, NEW.namespace, NEW.expiry, length(NEW.data), NEW.data_digest);
END;
