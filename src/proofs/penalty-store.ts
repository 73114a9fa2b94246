/**
 * Penalty reports kept by this node: the ones it signed (with their evidence) and, later, ones it
 * collects from peers. Served by GET /proof/v1/penalties. The rows live in storage's
 * PenaltyTables (migration 0010); this class turns them into reports.
 */
import type {PenaltyTables} from "../storage/index.js";
import {penaltyReportFromJson, penaltyReportToJson, type PenaltyReport} from "./penalty.js";

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

export class PenaltyStore {
  readonly #table: PenaltyTables;

  constructor(table: PenaltyTables) {
    this.#table = table;
  }

  /** Stores a report (a duplicate is ignored); keeps the newest `keep` rows. Returns its id, or null for a duplicate. */
  add(report: PenaltyReport, evidence: string | null, at: number, keep: number): number | null {
    const json = JSON.stringify(penaltyReportToJson(report));
    return this.#table.add({accusedId: report.accusedId, epoch: report.epoch, reporterId: report.reporterId, report: json, evidence, at}, keep);
  }

  /** Newest first. */
  list(q: PenaltyQuery): PenaltyRow[] {
    return this.#table.list(q).map((r) => ({id: r.id, at: r.at, report: penaltyReportFromJson(JSON.parse(r.report)), evidence: r.evidence}));
  }
}
