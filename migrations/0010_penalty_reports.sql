-- Penalty reports (docs/PROTOCOL.md (Storage proofs) §13): the BLS-signed reports this node made
-- about peers that failed its challenges (with their evidence bundle), and later ones collected
-- from peers (evidence NULL). `report` is the report's JSON as served by GET /proof/v1/penalties.
-- IF NOT EXISTS: development builds created this table in code before it had a migration.
CREATE TABLE IF NOT EXISTS penalty_reports (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  accused_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  reporter_id TEXT NOT NULL,
  report TEXT NOT NULL,
  evidence TEXT,
  UNIQUE (reporter_id, accused_id, epoch, report)
);
CREATE INDEX IF NOT EXISTS penalty_reports_by_accused ON penalty_reports (accused_id, epoch, id);
