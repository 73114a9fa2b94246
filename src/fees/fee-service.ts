import {
  FEE_STRUCTURE,
  formatPars,
  quoteStore,
  scarcityMultiplier,
  splitAmongNodes,
  splitFee,
  utilizationPct,
  type StorageLoad,
  type StoreQuote,
} from "../economics/index.js";
import type {FeeLedgerRow} from "../storage/index.js";
import type {Clock} from "../util/index.js";

/**
 * Fees in use (PIP-0008 §4.2, §6): every store is quoted (size-based storage fee × the current
 * scarcity multiplier, plus the session-create fee when it opens a mailbox), and what this node
 * charged is kept per epoch with its 80/20 split between the swarm and the treasury.
 *
 * Accounting is buffered in memory and flushed every `flushIntervalMs` and on close, so the store
 * path does no extra write: a killed process loses at most that much fee accounting (messages
 * themselves are durable on their own). Fees are settled on chain; this ledger is the node's
 * record of what it quoted.
 */
export interface FeeServiceOptions {
  epochMs: number;
  flushIntervalMs: number;
}

export const defaultFeeServiceOptions: FeeServiceOptions = {epochMs: 3_600_000, flushIntervalMs: 1_000};

/** Whose storage load sets the multiplier. */
export type LoadOrigin = "network" | "node";

/** Storage load that sets the scarcity multiplier: the network's when known, else this node's. */
export interface StorageLoadSource {
  /** Bytes; `origin` defaults to "node". Called on every store: no I/O. */
  load(): StorageLoad & {origin?: LoadOrigin};
}

/**
 * PIP-0008 §4.2 prices the network's scarcity: the network view's load (used and capacity summed
 * over the active nodes) whenever it has one, else this node's own use against its size limit
 * (alone, before the membership is loaded, or while no node has a recent valid proof).
 */
export function networkOrOwnLoad(network: {load(): StorageLoad | null} | null, own: () => StorageLoad): StorageLoadSource {
  return {
    load: () => {
      const net = network?.load() ?? null;
      return net === null ? {...own(), origin: "node"} : {...net, origin: "network"};
    },
  };
}

export interface FeeLedgerStore {
  save(row: FeeLedgerRow): void;
  get(epoch: number): FeeLedgerRow | null;
  recent(limit: number): FeeLedgerRow[];
}

export interface FeeServiceModules {
  clock: Clock;
  load: StorageLoadSource;
  /** Node IDs of our swarm (including us) that share the swarm part. */
  swarmMembers: () => string[];
  ledger: FeeLedgerStore;
}

/** A quote as it appears in a store response: decimal strings of PARS base units (18 decimals). */
export interface FeeQuoteJson {
  unit: "base";
  base_fee: string;
  multiplier: number;
  storage_fee: string;
  session_create_fee: string;
  total: string;
}

export class FeeService {
  private current: FeeLedgerRow | null = null;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: FeeServiceOptions,
    private readonly modules: FeeServiceModules,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  quote(dataBytes: number, newMailbox: boolean): StoreQuote {
    const {storageUsed, storageCapacity} = this.modules.load.load();
    return quoteStore({dataBytes, newMailbox, storageUsed, storageCapacity});
  }

  /** Records a charged store in the current epoch. */
  charge(q: StoreQuote, dataBytes: number): void {
    const row = this.row(this.modules.clock.now());
    row.feesTotal += q.total;
    row.stores += 1;
    if (q.sessionCreateFee > 0n) row.newMailboxes += 1;
    row.bytes += dataBytes;
    this.dirty = true;
  }

  private row(now: number): FeeLedgerRow {
    const epoch = Math.floor(now / this.opts.epochMs);
    if (this.current?.epoch !== epoch) {
      this.flush();
      this.current = this.modules.ledger.get(epoch) ?? emptyRow(epoch, this.opts.epochMs, now);
    }
    this.current.swarmMembers = this.modules.swarmMembers();
    this.current.updatedAt = now;
    return this.current;
  }

  flush(): void {
    if (this.current === null || !this.dirty) return;
    this.modules.ledger.save(this.current);
    this.dirty = false;
  }

  /** GET /economics/v1/fees */
  schedule(): Record<string, unknown> {
    const {storageUsed, storageCapacity, origin = "node"} = this.modules.load.load();
    return {
      unit: "base",
      decimals: 18,
      fees: Object.fromEntries(Object.entries(FEE_STRUCTURE).map(([k, v]) => [k, feeEntry(v)])),
      utilization_pct: utilizationPct(storageUsed, storageCapacity),
      multiplier: Number(scarcityMultiplier(storageUsed, storageCapacity)),
      storage_used: storageUsed,
      storage_capacity: storageCapacity,
      load_origin: origin,
      t: this.modules.clock.now(),
    };
  }

  /** GET /economics/v1/ledger: newest epochs first, each with its 80/20 split among the swarm. */
  ledger(limit: number): Record<string, unknown> {
    this.flush();
    const epochs = this.modules.ledger.recent(limit).map((r) => {
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
}

export function quoteJson(q: StoreQuote): FeeQuoteJson {
  return {
    unit: "base",
    base_fee: q.baseFee.toString(),
    multiplier: Number(q.multiplier),
    storage_fee: q.storageFee.toString(),
    session_create_fee: q.sessionCreateFee.toString(),
    total: q.total.toString(),
  };
}

function feeEntry(v: unknown): unknown {
  if (typeof v === "bigint") return {base: v.toString(), pars: formatPars(v)};
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === "bigint" ? x.toString() : x]));
  }
  return v;
}

function emptyRow(epoch: number, epochMs: number, now: number): FeeLedgerRow {
  return {epoch, epochMs, feesTotal: 0n, stores: 0, newMailboxes: 0, bytes: 0, swarmMembers: [], updatedAt: now};
}
