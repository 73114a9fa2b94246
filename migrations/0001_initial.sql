-- 0001_initial: the message store (Session storage server §5.1, with the fixes noted below).
-- Applied inside one transaction by src/storage/migrations.ts; no BEGIN/COMMIT or PRAGMA here.

-- One row per account: the 33-byte account split into its prefix byte and 32 key bytes.
-- Unlike Session there is no trigger deleting owners when their last message goes (that cascaded
-- into revocations); the TTL sweeper deletes owners queued in owner_gc that have neither.
CREATE TABLE owners (
  id INTEGER PRIMARY KEY,
  type INTEGER NOT NULL,
  pubkey BLOB NOT NULL,
  UNIQUE (pubkey, type)
);

-- id is the insertion order retrieve pages by. hash is globally unique; its unique index also
-- serves hash-prefix range scans (Merkle buckets, anti-entropy). Times are Unix ms; a message is
-- expired when expiry <= now.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  owner INTEGER NOT NULL REFERENCES owners (id),
  namespace INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  expiry INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX messages_expiry ON messages (expiry);
CREATE INDEX messages_owner ON messages (owner, namespace, id);

-- Messages per mailbox (owner, namespace), kept by triggers so the rolling buffer needs no
-- COUNT(*) per insert. A row exists only while its count is positive.
CREATE TABLE mailbox_counts (
  owner INTEGER NOT NULL,
  namespace INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (owner, namespace)
) WITHOUT ROWID;

-- Owners that may have become empty (no mailbox, no revocation); drained by the sweeper.
CREATE TABLE owner_gc (
  owner INTEGER PRIMARY KEY
);

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO mailbox_counts (owner, namespace, count) VALUES (NEW.owner, NEW.namespace, 1)
    ON CONFLICT (owner, namespace) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER messages_count_delete AFTER DELETE ON messages
BEGIN
  UPDATE mailbox_counts SET count = count - 1 WHERE owner = OLD.owner AND namespace = OLD.namespace;
  DELETE FROM mailbox_counts WHERE owner = OLD.owner AND namespace = OLD.namespace AND count <= 0;
END;

-- The counters assume a message never changes mailbox.
CREATE TRIGGER messages_mailbox_immutable BEFORE UPDATE OF owner, namespace ON messages
BEGIN
  SELECT RAISE(ABORT, 'messages.owner and messages.namespace are immutable');
END;

CREATE TRIGGER mailbox_counts_gc AFTER DELETE ON mailbox_counts
BEGIN
  INSERT OR IGNORE INTO owner_gc (owner) VALUES (OLD.owner);
END;

-- Revoked subaccount tokens; the newest 50 per owner are kept (by timestamp, then insertion).
-- Re-revoking a token updates its timestamp (an upsert, which does not fire the insert trigger).
CREATE TABLE revoked_subaccounts (
  owner INTEGER NOT NULL REFERENCES owners (id),
  token BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (owner, token)
);
CREATE INDEX revoked_subaccounts_recent ON revoked_subaccounts (owner, timestamp);

CREATE TRIGGER revoked_subaccounts_keep_newest AFTER INSERT ON revoked_subaccounts
BEGIN
  DELETE FROM revoked_subaccounts
  WHERE owner = NEW.owner AND rowid NOT IN (
    SELECT rowid FROM revoked_subaccounts WHERE owner = NEW.owner
    ORDER BY timestamp DESC, rowid DESC LIMIT 50
  );
END;

CREATE TRIGGER revoked_subaccounts_gc AFTER DELETE ON revoked_subaccounts
BEGIN
  INSERT OR IGNORE INTO owner_gc (owner) VALUES (OLD.owner);
END;

-- Node metadata (e.g. the network ID this database belongs to).
CREATE TABLE state_kv (
  key TEXT PRIMARY KEY NOT NULL,
  value ANY NOT NULL
) STRICT;
