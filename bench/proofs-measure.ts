/**
 * Measurement pieces of bench/proofs.ts: filling a database, timing builds (sliced and on a
 * worker thread), dirtying it, answering challenges, and the merkletreejs baselines.
 */
import {hash, randomBytes} from "node:crypto";
import {monitorEventLoopDelay} from "node:perf_hooks";
import {Worker} from "node:worker_threads";
import {MerkleTree} from "merkletreejs";
import {generateIdentity} from "../src/crypto/identity.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {
  authenticateChallenge,
  BUCKET_COUNT,
  buildAnswer,
  bucketRange,
  Commitment,
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
import type {ProofTables, StorageDb} from "../src/storage/index.js";
import {median, percentile, round} from "./util.js";

export interface RefreshResults {
  refreshOnePercentBucketsMs: number;
  refreshOnePercentMessagesMs: number;
  bucketsDirtiedByOnePercentMessages: number;
}

const ALL = Array.from({length: BUCKET_COUNT}, (_, i) => i);
const OWNERS = 1_000;
export const T = 1_767_225_600_000;
const sha = (b: Uint8Array): Buffer => hash("sha256", b, "buffer");
export const maxRssMb = (): number => round(process.resourceUsage().maxRSS / 1024);

/** N messages of 300–700 bytes, hashes SHA-256(i) (canonical 43-char base64), 1,000 owners. */
export function fill(db: StorageDb, n: number): {ms: number; bytes: number} {
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

export async function timed<T>(fn: () => Promise<T>): Promise<{ms: number; value: T; loopMaxMs: number}> {
  const h = monitorEventLoopDelay({resolution: 1});
  h.enable();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  h.disable();
  return {ms, value, loopMaxMs: h.max / 1e6};
}

export async function sliced(tables: ProofTables, previous: Commitment | null, plan: RefreshPlan, stats?: RefreshStats): Promise<Commitment> {
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

export async function workerBuild(path: string): Promise<Commitment> {
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
export function dirty(db: StorageDb, n: number, what: {buckets?: number; messages?: number}): void {
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

export async function answers(tables: ProofTables, commitment: Commitment, count: number): Promise<{p50: number; p99: number; buildP99: number}> {
  const pq = await loadPqBackend("auto");
  const [target, challenger] = [generateIdentity(pq), generateIdentity(pq)];
  const signer = await WorkerSigner.start(target.mlDsa.secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback: new InlineSigner(pq, target.mlDsa.secretKey)});
  const {root: merkleRoot, messageCount, usedBytes} = commitment;
  const proof = await signProof({nodeId: target.nodeId, swarmId: 0, merkleRoot, messageCount, usedBytes, timestamp: T}, signer);
  const ids = sampleHashes(tables, count);
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
function sampleHashes(tables: ProofTables, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count && i < count * 4; i++) {
    const {lo, hi} = bucketRange(Math.floor((i * BUCKET_COUNT) / (count * 4)) % BUCKET_COUNT);
    const row = tables.rowsInRange(lo, hi, T, false)[0];
    if (row !== undefined) out.push(row.hash);
  }
  return out;
}

export async function medianOf(reps: number, fn: () => Promise<number>): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) samples.push(await fn());
  return round(median(samples), 1);
}

export function merkletreejsBucket(c: Commitment, reps: number): {theirs: number; ours: number} {
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

export async function merkletreejsFlat(c: Commitment, reps: number): Promise<{theirs: number | null; ours: number}> {
  const all = Buffer.concat(c.buckets.map((b) => b.leaves));
  const n = all.length / 32;
  const ours = await medianOf(reps, () => Promise.resolve(((t0) => (treeLevels(all, n), performance.now() - t0))(performance.now())));
  if (process.env.BENCH_PROOF_MERKLETREEJS_FLAT === "0") return {theirs: null, ours};
  const leaves = Array.from({length: n}, (_, i) => Buffer.from(all.subarray(i * 32, i * 32 + 32)));
  const theirs = await medianOf(reps, () => Promise.resolve(((t0) => (new MerkleTree(leaves, sha, {hashLeaves: false}).getRoot(), performance.now() - t0))(performance.now())));
  return {theirs, ours};
}

export async function refreshes(db: StorageDb, tables: ProofTables, base: Commitment, n: number, reps: number): Promise<RefreshResults> {
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
