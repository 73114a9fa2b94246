-- Reward accounting (docs/PROTOCOL.md (Rewards)). Amounts are decimal strings of PARS base units
-- (18 decimals): SQLite integers stop at 2^63.

-- Signed epoch reports: this node's own and those fetched from peers, as received (JSON).
CREATE TABLE reward_reports (
  epoch INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  report TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (epoch, node_id)
) STRICT;

-- One row per final epoch: its computed rewards (JSON), written once with the balances below.
CREATE TABLE reward_epochs (
  epoch INTEGER PRIMARY KEY NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  result TEXT NOT NULL,
  finalized_at INTEGER NOT NULL
) STRICT;

-- Cumulative base units earned per staking address (lowercase) over all final epochs.
CREATE TABLE reward_balances (
  address TEXT PRIMARY KEY NOT NULL,
  earned TEXT NOT NULL,
  last_epoch INTEGER NOT NULL
) STRICT;

-- Claims this node signed: the cumulative amount and what it added to the previous one (the part
-- that counts against the claim threshold).
CREATE TABLE reward_claims (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL,
  amount TEXT NOT NULL,
  delta TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  expiry_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX reward_claims_at ON reward_claims (at_ms);
CREATE INDEX reward_claims_address ON reward_claims (address, id);
