import {
  FEE_STRUCTURE,
  formatPars,
  quoteStore,
  scarcityMultiplier,
  utilizationPct,
  type StorageLoad,
  type StoreQuote,
} from "../economics/index.js";
import type {Clock} from "../util/index.js";
import type {FeeLedger} from "./fee-ledger.js";

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

export interface FeeServiceModules {
  clock: Clock;
  load: StorageLoadSource;
  /** Where charged stores are recorded (fees/fee-ledger.ts). */
  ledger: FeeLedger;
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

/**
 * Fees in use (PIP-0008 §4.2, §6): every store is quoted (size-based storage fee × the current
 * scarcity multiplier, plus the session-create fee when it opens a mailbox), and what this node
 * charged goes to the fee ledger (fee-ledger.ts).
 */
export class FeeService {
  constructor(private readonly modules: FeeServiceModules) {}

  start(): void {
    this.modules.ledger.start();
  }

  quote(dataBytes: number, newMailbox: boolean): StoreQuote {
    const {storageUsed, storageCapacity} = this.modules.load.load();
    return quoteStore({dataBytes, newMailbox, storageUsed, storageCapacity});
  }

  /** Records a charged store in the current epoch. */
  charge(q: StoreQuote, dataBytes: number): void {
    this.modules.ledger.record(q, dataBytes);
  }

  flush(): void {
    this.modules.ledger.flush();
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
    return this.modules.ledger.view(limit);
  }

  close(): void {
    this.modules.ledger.close();
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
