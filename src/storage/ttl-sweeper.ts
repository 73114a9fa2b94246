import {setImmediate as nextTurn} from "node:timers/promises";
import type {Database, Transaction} from "better-sqlite3";
import type {Clock} from "../util/clock.js";
import type {StorageLogger} from "./logger.js";
import type {Statements} from "./statements.js";

export interface TtlSweeperOptions {
  /** Period between sweeps; 0 disables the timer (sweep() still works). */
  intervalMs: number;
  /** Rows per transaction. */
  batchSize: number;
}

export interface TtlSweeperModules {
  db: Database;
  st: Statements;
  clock: Clock;
  logger: StorageLogger;
  /** After each committed batch, with the hashes it deleted. */
  onRemoved: (hashes: string[]) => void;
  /** After each sweep (refreshes the size accounting). */
  onSwept: () => void;
}

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
  readonly #deleteExpired: Transaction<(cutoff: number) => string[]>;
  readonly #deleteOwners: Transaction<() => {owners: number; dequeued: number}>;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<SweepResult> | null = null;
  #stopped = false;

  constructor(opts: TtlSweeperOptions, modules: TtlSweeperModules) {
    this.#opts = opts;
    this.#modules = modules;
    const {db, st} = modules;
    this.#deleteExpired = db.transaction((cutoff: number) =>
      st.deleteExpired.all(cutoff, opts.batchSize).map((r) => r.hash),
    );
    this.#deleteOwners = db.transaction(() => ({
      owners: st.deleteEmptyOwners.run(opts.batchSize).changes,
      dequeued: st.dequeueOwnerGc.run(opts.batchSize).changes,
    }));
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
      for (let more = true; more && !this.#stopped; ) {
        const hashes = this.#deleteExpired(cutoff);
        result.batches++;
        result.expired += hashes.length;
        if (hashes.length > 0) this.#modules.onRemoved(hashes);
        more = hashes.length === this.#opts.batchSize;
        if (more) await nextTurn();
      }
      for (let more = !this.#stopped; more && !this.#stopped; ) {
        const {owners, dequeued} = this.#deleteOwners();
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
}
