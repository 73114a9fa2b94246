/**
 * Penalty reports kept by this node: the ones it signed (with their evidence) and, later, ones it
 * collects from peers. Served by GET /proof/v1/penalties.
 *
 * The table would be migrations/0011 (issue #18's number), but migrations must be numbered without
 * gaps and 0009/0010 (reward accounting) are not in this branch yet, so it is created here, with
 * the same DDL, until they are; moving it to 0011 then changes nothing on disk (IF NOT EXISTS).
 */
import type Database from "better-sqlite3";
import {penaltyReportFromJson, penaltyReportToJson, type PenaltyReport} from "./penalty.js";

export const PENALTY_REPORTS_DDL = `
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
`;

export interface PenaltyRow {
  readonly id: number;
  /** When this node stored it (unix ms). */
  readonly at: number;
  readonly report: PenaltyReport;
  /** The evidence bundle's JSON text, whose SHA-256 the report signs; null for collected reports. */
  readonly evidence: string | null;
}

export interface PenaltyQuery {
  readonly accusedId?: string;
  readonly epoch?: number;
  readonly limit: number;
  /** Rows with a smaller id (paging, newest first). */
  readonly beforeId?: number;
}

interface RawRow {
  id: number;
  at: number;
  report: string;
  evidence: string | null;
}

export class PenaltyStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(PENALTY_REPORTS_DDL);
  }

  /** Stores a report (a duplicate is ignored); keeps the newest `keep` rows. Returns its id, or null for a duplicate. */
  add(report: PenaltyReport, evidence: string | null, at: number, keep: number): number | null {
    const insert = this.#db.prepare(
      "INSERT OR IGNORE INTO penalty_reports (at, accused_id, epoch, reporter_id, report, evidence) VALUES (?, ?, ?, ?, ?, ?)",
    );
    return this.#db.transaction(() => {
      const r = insert.run(at, report.accusedId, report.epoch, report.reporterId, JSON.stringify(penaltyReportToJson(report)), evidence);
      if (r.changes === 0) return null;
      this.#db.prepare("DELETE FROM penalty_reports WHERE id <= (SELECT id FROM penalty_reports ORDER BY id DESC LIMIT 1 OFFSET ?)").run(keep);
      return Number(r.lastInsertRowid);
    })();
  }

  /** Newest first. */
  list(q: PenaltyQuery): PenaltyRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.accusedId !== undefined) {
      where.push("accused_id = ?");
      args.push(q.accusedId);
    }
    if (q.epoch !== undefined) {
      where.push("epoch = ?");
      args.push(q.epoch);
    }
    if (q.beforeId !== undefined) {
      where.push("id < ?");
      args.push(q.beforeId);
    }
    const sql = `SELECT id, at, report, evidence FROM penalty_reports ${where.length === 0 ? "" : "WHERE " + where.join(" AND ")} ORDER BY id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit) as RawRow[];
    return rows.map((r) => ({id: r.id, at: r.at, report: penaltyReportFromJson(JSON.parse(r.report)), evidence: r.evidence}));
  }
}
