/**
 * The storage side of storage proofs (src/proofs/): the updated-message log kept by the trigger of
 * migration 0003, the reads of challenge answers and candidates (the commitment's own reads are
 * in commitment-reader.ts), and the proof history and challenge ledger tables. Statements run in autocommit on the
 * store's connection; the group-commit transaction never spans an event-loop turn, so they never
 * interleave with it.
 */
import type {Statement} from "better-sqlite3";
import type {StorageDb} from "./db.js";
import {CommitmentReader} from "./commitment-reader.js";
import {prepareAll, runOnOpen} from "./table.js";

/** One message as reads see it, with its account as 66 lowercase hex characters. */
export interface ProofMessage {
  hash: string;
  account: string;
  namespace: number;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

export interface ProofResultRow {
  id: number;
  at: number;
  challengerId: string;
  targetId: string;
  messageHash: string;
  outcome: "pass" | "fail" | "inconclusive";
  reason: string | null;
  evidence: string | null;
}

export type NewProofResult = Omit<ProofResultRow, "id">;

interface RawRow {
  hash: string;
  type: number;
  pubkey: Buffer;
  namespace: number;
  expiry: number;
  size: number;
  data?: Buffer;
  timestamp?: number;
}

interface ResultDbRow extends Omit<ProofResultRow, "challengerId" | "targetId" | "messageHash"> {
  challenger_id: string;
  target_id: string;
  message_hash: string;
}

const ROW_COLUMNS = "m.hash, o.type, o.pubkey, m.namespace, m.expiry, length(m.data) AS size";
const FROM = "FROM messages m JOIN owners o ON o.id = m.owner";
const RESULT_COLUMNS = "id, at, challenger_id, target_id, message_hash, outcome, reason, evidence";

const SQL = {
  takeUpdated: "DELETE FROM proof_changes RETURNING hash",
  logBounds: "SELECT min(id), max(id) FROM proof_change_log",
  logBetween: "SELECT hash FROM proof_change_log WHERE id > ? AND id <= ? ORDER BY id",
  trimLog: "DELETE FROM proof_change_log WHERE id <= ?",
  liveHashes: "SELECT hash FROM messages WHERE hash >= ? AND hash < ? AND expiry > ?",
  messageByHash: `SELECT ${ROW_COLUMNS}, m.timestamp, m.data ${FROM} WHERE m.hash = ? AND m.expiry > ?`,
  insertProof: "INSERT OR REPLACE INTO proof_history (timestamp, proof) VALUES (?, ?)",
  recentProofs: "SELECT proof FROM proof_history ORDER BY timestamp DESC LIMIT ?",
  pruneProofs: "DELETE FROM proof_history WHERE timestamp NOT IN (SELECT timestamp FROM proof_history ORDER BY timestamp DESC LIMIT ?)",
  insertResult:
    "INSERT INTO proof_results (at, challenger_id, target_id, message_hash, outcome, reason, evidence) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
  results: `SELECT ${RESULT_COLUMNS} FROM proof_results WHERE id < ? ORDER BY id DESC LIMIT ?`,
  resultsForTarget: `SELECT ${RESULT_COLUMNS} FROM proof_results WHERE target_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
  resultById: `SELECT ${RESULT_COLUMNS} FROM proof_results WHERE id = ?`,
  tally:
    "SELECT target_id, outcome, count(*) AS n, max(at) AS last FROM proof_results WHERE at >= ? GROUP BY target_id, outcome",
  pruneResults: "DELETE FROM proof_results WHERE id <= (SELECT max(id) FROM proof_results) - ?",
} as const;

type Prepared = {[K in keyof typeof SQL]: Statement};

export interface ResultTally {
  targetId: string;
  outcome: ProofResultRow["outcome"];
  count: number;
  lastAt: number;
}

/** The change log (migration 0008) up to a watermark: what a refresh must read again. */
export interface ChangeLog {
  /** The highest row id taken (0 for an empty log): the refresh trims the log up to it. */
  readonly watermark: number;
  /**
   * The hashes of the rows above `changeLog`'s `after` up to `watermark`, in log order (repeats
   * possible); null when more than the limit asked were logged in all.
   */
  readonly hashes: string[] | null;
}

export class ProofTables {
  /** The commitment's reads on this connection (the inline engine; the worker opens its own). */
  readonly reader: CommitmentReader;
  readonly #db: StorageDb;
  readonly #st: Prepared;

  constructor(db: StorageDb) {
    this.#db = db;
    this.#st = prepareAll(db, SQL) as Prepared;
    this.reader = new CommitmentReader(db.sqlite);
  }

  /** Hashes of messages updated (expiry, data) since the last call; clears the log. */
  takeUpdatedHashes(): string[] {
    return this.#run(() => (this.#st.takeUpdated.all() as Array<{hash: string}>).map((r) => r.hash));
  }

  /**
   * The change log as it stands, from the row after `after` (rows up to it went to an earlier
   * refresh; they stay logged until its engine's write lands): null hashes beyond `limit` rows
   * logged in all (bounded by the ids, so an overflowing log is not read). The rows stay until a
   * persisted refresh trims them.
   */
  changeLog(limit: number, after = 0): ChangeLog {
    return this.#run(() => {
      const [lo, hi] = this.#st.logBounds.raw().get() as [number | null, number | null];
      if (lo === null || hi === null) return {watermark: 0, hashes: []};
      if (hi - lo + 1 > limit) return {watermark: hi, hashes: null};
      return {watermark: hi, hashes: this.#st.logBetween.pluck().all(after, hi) as string[]};
    });
  }

  /** Drops change-log rows up to `watermark` (a refresh not persisted by its engine took them). */
  trimChangeLog(watermark: number): void {
    this.#run(() => this.#st.trimLog.run(watermark));
  }

  /** Hashes of the messages with lo <= hash < hi and expiry > minExpiryExclusive. */
  liveHashesInRange(lo: string, hi: string, minExpiryExclusive: number): string[] {
    return this.#run(() => this.#st.liveHashes.pluck().all(lo, hi, minExpiryExclusive) as string[]);
  }

  /** A message as reads see it (null if missing or expired at `nowMs`). */
  messageByHash(hash: string, nowMs: number): ProofMessage | null {
    const r = this.#run(() => this.#st.messageByHash.get(hash, nowMs) as RawRow | undefined);
    if (r === undefined) return null;
    const account = r.type.toString(16).padStart(2, "0") + r.pubkey.toString("hex");
    return {hash: r.hash, account, namespace: r.namespace, timestamp: r.timestamp ?? 0, expiry: r.expiry, data: r.data ?? Buffer.alloc(0)};
  }

  /** Records a signed proof and keeps only the newest `keep`. */
  saveProof(timestamp: number, json: string, keep: number): void {
    this.#run(() => {
      this.#st.insertProof.run(timestamp, json);
      this.#st.pruneProofs.run(keep);
    });
  }

  recentProofs(limit: number): string[] {
    return this.#run(() => (this.#st.recentProofs.all(limit) as Array<{proof: string}>).map((r) => r.proof));
  }

  /** Appends a ledger row (keeping at most `keep` rows); returns its id. */
  addResult(r: NewProofResult, keep: number): number {
    return this.#run(() => {
      const args = [r.at, r.challengerId, r.targetId, r.messageHash, r.outcome, r.reason, r.evidence];
      const {id} = this.#st.insertResult.get(...args) as {id: number};
      this.#st.pruneResults.run(keep);
      return id;
    });
  }

  /** Newest first, ids below `beforeId`, optionally for one target. */
  results(limit: number, beforeId = Number.MAX_SAFE_INTEGER, targetId: string | null = null): ProofResultRow[] {
    const rows = this.#run(() =>
      targetId === null ? this.#st.results.all(beforeId, limit) : this.#st.resultsForTarget.all(targetId, beforeId, limit),
    ) as ResultDbRow[];
    return rows.map(toResultRow);
  }

  result(id: number): ProofResultRow | null {
    const row = this.#run(() => this.#st.resultById.get(id) as ResultDbRow | undefined);
    return row === undefined ? null : toResultRow(row);
  }

  /** Verdict counts per target and outcome since `sinceMs`. */
  tally(sinceMs: number): ResultTally[] {
    type Row = {target_id: string; outcome: ProofResultRow["outcome"]; n: number; last: number};
    const rows = this.#run(() => this.#st.tally.all(sinceMs) as Row[]);
    return rows.map((r) => ({targetId: r.target_id, outcome: r.outcome, count: r.n, lastAt: r.last}));
  }

  #run<T>(fn: () => T): T {
    return runOnOpen(this.#db, fn);
  }
}

function toResultRow(r: ResultDbRow): ProofResultRow {
  const {challenger_id: challengerId, target_id: targetId, message_hash: messageHash, ...rest} = r;
  return {...rest, challengerId, targetId, messageHash};
}
