/**
 * The commitment on disk (docs/PROTOCOL.md (Storage proofs) §2.5, migration 0008): after each
 * refresh the engine writes the buckets it rebuilt, then a header (generation, T, root, change-log
 * watermark); at start it loads the buckets' heads and refreshes from there with the change log's
 * hashes, so a restart costs a read of 48 bytes a bucket instead of a full build.
 *
 * Records stay on disk (`DiskRecords`): once a write has landed, a commitment holds each bucket's
 * head only (root, smallest expiry, byte total, length), and an answer or a refresh reads the
 * record it needs from `proof_buckets`, checked against its stored SHA-256 and the head held.
 *
 * Nothing loaded is trusted blindly. A bucket row newer than the header is from a write a crash cut
 * short: it is read again from the messages (`reread`). Then one digest over every bucket's head
 * must match the header's, the count must match (a missing row), and the stored top tree must give
 * the header's root: what a signed proof says (root, count, bytes) and which buckets a refresh must
 * touch (expiries) is then exactly what was persisted. A record is checked when it is read; a
 * damaged one is replaced by the bucket read again from the messages where that gives the same head,
 * and read again by the next refresh. Only when the heads' digest fails (a damaged head, a header
 * written by an older version, or rows set aside above) is every record read and checked at load:
 * the damaged ones are read again, and if none is, the load is dropped for a full build.
 */
import {createHash, hash} from "node:crypto";
import type {CommitmentHeader, StoredBucket, StoredHead, StoredTopPage} from "../storage/index.js";
import {Bucket, BucketArena, buildBucket, EMPTY_BUCKET, emptyBuckets, HEAD_BYTES, headBucket, headOf, isRecordLength, sameHead} from "./bucket.js";
import {Commitment} from "./commitment.js";
import {BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import {ProofError} from "./errors.js";
import {bucketRange} from "./leaf.js";
import type {CommitmentSource, Progress} from "./refresh.js";
import {TopTree} from "./top-tree.js";

/** What the engine needs of the store (CommitmentStore implements it). */
export interface CommitmentPersistence {
  header(): CommitmentHeader | null;
  maxGeneration(): number;
  buckets(lo: number, hi: number): StoredBucket[];
  heads(lo: number, hi: number): StoredHead[];
  records(buckets: readonly number[]): StoredBucket[];
  putBuckets(generation: number, rows: ReadonlyArray<{bucket: number; digest: Buffer; record: Buffer}>): void;
  topPages(): StoredTopPage[];
  putTopPage(page: number, generation: number, bytes: Buffer): void;
  commit(header: CommitmentHeader, full: boolean): void;
}

export interface LoadedCommitment {
  /** The persisted commitment; buckets in `reread` are empty in it until the refresh reads them. */
  readonly commitment: Commitment;
  readonly reread: readonly number[];
  readonly logWatermark: number;
}

/** Buckets per query of a load (64 queries, ~8 MB each at 10 M messages). */
const LOAD_PAGE = 4096;
/** Bucket rows per write transaction and step (~250 KB at 10 M messages: a find or the store's writer waits little). */
const WRITE_BATCH = 128;
/** Bytes per page of the persisted top tree (64 pages for its 4 MB; each write ~0.5 ms). */
const TOP_PAGE_BYTES = 64 * 1024;

const digestOf = (record: Buffer): Buffer => hash("sha256", record, "buffer");

/** Records kept by bucket after a read (~2 MB at 10 M messages): a challenge often repeats a bucket. */
const CACHE_RECORDS = 1024;

/**
 * The records of buckets a commitment holds as heads only (`Bucket.resident` false): once a write
 * has landed the engine keeps only each bucket's head in memory, and an answer or a refresh reads
 * the record from `proof_buckets` here. A record is used only if its stored SHA-256 and its head
 * (root, smallest expiry, byte total, length) match the head held: the root covers every leaf, so
 * it is the record the commitment committed to, whatever generation wrote the row.
 *
 * A write of a newer commitment overwrites rows the published one still reads (its proof is signed
 * before its write, engine.ts): the records such a row held are pinned first (`pin`; a refresh
 * pins the old records it fetches anyway), by head, for as long as a commitment holds that head.
 */
export class DiskRecords {
  /** Checked records by the head they belong to: alive while a commitment holds that head. */
  readonly #pins = new WeakMap<Bucket, Bucket>();
  /** The last CACHE_RECORDS records read, by bucket, with the head each was checked against. */
  readonly #cache = new Map<number, {head: Bucket; full: Bucket}>();
  /** Buckets whose stored record was found unusable: the next refresh reads them again from the messages. */
  readonly damaged = new Set<number>();

  constructor(
    private readonly store: CommitmentPersistence,
    private readonly source: CommitmentSource,
  ) {}

  /**
   * The record of `head`, bucket `b` of the commitment for `timestamp` (an answer). A stored record
   * that does not check out is replaced by the bucket read again from the messages if that gives
   * the same head (nothing in it changed since); else NOT_READY until the next refresh.
   */
  resolve(b: number, head: Bucket, timestamp: number): Bucket {
    const known = this.#known(b, head);
    if (known !== null) return known;
    const row = this.store.records([b])[0];
    const full = row === undefined ? null : checked(row, head);
    if (full !== null) {
      this.#remember(b, head, full);
      return full;
    }
    this.damaged.add(b);
    const {lo, hi} = bucketRange(b);
    const rebuilt = buildBucket(this.source.rowsInRange(lo, hi, timestamp), (h) => this.source.dataByHash(h));
    if (rebuilt.count > 0 && sameHead(rebuilt, head)) {
      // Same root, count and bytes: the commitment (and its signed proof) is unchanged by the swap.
      this.#pins.set(head, rebuilt);
      return rebuilt;
    }
    throw new ProofError({code: "PROOF_ERROR_NOT_READY"}, `bucket ${b} of the commitment is being read again`);
  }

  /**
   * The records of `buckets` (ascending), held in `heads` as heads only, for a refresh that merges
   * into them: read in one statement, checked, and pinned (the published commitment may still hold
   * these heads when the refresh's write overwrites their rows). Null for an unusable one.
   */
  fetch(buckets: readonly number[], heads: readonly Bucket[]): Map<number, Bucket | null> {
    const out = new Map<number, Bucket | null>();
    const missing: number[] = [];
    for (const b of buckets) {
      const known = this.#known(b, heads[b] as Bucket);
      if (known === null) missing.push(b);
      else out.set(b, known);
    }
    const rows = missing.length === 0 ? [] : this.store.records(missing);
    for (const row of rows) {
      const head = heads[row.bucket] as Bucket;
      const full = checked(row, head);
      if (full !== null) this.#pins.set(head, full);
      out.set(row.bucket, full);
    }
    for (const b of missing) {
      if (out.get(b) === undefined) out.set(b, null);
      if (out.get(b) === null) this.damaged.add(b);
    }
    return out;
  }

  /**
   * Before rows of `buckets` are overwritten with `next`'s records: pins the records `held` (the
   * published commitment) reads from those rows, where its head differs from `next`'s.
   */
  pin(held: Commitment, next: Commitment, buckets: readonly number[]): void {
    const missing: number[] = [];
    for (const b of buckets) {
      const head = held.buckets[b] as Bucket;
      if (head.resident || sameHead(head, next.buckets[b] as Bucket) || this.#pins.has(head)) continue;
      const cached = this.#cache.get(b);
      if (cached?.head === head) this.#pins.set(head, cached.full);
      else missing.push(b);
    }
    if (missing.length === 0) return;
    for (const row of this.store.records(missing)) {
      const head = held.buckets[row.bucket] as Bucket;
      const full = checked(row, head);
      if (full !== null) this.#pins.set(head, full);
    }
  }

  #known(b: number, head: Bucket): Bucket | null {
    const pinned = this.#pins.get(head);
    if (pinned !== undefined) return pinned;
    const cached = this.#cache.get(b);
    return cached?.head === head ? cached.full : null;
  }

  #remember(b: number, head: Bucket, full: Bucket): void {
    this.#cache.delete(b);
    this.#cache.set(b, {head, full});
    if (this.#cache.size > CACHE_RECORDS) this.#cache.delete(this.#cache.keys().next().value as number);
  }
}

/** The stored record as a bucket, if its digest and its head match `head`; else null. */
function checked(row: StoredBucket, head: Bucket): Bucket | null {
  const {record} = row;
  if (record.length !== head.length || row.digest.length !== NODE_BYTES || !isRecordLength(record.length)) return null;
  const full = new Bucket(record, 0, record.length);
  return sameHead(full, head) && digestOf(record).equals(row.digest) ? full : null;
}

/**
 * Turns the resident buckets of `c` among `buckets` ("all": every one) into heads, their records
 * being on disk now (a write landed); one step per HEADS_STEP buckets. Lowers `c.arenaBytes` by
 * the records let go and adds the heads' chunks; returns the bytes of the records let go.
 */
export function* keepHeads(c: Commitment, buckets: readonly number[] | "all"): Generator<void, number> {
  const arena = new BucketArena();
  const all = c.buckets as Bucket[];
  const list = buckets === "all" ? null : buckets;
  const n = list === null ? all.length : list.length;
  let freed = 0;
  for (let i = 0; i < n; i++) {
    const b = list === null ? i : (list[i] as number);
    const bucket = all[b] as Bucket;
    if (bucket.resident && bucket.count > 0) {
      all[b] = headOf(bucket, arena);
      freed += bucket.length;
    }
    if ((i + 1) % HEADS_STEP === 0) yield;
  }
  c.arenaBytes = Math.max(0, c.arenaBytes - freed) + arena.allocatedBytes;
  return freed;
}

/** Buckets turned into heads per step (a few ms). */
const HEADS_STEP = 16_384;

/** The next generation to write: above the header's and any row a cut-short write left. */
export function nextGeneration(store: CommitmentPersistence): number {
  return Math.max(store.header()?.generation ?? 0, store.maxGeneration()) + 1;
}

/** Loads the persisted commitment (null: none, or its root does not check out). One step per page. */
export function* loadCommitment(store: CommitmentPersistence, progress: Progress): Generator<void, LoadedCommitment | null> {
  const header = store.header();
  if (header === null) return null;
  const buckets = emptyBuckets();
  const reread: number[] = [];
  const arena = new BucketArena();
  progress.total = BUCKET_COUNT;
  for (let lo = 0; lo < BUCKET_COUNT; lo += LOAD_PAGE) {
    for (const row of store.heads(lo, lo + LOAD_PAGE)) {
      const bucket = row.generation > header.generation ? null : storedHead(row);
      if (bucket === null) reread.push(row.bucket);
      else buckets[row.bucket] = bucket === EMPTY_BUCKET ? bucket : headBucket(row.head, 0, row.length, arena);
      progress.messages += bucket?.count ?? 0;
    }
    progress.done = Math.min(BUCKET_COUNT, lo + LOAD_PAGE);
    yield;
  }
  let top: TopTree | null;
  if (header.top.length > 0) {
    // A header written before migration 0012 holds the tree itself.
    top = TopTree.fromBytes(header.top);
    if (top === null || !top.root.equals(header.root)) return null;
  } else {
    top = topFromPages(store.topPages(), header);
    yield;
    if (top === null) {
      // Pages missing or of another generation (a crash cut their write short), or damaged: the tree
      // is a function of the bucket roots, so hash it again (~0.9 s). With buckets set aside to be
      // read again it cannot give the header's root until the refresh has read them.
      top = yield* TopTree.build(buckets);
      if (reread.length === 0 && !top.root.equals(header.root)) return null;
    }
  }
  const headsHold = reread.length === 0 && progress.messages === header.messageCount && (yield* headsDigestSteps(buckets)).equals(header.rootsDigest);
  if (!headsHold) {
    // Every record checked now; a damaged one is read again, and with none the load does not add up.
    for (let lo = 0; lo < BUCKET_COUNT; lo += LOAD_PAGE) {
      for (const row of store.buckets(lo, lo + LOAD_PAGE)) {
        const head = buckets[row.bucket] as Bucket;
        if (head.count > 0 && checked(row, head) === null) {
          buckets[row.bucket] = EMPTY_BUCKET;
          reread.push(row.bucket);
        }
      }
      yield;
    }
    // A header written before the heads' digest holds one over the roots alone.
    if (reread.length === 0 && (progress.messages !== header.messageCount || !rootsDigest(buckets).equals(header.rootsDigest))) return null;
  }
  const commitment = new Commitment(header.timestamp, buckets, top, arena.allocatedBytes);
  return {commitment, reread: reread.sort((x, y) => x - y), logWatermark: header.logWatermark};
}

/** A stored head as a bucket to check its length: EMPTY_BUCKET for an empty record, null if the length fits none. */
function storedHead(row: StoredHead): Bucket | null {
  if (row.length === 0) return EMPTY_BUCKET;
  if (!isRecordLength(row.length) || row.head.length !== HEAD_BYTES) return null;
  return new Bucket(row.head, 0, row.length, false);
}

/**
 * Writes `c`: the records of `changed` buckets (every non-empty one for "all") in batches stamped
 * `generation`, one step each, then the header, which also trims the change log to `logWatermark`.
 * `beforeBatch` is told of the buckets whose rows are about to be overwritten or dropped.
 */
export function* saveCommitment(
  store: CommitmentPersistence,
  c: Commitment,
  changed: readonly number[] | "all",
  generation: number,
  logWatermark: number,
  beforeBatch?: (buckets: readonly number[]) => void,
): Generator<void> {
  const list = changed === "all" ? c.buckets.flatMap((b, i) => (b.count > 0 ? [i] : [])) : changed;
  for (let i = 0; i < list.length; i += WRITE_BATCH) {
    const batch = list.slice(i, i + WRITE_BATCH);
    const rows = batch.map((b) => {
      // A head's record is on disk already, but a full write drops every older row: it is read back.
      const bucket = c.record(b);
      // An empty bucket is written as an empty record: deleting its row would look like no change.
      const record = bucket.count === 0 ? Buffer.alloc(0) : bucket.record;
      return {bucket: b, digest: digestOf(record), record};
    });
    beforeBatch?.(batch);
    store.putBuckets(generation, rows);
    if (i + WRITE_BATCH < list.length) yield;
  }
  const digest = yield* headsDigestSteps(c.buckets);
  // The top tree in pages, one short transaction and step each, so no single write holds the worker.
  let page = 0;
  for (const bytes of c.top.pages(TOP_PAGE_BYTES)) {
    store.putTopPage(page++, generation, bytes);
    yield;
  }
  // A full write drops the rows of buckets now empty: records still read from them are pinned first.
  if (changed === "all") beforeBatch?.(c.buckets.flatMap((b, i) => (b.count === 0 ? [i] : [])));
  store.commit({generation, timestamp: c.timestamp, root: c.root, messageCount: c.messageCount, logWatermark, top: Buffer.alloc(0), rootsDigest: digest}, changed === "all");
}

/** The tree from the stored pages if every one is of the header's generation and it gives the header's root. */
function topFromPages(pages: readonly StoredTopPage[], header: CommitmentHeader): TopTree | null {
  const mine = pages.filter((p) => p.generation === header.generation);
  if (mine.length === 0 || mine.some((p, i) => p.page !== i)) return null;
  const top = TopTree.fromBytes(Buffer.concat(mine.map((p) => p.bytes)));
  return top !== null && top.root.equals(header.root) ? top : null;
}

/** Buckets whose heads are hashed per step (the 12 MB of heads in 16 steps of ~1 ms). */
const DIGEST_STEP = 16_384;
/** Buckets whose heads are copied out per hash update. */
const DIGEST_PART = 1_024;
/**
 * The heads being hashed, reused by every digest: a 768 KB part per step made 12 MB of garbage
 * each write, which stood beside the commitment until V8 collected it (docs/benchmarks.md,
 * "Session 9: memory at 1 M").
 */
const digestPart = Buffer.alloc(DIGEST_PART * HEAD_BYTES);

/** SHA-256 over every bucket's 48-byte head (root, smallest expiry, byte total) in order. */
function* headsDigestSteps(buckets: readonly Bucket[]): Generator<void, Buffer> {
  const h = createHash("sha256");
  for (let from = 0; from < buckets.length; from += DIGEST_PART) {
    const to = Math.min(buckets.length, from + DIGEST_PART);
    for (let i = from; i < to; i++) {
      const b = buckets[i] as Bucket;
      b.chunk.copy(digestPart, (i - from) * HEAD_BYTES, b.at, b.at + HEAD_BYTES);
    }
    h.update(digestPart.subarray(0, (to - from) * HEAD_BYTES));
    if (to % DIGEST_STEP === 0 || to === buckets.length) yield;
  }
  return h.digest();
}

/** SHA-256 over every bucket's root in order (the digest a header written before the heads' one holds). */
function rootsDigest(buckets: readonly Bucket[]): Buffer {
  const h = createHash("sha256");
  for (const b of buckets) h.update(b.root);
  return h.digest();
}
