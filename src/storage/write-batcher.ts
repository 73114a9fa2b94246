import type {Database, Statement} from "better-sqlite3";
import {runSoon} from "../util/index.js";
import type {StoredMessage, TombstoneChange} from "./interface.js";

/** What one write did, reported to listeners after its transaction commits. */
export interface WriteOutcome<T> {
  value: T;
  /** Messages that did not exist before this write. */
  added?: StoredMessage[];
  /** Hashes this write removed (deleted, replaced, evicted or swept). */
  removed?: string[];
  /** Tombstones this write added or removed (replication, see tombstones.ts). */
  tombstones?: TombstoneChange;
  /** Accounts whose subaccount revocation state this write changed (see revocations.ts). */
  revocations?: string[];
}

/** A write: synchronous SQL run inside the batch transaction, in its own savepoint. */
export type WriteFn<T> = () => WriteOutcome<T>;

export interface WriteBatcherOptions {
  /** Flush as soon as this many writes are queued; also the most writes per transaction. */
  maxBatchWrites: number;
  /**
   * How long the first write queued into an empty batch waits for others before the transaction
   * runs, in ms. 0 (the default): until the end of the event-loop turn (setImmediate).
   */
  delayMs?: number;
}

export interface WriteBatcherModules {
  db: Database;
  /** Turns anything a write or COMMIT threw into the error its promise rejects with. */
  mapError: (err: unknown) => Error;
  /** Once per committed transaction, with the outcomes of its successful writes in order. */
  onCommit: (outcomes: Array<WriteOutcome<unknown>>) => void;
  /** At the end of every flush, committed or not. */
  onFlushed: () => void;
}

export interface WriteBatcherStats {
  commits: number;
  committedWrites: number;
  failedWrites: number;
  maxWritesPerCommit: number;
}

interface PendingWrite {
  run: WriteFn<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Executed {
  write: PendingWrite;
  outcome: WriteOutcome<unknown> | null;
  error: Error | null;
}

/**
 * Group commit: writes queued during one event-loop turn run in ONE transaction (flushed with
 * setImmediate, or at once when `maxBatchWrites` are queued); with `delayMs`, those queued within
 * that many milliseconds of the first (a timer instead of the end of the turn). Each write runs in
 * a savepoint, so a failing write is rolled back alone and rejects alone. Promises settle only
 * after COMMIT; if the COMMIT fails, or SQLite rolls the whole transaction back (SQLITE_FULL, I/O
 * errors), every write that ran in it rejects, and writes not yet run go on in a new transaction.
 */
export class WriteBatcher {
  readonly #opts: WriteBatcherOptions;
  readonly #modules: WriteBatcherModules;
  readonly #tx: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo", Statement<[]>>;
  readonly #stats: WriteBatcherStats = {commits: 0, committedWrites: 0, failedWrites: 0, maxWritesPerCommit: 0};
  #queue: PendingWrite[] = [];
  /** Cancels the scheduled flush (null: none scheduled). */
  #scheduled: (() => void) | null = null;
  #flushing = false;

  constructor(opts: WriteBatcherOptions, modules: WriteBatcherModules) {
    this.#opts = opts;
    this.#modules = modules;
    const db = modules.db;
    this.#tx = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT write"),
      release: db.prepare("RELEASE write"),
      rollbackTo: db.prepare("ROLLBACK TO write"),
    };
  }

  /** Queues a write; the promise settles after the transaction holding it commits (or fails). */
  enqueue<T>(run: WriteFn<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({run, resolve: resolve as (value: unknown) => void, reject});
      if (this.#queue.length >= this.#opts.maxBatchWrites && !this.#flushing) this.flush();
      else this.#schedule();
    });
  }

  get pending(): number {
    return this.#queue.length;
  }

  stats(): WriteBatcherStats {
    return {...this.#stats};
  }

  /** Runs the writes queued so far now (writes queued by commit listeners wait for the next turn). */
  flush(): void {
    this.#scheduled?.();
    this.#scheduled = null;
    if (this.#flushing) return;
    this.#flushing = true;
    const pending = this.#queue;
    this.#queue = [];
    try {
      for (let i = 0; i < pending.length; i += this.#opts.maxBatchWrites) {
        let rest = pending.slice(i, i + this.#opts.maxBatchWrites);
        while (rest.length > 0) rest = this.#runTransaction(rest);
      }
    } finally {
      this.#flushing = false;
      this.#modules.onFlushed();
    }
    if (this.#queue.length > 0) this.#schedule();
  }

  /** Flushes until the queue is empty (used by close). */
  drain(): void {
    while (this.#queue.length > 0) this.flush();
  }

  #schedule(): void {
    this.#scheduled ??= runSoon(() => {
      this.#scheduled = null;
      this.flush();
    }, this.#opts.delayMs ?? 0);
  }

  /** Runs writes in one transaction; returns those not run because SQLite lost the transaction. */
  #runTransaction(writes: PendingWrite[]): PendingWrite[] {
    try {
      this.#tx.begin.run();
    } catch (err) {
      this.#rejectAll(writes.map((write) => ({write, outcome: null, error: null})), this.#modules.mapError(err));
      return [];
    }
    const executed: Executed[] = [];
    for (const [i, write] of writes.entries()) {
      const result = this.#runOne(write);
      executed.push(result);
      if (!this.#modules.db.inTransaction) {
        const cause = result.error ?? this.#modules.mapError(new Error("transaction rolled back by SQLite"));
        this.#rejectAll(executed, cause);
        return writes.slice(i + 1);
      }
    }
    this.#commit(executed);
    return [];
  }

  #runOne(write: PendingWrite): Executed {
    try {
      this.#tx.savepoint.run();
      const outcome = write.run();
      this.#tx.release.run();
      return {write, outcome, error: null};
    } catch (err) {
      this.#undoSavepoint();
      return {write, outcome: null, error: this.#modules.mapError(err)};
    }
  }

  #undoSavepoint(): void {
    if (!this.#modules.db.inTransaction) return;
    try {
      this.#tx.rollbackTo.run();
      this.#tx.release.run();
    } catch {
      // The savepoint is unusable; give up the whole transaction (its writes will reject).
      this.#rollback();
    }
  }

  #rollback(): void {
    try {
      if (this.#modules.db.inTransaction) this.#tx.rollback.run();
    } catch {
      // Nothing more to do: SQLite ends the transaction itself when ROLLBACK fails.
    }
  }

  #commit(executed: Executed[]): void {
    try {
      this.#tx.commit.run();
    } catch (err) {
      this.#rollback();
      this.#rejectAll(executed, this.#modules.mapError(err));
      return;
    }
    const succeeded = executed.filter((e) => e.outcome !== null);
    this.#stats.commits++;
    this.#stats.committedWrites += succeeded.length;
    this.#stats.failedWrites += executed.length - succeeded.length;
    this.#stats.maxWritesPerCommit = Math.max(this.#stats.maxWritesPerCommit, executed.length);
    try {
      this.#modules.onCommit(succeeded.map((e) => e.outcome as WriteOutcome<unknown>));
    } finally {
      for (const e of executed) {
        if (e.outcome !== null) e.write.resolve(e.outcome.value);
        else e.write.reject(e.error ?? new Error("write failed"));
      }
    }
  }

  /** Rejects writes whose transaction did not commit: with their own error, else with `cause`. */
  #rejectAll(executed: Executed[], cause: Error): void {
    this.#stats.failedWrites += executed.length;
    for (const e of executed) e.write.reject(e.error ?? cause);
  }
}
