/**
 * Penalty reports (migration 0010; src/proofs/ owns their format and signing): rows of report JSON
 * with the accused, epoch and reporter pulled out for the queries of GET /proof/v1/penalties.
 */
import type {Statement} from "better-sqlite3";
import type {StorageDb} from "./db.js";
import {prepareAll, runOnOpen} from "./table.js";

export interface PenaltyReportRow {
  readonly id: number;
  /** When this node stored it (unix ms). */
  readonly at: number;
  /** The report's JSON text. */
  readonly report: string;
  /** The evidence bundle's JSON text; null for reports collected from peers. */
  readonly evidence: string | null;
}

export interface PenaltyReportInsert {
  readonly accusedId: string;
  readonly epoch: number;
  readonly reporterId: string;
  readonly report: string;
  readonly evidence: string | null;
  readonly at: number;
}

export interface PenaltyReportQuery {
  readonly accusedId?: string;
  readonly epoch?: number;
  readonly limit: number;
  /** Rows with a smaller id (paging, newest first). */
  readonly beforeId?: number;
}

const SQL = {
  insert: "INSERT OR IGNORE INTO penalty_reports (at, accused_id, epoch, reporter_id, report, evidence) VALUES (?, ?, ?, ?, ?, ?)",
  keepNewest: "DELETE FROM penalty_reports WHERE id <= (SELECT id FROM penalty_reports ORDER BY id DESC LIMIT 1 OFFSET ?)",
} as const;

type Prepared = {[K in keyof typeof SQL]: Statement};

export class PenaltyTables {
  readonly #db: StorageDb;
  readonly #st: Prepared;
  readonly #add: (row: PenaltyReportInsert, keep: number) => number | null;

  constructor(db: StorageDb) {
    this.#db = db;
    this.#st = prepareAll(db, SQL) as Prepared;
    this.#add = db.sqlite.transaction((row: PenaltyReportInsert, keep: number): number | null => {
      const r = this.#st.insert.run(row.at, row.accusedId, row.epoch, row.reporterId, row.report, row.evidence);
      if (r.changes === 0) return null;
      this.#st.keepNewest.run(keep);
      return Number(r.lastInsertRowid);
    });
  }

  /** Stores a report (an identical one is ignored) and keeps the newest `keep` rows; its id, or null for a duplicate. */
  add(row: PenaltyReportInsert, keep: number): number | null {
    return runOnOpen(this.#db, () => this.#add(row, keep));
  }

  /** Newest first. */
  list(q: PenaltyReportQuery): PenaltyReportRow[] {
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
    return runOnOpen(this.#db, () => this.#db.sqlite.prepare(sql).all(...args, q.limit) as PenaltyReportRow[]);
  }
}
