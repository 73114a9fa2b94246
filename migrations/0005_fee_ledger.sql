-- Per-epoch ledger of storage fees this node quoted for messages it stored (PIP-0008 §6).
-- Amounts are decimal strings of PARS base units (18 decimals): SQLite integers stop at 2^63.
CREATE TABLE fee_ledger (
  epoch INTEGER PRIMARY KEY NOT NULL,      -- floor(time_ms / epoch_ms)
  epoch_ms INTEGER NOT NULL,               -- epoch length when the row was written
  fees_total TEXT NOT NULL,                -- sum of quoted totals, base units
  stores INTEGER NOT NULL,                 -- new messages charged
  new_mailboxes INTEGER NOT NULL,          -- of which opened a mailbox (session-create fee)
  bytes INTEGER NOT NULL,                  -- message bytes charged
  swarm_members TEXT NOT NULL,             -- JSON array of node IDs sharing the 80 % swarm part
  updated_at INTEGER NOT NULL
) STRICT;
