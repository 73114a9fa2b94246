/**
 * Storage-proof benchmark: for 100 k and 1 M messages (each size filled by one child process and
 * measured by another, so peak RSS is the measuring process's own) built directly in SQLite,
 * measures
 *   - the full commitment build (sliced on the main thread, and on a worker thread below 500 k or
 *     with BENCH_PROOF_WORKER=1), with the event-loop delay the main thread saw meanwhile;
 *   - refreshes after 1 % of the buckets and after 1 % of the messages changed;
 *   - challenge answers back to back (verify the challenge, build the answer, sign it on the
 *     signing worker): p50 / p99;
 *   - merkletreejs on the same leaves: one bucket's tree and one flat tree over all leaves;
 *   - peak RSS before and after merkletreejs.
 * Medians of BENCH_PROOF_REPS runs (3); one full build at 1 M. Pieces in bench/proofs-measure.ts.
 *
 *   npm run build && node dist/bench/proofs.js          (BENCH_PROOF_SIZES=100000,1000000)
 */
import {fork} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";
import {initHashing} from "../src/crypto/hash.js";
import {FULL_PLAN, type Commitment} from "../src/proofs/index.js";
import {ProofTables, StorageDb} from "../src/storage/index.js";
import {answers, fill, maxRssMb, merkletreejsBucket, merkletreejsFlat, refreshes, sliced, timed, workerBuild} from "./proofs-measure.js";
import {envNumber, median, round} from "./util.js";

export interface ProofBenchResult {
  messages: number;
  dataBytes: number;
  insertMs: number;
  fullBuildMs: number;
  fullBuildLoopDelayMaxMs: number;
  fullBuildLongestSliceMs: number;
  /** null: not measured (sizes ≥ 500 k unless BENCH_PROOF_WORKER=1). */
  workerBuildMs: number | null;
  workerBuildLoopDelayMaxMs: number | null;
  refreshOnePercentBucketsMs: number;
  refreshOnePercentMessagesMs: number;
  bucketsDirtiedByOnePercentMessages: number;
  answerP50Ms: number;
  answerP99Ms: number;
  answerBuildP99Ms: number;
  peakRssMb: number;
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
    const {ms, bytes} = fill(db, n);
    return {insertMs: round(ms), bytes};
  } finally {
    db.close();
  }
}

type Measured = Omit<ProofBenchResult, "messages" | "dataBytes" | "insertMs">;

/** Full builds: sliced on the main thread, then on a worker; returns the last commitment. */
async function fullBuilds(path: string, tables: ProofTables, n: number, reps: number): Promise<{base: Commitment; out: Partial<Measured>}> {
  const stats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
  const sliceRuns: Array<{ms: number; loopMaxMs: number}> = [];
  let base: Commitment | null = null;
  for (let r = 0; r < reps; r++) {
    const {ms, loopMaxMs, value} = await timed(() => sliced(tables, null, FULL_PLAN, stats));
    sliceRuns.push({ms, loopMaxMs});
    base = value;
  }
  const workers: Array<{ms: number; loopMaxMs: number}> = [];
  const workerReps = n < 500_000 || process.env.BENCH_PROOF_WORKER === "1" ? reps : 0;
  for (let r = 0; r < workerReps; r++) workers.push(await timed(() => workerBuild(path)));
  const out: Partial<Measured> = {
    fullBuildMs: round(median(sliceRuns.map((b) => b.ms))),
    fullBuildLoopDelayMaxMs: round(median(sliceRuns.map((b) => b.loopMaxMs)), 1),
    fullBuildLongestSliceMs: round(stats.longestSliceMs, 1),
    workerBuildMs: workers.length === 0 ? null : round(median(workers.map((w) => w.ms))),
    workerBuildLoopDelayMaxMs: workers.length === 0 ? null : round(median(workers.map((w) => w.loopMaxMs)), 1),
  };
  return {base: base as Commitment, out};
}

/** Child 2: every measurement on the filled database. */
async function measureChild(path: string, n: number, reps: number, answerCount: number): Promise<Measured> {
  await initHashing();
  const db = openDb(path);
  try {
    const tables = new ProofTables(db);
    // Full builds take ~25 µs per message here: one run each at 1 M keeps the bench near 2 minutes.
    const buildReps = n >= 500_000 ? 1 : reps;
    const {base, out} = await fullBuilds(path, tables, n, buildReps);
    const refresh = await refreshes(db, tables, base, n, reps);
    const a = await answers(tables, base, answerCount);
    const peakRssMb = maxRssMb();
    const bucket = merkletreejsBucket(base, reps);
    const flat = await merkletreejsFlat(base, buildReps);
    return {
      ...(out as Pick<Measured, "fullBuildMs" | "fullBuildLoopDelayMaxMs" | "fullBuildLongestSliceMs" | "workerBuildMs" | "workerBuildLoopDelayMaxMs">),
      ...refresh,
      answerP50Ms: round(a.p50, 1),
      answerP99Ms: round(a.p99, 1),
      answerBuildP99Ms: round(a.buildP99, 2),
      peakRssMb,
      merkletreejsBucketMs: bucket.theirs,
      oursBucketMs: bucket.ours,
      merkletreejsFlatMs: flat.theirs,
      oursFlatMs: flat.ours,
      peakRssAfterMerkletreejsMb: maxRssMb(),
    };
  } finally {
    db.close();
  }
}

/** Runs this file as a child with `args` and returns the one message it sends. */
function child<T>(args: string[]): Promise<T> {
  const proc = fork(fileURLToPath(import.meta.url), args, {stdio: ["ignore", "inherit", "inherit", "ipc"]});
  return new Promise<T>((resolve, reject) => {
    proc.once("message", (m) => resolve(m as T));
    proc.once("exit", (code) => reject(new Error(`proof bench child ${args.join(" ")} exited with ${code}`)));
  });
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
      log(`proofs: ${n.toLocaleString("en-US")} messages: filling …`);
      const filled = await child<{insertMs: number; bytes: number}>(["--fill", path, String(n)]);
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
  const rows: Array<[string, (r: ProofBenchResult) => string]> = [
    ["messages (data MB, insert s)", (r) => `${r.messages.toLocaleString("en-US")} (${round(r.dataBytes / 1e6)}, ${round(r.insertMs / 1000)})`],
    ["full build, sliced main thread (ms)", (r) => `${r.fullBuildMs} (loop delay max ${r.fullBuildLoopDelayMaxMs})`],
    ["full build, worker thread (ms)", (r) => (r.workerBuildMs === null ? "skipped" : `${r.workerBuildMs} (loop delay max ${r.workerBuildLoopDelayMaxMs})`)],
    ["refresh, 1 % of buckets dirty (ms)", (r) => String(r.refreshOnePercentBucketsMs)],
    ["refresh, 1 % of messages changed (ms)", (r) => `${r.refreshOnePercentMessagesMs} (${r.bucketsDirtiedByOnePercentMessages} buckets)`],
    ["challenge answer p50 / p99 (ms)", (r) => `${r.answerP50Ms} / ${r.answerP99Ms} (answer building p99 ${r.answerBuildP99Ms})`],
    ["peak RSS (MB)", (r) => String(r.peakRssMb)],
    ["largest bucket: merkletreejs / ours (ms)", (r) => `${r.merkletreejsBucketMs} / ${r.oursBucketMs}`],
    ["flat tree over all leaves: merkletreejs / ours (ms)", (r) => `${r.merkletreejsFlatMs ?? "skipped"} / ${r.oursFlatMs}`],
    ["peak RSS after merkletreejs (MB)", (r) => String(r.peakRssAfterMerkletreejsMb)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, cell]) => `${name.padEnd(width)}  ${results.map((r) => cell(r).padStart(34)).join("")}`).join("\n");
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
  console.log(`\nStorage proofs (median of ${process.env.BENCH_PROOF_REPS ?? 3} runs; one full build at 1 M)\n`);
  console.log(formatProofTable(results));
}
