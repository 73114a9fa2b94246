-- 0011_change_log_leaf_fields: the storage-proof change log (0008) carries what the commitment needs
-- of each changed message (docs/PROTOCOL.md (Storage proofs) §2.3), so a refresh reads the log in
-- id order instead of one random row of messages per change (issue #16 item 4: ~100,000 changes
-- an epoch on a 10 M-message node, each a random page of a table of several GB).
--
-- state: 1 the message as it is after this change (owner, namespace, expiry, size, digest set);
-- 0 the message is gone under this hash (deleted, or its hash changed); NULL unknown (rows
-- logged before this migration, or a row without a data digest): the refresh reads the message.
ALTER TABLE proof_change_log ADD COLUMN state INTEGER;
ALTER TABLE proof_change_log ADD COLUMN owner INTEGER;
ALTER TABLE proof_change_log ADD COLUMN namespace INTEGER;
ALTER TABLE proof_change_log ADD COLUMN expiry INTEGER;
ALTER TABLE proof_change_log ADD COLUMN size INTEGER;
ALTER TABLE proof_change_log ADD COLUMN digest BLOB;

DROP TRIGGER proof_change_log_on_insert;
DROP TRIGGER proof_change_log_on_delete;
DROP TRIGGER proof_change_log_on_update;

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
