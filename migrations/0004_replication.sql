-- 0004_replication: what swarm replication keeps (docs/protocol-parts/replication.md).

-- Tombstones: hashes that must not come back. cap = 0 for a message that was deleted (an
-- authenticated delete, an outbox replacement or a rolling-buffer eviction); cap > 0 for a message
-- whose expiry was shortened (it must not live past cap). A row is kept until `until`, the longest
-- expiry the message had, so neither a push, anti-entropy nor a relocation can bring the message
-- back while any copy of it could still be alive somewhere. `account` (66 hex) lets replication
-- select the tombstones of the accounts a swarm serves; it is not a foreign key, because owners
-- are garbage-collected independently of tombstones.
CREATE TABLE tombstones (
  hash TEXT PRIMARY KEY NOT NULL,
  account TEXT NOT NULL,
  cap INTEGER NOT NULL,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tombstones_until ON tombstones (until);
CREATE INDEX tombstones_account ON tombstones (account);

-- Forwards of recursive requests that did not reach a peer, retried with back-off (Session 2.11's
-- persisted retries). A store is re-delivered as a push of the message (`hash`); every other
-- method replays the client's request (`params`, JSON), which the peer re-validates. A row is
-- dropped once delivered, refused, past `expiry`, or when `peer` is no longer in our swarm.
CREATE TABLE replication_retries (
  id INTEGER PRIMARY KEY,
  peer TEXT NOT NULL,
  method TEXT NOT NULL,
  params TEXT NOT NULL,
  account TEXT NOT NULL,
  hash TEXT,
  expiry INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  created INTEGER NOT NULL
);
CREATE INDEX replication_retries_due ON replication_retries (next_attempt);
CREATE INDEX replication_retries_peer ON replication_retries (peer, id);
