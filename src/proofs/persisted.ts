/**
 * The commitment on disk (docs/PROTOCOL.md (Storage proofs) §2.5, migration 0008): after each
 * refresh the engine writes the buckets it rebuilt, then a header (generation, T, root, change-log
 * watermark); at start it loads them and refreshes from there with the change log's hashes, so a
 * restart costs a read of the records (~52 bytes a message) instead of a full build.
 *
 * Nothing loaded is trusted blindly. A bucket row newer than the header is from a write a crash
 * cut short, and one whose SHA-256 does not match its record is damaged: both are read again from
 * the messages (`reread`), and the refresh re-hashes the top tree along their paths. If no bucket
 * was set aside, the loaded roots must hash to the header's digest of them and the count must
 * match (a missing row), or the whole load is dropped for a full build; the top tree's stored
 * levels must give the header's root.
 */
import {createHash, hash} from "node:crypto";
import type {CommitmentHeader, StoredBucket} from "../storage/index.js";
import {BucketArena, bucketFromRecord, EMPTY_BUCKETS, type Bucket} from "./bucket.js";
import {Commitment} from "./commitment.js";
import {BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import type {Progress} from "./refresh.js";
import {TopTree} from "./top-tree.js";

/** What the engine needs of the store (CommitmentStore implements it). */
export interface CommitmentPersistence {
  header(): CommitmentHeader | null;
  maxGeneration(): number;
  buckets(lo: number, hi: number): StoredBucket[];
  putBuckets(generation: number, rows: ReadonlyArray<{bucket: number; digest: Buffer; record: Buffer}>): void;
  commit(header: CommitmentHeader, full: boolean): void;
}

export interface LoadedCommitment {
  /** The persisted commitment; buckets in `reread` are empty in it until the refresh reads them. */
  readonly commitment: Commitment;
  readonly reread: readonly number[];
  readonly logWatermark: number;
}

/** Buckets per query of a load (64 queries, ~2 MB each at 10 M messages). */
const LOAD_PAGE = 4096;
/** Bucket rows per write transaction and step (~250 KB at 10 M messages: a find or the store's writer waits little). */
const WRITE_BATCH = 128;

const digestOf = (record: Buffer): Buffer => hash("sha256", record, "buffer");

/** The next generation to write: above the header's and any row a cut-short write left. */
export function nextGeneration(store: CommitmentPersistence): number {
  return Math.max(store.header()?.generation ?? 0, store.maxGeneration()) + 1;
}

/** Loads the persisted commitment (null: none, or its root does not check out). One step per page. */
export function* loadCommitment(store: CommitmentPersistence, progress: Progress): Generator<void, LoadedCommitment | null> {
  const header = store.header();
  if (header === null) return null;
  const buckets: Bucket[] = [...EMPTY_BUCKETS];
  const reread: number[] = [];
  const arena = new BucketArena();
  progress.total = BUCKET_COUNT;
  for (let lo = 0; lo < BUCKET_COUNT; lo += LOAD_PAGE) {
    for (const row of store.buckets(lo, lo + LOAD_PAGE)) {
      const bucket = row.generation > header.generation || !row.digest.equals(digestOf(row.record)) ? null : bucketFromRecord(row.record, arena);
      if (bucket === null) reread.push(row.bucket);
      else buckets[row.bucket] = bucket;
      progress.messages += bucket?.count ?? 0;
    }
    progress.done = Math.min(BUCKET_COUNT, lo + LOAD_PAGE);
    yield;
  }
  const top = TopTree.fromBytes(header.top);
  if (top === null || !top.root.equals(header.root)) return null;
  if (reread.length === 0 && (progress.messages !== header.messageCount || !rootsDigest(buckets).equals(header.rootsDigest))) return null;
  const commitment = new Commitment(header.timestamp, buckets, top, arena.allocatedBytes);
  return {commitment, reread, logWatermark: header.logWatermark};
}

/**
 * Writes `c`: the records of `changed` buckets (every non-empty one for "all") in batches stamped
 * `generation`, one step each, then the header, which also trims the change log to `logWatermark`.
 */
export function* saveCommitment(
  store: CommitmentPersistence,
  c: Commitment,
  changed: readonly number[] | "all",
  generation: number,
  logWatermark: number,
): Generator<void> {
  const list = changed === "all" ? c.buckets.flatMap((b, i) => (b.count > 0 ? [i] : [])) : changed;
  let rows: Array<{bucket: number; digest: Buffer; record: Buffer}> = [];
  for (const b of list) {
    const bucket = c.buckets[b] as Bucket;
    // An empty bucket is written as an empty record: deleting its row would look like no change.
    const record = bucket.count === 0 ? Buffer.alloc(0) : bucket.record;
    rows.push({bucket: b, digest: digestOf(record), record});
    if (rows.length >= WRITE_BATCH) {
      store.putBuckets(generation, rows);
      rows = [];
      yield;
    }
  }
  if (rows.length > 0) store.putBuckets(generation, rows);
  const digest = yield* rootsDigestSteps(c.buckets);
  const top = c.top.serialize();
  yield;
  store.commit({generation, timestamp: c.timestamp, root: c.root, messageCount: c.messageCount, logWatermark, top, rootsDigest: digest}, changed === "all");
}

/** Buckets whose roots are hashed per step (the 8 MB of roots in 16 steps of ~1 ms). */
const DIGEST_STEP = 16_384;

/** SHA-256 over every bucket's root in order. */
function* rootsDigestSteps(buckets: readonly Bucket[]): Generator<void, Buffer> {
  const h = createHash("sha256");
  for (let from = 0; from < buckets.length; from += DIGEST_STEP) {
    const to = Math.min(buckets.length, from + DIGEST_STEP);
    const part = Buffer.allocUnsafe((to - from) * NODE_BYTES);
    for (let i = from; i < to; i++) (buckets[i] as Bucket).root.copy(part, (i - from) * NODE_BYTES);
    h.update(part);
    yield;
  }
  return h.digest();
}

/** `rootsDigestSteps` in one go (a load checks what it read). */
function rootsDigest(buckets: readonly Bucket[]): Buffer {
  const steps = rootsDigestSteps(buckets);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}
