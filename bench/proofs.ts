/**
 * Storage-proof benchmark: for 100 k and 1 M messages (BENCH_PROOF_SIZES; each size filled by one
 * child process and measured by another, so peak RSS is the measuring process's own, its
 * commitment worker included) built directly in SQLite, measures
 *   - the node's path, the commitment engine on its worker thread, persisting its commitment
 *     (migration 0008): full build (with the event-loop delay the main thread saw meanwhile),
 *     refreshes after 1 % of the buckets and after 1 % of the messages changed, challenge answers
 *     back to back (verify, read, find the leaf on the worker, sign on the signing worker) p50 /
 *     p99 with each part's p99, answers during a refresh of 1 % of the messages, and a restart:
 *     a new worker loads the persisted commitment, refreshes it with the change log and answers
 *     (restart to first answer);
 *   - peak RSS of all that, then answers while the worker rebuilds everything from scratch (two
 *     commitments side by side, which only a change-log overflow causes now) and the peak after;
 *   - up to 1 M messages (BENCH_PROOF_INLINE_MAX), the baselines in the same process: the same
 *     build sliced on the main thread, and merkletreejs over one bucket and over all leaves.
 * Medians of BENCH_PROOF_REPS runs (3); one full build from 1 M up. BENCH_PROOF_MIN_BYTES (300)
 * sets the smallest message (sizes run to +400). BENCH_PROOF_FILLED_DIR keeps each filled database
 * there and copies it in later runs (the same messages, no fill). BENCH_PROOF_TRACE=1 prints RSS
 * after each step and what each isolate held at the step's highest sample. Pieces in bench/proofs-measure.ts.
 *
 *   npm run build && node dist/bench/proofs.js
 *   BENCH_PROOF_SIZES=10000000 BENCH_PROOF_MIN_BYTES=100 node dist/bench/proofs.js   (a full node)
 */
import {fork} from "node:child_process";
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {getHeapSpaceStatistics} from "node:v8";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";
import {withMallocEnv} from "../src/cli/allocator.js";
import {initHashing} from "../src/crypto/hash.js";
import {FULL_PLAN, WorkerEngine, type CommitmentSummary} from "../src/proofs/index.js";
import {ProofTables, StorageDb} from "../src/storage/index.js";
import {answers, dirty, fill, logged, maxRssMb, merkletreejsBucket, merkletreejsFlat, refreshes, sliced, T, timed, timedRefresh} from "./proofs-measure.js";
import {envNumber, median, round} from "./util.js";

export interface ProofBenchResult {
  messages: number;
  dataBytes: number;
  insertMs: number;
  /** The commitment worker (the node's path). */
  fullBuildMs: number;
  fullBuildLoopDelayMaxMs: number;
  refreshOnePercentBucketsMs: number;
  refreshOnePercentMessagesMs: number;
  bucketsDirtiedByOnePercentMessages: number;
  answerP50Ms: number;
  answerP99Ms: number;
  /** The worker's part of an answer (committed leaf and inclusion path), p99. */
  answerFindP99Ms: number;
  /** p99 of the other parts of an answer: challenge verification, message read, signature. */
  answerVerifyP99Ms: number;
  answerReadP99Ms: number;
  answerSignP99Ms: number;
  /** Answers while the worker refreshes after 1 % of the messages changed. */
  answerDuringRefreshP99Ms: number;
  /** A new worker: load the persisted commitment, refresh with the change log, publish, answer. */
  restartToFirstAnswerMs: number;
  restartLoadMs: number;
  /** Buckets that restart's refresh rebuilt (those the log named, and those expired). */
  restartRebuiltBuckets: number;
  /** Answers while the worker rebuilds every bucket. */
  answerDuringRebuildP99Ms: number;
  /** Peak RSS before the full rebuild beside the published commitment (the node's steady path). */
  peakRssMb: number;
  /** Peak RSS after it. */
  peakRssWithRebuildMb: number;
  /** Baselines in the same process; null above BENCH_PROOF_INLINE_MAX messages. */
  inline: InlineBaselines | null;
}

export interface InlineBaselines {
  buildMs: number;
  buildLoopDelayMaxMs: number;
  buildLongestSliceMs: number;
  merkletreejsBucketMs: number;
  oursBucketMs: number;
  merkletreejsFlatMs: number | null;
  oursFlatMs: number;
  peakRssAfterMerkletreejsMb: number;
}

const openDb = (path: string): StorageDb =>
  StorageDb.open({path, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 40, migrationsDir: null}, Date.now());

/** Child 1: fills the database (its large page cache must not count in the measured peak RSS). */
function fillChild(path: string, n: number): {insertMs: number; bytes: number} {
  const db = openDb(path);
  try {
    const {ms, bytes} = fill(db, n, Math.round(envNumber("BENCH_PROOF_MIN_BYTES", 300)));
    return {insertMs: round(ms), bytes};
  } finally {
    db.close();
  }
}

type Measured = Omit<ProofBenchResult, "messages" | "dataBytes" | "insertMs">;

const newEngine = (path: string): WorkerEngine =>
  new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, {warn: (o, m) => console.error(m, o)});

/** The commitment worker: full builds, refreshes, answers (also during refreshes), a restart. */
async function measureWorker(path: string, db: StorageDb, tables: ProofTables, n: number, reps: number, answerCount: number): Promise<Omit<Measured, "inline">> {
  let engine = newEngine(path);
  const sampler = process.env.BENCH_PROOF_TRACE === "1" ? new PeakSampler(() => engine) : null;
  try {
    const builds: Array<{ms: number; loopMaxMs: number}> = [];
    let summary: CommitmentSummary | null = null;
    for (let r = 0; r < (n >= 1_000_000 ? 1 : reps); r++) {
      const {ms, loopMaxMs, value} = await timedRefresh(db, () => engine.refresh({...logged(tables, T), changed: null}));
      builds.push({ms, loopMaxMs});
      summary = value;
    }
    if (summary === null || summary.messageCount !== n) throw new Error(`the worker committed ${summary?.messageCount} of ${n} messages`);
    trace("full build", sampler);
    const refresh = await refreshes(db, tables, engine, n, reps);
    summary = await engine.refresh(logged(tables, T));
    trace("refreshes", sampler);
    const steady = await answers(tables, engine, summary!, answerCount);
    trace("answers", sampler);
    dirty(db, n, {messages: Math.round(n / 100)});
    const during = await answers(tables, engine, summary!, answerCount, () => engine.refresh(logged(tables, T + 1)));
    trace("answers during a refresh", sampler);
    // A restart: the worker goes, a new one loads what the last refresh persisted.
    await engine.close();
    dirty(db, n, {messages: Math.round(n / 1000)});
    const t0 = performance.now();
    engine = newEngine(path);
    const restarted = await engine.refresh(logged(tables, T + 2));
    if (restarted === null || restarted.loadedMs === 0) throw new Error("the restart did not load the persisted commitment");
    const refreshedMs = performance.now() - t0;
    // The answer's own time (its signer's start, the bench's set-up, is not a restart's cost).
    const restartToFirstAnswerMs = refreshedMs + (await answers(tables, engine, restarted, 1)).p50;
    trace("restart", sampler);
    const peakRssMb = maxRssMb();
    const rebuild = await answers(tables, engine, restarted, answerCount, () => engine.refresh({timestamp: T + 3, changed: null}));
    return {
      fullBuildMs: round(median(builds.map((b) => b.ms))),
      fullBuildLoopDelayMaxMs: round(median(builds.map((b) => b.loopMaxMs)), 1),
      ...refresh,
      answerP50Ms: round(steady.p50, 1),
      answerP99Ms: round(steady.p99, 1),
      answerFindP99Ms: round(steady.findP99, 2),
      answerVerifyP99Ms: round(steady.verifyP99, 2),
      answerReadP99Ms: round(steady.readP99, 2),
      answerSignP99Ms: round(steady.signP99, 2),
      answerDuringRefreshP99Ms: round(during.p99, 1),
      restartToFirstAnswerMs: round(restartToFirstAnswerMs),
      restartLoadMs: round(restarted.loadedMs),
      restartRebuiltBuckets: restarted.stats.rebuilt,
      answerDuringRebuildP99Ms: round(rebuild.p99, 1),
      peakRssMb,
      peakRssWithRebuildMb: maxRssMb(),
    };
  } finally {
    sampler?.stop();
    await engine.close();
  }
}

const MB = 1024 * 1024;

/** What stood in the process at its highest RSS sample (MB). */
interface PeakSample {
  rss: number;
  anon: number;
  threads: number;
  mainHeapUsed: number;
  mainHeapTotal: number;
  /** The main isolate's young generation (its semi-spaces: committed, used). */
  mainNew: number;
  mainNewUsed: number;
  mainBuffers: number;
  workerHeapUsed?: number;
  workerHeapTotal?: number;
  workerBuffers?: number;
}

/**
 * BENCH_PROOF_TRACE=1: samples the RSS every 20 ms and, at each new high of a step, what each
 * isolate held (the main one at once, the commitment worker's through a `memory` request), so
 * the trace names what stands at the peak rather than after the step.
 */
class PeakSampler {
  #peak: PeakSample | null = null;
  readonly #timer: NodeJS.Timeout;

  constructor(engine: () => WorkerEngine) {
    this.#timer = setInterval(() => this.#sample(engine()), 20);
  }

  #sample(engine: WorkerEngine): void {
    const status = readFileSync("/proc/self/status", "utf8");
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) / 1024;
    const rss = kb("VmRSS");
    if (this.#peak !== null && rss < this.#peak.rss + 1) return;
    const main = process.memoryUsage();
    const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    const sample: PeakSample = {
      rss: round(rss),
      anon: round(kb("RssAnon")),
      threads: kb("Threads") * 1024,
      mainHeapUsed: round(main.heapUsed / MB),
      mainHeapTotal: round(main.heapTotal / MB),
      mainNew: round((young?.space_size ?? 0) / MB),
      mainNewUsed: round((young?.space_used_size ?? 0) / MB),
      mainBuffers: round(main.arrayBuffers / MB),
    };
    this.#peak = sample;
    engine.memory(false).then(
      (w) => Object.assign(sample, {workerHeapUsed: round(w.heapUsed / MB), workerHeapTotal: round(w.heapTotal / MB), workerBuffers: round(w.arrayBuffers / MB)}),
      () => undefined,
    );
  }

  /** The highest sample since the last call (the next step starts afresh). */
  take(): PeakSample | null {
    const p = this.#peak;
    this.#peak = null;
    return p;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** BENCH_PROOF_TRACE=1: RSS now and at its peak after each step (stderr), to see which step sets the peak. */
function trace(step: string, sampler: PeakSampler | null): void {
  if (process.env.BENCH_PROOF_TRACE !== "1") return;
  console.error(`proofs: after ${step}: RSS ${round(process.memoryUsage.rss() / 1024 / 1024)} MB, peak ${maxRssMb()} MB`);
  const p = sampler?.take();
  if (p) console.error(`proofs:   step's highest sample (MB): ${JSON.stringify(p)}`);
}

/** The same build sliced on the main thread, and merkletreejs on its leaves. */
async function measureInline(tables: ProofTables, reps: number): Promise<InlineBaselines> {
  const stats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
  const {ms, loopMaxMs, value: base} = await timed(() => sliced(tables, null, FULL_PLAN, stats));
  const bucket = merkletreejsBucket(base, reps);
  const flat = await merkletreejsFlat(base, 1);
  return {
    buildMs: round(ms),
    buildLoopDelayMaxMs: round(loopMaxMs, 1),
    buildLongestSliceMs: round(stats.longestSliceMs, 1),
    merkletreejsBucketMs: bucket.theirs,
    oursBucketMs: bucket.ours,
    merkletreejsFlatMs: flat.theirs,
    oursFlatMs: flat.ours,
    peakRssAfterMerkletreejsMb: maxRssMb(),
  };
}

/** Child 2: every measurement on the filled database. */
async function measureChild(path: string, n: number, reps: number, answerCount: number): Promise<Measured> {
  await initHashing();
  const db = openDb(path);
  try {
    const tables = new ProofTables(db);
    const worker = await measureWorker(path, db, tables, n, reps, answerCount);
    const inline = n <= envNumber("BENCH_PROOF_INLINE_MAX", 1_000_000) ? await measureInline(tables, reps) : null;
    return {...worker, inline};
  } finally {
    db.close();
  }
}

/** Runs this file as a child with `args` and returns the one message it sends. */
function child<T>(args: string[]): Promise<T> {
  // With glibc's malloc setting every launcher gives a node (src/cli/allocator.ts): RSS as a node's.
  const proc = fork(fileURLToPath(import.meta.url), args, {stdio: ["ignore", "inherit", "inherit", "ipc"], env: withMallocEnv(process.env)});
  return new Promise<T>((resolve, reject) => {
    proc.once("message", (m) => resolve(m as T));
    proc.once("exit", (code) => reject(new Error(`proof bench child ${args.join(" ")} exited with ${code}`)));
  });
}

/**
 * Fills `path` with `n` messages in a child process, or with BENCH_PROOF_FILLED_DIR copies the
 * database filled there before (filling and keeping it there first if there is none): runs of the
 * same size then measure the same messages and skip the fill (~1 min at 1 M).
 */
async function filledDb(path: string, n: number, log: (line: string) => void): Promise<{insertMs: number; bytes: number}> {
  const dir = process.env.BENCH_PROOF_FILLED_DIR;
  const kept = dir === undefined || dir === "" ? null : join(dir, `proofs-${n}-${envNumber("BENCH_PROOF_MIN_BYTES", 300)}.db`);
  if (kept !== null && existsSync(`${kept}.json`)) {
    log(`proofs: ${n.toLocaleString("en-US")} messages: copying ${kept} …`);
    copyFileSync(kept, path);
    return JSON.parse(readFileSync(`${kept}.json`, "utf8")) as {insertMs: number; bytes: number};
  }
  log(`proofs: ${n.toLocaleString("en-US")} messages: filling …`);
  const filled = await child<{insertMs: number; bytes: number}>(["--fill", path, String(n)]);
  if (kept !== null) {
    copyFileSync(path, kept);
    writeFileSync(`${kept}.json`, JSON.stringify(filled));
  }
  return filled;
}

/** Every size in fresh child processes (one fills, one measures); results in size order. */
export async function benchProofs(log: (line: string) => void = (l) => console.log(l)): Promise<ProofBenchResult[]> {
  const raw = process.env.BENCH_PROOF_SIZES ?? "100000,1000000";
  const sizes = raw.split(",").map((v) => Number(v.trim()));
  const reps = Math.round(envNumber("BENCH_PROOF_REPS", 3));
  const answerCount = Math.round(envNumber("BENCH_PROOF_ANSWERS", 100));
  const out: ProofBenchResult[] = [];
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "pars-bench-proofs-"));
    const path = join(dir, "proofs.db");
    try {
      const filled = await filledDb(path, n, log);
      log(`proofs: ${n.toLocaleString("en-US")} messages: measuring …`);
      const measured = await child<Measured>(["--measure", path, String(n), String(reps), String(answerCount)]);
      out.push({messages: n, dataBytes: filled.bytes, insertMs: filled.insertMs, ...measured});
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }
  return out;
}

export function formatProofTable(results: readonly ProofBenchResult[]): string {
  const inline = (f: (i: InlineBaselines) => string) => (r: ProofBenchResult): string => (r.inline === null ? "skipped" : f(r.inline));
  const rows: Array<[string, (r: ProofBenchResult) => string]> = [
    ["messages (data MB, insert s)", (r) => `${r.messages.toLocaleString("en-US")} (${round(r.dataBytes / 1e6)}, ${round(r.insertMs / 1000)})`],
    ["full build on the worker (ms)", (r) => `${r.fullBuildMs} (loop delay max ${r.fullBuildLoopDelayMaxMs})`],
    ["refresh, 1 % of buckets dirty (ms)", (r) => String(r.refreshOnePercentBucketsMs)],
    ["refresh, 1 % of messages changed (ms)", (r) => `${r.refreshOnePercentMessagesMs} (${r.bucketsDirtiedByOnePercentMessages} buckets)`],
    ["challenge answer p50 / p99 (ms; target p99 ≤ 20)", (r) => `${r.answerP50Ms} / ${r.answerP99Ms}`],
    ["  p99 of verify / read / find / sign (ms)", (r) => `${r.answerVerifyP99Ms} / ${r.answerReadP99Ms} / ${r.answerFindP99Ms} / ${r.answerSignP99Ms}`],
    ["answer p99 during a refresh (ms; target ≤ 20)", (r) => String(r.answerDuringRefreshP99Ms)],
    ["restart to first answer (ms; target ≤ 10,000 at 10 M)", (r) => `${r.restartToFirstAnswerMs} (load ${r.restartLoadMs}, ${r.restartRebuiltBuckets} buckets)`],
    ["peak RSS, worker included (MB; target ≤ 300 at 1 M)", (r) => String(r.peakRssMb)],
    ["answer p99 during a full rebuild (ms)", (r) => String(r.answerDuringRebuildP99Ms)],
    ["peak RSS with a full rebuild beside (MB)", (r) => String(r.peakRssWithRebuildMb)],
    ["baseline: build sliced on main thread (ms)", inline((i) => `${i.buildMs} (loop delay max ${i.buildLoopDelayMaxMs})`)],
    ["largest bucket: merkletreejs / ours (ms)", inline((i) => `${i.merkletreejsBucketMs} / ${i.oursBucketMs}`)],
    ["flat tree over all leaves: merkletreejs / ours (ms)", inline((i) => `${i.merkletreejsFlatMs ?? "skipped"} / ${i.oursFlatMs}`)],
    ["peak RSS after merkletreejs (MB)", inline((i) => String(i.peakRssAfterMerkletreejsMb))],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, cell]) => `${name.padEnd(width)}  ${results.map((r) => cell(r).padStart(40)).join("")}`).join("\n");
}

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
const [mode, path, size, reps, answerCount] = process.argv.slice(2);
if (self && mode === "--fill") {
  process.send?.(fillChild(path ?? "", Number(size)));
  process.disconnect?.();
} else if (self && mode === "--measure") {
  // The signing worker is unref'd (a node's HTTP server keeps it alive): keep this process alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const result = await measureChild(path ?? "", Number(size), Number(reps), Number(answerCount));
  clearInterval(keepAlive);
  process.send?.(result);
  process.disconnect?.();
} else if (self) {
  const results = await benchProofs();
  console.log(`\nStorage proofs (median of ${process.env.BENCH_PROOF_REPS ?? 3} runs; one full build from 1 M up)\n`);
  console.log(formatProofTable(results));
}
