/**
 * Storage-proof benchmark: for 100 k and 1 M messages (each size in a fresh child process, so peak
 * RSS is per size) built directly in SQLite, measures
 *   - the full commitment build (sliced on the main thread, and on a worker thread), with the
 *     event-loop delay the main thread saw meanwhile;
 *   - refreshes after 1 % of the buckets and after 1 % of the messages changed;
 *   - challenge answers back to back (verify the challenge, build the answer, sign it on the
 *     signing worker): p50 / p99;
 *   - merkletreejs on the same leaves: one bucket's tree and one flat tree over all leaves;
 *   - peak RSS before and after merkletreejs.
 * Medians of BENCH_PROOF_REPS runs (3).
 *
 *   npm run build && node dist/bench/proofs.js          (BENCH_PROOF_SIZES=100000,1000000)
 */
import {fork} from "node:child_process";
import {hash, randomBytes} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {monitorEventLoopDelay} from "node:perf_hooks";
import {fileURLToPath, pathToFileURL} from "node:url";
import {Worker} from "node:worker_threads";
import {MerkleTree} from "merkletreejs";
import {initHashing} from "../src/crypto/hash.js";
import {generateIdentity} from "../src/crypto/identity.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {
  authenticateChallenge,
  BUCKET_COUNT,
  buildAnswer,
  bucketRange,
  Commitment,
  FULL_PLAN,
  planRefresh,
  refreshCommitment,
  rootOf,
  signAnswer,
  signChallenge,
  signProof,
  treeLevels,
  type Bucket,
  type RefreshPlan,
  type RefreshStats,
  type StorageChallenge,
} from "../src/proofs/index.js";
import {InlineSigner, WorkerSigner} from "../src/signing/context-signer.js";
import {ProofTables, StorageDb} from "../src/storage/index.js";
import {envNumber, median, percentile, round} from "./util.js";

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

const ALL = Array.from({length: BUCKET_COUNT}, (_, i) => i);
const OWNERS = 1_000;
const T = 1_767_225_600_000;
const sha = (b: Uint8Array): Buffer => hash("sha256", b, "buffer");
const maxRssMb = (): number => round(process.resourceUsage().maxRSS / 1024);

/** N messages of 300–700 bytes, hashes SHA-256(i) (canonical 43-char base64), 1,000 owners. */
function fill(db: StorageDb, n: number): {ms: number; bytes: number} {
  const t0 = performance.now();
  // A large page cache only while filling (random-order index inserts); measurements use the default.
  const cacheSize = db.sqlite.pragma("cache_size", {simple: true}) as number;
  db.sqlite.pragma("cache_size = -524288");
  db.sqlite.pragma("journal_mode = OFF");
  db.sqlite.pragma("synchronous = OFF");
  const owner = db.sqlite.prepare("INSERT INTO owners (type, pubkey) VALUES (5, ?)");
  for (let o = 0; o < OWNERS; o++) owner.run(sha(Buffer.from(`owner ${o}`)));
  const insert = db.sqlite.prepare("INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data) VALUES (?, ?, 0, ?, ?, ?)");
  const pool = randomBytes(1 << 20);
  let bytes = 0;
  const batch = db.sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const size = 300 + (i % 401);
      const start = (i * 7919) % (pool.length - size);
      const h = sha(Buffer.from(String(i))).toString("base64").slice(0, 43);
      insert.run(h, (i % OWNERS) + 1, T - 60_000, T + 86_400_000 + (i % 1000) * 60_000, pool.subarray(start, start + size));
      bytes += size;
    }
  });
  for (let i = 0; i < n; i += 20_000) batch(i, Math.min(n, i + 20_000));
  db.sqlite.pragma("journal_mode = WAL");
  db.sqlite.pragma("synchronous = NORMAL");
  db.sqlite.pragma(`cache_size = ${cacheSize}`);
  return {ms: performance.now() - t0, bytes};
}

async function timed<T>(fn: () => Promise<T>): Promise<{ms: number; value: T; loopMaxMs: number}> {
  const h = monitorEventLoopDelay({resolution: 1});
  h.enable();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  h.disable();
  return {ms, value, loopMaxMs: h.max / 1e6};
}

async function sliced(tables: ProofTables, previous: Commitment | null, plan: RefreshPlan, stats?: RefreshStats): Promise<Commitment> {
  const c = await refreshCommitment(tables, previous, plan, {timestamp: T, sliceBudgetMs: 10, clockNow: () => T}, stats);
  if (c === null) throw new Error("refresh aborted");
  return c;
}

// The worker variant: the same bucket builder on its own SQLite connection, buckets sent back as
// transferable buffers (modules imported from the compiled dist/ tree by URL).
const WORKER = `
const {parentPort, workerData: w} = require("node:worker_threads");
Promise.all([import(w.db), import(w.tables), import(w.bucket), import(w.leaf)]).then(([{StorageDb}, {ProofTables}, {buildBucket}, {bucketRange}]) => {
  const db = StorageDb.open({path: w.path, synchronous: "normal", busyTimeoutMs: 5000, hardLimitBytes: 2 ** 40, migrationsDir: null}, Date.now());
  const tables = new ProofTables(db);
  parentPort.on("message", ({buckets, timestamp}) => {
    const out = [];
    const transfer = [];
    for (const b of buckets) {
      const {lo, hi} = bucketRange(b);
      const k = buildBucket(tables.rowsInRange(lo, hi, timestamp, true), (x) => tables.dataByHash(x));
      out.push({b, count: k.count, keys: k.keys, leaves: k.leaves, expiries: k.expiries, sizes: k.sizes, root: k.root, bytes: k.bytes, minExpiry: k.minExpiry});
    }
    parentPort.postMessage(out);
  });
  parentPort.postMessage("ready");
});`;

type WireBucket = Omit<Bucket, "keys" | "leaves" | "root"> & {b: number; keys: Uint8Array; leaves: Uint8Array; root: Uint8Array};
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

async function workerBuild(path: string): Promise<Commitment> {
  const url = (p: string): string => new URL(p, import.meta.url).href;
  const workerData = {path, db: url("../src/storage/db.js"), tables: url("../src/storage/proof-tables.js"), bucket: url("../src/proofs/bucket.js"), leaf: url("../src/proofs/leaf.js")};
  const worker = new Worker(WORKER, {eval: true, workerData});
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      worker.once("error", onError).once("message", (m) => {
        worker.off("error", onError);
        resolve(m);
      });
    });
  await next();
  const buckets: Bucket[] = [];
  for (let i = 0; i < BUCKET_COUNT; i += 256) {
    const reply = next();
    worker.postMessage({buckets: ALL.slice(i, i + 256), timestamp: T});
    for (const w of (await reply) as WireBucket[]) buckets[w.b] = {...w, keys: buf(w.keys), leaves: buf(w.leaves), root: buf(w.root)};
  }
  await worker.terminate();
  return new Commitment(T, T, buckets);
}

/**
 * Changes the expiry of one message in each of `buckets` buckets, or of `messages` random messages
 * (in SQL: the update trigger logs them, as it does for the node's expire calls).
 */
function dirty(db: StorageDb, n: number, what: {buckets?: number; messages?: number}): void {
  const update = db.sqlite.prepare("UPDATE messages SET expiry = expiry + 1 WHERE id = ?");
  const inBucket = db.sqlite.prepare<[string, string], {id: number}>("SELECT id FROM messages WHERE hash >= ? AND hash < ? LIMIT 1");
  db.sqlite.transaction(() => {
    for (let i = 0; i < (what.buckets ?? 0); i++) {
      const {lo, hi} = bucketRange(Math.floor(Math.random() * BUCKET_COUNT));
      const row = inBucket.get(lo, hi);
      if (row !== undefined) update.run(row.id);
    }
    for (let i = 0; i < (what.messages ?? 0); i++) update.run(1 + Math.floor(Math.random() * n));
  })();
}

async function answers(tables: ProofTables, commitment: Commitment, count: number): Promise<{p50: number; p99: number; buildP99: number}> {
  const pq = await loadPqBackend("auto");
  const [target, challenger] = [generateIdentity(pq), generateIdentity(pq)];
  const signer = await WorkerSigner.start(target.mlDsa.secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback: new InlineSigner(pq, target.mlDsa.secretKey)});
  const {root: merkleRoot, messageCount, usedBytes} = commitment;
  const proof = await signProof({nodeId: target.nodeId, swarmId: 0, merkleRoot, messageCount, usedBytes, timestamp: T}, signer);
  const ids = db_sample(tables, count);
  const challengerSigner = new InlineSigner(pq, challenger.mlDsa.secretKey);
  const keys = {mlDsa: challenger.mlDsa.publicKey, mlKem: challenger.mlKem.publicKey};
  const challenges: StorageChallenge[] = [];
  for (const messageHash of ids) challenges.push(await signChallenge({challengerId: challenger.nodeId, targetId: target.nodeId, messageHash, nonce: randomBytes(32)}, challengerSigner));
  const totals: number[] = [];
  const builds: number[] = [];
  for (const challenge of challenges) {
    const t0 = performance.now();
    authenticateChallenge({challenge, suppliedKeys: keys}, {memberKeys: () => null, allowAuditors: true, pq});
    const b0 = performance.now();
    const live = tables.messageByHash(challenge.messageHash, T);
    const unsigned = buildAnswer({commitment, proof}, challenge, live, {receivedAt: T, answeredAt: T});
    builds.push(performance.now() - b0);
    await signAnswer(unsigned, signer);
    totals.push(performance.now() - t0);
  }
  await signer.close();
  const sorted = (v: number[]): number[] => [...v].sort((a, b) => a - b);
  return {p50: percentile(sorted(totals), 50), p99: percentile(sorted(totals), 99), buildP99: percentile(sorted(builds), 99)};
}

/** `count` message hashes spread over the store. */
function db_sample(tables: ProofTables, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count && i < count * 4; i++) {
    const {lo, hi} = bucketRange(Math.floor((i * BUCKET_COUNT) / (count * 4)) % BUCKET_COUNT);
    const row = tables.rowsInRange(lo, hi, T, false)[0];
    if (row !== undefined) out.push(row.hash);
  }
  return out;
}

async function medianOf(reps: number, fn: () => Promise<number>): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) samples.push(await fn());
  return round(median(samples), 1);
}

function merkletreejsBucket(c: Commitment, reps: number): {theirs: number; ours: number} {
  const biggest = c.buckets.reduce((a, b) => (b.count > a.count ? b : a));
  const leaves = Array.from({length: biggest.count}, (_, i) => Buffer.from(biggest.leaves.subarray(i * 32, i * 32 + 32)));
  const time = (fn: () => unknown): number => {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) fn();
    return (performance.now() - t0) / 20;
  };
  const theirs: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < reps; r++) {
    theirs.push(time(() => new MerkleTree(leaves, sha, {hashLeaves: false}).getRoot()));
    ours.push(time(() => rootOf(biggest.leaves, biggest.count)));
  }
  return {theirs: round(median(theirs), 3), ours: round(median(ours), 3)};
}

async function merkletreejsFlat(c: Commitment, reps: number): Promise<{theirs: number | null; ours: number}> {
  const all = Buffer.concat(c.buckets.map((b) => b.leaves));
  const n = all.length / 32;
  const ours = await medianOf(reps, () => Promise.resolve(((t0) => (treeLevels(all, n), performance.now() - t0))(performance.now())));
  if (process.env.BENCH_PROOF_MERKLETREEJS_FLAT === "0") return {theirs: null, ours};
  const leaves = Array.from({length: n}, (_, i) => Buffer.from(all.subarray(i * 32, i * 32 + 32)));
  const theirs = await medianOf(reps, () => Promise.resolve(((t0) => (new MerkleTree(leaves, sha, {hashLeaves: false}).getRoot(), performance.now() - t0))(performance.now())));
  return {theirs, ours};
}

async function refreshes(db: StorageDb, tables: ProofTables, base: Commitment, n: number, reps: number): Promise<Pick<ProofBenchResult, "refreshOnePercentBucketsMs" | "refreshOnePercentMessagesMs" | "bucketsDirtiedByOnePercentMessages">> {
  let c = base;
  const run = async (what: {buckets?: number; messages?: number}, seen: number[]): Promise<number> => {
    dirty(db, n, what);
    const plan = planRefresh(tables.takeUpdatedHashes(), c, T);
    seen.push(plan.buckets.length);
    const {ms, value} = await timed(() => sliced(tables, c, plan));
    c = value;
    return ms;
  };
  const bucketsSeen: number[] = [];
  const messagesSeen: number[] = [];
  const refreshOnePercentBucketsMs = await medianOf(reps, () => run({buckets: Math.round(BUCKET_COUNT / 100)}, bucketsSeen));
  const refreshOnePercentMessagesMs = await medianOf(reps, () => run({messages: Math.round(n / 100)}, messagesSeen));
  return {refreshOnePercentBucketsMs, refreshOnePercentMessagesMs, bucketsDirtiedByOnePercentMessages: median(messagesSeen)};
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
