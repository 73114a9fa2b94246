-- 0007_unrevocations: durable unrevokes, so subaccount revocations can be replicated last-writer-wins
-- (docs/PROTOCOL.md (Replication) §5.5). A revocation is a row of revoked_subaccounts (0001); an
-- unrevoke is a row here, with the timestamp of the account's signed unrevoke request. A token is
-- in at most one of the two tables: the record with the later timestamp wins, so a member that
-- missed an unrevoke cannot bring the revocation back through anti-entropy or relocation.
-- Bounded like revocations: the newest 50 per owner are kept (by timestamp, then insertion).
CREATE TABLE unrevoked_subaccounts (
  owner INTEGER NOT NULL REFERENCES owners (id),
  token BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (owner, token)
);
CREATE INDEX unrevoked_subaccounts_recent ON unrevoked_subaccounts (owner, timestamp);

CREATE TRIGGER unrevoked_subaccounts_keep_newest AFTER INSERT ON unrevoked_subaccounts
BEGIN
  DELETE FROM unrevoked_subaccounts
  WHERE owner = NEW.owner AND rowid NOT IN (
    SELECT rowid FROM unrevoked_subaccounts WHERE owner = NEW.owner
    ORDER BY timestamp DESC, rowid DESC LIMIT 50
  );
END;

-- Like revocations, unrevokes keep their owner alive (the sweeper's owner GC checks both tables).
CREATE TRIGGER unrevoked_subaccounts_gc AFTER DELETE ON unrevoked_subaccounts
BEGIN
  INSERT OR IGNORE INTO owner_gc (owner) VALUES (OLD.owner);
END;
