import {setImmediate as nextTurn} from "node:timers/promises";
import type {Database, Transaction} from "better-sqlite3";
import type {Clock} from "../util/index.js";
import {sqliteCodeOf} from "./errors.js";
import type {Logger} from "../util/index.js";
import type {Statements} from "./statements.js";

export interface TtlSweeperOptions {
  /** Period between sweeps; 0 disables the timer (sweep() still works). */
  intervalMs: number;
  /** Rows per transaction. */
  batchSize: number;
}

/**
 * One sweep batch each, in a transaction of its own: on the main thread's connection
 * (sqliteSweepBatches) or posted to the storage writer thread, which owns the writes then.
 */
export interface SweepBatches {
  /** Deletes up to `limit` messages with expiry <= cutoff; returns their hashes. */
  expired(cutoff: number, limit: number): string[] | Promise<string[]>;
  /** Deletes up to `limit` owners left empty; `dequeued` counts the GC queue entries consumed. */
  owners(limit: number): OwnerSweep | Promise<OwnerSweep>;
}

export interface OwnerSweep {
  owners: number;
  dequeued: number;
}

export function sqliteSweepBatches(db: Database, st: Statements): SweepBatches {
  const expired: Transaction<(cutoff: number, limit: number) => string[]> = db.transaction((cutoff: number, limit: number) =>
    st.deleteExpired.all(cutoff, limit).map((r) => r.hash),
  );
  const owners: Transaction<(limit: number) => OwnerSweep> = db.transaction((limit: number) => ({
    owners: st.deleteEmptyOwners.run(limit).changes,
    dequeued: st.dequeueOwnerGc.run(limit).changes,
  }));
  return {expired: (cutoff, limit) => expired(cutoff, limit), owners: (limit) => owners(limit)};
}

export interface TtlSweeperModules {
  batches: SweepBatches;
  clock: Clock;
  logger: Logger;
  /** After each committed batch, with the hashes it deleted. */
  onRemoved: (hashes: string[]) => void;
  /** After each sweep (refreshes the size accounting). */
  onSwept: () => void;
  /**
   * After a batch failed with SQLITE_FULL: frees what it can (the disk reserve, the WAL) and says
   * whether that changed anything. The batch is then retried, smaller.
   */
  relieveFull: () => boolean;
}

/** On a full disk a failed batch is retried with a quarter of the rows, down to this many. */
const MIN_FULL_DISK_BATCH = 16;
/** Tries of one batch on a full disk before the sweep gives up until its next run. */
const MAX_FULL_DISK_ATTEMPTS = 6;

export interface SweepResult {
  /** Expired messages deleted. */
  expired: number;
  /** Owners deleted because they had no messages and no revocations left. */
  owners: number;
  /** Transactions run. */
  batches: number;
}

/**
 * Deletes messages with expiry <= now (the cut-off is taken when the sweep starts), then owners
 * left with no messages and no revocations, in bounded batches: each batch is one transaction and
 * the sweeper yields to the event loop between batches so requests and group commits interleave.
 */
export class TtlSweeper {
  readonly #opts: TtlSweeperOptions;
  readonly #modules: TtlSweeperModules;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<SweepResult> | null = null;
  #stopped = false;

  constructor(opts: TtlSweeperOptions, modules: TtlSweeperModules) {
    this.#opts = opts;
    this.#modules = modules;
  }

  /** Sweeps now (as Session does at startup), then every intervalMs. */
  start(): void {
    if (this.#opts.intervalMs > 0 && !this.#stopped) this.#schedule(0);
  }

  /** One full sweep; concurrent calls share the running sweep. */
  sweep(): Promise<SweepResult> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Stops the timer and waits for a running sweep (which stops at its next batch boundary). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.sweep()
        .then((r) => {
          if (r.expired > 0 || r.owners > 0) this.#modules.logger.debug({...r}, "swept expired messages");
        })
        .catch((err: unknown) => this.#modules.logger.warn({err}, "TTL sweep failed"))
        .finally(() => {
          if (!this.#stopped) this.#schedule(this.#opts.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }

  async #sweep(): Promise<SweepResult> {
    const result: SweepResult = {expired: 0, owners: 0, batches: 0};
    try {
      const cutoff = this.#modules.clock.now();
      const batch = {size: this.#opts.batchSize};
      for (let more = true; more && !this.#stopped; ) {
        const hashes = await this.#onFullDiskRetry(batch, () => this.#modules.batches.expired(cutoff, batch.size));
        result.batches++;
        result.expired += hashes.length;
        if (hashes.length > 0) this.#modules.onRemoved(hashes);
        more = hashes.length === batch.size;
        if (more) await nextTurn();
      }
      for (let more = !this.#stopped; more && !this.#stopped; ) {
        const {owners, dequeued} = await this.#onFullDiskRetry({size: this.#opts.batchSize}, () =>
          this.#modules.batches.owners(this.#opts.batchSize),
        );
        result.batches++;
        result.owners += owners;
        more = dequeued === this.#opts.batchSize;
        if (more) await nextTurn();
      }
    } finally {
      this.#modules.onSwept();
    }
    return result;
  }

  /**
   * Runs a batch; on SQLITE_FULL (a full disk: its WAL frames found no room) frees what can be
   * freed and retries with a quarter of the rows, so a sweep on a full disk still makes progress
   * in transactions that fit. `batch.size` stays reduced for the rest of the sweep.
   */
  async #onFullDiskRetry<T>(batch: {size: number}, run: () => T | Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        if (sqliteCodeOf(err) !== "SQLITE_FULL" || attempt >= MAX_FULL_DISK_ATTEMPTS) throw err;
        const relieved = this.#modules.relieveFull();
        if (!relieved && batch.size <= MIN_FULL_DISK_BATCH) throw err;
        batch.size = Math.max(MIN_FULL_DISK_BATCH, Math.floor(batch.size / 4));
        this.#modules.logger.warn({batchSize: batch.size}, "disk full during a TTL sweep; retrying in smaller batches");
      }
    }
  }
}
