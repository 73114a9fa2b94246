/**
 * Storage proofs at a full node's scale (issue #16 items 2, 4, 5) on a kept database: the fill
 * (~10 M messages) is done once, straight into SQLite through the store's own migrations, with the
 * commitment built and persisted as a node's first epoch would; later runs reuse the file and
 * measure only what a restart and an epoch's churn cost.
 *
 *   BENCH_PROOF_DB=/work/tmp/proofs-10m.sqlite BENCH_PROOF_N=10000000 BENCH_PROOF_STEPS=fill,restart,churn \
 *     nice -n 10 node dist/bench/proofs-fixture.js
 *
 * Steps (BENCH_PROOF_STEPS, comma-separated, in this order):
 *   - fill: if the file does not exist, N messages (BENCH_PROOF_MIN_BYTES … +400 bytes, hashes
 *     SHA-256(i): the table's row order is not the hash order, as on a node), then a full build
 *     persisted at T (migration 0008), in a child whose page cache does not count below;
 *   - restart: a new commitment worker loads what is persisted, refreshes with the change log after
 *     BENCH_PROOF_RESTART_CHANGES (0.1 % of N) expiry updates, and answers one challenge;
 *   - churn: refreshes after BENCH_PROOF_CHURN (100,000) changed messages (expiry updates of random
 *     rows: every one a random page of the table, the worst case) and after 1 % of the buckets.
 * Every step leaves a valid node database (its refreshes persist and trim the log), so the file
 * needs no copy between runs; each run's T is the persisted one plus one.
 */
import Database from "better-sqlite3";
import {fork} from "node:child_process";
import {existsSync, renameSync, rmSync, statSync} from "node:fs";
import {loadavg} from "node:os";
import {fileURLToPath, pathToFileURL} from "node:url";
import {initHashing} from "../src/crypto/hash.js";
import {BUCKET_COUNT, LocalEngine, WorkerEngine, type CommitmentSummary} from "../src/proofs/index.js";
import {CommitmentStore, ProofTables, StorageDb} from "../src/storage/index.js";
import {answers, dirty, fill, logged, maxRssMb, T, timed} from "./proofs-measure.js";
import {threadTicks} from "./trace-common.js";
import {envNumber, round} from "./util.js";

const openDb = (path: string): StorageDb =>
  StorageDb.open({path, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 42, migrationsDir: null}, Date.now());

/** The fill child: messages, an empty change log, and a persisted full build at T. */
async function fillFixture(path: string, n: number, minBytes: number): Promise<{insertMs: number; buildMs: number; bytes: number}> {
  await initHashing();
  // The schema through the store's migrations, then the rows on a plain connection: the store's own
  // keeps the database in WAL mode, which would write every page twice.
  openDb(path).close();
  const raw = new Database(path);
  let filled: {ms: number; bytes: number};
  try {
    const plain = {sqlite: raw} as unknown as StorageDb;
    filled = withoutMessageTriggers(plain, () => fill(plain, n, minBytes, 3 * 1024 * 1024, 101));
  } finally {
    raw.close();
  }
  const db = openDb(path);
  try {
    const {ms: insertMs, bytes} = filled;
    // The fill's rows are in the commitment built next: the log starts empty, as after a node's epoch.
    db.sqlite.exec("DELETE FROM proof_change_log");
    const tables = new ProofTables(db);
    const engine = new LocalEngine(tables.reader, {sliceBudgetMs: 1_000, store: new CommitmentStore(db.sqlite)});
    // The write follows the refresh (engine.ts): the fixture is built once it is on disk.
    const {ms: buildMs, value} = await timed(async () => {
      const summary = await engine.refresh({timestamp: T, changed: null, logWatermark: 0});
      if (!(await engine.flushed())) throw new Error("fixture build: the commitment was not written");
      return summary;
    });
    if (value?.persisted !== true || value.messageCount !== n) throw new Error(`fixture build: ${value?.messageCount} of ${n} messages, persisted ${value?.persisted}`);
    return {insertMs: round(insertMs), buildMs: round(buildMs), bytes};
  } finally {
    db.close();
  }
}

/**
 * Runs `fn` with the triggers on `messages` dropped (per-row bookkeeping that would double the
 * fill's time), then creates them again from their own SQL and sets the counts they keep.
 */
function withoutMessageTriggers<R>(db: StorageDb, fn: () => R): R {
  const triggers = db.sqlite.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'").all() as Array<{name: string; sql: string}>;
  for (const t of triggers) db.sqlite.exec(`DROP TRIGGER ${t.name}`);
  try {
    return fn();
  } finally {
    for (const t of triggers) db.sqlite.exec(t.sql);
    db.sqlite.exec(
      "INSERT INTO mailbox_counts (owner, namespace, count) SELECT owner, namespace, count(*) FROM messages GROUP BY owner, namespace " +
        "ON CONFLICT (owner, namespace) DO UPDATE SET count = excluded.count",
    );
    db.sqlite.exec("UPDATE store_totals SET messages = (SELECT count(*) FROM messages), accounts = (SELECT count(DISTINCT owner) FROM mailbox_counts) WHERE id = 1");
  }
}

export interface FixtureResult {
  messages: number;
  loadAverage: string;
  /**
   * Restart: the new worker's load and refresh (wall, and CPU of the whole process: every thread,
   * what a loaded machine does not inflate), the first answer after it, and how long the next
   * refresh took (`checkedMs`: it waits for the first one's write; a background check of loaded
   * records ran there before records stayed on disk, persisted.ts).
   */
  restart?: {changes: number; loadMs: number; refreshMs: number; refreshCpuMs: number; firstAnswerMs: number; rebuilt: number; checkedMs: number};
  /**
   * Churn: `refreshMs` until the refresh returned (the new commitment published: what challenges
   * see, the 5 s target), `persistedMs` until its header was on disk (the write follows the refresh,
   * engine.ts); CPU of the whole process over each.
   */
  churn?: {
    changes: number;
    refreshMs: number;
    refreshCpuMs: number;
    /**
     * CPU (ms) of the process's busiest threads over the refresh to publication, largest first: the
     * first is the commitment worker's (what a quiet machine's wall time follows), the rest mostly
     * V8's GC helpers and the main thread.
     */
    refreshThreadsCpuMs: number[];
    persistedMs: number;
    persistedCpuMs: number;
    rebuilt: number;
    bucketsRefreshMs: number;
    bucketsCpuMs: number;
    bucketsPersistedMs: number;
    bucketsRebuilt: number;
  };
  peakRssMb: number;
  /** The commitment worker's young generation at the end (MB: engine-host.ts's choice, or BENCH_PROOF_YOUNG_MB). */
  youngGenerationMb?: number;
}

/**
 * The node's worker engine; BENCH_PROOF_YOUNG_MB fixes the worker's young generation (an A/B)
 * instead of the size engine-host.ts chooses by the node's messages.
 */
const newEngine = (path: string): WorkerEngine => {
  const young = process.env.BENCH_PROOF_YOUNG_MB;
  return new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, {warn: (o, m) => console.error(m, o)}, young === undefined ? {} : {youngGenerationMb: Number(young)});
};

/** The measuring child: restart, then churn, on the kept file. */
async function measure(path: string, steps: ReadonlySet<string>): Promise<FixtureResult> {
  await initHashing();
  const db = openDb(path);
  const tables = new ProofTables(db);
  const header = new CommitmentStore(db.sqlite).header();
  if (header === null) throw new Error(`${path} holds no persisted commitment (run the fill step)`);
  const n = header.messageCount;
  let timestamp = header.timestamp;
  const out: FixtureResult = {messages: n, loadAverage: loadAverage(), peakRssMb: 0};
  const engine = newEngine(path);
  try {
    // The first refresh of a new worker loads the persisted commitment (a restart, whatever the step).
    const changes = Math.round(envNumber("BENCH_PROOF_RESTART_CHANGES", n / 1000));
    dirty(db, n, {messages: changes});
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const summary = await engine.refresh(logged(tables, ++timestamp));
    if (summary === null || summary.loadedMs === 0) throw new Error("the restart did not load the persisted commitment");
    const refreshMs = performance.now() - t0;
    const refreshCpuMs = cpuMs(cpu0);
    const first = await answers(tables, engine, summary, 1);
    // The next refresh waits for the first one's write.
    const checked = await timed(() => engine.refresh(logged(tables, ++timestamp)));
    // Its write follows it: the churn's updates (one long transaction) wait for it, not the reverse.
    await written(db, timestamp, performance.now());
    if (steps.has("restart")) {
      out.restart = {changes, loadMs: round(summary.loadedMs), refreshMs: round(refreshMs), refreshCpuMs, firstAnswerMs: round(refreshMs + first.p50), rebuilt: summary.stats.rebuilt, checkedMs: round(checked.ms)};
    }
    if (steps.has("churn")) {
      const churn = Math.round(envNumber("BENCH_PROOF_CHURN", 100_000));
      const messages = await churnRefresh(db, tables, engine, n, {messages: churn}, ++timestamp);
      const buckets = await churnRefresh(db, tables, engine, n, {buckets: Math.round(BUCKET_COUNT / 100)}, ++timestamp);
      out.churn = {
        changes: churn,
        refreshMs: messages.ms,
        refreshCpuMs: messages.cpuMs,
        refreshThreadsCpuMs: messages.threadsCpuMs,
        persistedMs: messages.persistedMs,
        persistedCpuMs: messages.persistedCpuMs,
        rebuilt: messages.rebuilt,
        bucketsRefreshMs: buckets.ms,
        bucketsCpuMs: buckets.cpuMs,
        bucketsPersistedMs: buckets.persistedMs,
        bucketsRebuilt: buckets.rebuilt,
      };
    }
    out.peakRssMb = maxRssMb();
    out.youngGenerationMb = (await engine.memory()).youngGenerationMb;
    return out;
  } finally {
    await engine.close();
    db.close();
  }
}

async function churnRefresh(
  db: StorageDb,
  tables: ProofTables,
  engine: WorkerEngine,
  n: number,
  what: {messages?: number; buckets?: number},
  timestamp: number,
): Promise<{ms: number; cpuMs: number; threadsCpuMs: number[]; persistedMs: number; persistedCpuMs: number; rebuilt: number}> {
  dirty(db, n, what);
  tables.takeUpdatedHashes();
  const cpu0 = process.cpuUsage();
  const ticks0 = threadTicks();
  const t0 = performance.now();
  const {ms, value} = await timed((): Promise<CommitmentSummary | null> => engine.refresh(logged(tables, timestamp)));
  if (value?.persisted !== true) throw new Error("a churn refresh was not persisted");
  const refreshCpuMs = cpuMs(cpu0);
  const threadsCpuMs = [...threadTicks()].map(([k, t]) => (t - (ticks0.get(k) ?? 0)) * 10).sort((a, b) => b - a).slice(0, 4);
  await written(db, timestamp, t0);
  return {ms: round(ms), cpuMs: refreshCpuMs, threadsCpuMs, persistedMs: round(performance.now() - t0), persistedCpuMs: cpuMs(cpu0), rebuilt: value.stats.rebuilt};
}

/** Waits until the commitment for `timestamp` is on disk: the worker writes it after returning it, its header last. */
async function written(db: StorageDb, timestamp: number, since: number): Promise<void> {
  const store = new CommitmentStore(db.sqlite);
  while (store.header()?.timestamp !== timestamp) {
    if (performance.now() - since > 600_000) throw new Error(`the commitment for ${timestamp} was not written within 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** CPU time of the whole process (every thread) since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return round((d.user + d.system) / 1000);
}

const loadAverage = (): string => loadavg().map((l) => l.toFixed(1)).join(" ");

function child<R>(args: string[]): Promise<R> {
  const proc = fork(fileURLToPath(import.meta.url), args, {stdio: ["ignore", "inherit", "inherit", "ipc"]});
  return new Promise<R>((resolve, reject) => {
    proc.once("message", (m) => resolve(m as R));
    proc.once("exit", (code) => reject(new Error(`proof fixture child ${args.join(" ")} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const path = process.env.BENCH_PROOF_DB ?? "/work/tmp/proofs-10m.sqlite";
  const steps = new Set((process.env.BENCH_PROOF_STEPS ?? "fill,restart,churn").split(",").map((s) => s.trim()));
  if (steps.has("fill") && !existsSync(path)) {
    const n = Math.round(envNumber("BENCH_PROOF_N", 10_000_000));
    console.log(`proof fixture: filling ${path} with ${n.toLocaleString("en-US")} messages (load ${loadAverage()}) …`);
    // Filled under another name and renamed once built: an interrupted fill is never taken for a fixture.
    const partial = `${path}.partial`;
    rmSync(partial, {force: true});
    const filled = await child<{insertMs: number; buildMs: number; bytes: number}>(["--fill", partial, String(n), String(envNumber("BENCH_PROOF_MIN_BYTES", 100))]);
    renameSync(partial, path);
    console.log(`proof fixture: ${round(filled.bytes / 1e6)} MB of data inserted in ${round(filled.insertMs / 1000)} s, built and persisted in ${round(filled.buildMs / 1000)} s; file ${round(statSync(path).size / 1e6)} MB`);
  }
  if (!steps.has("restart") && !steps.has("churn")) return;
  const r = await child<FixtureResult>(["--measure", path, [...steps].join(",")]);
  console.log(JSON.stringify(r, null, 2));
}

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
const [mode, arg1, arg2, arg3] = process.argv.slice(2);
if (self && mode === "--fill") {
  process.send?.(await fillFixture(arg1 ?? "", Number(arg2), Number(arg3)));
  process.disconnect?.();
} else if (self && mode === "--measure") {
  // The signing worker is unref'd (a node's HTTP server keeps it alive): keep this process alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const result = await measure(arg1 ?? "", new Set((arg2 ?? "").split(",")));
  clearInterval(keepAlive);
  process.send?.(result);
  process.disconnect?.();
} else if (self) {
  await main();
}
