/**
 * The in-process micro-benchmarks `npm run bench` runs after the HTTP scenarios (no child process
 * is alive then): bench/storage.ts, bench/replication-wire.ts, bench/replication-path.ts and, if its
 * module and export exist,
 * bench/crypto.ts.
 */
import {benchReplicationPath, type ReplicationPathRow} from "./replication-path.js";
import {benchReplicationWire, type ReplicationWireRow} from "./replication-wire.js";
import {benchStorage, type StorageBenchResult} from "./storage.js";
import {formatOpsTable, textTable} from "./report.js";

export interface OpsRow {
  name: string;
  opsPerSec: number;
}

export interface MicroResults {
  storage: StorageBenchResult[];
  /** The rpc_batch_ok reply encoded and decoded, per entry: signature per entry vs shared. */
  replicationWire: ReplicationWireRow[];
  /** The replication code's own CPU per replicated store (fan-out, channel, codec; no HTTP or storage), by batch size. */
  replicationPath: ReplicationPathRow[];
  crypto: OpsRow[] | null;
  notes: string[];
}

/** Smaller than bench/storage.ts's own defaults so the whole `npm run bench` stays near 3 minutes. */
const STORAGE_OPTIONS = {rows: 10_000, reps: 3};
/** Not a literal, so the build does not depend on bench/crypto.ts (another engineer's file). */
const CRYPTO_MODULE = "./crypto.js";

async function loadBenchCrypto(): Promise<(() => Promise<OpsRow[]>) | string> {
  try {
    const mod = (await import(CRYPTO_MODULE)) as {benchCrypto?: unknown};
    if (typeof mod.benchCrypto === "function") return mod.benchCrypto as () => Promise<OpsRow[]>;
    return "bench/crypto.ts has no benchCrypto() export yet: crypto micro-benchmark skipped";
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return `bench/crypto.js could not be loaded (${reason}): crypto micro-benchmark skipped`;
  }
}

export async function runMicroBenchmarks(log: (line: string) => void): Promise<MicroResults> {
  const notes: string[] = [];
  const {rows, reps} = STORAGE_OPTIONS;
  log(`\nStorage micro-benchmark (bench/storage.ts, ${rows} rows × ${reps} reps, median; ratio ÷ autocommit)\n`);
  const storage = await benchStorage(STORAGE_OPTIONS);
  log(formatOpsTable(storage));
  log("\nPeer batch reply (bench/replication-wire.ts: rpc_batch_ok of 50 store entries, encode + decode)\n");
  const replicationWire = benchReplicationWire();
  log(textTable(["reply", "µs per entry", "bytes per entry"], replicationWire.map((r) => [r.name, r.usPerEntry.toFixed(1), String(r.bytesPerEntry)])));
  log("\nReplication path (bench/replication-path.ts: fan-out to 2 in-process peers, channel and codec, no HTTP or storage)\n");
  const replicationPath = await benchReplicationPath();
  log(textTable(["concurrent stores", "µs CPU per replicated store"], replicationPath.map((r) => [String(r.batch), r.usPerStore.toFixed(1)])));
  const benchCrypto = await loadBenchCrypto();
  let crypto: OpsRow[] | null = null;
  if (typeof benchCrypto === "string") {
    notes.push(benchCrypto);
    log(`\nNOTE: ${benchCrypto}`);
  } else {
    log("\nCrypto micro-benchmark (bench/crypto.ts, median of 5 reps)\n");
    crypto = await benchCrypto();
    log(formatOpsTable(crypto));
  }
  return {storage, replicationWire, replicationPath, crypto, notes};
}
