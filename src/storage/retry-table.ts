/**
 * Persisted forward retries (migration 0004 `replication_retries`; src/replication/retry-queue.ts
 * owns the policy). Autocommit statements on the store's connection, like ReplicationTables.
 */
import type {Statement} from "better-sqlite3";
import type {StorageDb} from "./db.js";
import {prepareAll, runOnOpen} from "./table.js";

export interface NewRetry {
  peer: string;
  method: string;
  /** The client's params as JSON text. */
  params: string;
  account: string;
  /** For `store`: the message re-delivered by a push. */
  hash: string | null;
  /** Dropped after this (unix ms). */
  expiry: number;
  nextAttempt: number;
  created: number;
}

export interface RetryRow extends NewRetry {
  id: number;
  attempts: number;
}

interface DbRow {
  id: number;
  peer: string;
  method: string;
  params: string;
  account: string;
  hash: string | null;
  expiry: number;
  attempts: number;
  next_attempt: number;
  created: number;
}

const SQL = {
  insert:
    "INSERT INTO replication_retries (peer, method, params, account, hash, expiry, attempts, next_attempt, created) " +
    "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
  due: "SELECT * FROM replication_retries WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?",
  nextDue: "SELECT min(next_attempt) AS next FROM replication_retries",
  reschedule: "UPDATE replication_retries SET attempts = ?, next_attempt = ? WHERE id = ?",
  remove: "DELETE FROM replication_retries WHERE id = ?",
  wake: "UPDATE replication_retries SET next_attempt = ? WHERE peer = ? AND next_attempt > ?",
  dropExpired: "DELETE FROM replication_retries WHERE expiry <= ?",
  dropPeersExcept: "DELETE FROM replication_retries WHERE peer NOT IN (SELECT value FROM json_each(?))",
  countByPeer: "SELECT peer, count(*) AS n FROM replication_retries GROUP BY peer",
} as const;

type Prepared = {[K in keyof typeof SQL]: Statement};

export class RetryTable {
  readonly #db: StorageDb;
  readonly #st: Prepared;

  constructor(db: StorageDb) {
    this.#db = db;
    this.#st = prepareAll(db, SQL) as Prepared;
  }

  add(rows: readonly NewRetry[]): void {
    this.#run(() =>
      this.#db.sqlite.transaction(() => {
        for (const r of rows) this.#st.insert.run(r.peer, r.method, r.params, r.account, r.hash, r.expiry, r.nextAttempt, r.created);
      })(),
    );
  }

  /** Rows whose next attempt is due at `now`, soonest first. */
  due(now: number, limit: number): RetryRow[] {
    return this.#run(() => (this.#st.due.all(now, limit) as DbRow[]).map(toRow));
  }

  /** When the next row is due, or null if the table is empty. */
  nextDue(): number | null {
    return this.#run(() => (this.#st.nextDue.get() as {next: number | null}).next);
  }

  reschedule(id: number, attempts: number, nextAttempt: number): void {
    this.#run(() => this.#st.reschedule.run(attempts, nextAttempt, id));
  }

  remove(ids: readonly number[]): void {
    this.#run(() =>
      this.#db.sqlite.transaction(() => {
        for (const id of ids) this.#st.remove.run(id);
      })(),
    );
  }

  /** Makes every row for `peer` due at `now` (it is reachable again); returns how many. */
  wake(peer: string, now: number): number {
    return this.#run(() => this.#st.wake.run(now, peer, now).changes);
  }

  /** Drops rows past their expiry and rows for peers not in `peers`; returns how many. */
  prune(now: number, peers: readonly string[]): number {
    return this.#run(() => this.#st.dropExpired.run(now).changes + this.#st.dropPeersExcept.run(JSON.stringify(peers)).changes);
  }

  /** Pending rows per peer. */
  countByPeer(): Map<string, number> {
    const rows = this.#run(() => this.#st.countByPeer.all() as Array<{peer: string; n: number}>);
    return new Map(rows.map((r) => [r.peer, r.n]));
  }

  #run<T>(fn: () => T): T {
    return runOnOpen(this.#db, fn);
  }
}

function toRow(r: DbRow): RetryRow {
  const {next_attempt: nextAttempt, ...rest} = r;
  return {...rest, nextAttempt};
}
