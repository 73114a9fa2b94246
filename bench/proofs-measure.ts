/**
 * Measurement pieces of bench/proofs.ts: filling a database, timing builds (sliced and on a
 * worker thread), dirtying it, answering challenges, and the merkletreejs baselines.
 */
import {hash, randomBytes} from "node:crypto";
import {monitorEventLoopDelay} from "node:perf_hooks";
import {MerkleTree} from "merkletreejs";
import {generateIdentity} from "../src/crypto/identity.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {
  authenticateChallenge,
  BUCKET_COUNT,
  buildAnswer,
  bucketRange,
  dataDigest,
  refreshCommitment,
  rootOf,
  signAnswer,
  signChallenge,
  signProof,
  treeLevels,
  type Commitment,
  type CommitmentEngine,
  type CommitmentSummary,
  type RefreshPlan,
  type RefreshStats,
  type StorageChallenge,
} from "../src/proofs/index.js";
import {InlineSigner, WorkerSigner} from "../src/signer/context-signer.js";
import {CommitmentStore, type ProofTables, type StorageDb} from "../src/storage/index.js";
import {median, percentile, round} from "./util.js";

export interface RefreshResults {
  refreshOnePercentBucketsMs: number;
  refreshOnePercentMessagesMs: number;
  bucketsDirtiedByOnePercentMessages: number;
}

const OWNERS = 1_000;
export const T = 1_767_225_600_000;
const sha = (b: Uint8Array): Buffer => hash("sha256", b, "buffer");
export const maxRssMb = (): number => round(process.resourceUsage().maxRSS / 1024);

/**
 * N messages of `minBytes` to `minBytes + sizeSpread - 1` bytes with their data digests (as the store writes
 * them), hashes SHA-256(i) (canonical 43-char base64), 1,000 owners.
 */
export function fill(db: StorageDb, n: number, minBytes = 300, cacheKiB = Math.max(524_288, Math.ceil(n / 10)), sizeSpread = 401): {ms: number; bytes: number} {
  const t0 = performance.now();
  // A large page cache only while filling (random-order index inserts); measurements use the default.
  const cacheSize = db.sqlite.pragma("cache_size", {simple: true}) as number;
  db.sqlite.pragma(`cache_size = -${cacheKiB}`); // KiB: by default ≥ 512 MiB, ~100 B a message
  // SQLite leaves WAL only for a rollback journal: through DELETE to no journal at all.
  db.sqlite.pragma("journal_mode = DELETE");
  db.sqlite.pragma("journal_mode = OFF");
  db.sqlite.pragma("synchronous = OFF");
  const owner = db.sqlite.prepare("INSERT INTO owners (type, pubkey) VALUES (5, ?)");
  for (let o = 0; o < OWNERS; o++) owner.run(sha(Buffer.from(`owner ${o}`)));
  const insert = db.sqlite.prepare("INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data, data_digest) VALUES (?, ?, 0, ?, ?, ?, ?)");
  const pool = randomBytes(1 << 20);
  let bytes = 0;
  const batch = db.sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const size = minBytes + (i % sizeSpread);
      const start = (i * 7919) % (pool.length - size);
      const h = sha(Buffer.from(String(i))).toString("base64").slice(0, 43);
      const data = pool.subarray(start, start + size);
      insert.run(h, (i % OWNERS) + 1, T - 60_000, T + 86_400_000 + (i % 1000) * 60_000, data, sha(data));
      bytes += size;
    }
  });
  for (let i = 0; i < n; i += 20_000) batch(i, Math.min(n, i + 20_000));
  // The fill stands for messages stored over past epochs, whose refreshes trimmed the change log
  // (migration 0008): left in, the first refresh request read 1 M hashes on the main thread (~130 MB
  // of heap at its peak), which a node only does after a million changes in one epoch.
  db.sqlite.exec("DELETE FROM proof_change_log");
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
  const c = await refreshCommitment(tables.reader, previous, plan, {timestamp: T, sliceBudgetMs: 10}, stats);
  if (c === null) throw new Error("refresh aborted");
  return c;
}

/**
 * Changes the expiry of one message in each of `buckets` buckets, or of `messages` random messages
 * (in SQL: the update trigger logs them, as it does for the node's expire calls).
 */
export function dirty(db: StorageDb, n: number, what: {buckets?: number; messages?: number}): void {
  const update = db.sqlite.prepare("UPDATE messages SET expiry = expiry + 1 WHERE id = ?");
  const inBucket = db.sqlite.prepare<[string, string], {id: number}>("SELECT id FROM messages WHERE hash >= ? AND hash < ? LIMIT 1");
  // IMMEDIATE, as the node's writes: the engine's write of the last refresh may still be running
  // (it follows the refresh), and a deferred transaction that read first could not upgrade past it.
  db.sqlite
    .transaction(() => {
      for (let i = 0; i < (what.buckets ?? 0); i++) {
        const {lo, hi} = bucketRange(Math.floor(Math.random() * BUCKET_COUNT));
        const row = inBucket.get(lo, hi);
        if (row !== undefined) update.run(row.id);
      }
      for (let i = 0; i < (what.messages ?? 0); i++) update.run(1 + Math.floor(Math.random() * n));
    })
    .immediate();
}

export interface AnswerTimes {
  p50: number;
  p99: number;
  /** p99 of the engine's part alone (committed leaf and inclusion path). */
  findP99: number;
  /** p99 of the other parts: verifying the challenge, reading the message, signing the answer. */
  verifyP99: number;
  readP99: number;
  signP99: number;
  /** CPU of the whole process (every thread) per answer, ms. */
  cpuPerAnswerMs: number;
}

export interface AnswerOptions {
  /**
   * Where the answer is signed: "worker", on a signing worker (the node's path before answers got
   * their own), or "inline", on this thread (ProofServiceModules.answerSigner). Default: as a node
   * does, inline when the signing worker's liboqs context path works (assemble-proofs.ts).
   */
  readonly signer?: "worker" | "inline";
}

/**
 * `count` challenges answered back to back as a node does (verify the challenge, read the
 * message, find its committed leaf in `engine`, sign on the signing worker). `during`, if given,
 * runs at the same time (a refresh on the same engine) and is awaited before returning.
 */
export async function answers(
  tables: ProofTables,
  engine: CommitmentEngine,
  summary: CommitmentSummary,
  count: number,
  during?: () => Promise<unknown>,
  opts: AnswerOptions = {},
): Promise<AnswerTimes> {
  const pq = await loadPqBackend("auto");
  const [target, challenger] = [generateIdentity(pq), generateIdentity(pq)];
  const inline = new InlineSigner(pq, target.mlDsa.secretKey);
  const worker = await WorkerSigner.start(target.mlDsa.secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback: inline});
  const asNode = pq.name === "liboqs" && worker.liboqsContext ? "inline" : "worker";
  const signer = (opts.signer ?? asNode) === "inline" ? inline : worker;
  const {root: merkleRoot, messageCount, usedBytes, timestamp} = summary;
  const proof = await signProof({nodeId: target.nodeId, swarmId: 0, merkleRoot, messageCount, usedBytes, timestamp}, signer);
  await engine.publish(timestamp);
  const ids = sampleHashes(tables, count);
  const challengerSigner = new InlineSigner(pq, challenger.mlDsa.secretKey);
  const keys = {mlDsa: challenger.mlDsa.publicKey, mlKem: challenger.mlKem.publicKey};
  const challenges: StorageChallenge[] = [];
  for (const messageHash of ids) challenges.push(await signChallenge({challengerId: challenger.nodeId, targetId: target.nodeId, messageHash, nonce: randomBytes(32)}, challengerSigner));
  const [totals, verifies, reads, finds, signs]: [number[], number[], number[], number[], number[]] = [[], [], [], [], []];
  const background = during?.();
  const cpu0 = process.cpuUsage();
  for (const challenge of challenges) {
    const t0 = performance.now();
    authenticateChallenge({challenge, suppliedKeys: keys}, {memberKeys: () => null, allowAuditors: true, pq});
    const r0 = performance.now();
    const live = tables.messageByHash(challenge.messageHash, T);
    if (live === null) throw new Error(`bench message ${challenge.messageHash} is missing`);
    const f0 = performance.now();
    const found = await engine.find(timestamp, challenge.messageHash, {account: live.account, namespace: live.namespace, dataDigest: dataDigest(live.data)});
    const s0 = performance.now();
    if (found === null) throw new Error(`bench message ${challenge.messageHash} is not committed`);
    await signAnswer(buildAnswer(proof, challenge, live, found, {receivedAt: T, answeredAt: T}), signer);
    const end = performance.now();
    totals.push(end - t0);
    verifies.push(r0 - t0);
    reads.push(f0 - r0);
    finds.push(s0 - f0);
    signs.push(end - s0);
  }
  const cpu = process.cpuUsage(cpu0);
  await background;
  await worker.close();
  const p = (v: number[], q: number): number => percentile([...v].sort((a, b) => a - b), q);
  const cpuPerAnswerMs = (cpu.user + cpu.system) / 1000 / challenges.length;
  return {p50: p(totals, 50), p99: p(totals, 99), findP99: p(finds, 99), verifyP99: p(verifies, 99), readP99: p(reads, 99), signP99: p(signs, 99), cpuPerAnswerMs};
}

/** `count` message hashes spread over the store. */
function sampleHashes(tables: ProofTables, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count && i < count * 4; i++) {
    const {lo, hi} = bucketRange(Math.floor((i * BUCKET_COUNT) / (count * 4)) % BUCKET_COUNT);
    const hash = tables.liveHashesInRange(lo, hi, T)[0];
    if (hash !== undefined) out.push(hash);
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

/** A refresh request for the changes in the log (migration 0008), as the proof service makes it. */
export function logged(tables: ProofTables, timestamp: number): {timestamp: number; changed: string[] | null; logWatermark: number} {
  const log = tables.changeLog(1_000_000);
  return {timestamp, changed: log.hashes === null ? null : [...new Set(log.hashes)], logWatermark: log.watermark};
}

/**
 * Timed `refresh()`, until it returns (the commitment published), then waits for its write, which
 * follows it (engine.ts): the next measurement starts from an idle engine, not in that write.
 */
export async function timedRefresh(db: StorageDb, refresh: () => Promise<CommitmentSummary | null>): Promise<{ms: number; value: CommitmentSummary | null; loopMaxMs: number}> {
  const store = new CommitmentStore(db.sqlite);
  const before = store.header()?.generation ?? 0;
  const result = await timed(refresh);
  const since = performance.now();
  while (result.value?.persisted === true && (store.header()?.generation ?? 0) === before) {
    if (performance.now() - since > 600_000) throw new Error("the refresh's commitment was not written within 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return result;
}

/** Refreshes of `engine` after 1 % of the buckets, then 1 % of the messages, changed (SQL updates). */
export async function refreshes(db: StorageDb, tables: ProofTables, engine: CommitmentEngine, n: number, reps: number): Promise<RefreshResults> {
  const run = async (what: {buckets?: number; messages?: number}, seen: number[]): Promise<number> => {
    dirty(db, n, what);
    tables.takeUpdatedHashes();
    const {ms, value} = await timedRefresh(db, () => engine.refresh(logged(tables, T)));
    seen.push(value?.stats.rebuilt ?? 0);
    return ms;
  };
  const bucketsSeen: number[] = [];
  const messagesSeen: number[] = [];
  const refreshOnePercentBucketsMs = await medianOf(reps, () => run({buckets: Math.round(BUCKET_COUNT / 100)}, bucketsSeen));
  const refreshOnePercentMessagesMs = await medianOf(reps, () => run({messages: Math.round(n / 100)}, messagesSeen));
  return {refreshOnePercentBucketsMs, refreshOnePercentMessagesMs, bucketsDirtiedByOnePercentMessages: median(messagesSeen)};
}
