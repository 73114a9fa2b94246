-- Exact message and account totals in one row, kept by triggers, so StoreStats (health, storage
-- proofs, fee quotes) costs one row read instead of a scan of every mailbox counter.
CREATE TABLE store_totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  messages INTEGER NOT NULL,
  accounts INTEGER NOT NULL
);

INSERT INTO store_totals (id, messages, accounts)
  SELECT 1, coalesce(sum(count), 0), count(DISTINCT owner) FROM mailbox_counts;

CREATE TRIGGER store_totals_message_insert AFTER INSERT ON messages
BEGIN
  UPDATE store_totals SET messages = messages + 1 WHERE id = 1;
END;

CREATE TRIGGER store_totals_message_delete AFTER DELETE ON messages
BEGIN
  UPDATE store_totals SET messages = messages - 1 WHERE id = 1;
END;

-- An account counts while it has at least one mailbox (account, namespace) with messages. The
-- mailbox upsert's DO UPDATE branch fires no INSERT trigger, so this runs only for new mailboxes.
CREATE TRIGGER store_totals_account_insert AFTER INSERT ON mailbox_counts
WHEN NOT EXISTS (SELECT 1 FROM mailbox_counts WHERE owner = NEW.owner AND namespace != NEW.namespace)
BEGIN
  UPDATE store_totals SET accounts = accounts + 1 WHERE id = 1;
END;

CREATE TRIGGER store_totals_account_delete AFTER DELETE ON mailbox_counts
WHEN NOT EXISTS (SELECT 1 FROM mailbox_counts WHERE owner = OLD.owner)
BEGIN
  UPDATE store_totals SET accounts = accounts - 1 WHERE id = 1;
END;
