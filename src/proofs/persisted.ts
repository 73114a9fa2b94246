/**
 * The commitment on disk (docs/PROTOCOL.md (Storage proofs) §2.5, migration 0008): after each
 * refresh the engine writes the buckets it rebuilt, then a header (generation, T, root, change-log
 * watermark); at start it loads them and refreshes from there with the change log's hashes, so a
 * restart costs a read of the records (~52 bytes a message) instead of a full build.
 *
 * Nothing loaded is trusted blindly, but not everything is checked before the first answer. A
 * bucket row newer than the header is from a write a crash cut short: it is read again from the
 * messages (`reread`). Then one digest over every record's 48-byte head (root, smallest expiry,
 * byte total) must match the header's, the count must match (a missing row), and the stored top
 * tree must give the header's root: what a signed proof says (root, count, bytes) and which buckets
 * a refresh must touch (expiries) is then exactly what was persisted. The rest of each record (its
 * leaves, keys, expiries, sizes) is checked against its own SHA-256 lazily (`LoadedRecords`): before
 * a refresh merges into it or an answer reads it, and by a background pass; a damaged one is read
 * again from the messages. Only when the heads' digest fails (a damaged head, a header written by
 * an older version, or rows set aside above) is every record checked before use, as a load did
 * before: the damaged ones are read again, and if none is, the load is dropped for a full build.
 */
import {createHash, hash} from "node:crypto";
import type {CommitmentHeader, StoredBucket, StoredTopPage} from "../storage/index.js";
import {BucketArena, bucketFromRecord, buildBucket, EMPTY_BUCKET, EMPTY_BUCKETS, type Bucket} from "./bucket.js";
import {Commitment} from "./commitment.js";
import {BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import {ProofError} from "./errors.js";
import {bucketOf, bucketRange, decodeMessageHash} from "./leaf.js";
import {sliced, type CommitmentSource, type Progress, type RefreshOptions, type RefreshPlan} from "./refresh.js";
import {TopTree} from "./top-tree.js";

/** What the engine needs of the store (CommitmentStore implements it). */
export interface CommitmentPersistence {
  header(): CommitmentHeader | null;
  maxGeneration(): number;
  buckets(lo: number, hi: number): StoredBucket[];
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
  /** The loaded records still to check against their digests (null: all were checked at load). */
  readonly records: LoadedRecords | null;
}

/** Buckets per query of a load (64 queries, ~8 MB each at 10 M messages). */
const LOAD_PAGE = 4096;
/** Bucket rows per write transaction and step (~250 KB at 10 M messages: a find or the store's writer waits little). */
const WRITE_BATCH = 128;
/** Bytes per page of the persisted top tree (64 pages for its 4 MB; each write ~0.5 ms). */
const TOP_PAGE_BYTES = 64 * 1024;
/** A record's head: root 32 ‖ smallest expiry f64 ‖ byte total f64 (bucket.ts layout). */
const HEAD_BYTES = NODE_BYTES + 16;

const digestOf = (record: Buffer): Buffer => hash("sha256", record, "buffer");

/**
 * The loaded records not yet checked against their stored SHA-256. A record is only ever used
 * after `usable` said yes (an answer's bucket, a bucket a refresh merges into), and `step` checks
 * the rest in the background. A bucket a refresh has rebuilt since is not the loaded object any
 * more and needs no check.
 */
export class LoadedRecords {
  /** Per bucket: 0 not loaded (or empty), 1 unchecked, 2 good, 3 damaged. */
  readonly #state = new Uint8Array(BUCKET_COUNT);
  #cursor = 0;
  #unchecked = 0;
  readonly #damaged = new Set<number>();

  /** @param digests 32 bytes per bucket, the stored SHA-256 of `loaded[b]`'s record */
  constructor(
    private readonly loaded: readonly Bucket[],
    private readonly digests: Buffer,
  ) {
    loaded.forEach((bucket, b) => {
      if (bucket.count === 0) return;
      this.#state[b] = 1;
      this.#unchecked++;
    });
  }

  /** Whether `bucket`, held at index `b`, may be used: false only for a loaded record found damaged. */
  usable(b: number, bucket: Bucket): boolean {
    if (this.loaded[b] !== bucket) return true;
    if (this.#state[b] === 1) this.#check(b);
    return this.#state[b] !== 3;
  }

  /** Checks up to `count` more records in bucket order; returns those found damaged. */
  step(count: number): number[] {
    const damaged: number[] = [];
    for (let n = 0; n < count && this.#cursor < BUCKET_COUNT; this.#cursor++) {
      if (this.#state[this.#cursor] !== 1) continue;
      if (!this.#check(this.#cursor)) damaged.push(this.#cursor);
      n++;
    }
    return damaged;
  }

  /** Loaded buckets found damaged: the next refresh reads them again from the messages. */
  get damaged(): ReadonlySet<number> {
    return this.#damaged;
  }

  /** Records not yet checked. */
  get unchecked(): number {
    return this.#unchecked;
  }

  /** Forgets the damaged buckets `c` no longer holds the loaded record of (a refresh read them again). */
  settle(c: Commitment): void {
    for (const b of this.#damaged) if (c.buckets[b] !== this.loaded[b]) this.#damaged.delete(b);
  }

  /**
   * Puts the bucket `b` read again from the messages into `c` in place of its damaged loaded record,
   * if that gives the root `c` committed to (no message of it changed since): `c` then answers for
   * it at once. Otherwise the bucket waits for the next refresh. True if replaced.
   */
  repair(c: Commitment, b: number, source: CommitmentSource): boolean {
    const damaged = c.buckets[b] as Bucket;
    if (damaged !== this.loaded[b] || this.#state[b] !== 3) return false;
    const {lo, hi} = bucketRange(b);
    const rebuilt = buildBucket(source.rowsInRange(lo, hi, c.timestamp), (h) => source.dataByHash(h));
    if (!rebuilt.root.equals(damaged.root) || rebuilt.count !== damaged.count || rebuilt.bytes !== damaged.bytes) return false;
    // Same root, count and bytes: the commitment (and its signed proof) is unchanged by the swap.
    (c.buckets as Bucket[])[b] = rebuilt;
    return true;
  }

  /** Whether bucket `b`'s record matches its digest (remembered either way). */
  #check(b: number): boolean {
    const bucket = this.loaded[b] as Bucket;
    const record = bucket.chunk.subarray(bucket.at, bucket.at + bucket.length);
    const good = hash("sha256", record, "buffer").equals(this.digests.subarray(b * NODE_BYTES, (b + 1) * NODE_BYTES));
    this.#state[b] = good ? 2 : 3;
    if (!good) this.#damaged.add(b);
    this.#unchecked--;
    return good;
  }
}

/**
 * What an engine does with the loaded records until each is checked (LoadedRecords): checks the
 * ones a refresh merges into (`plan`) or an answer reads (`guard`), all of them before a refresh
 * that may copy buckets into a new arena (`beforeRefresh`), the rest in the background between
 * requests (`afterRefresh`), and puts a damaged one read again in place where no root changes.
 */
export class RecordChecks {
  #records: LoadedRecords | null = null;
  #running = false;

  /** @param held the commitments the engine holds (a damaged record is replaced in each) */
  constructor(
    private readonly source: CommitmentSource,
    private readonly held: () => ReadonlyArray<Commitment | null>,
    private readonly closed: () => boolean,
  ) {}

  /** The records of a load just done (null: all checked at load). */
  loaded(records: LoadedRecords | null): void {
    this.#records = records;
  }

  /** Loaded records not yet checked (0 once the background check is done). */
  get unchecked(): number {
    return this.#records?.unchecked ?? 0;
  }

  /**
   * Whether to check first before a refresh of `changes` changes: a refresh may copy every bucket into a new arena
   * (compaction), after which a loaded record is not recognisable, so every record not yet checked
   * is checked first, except before the first refresh after the load (`justLoaded`), which copies
   * only when it rebuilds most buckets.
   */
  needCheckFirst(justLoaded: boolean, changes: number): boolean {
    return this.#records !== null && (!justLoaded || changes > BUCKET_COUNT / 4);
  }

  /** Checks every loaded record not yet checked, in slices (see `needCheckFirst`). */
  async checkAll(opts: RefreshOptions): Promise<void> {
    const records = this.#records;
    if (records === null) return;
    const steps = (function* (): Generator<void> {
      while (records.unchecked > 0) {
        records.step(CHECK_STEP);
        yield;
      }
    })();
    const progress: Progress = {full: false, phase: "load", done: 0, total: 0, messages: 0, elapsedMs: 0};
    await sliced(steps, {...opts, onProgress: undefined}, {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0}, progress);
  }

  /**
   * The incremental plan, made by `make` with the buckets to read again in full; a loaded record it
   * would merge into is checked first, and one found damaged, now or in the background, is read
   * again in full instead. Null if `make` gave up (the engine closed).
   */
  async plan(base: Commitment, reread: readonly number[], make: (reread: readonly number[]) => Promise<RefreshPlan | null>): Promise<RefreshPlan | null> {
    const records = this.#records;
    const plan = await make([...reread, ...(records?.damaged ?? [])]);
    if (plan === null || records === null) return plan;
    let usable = true;
    for (const b of plan.buckets) usable = records.usable(b, base.buckets[b] as Bucket) && usable;
    return usable ? plan : make([...new Set([...reread, ...records.damaged])]);
  }

  /** After a refresh built `c` (`full`: from the messages alone): starts or goes on with the background check. */
  afterRefresh(c: Commitment, full: boolean): void {
    if (full) this.#records = null;
    this.#records?.settle(c);
    void this.#background();
  }

  /** Throws NOT_READY if `messageHash`'s bucket in `c` is a damaged loaded record that cannot be replaced yet. */
  guard(c: Commitment, messageHash: string): void {
    const records = this.#records;
    const raw = records === null ? null : decodeMessageHash(messageHash);
    if (records === null || raw === null) return;
    // A loaded record is read only once its digest checked out: never a path from a damaged one.
    const b = bucketOf(raw);
    if (!records.usable(b, c.buckets[b] as Bucket) && !records.repair(c, b, this.source)) {
      throw new ProofError({code: "PROOF_ERROR_NOT_READY"}, `bucket ${b} of the commitment is being read again`);
    }
  }

  /** Replaces the damaged record of bucket `b` in every commitment held, where no root changes. */
  #repair(records: LoadedRecords, b: number): void {
    for (const c of new Set(this.held())) if (c !== null) records.repair(c, b, this.source);
  }

  /** Checks the records a step at a time between requests, replacing damaged ones where it can. */
  async #background(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let records = this.#records; records !== null && !this.closed(); records = this.#records) {
        for (const b of records.step(CHECK_STEP)) this.#repair(records, b);
        if (records.unchecked === 0) {
          if (records.damaged.size === 0) this.#records = null;
          return;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#running = false;
    }
  }
}

/** Loaded records checked per background step (~4 MB of records at 10 M messages, a few ms). */
const CHECK_STEP = 2048;

/** The next generation to write: above the header's and any row a cut-short write left. */
export function nextGeneration(store: CommitmentPersistence): number {
  return Math.max(store.header()?.generation ?? 0, store.maxGeneration()) + 1;
}

/** Loads the persisted commitment (null: none, or its root does not check out). One step per page. */
export function* loadCommitment(store: CommitmentPersistence, progress: Progress): Generator<void, LoadedCommitment | null> {
  const header = store.header();
  if (header === null) return null;
  const buckets: Bucket[] = [...EMPTY_BUCKETS];
  const digests = Buffer.alloc(BUCKET_COUNT * NODE_BYTES);
  const reread: number[] = [];
  const arena = new BucketArena();
  progress.total = BUCKET_COUNT;
  for (let lo = 0; lo < BUCKET_COUNT; lo += LOAD_PAGE) {
    for (const row of store.buckets(lo, lo + LOAD_PAGE)) {
      const bucket = row.generation > header.generation || row.digest.length !== NODE_BYTES ? null : bucketFromRecord(row.record, arena);
      if (bucket === null) reread.push(row.bucket);
      else buckets[row.bucket] = bucket;
      row.digest.copy(digests, row.bucket * NODE_BYTES);
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
  let records: LoadedRecords | null = new LoadedRecords(buckets, digests);
  const headsHold = reread.length === 0 && progress.messages === header.messageCount && (yield* headsDigestSteps(buckets)).equals(header.rootsDigest);
  if (!headsHold) {
    // Every record checked now; a damaged one is read again, and with none the load does not add up.
    while (records.unchecked > 0) {
      records.step(LOAD_PAGE);
      yield;
    }
    for (const b of records.damaged) {
      buckets[b] = EMPTY_BUCKET;
      reread.push(b);
    }
    // A header written before the heads' digest holds one over the roots alone.
    if (reread.length === 0 && (progress.messages !== header.messageCount || !rootsDigest(buckets).equals(header.rootsDigest))) return null;
    records = null;
  }
  const commitment = new Commitment(header.timestamp, buckets, top, arena.allocatedBytes);
  return {commitment, reread: reread.sort((x, y) => x - y), logWatermark: header.logWatermark, records};
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
  const digest = yield* headsDigestSteps(c.buckets);
  // The top tree in pages, one short transaction and step each, so no single write holds the worker.
  const top = c.top.serialize();
  for (let page = 0; page * TOP_PAGE_BYTES < top.length; page++) {
    store.putTopPage(page, generation, top.subarray(page * TOP_PAGE_BYTES, (page + 1) * TOP_PAGE_BYTES));
    yield;
  }
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

/** SHA-256 over every bucket's 48-byte head (root, smallest expiry, byte total) in order. */
function* headsDigestSteps(buckets: readonly Bucket[]): Generator<void, Buffer> {
  const h = createHash("sha256");
  for (let from = 0; from < buckets.length; from += DIGEST_STEP) {
    const to = Math.min(buckets.length, from + DIGEST_STEP);
    const part = Buffer.allocUnsafe((to - from) * HEAD_BYTES);
    for (let i = from; i < to; i++) {
      const b = buckets[i] as Bucket;
      b.chunk.copy(part, (i - from) * HEAD_BYTES, b.at, b.at + HEAD_BYTES);
    }
    h.update(part);
    yield;
  }
  return h.digest();
}

/** SHA-256 over every bucket's root in order (the digest a header written before the heads' one holds). */
function rootsDigest(buckets: readonly Bucket[]): Buffer {
  const h = createHash("sha256");
  for (const b of buckets) h.update(b.root);
  return h.digest();
}
