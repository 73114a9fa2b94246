import {splitAmongNodes, splitFee, type StoreQuote} from "../economics/index.js";
import type {FeeLedgerRow} from "../storage/index.js";
import type {Clock} from "../util/index.js";

/**
 * The fee ledger (PIP-0008 §6): what this node charged per epoch, with its 80/20 split between
 * the swarm and the treasury. Fees are settled on chain; this ledger is the node's record of what
 * it quoted.
 *
 * Accounting is buffered in memory and flushed every `flushIntervalMs` and on close, so the store
 * path does no extra write: a killed process loses at most that much fee accounting (messages
 * themselves are durable on their own). The rows live in storage/'s `fee_ledger` table
 * (`SqliteFeeLedger`): storage/ stays the only place with SQL, and the table shares the store's
 * connection, migrations and full-disk handling.
 */
export interface FeeLedgerOptions {
  epochMs: number;
  flushIntervalMs: number;
}

export const defaultFeeLedgerOptions: FeeLedgerOptions = {epochMs: 3_600_000, flushIntervalMs: 1_000};

/** The table the ledger's rows are kept in (storage/'s SqliteFeeLedger). */
export interface FeeLedgerStore {
  save(row: FeeLedgerRow): void;
  get(epoch: number): FeeLedgerRow | null;
  recent(limit: number): FeeLedgerRow[];
}

export interface FeeLedgerModules {
  clock: Clock;
  table: FeeLedgerStore;
  /** Node IDs of our swarm (including us) that share the swarm part. */
  swarmMembers: () => string[];
}

export class FeeLedger {
  private current: FeeLedgerRow | null = null;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly opts: FeeLedgerOptions,
    private readonly modules: FeeLedgerModules,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Records a charged store in the current epoch. */
  record(q: StoreQuote, dataBytes: number): void {
    const row = this.row(this.modules.clock.now());
    row.feesTotal += q.total;
    row.stores += 1;
    if (q.sessionCreateFee > 0n) row.newMailboxes += 1;
    row.bytes += dataBytes;
    this.dirty = true;
  }

  flush(): void {
    if (this.current === null || !this.dirty) return;
    this.modules.table.save(this.current);
    this.dirty = false;
  }

  /** GET /economics/v1/ledger: newest epochs first, each with its 80/20 split among the swarm. */
  view(limit: number): Record<string, unknown> {
    this.flush();
    const epochs = this.modules.table.recent(limit).map((r) => {
      const split = splitFee(r.feesTotal);
      const perNode = r.swarmMembers.length === 0 ? [] : splitAmongNodes(split.swarm, r.swarmMembers);
      return {
        epoch: r.epoch,
        start: r.epoch * r.epochMs,
        end: (r.epoch + 1) * r.epochMs,
        stores: r.stores,
        new_mailboxes: r.newMailboxes,
        bytes: r.bytes,
        fees_total: r.feesTotal.toString(),
        swarm_share: split.swarm.toString(),
        treasury_share: split.treasury.toString(),
        per_node: Object.fromEntries(perNode.map((p) => [p.nodeId, p.amount.toString()])),
      };
    });
    return {unit: "base", decimals: 18, epoch_ms: this.opts.epochMs, epochs, t: this.modules.clock.now()};
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }

  private row(now: number): FeeLedgerRow {
    const epoch = Math.floor(now / this.opts.epochMs);
    if (this.current?.epoch !== epoch) {
      this.flush();
      this.current = this.modules.table.get(epoch) ?? emptyRow(epoch, this.opts.epochMs, now);
    }
    this.current.swarmMembers = this.modules.swarmMembers();
    this.current.updatedAt = now;
    return this.current;
  }
}

function emptyRow(epoch: number, epochMs: number, now: number): FeeLedgerRow {
  return {epoch, epochMs, feesTotal: 0n, stores: 0, newMailboxes: 0, bytes: 0, swarmMembers: [], updatedAt: now};
}
