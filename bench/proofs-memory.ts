/**
 * Where a storage-proof node's memory goes (issue #16 item 1): on a kept fixture
 * (bench/proofs-fixture.ts), the commitment worker's steps with the process's RSS split at each
 * checkpoint — /proc/self/smaps_rollup (anonymous, file-backed), the main isolate's and the
 * commitment worker's heap and array buffers — before and after a major GC in each isolate, so
 * what is garbage shows apart from what is live.
 *
 *   BENCH_PROOF_DB=/work/tmp/proofs-1m-mem.sqlite BENCH_PROOF_MEM_STEPS=build,refresh,answers,churn \
 *     MALLOC_MMAP_THRESHOLD_=131072 node dist/bench/proofs-memory.js
 *
 * Steps: build (a full build, persisted), restart (a new worker loads the persisted commitment),
 * refresh (1 % of the messages changed), answers (100 challenges, signing worker started),
 * churn (BENCH_PROOF_CHURN changed messages). The file stays a valid fixture. BENCH_PROOF_MEM_GC=0
 * skips the forced GCs, so each step starts from what V8 left, as in a node.
 */
import {readFileSync} from "node:fs";
import {loadavg} from "node:os";
import {loadGc} from "../src/util/index.js";
import {initHashing} from "../src/crypto/hash.js";
import {WorkerEngine, type CommitmentSummary} from "../src/proofs/index.js";
import {CommitmentStore, ProofTables, StorageDb} from "../src/storage/index.js";
import {answers, dirty, logged, maxRssMb, timed} from "./proofs-measure.js";
import {envNumber, round} from "./util.js";

const MB = 1024 * 1024;
const SWEEP_WAIT_MS = 1_500;

interface Row {
  at: string;
  rss: number;
  anon: number;
  file: number;
  mainHeap: number;
  mainHeapTotal: number;
  mainBuffers: number;
  workerHeap: number;
  workerHeapTotal: number;
  workerBuffers: number;
  /** The worker's last major GC (ms): a checkpoint's, or the one after publishing a large refresh. */
  workerGcMs: number;
  /** Major GCs the worker ran so far (the checkpoints' and a full build's own). */
  workerGcs: number;
  peak: number;
}

function smaps(): {rss: number; anon: number; file: number} {
  const text = readFileSync("/proc/self/smaps_rollup", "utf8");
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) / 1024;
  return {rss: kb("Rss"), anon: kb("Anonymous"), file: kb("Rss") - kb("Anonymous")};
}

async function checkpoint(at: string, engine: WorkerEngine | null, gc: (() => void) | null, rows: Row[]): Promise<void> {
  // BENCH_PROOF_MEM_GC=0: no forced GC at checkpoints, so later steps start with what V8 left (as in a node).
  for (const collect of process.env.BENCH_PROOF_MEM_GC === "0" ? [false] : [false, true]) {
    if (collect) {
      gc?.();
      await engine?.memory(true);
      // V8 frees array buffers after a mark-compact on a background sweeper: read them once it ran.
      await new Promise((resolve) => setTimeout(resolve, SWEEP_WAIT_MS));
    }
    const w = engine === null ? null : await engine.memory(false);
    const main = process.memoryUsage();
    const s = smaps();
    rows.push({
      at: collect ? `${at}, after GC` : at,
      rss: round(s.rss),
      anon: round(s.anon),
      file: round(s.file),
      mainHeap: round(main.heapUsed / MB),
      mainHeapTotal: round(main.heapTotal / MB),
      mainBuffers: round(main.arrayBuffers / MB),
      workerHeap: w === null ? 0 : round(w.heapUsed / MB),
      workerHeapTotal: w === null ? 0 : round(w.heapTotal / MB),
      workerBuffers: w === null ? 0 : round(w.arrayBuffers / MB),
      workerGcMs: w === null ? 0 : round(w.lastGcMs, 1),
      workerGcs: w?.gcs ?? 0,
      peak: maxRssMb(),
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
}

const newEngine = (path: string): WorkerEngine =>
  new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, {warn: (o, m) => console.error(m, o)});

async function main(): Promise<void> {
  await initHashing();
  const path = process.env.BENCH_PROOF_DB ?? "/work/tmp/proofs-1m-mem.sqlite";
  const steps = new Set((process.env.BENCH_PROOF_MEM_STEPS ?? "build,refresh,answers").split(",").map((s) => s.trim()));
  const gc = loadGc();
  const db = StorageDb.open({path, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 42, migrationsDir: null}, Date.now());
  const tables = new ProofTables(db);
  const header = new CommitmentStore(db.sqlite).header();
  if (header === null) throw new Error(`${path} holds no persisted commitment`);
  const n = header.messageCount;
  let timestamp = header.timestamp;
  const rows: Row[] = [];
  const times: Record<string, number> = {};
  await checkpoint("database open, no engine", null, gc, rows);
  const engine = newEngine(path);
  try {
    await engine.memory(false);
    await checkpoint("commitment worker started", engine, gc, rows);
    let summary: CommitmentSummary | null = null;
    if (steps.has("build")) {
      const r = await timed(() => engine.refresh({...logged(tables, ++timestamp), changed: null}));
      summary = r.value;
      times.buildMs = round(r.ms);
      await engine.publish(timestamp);
      await checkpoint("after a full build", engine, gc, rows);
    } else {
      const r = await timed(() => engine.refresh(logged(tables, ++timestamp)));
      summary = r.value;
      times.restartMs = round(r.ms);
      await engine.publish(timestamp);
      await checkpoint("after a restart (load)", engine, gc, rows);
    }
    if (steps.has("refresh")) {
      for (let i = 0; i < envNumber("BENCH_PROOF_MEM_REFRESHES", 3); i++) {
        dirty(db, n, {messages: Math.round(n / 100)});
        tables.takeUpdatedHashes();
        const r = await timed(() => engine.refresh(logged(tables, ++timestamp)));
        summary = r.value;
        times[`refresh${i}Ms`] = round(r.ms);
        await engine.publish(timestamp);
        await checkpoint(`after 1 % refresh #${i + 1}`, engine, gc, rows);
      }
    }
    if (steps.has("answers") && summary !== null) {
      const a = await answers(tables, engine, summary, 100);
      times.answerP99Ms = round(a.p99, 1);
      await checkpoint("after 100 answers (signing worker closed)", engine, gc, rows);
    }
    for (let i = 0; steps.has("churn") && i < envNumber("BENCH_PROOF_MEM_CHURNS", 2); i++) {
      dirty(db, n, {messages: Math.round(envNumber("BENCH_PROOF_CHURN", 100_000))});
      tables.takeUpdatedHashes();
      const r = await timed(() => engine.refresh(logged(tables, ++timestamp)));
      times[`churn${i}Ms`] = round(r.ms);
      await engine.publish(timestamp);
      await checkpoint(`after churn refresh #${i + 1}`, engine, gc, rows);
    }
  } finally {
    await engine.close();
    db.close();
  }
  console.log(JSON.stringify({messages: n, load: loadavg().map((l) => l.toFixed(1)).join(" "), times, peakRssMb: maxRssMb()}));
}

await main();
