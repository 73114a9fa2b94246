import type {Statement} from "better-sqlite3";
import {silentLogger, type Logger} from "../util/index.js";
import type {StorageDb} from "./db.js";
import {sqliteCodeOf} from "./errors.js";

/** One epoch of the fee ledger as stored (amounts as bigint base units). */
export interface FeeLedgerRow {
  epoch: number;
  epochMs: number;
  feesTotal: bigint;
  stores: number;
  newMailboxes: number;
  bytes: number;
  swarmMembers: string[];
  updatedAt: number;
}

interface RawRow {
  epoch: number;
  epoch_ms: number;
  fees_total: string;
  stores: number;
  new_mailboxes: number;
  bytes: number;
  swarm_members: string;
  updated_at: number;
}

/**
 * The fee ledger table (migration 0005). Rows are upserted whole: the caller owns the totals.
 * On a full disk (SQLITE_FULL) a row that cannot be saved is kept in memory, read back from there,
 * and saved with the next save once there is room: the fee service's periodic flush never throws
 * for a full disk (it runs on a timer, where a throw would kill the process).
 */
export class SqliteFeeLedger {
  readonly #upsert: Statement<[number, number, string, number, number, number, string, number]>;
  readonly #recent: Statement<[number], RawRow>;
  readonly #one: Statement<[number], RawRow>;
  readonly #logger: Logger;
  /** Rows not saved yet because the disk was full, by epoch. */
  readonly #unsaved = new Map<number, FeeLedgerRow>();

  constructor(db: StorageDb, modules: {logger?: Logger} = {}) {
    this.#logger = modules.logger ?? silentLogger;
    this.#upsert = db.sqlite.prepare(
      `INSERT INTO fee_ledger (epoch, epoch_ms, fees_total, stores, new_mailboxes, bytes, swarm_members, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (epoch) DO UPDATE SET epoch_ms = excluded.epoch_ms, fees_total = excluded.fees_total,
         stores = excluded.stores, new_mailboxes = excluded.new_mailboxes, bytes = excluded.bytes,
         swarm_members = excluded.swarm_members, updated_at = excluded.updated_at`,
    );
    this.#recent = db.sqlite.prepare("SELECT * FROM fee_ledger ORDER BY epoch DESC LIMIT ?");
    this.#one = db.sqlite.prepare("SELECT * FROM fee_ledger WHERE epoch = ?");
  }

  save(row: FeeLedgerRow): void {
    this.#unsaved.set(row.epoch, {...row, swarmMembers: [...row.swarmMembers]});
    for (const [epoch, pending] of [...this.#unsaved]) {
      try {
        this.#write(pending);
        this.#unsaved.delete(epoch);
      } catch (err) {
        if (sqliteCodeOf(err) !== "SQLITE_FULL") {
          this.#unsaved.delete(epoch);
          throw err;
        }
        this.#logger.warn({epoch, unsaved: this.#unsaved.size}, "disk full: fee ledger row kept in memory until there is room");
        return;
      }
    }
  }

  #write(row: FeeLedgerRow): void {
    this.#upsert.run(
      row.epoch,
      row.epochMs,
      row.feesTotal.toString(),
      row.stores,
      row.newMailboxes,
      row.bytes,
      JSON.stringify(row.swarmMembers),
      row.updatedAt,
    );
  }

  get(epoch: number): FeeLedgerRow | null {
    const unsaved = this.#unsaved.get(epoch);
    if (unsaved !== undefined) return {...unsaved, swarmMembers: [...unsaved.swarmMembers]};
    const r = this.#one.get(epoch);
    return r === undefined ? null : fromRaw(r);
  }

  /** Newest first. */
  recent(limit: number): FeeLedgerRow[] {
    const byEpoch = new Map(this.#recent.all(limit).map((r) => [r.epoch, fromRaw(r)]));
    for (const [epoch, row] of this.#unsaved) byEpoch.set(epoch, {...row, swarmMembers: [...row.swarmMembers]});
    return [...byEpoch.values()].sort((a, b) => b.epoch - a.epoch).slice(0, limit);
  }
}

function fromRaw(r: RawRow): FeeLedgerRow {
  return {
    epoch: r.epoch,
    epochMs: r.epoch_ms,
    feesTotal: BigInt(r.fees_total),
    stores: r.stores,
    newMailboxes: r.new_mailboxes,
    bytes: r.bytes,
    swarmMembers: JSON.parse(r.swarm_members) as string[],
    updatedAt: r.updated_at,
  };
}
