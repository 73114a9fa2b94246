/**
 * Refreshing the commitment for a new proof timestamp T (docs/PROTOCOL.md (Storage proofs) §2.3): a
 * bucket is rebuilt only if one of its messages changed (ChangeTracker) or one of its leaves
 * expired by T, and only the changed messages are read again (in batches of LOOKUP_BATCH hashes
 * in hash order, one statement each); unchanged leaves are copied. Without a previous commitment every message is read, in pages of hash order that
 * span many buckets (a bucket per query would be 262,144 queries however small the store). Then
 * the top tree is built, or updated along the rebuilt buckets' paths (top-tree.ts). All of it runs
 * in slices of at most `sliceBudgetMs` of synchronous time, each followed by a yield to the event
 * loop (bench/proofs.ts compares this with a worker thread).
 */
import {BUCKET_COUNT} from "./constants.js";
import {BucketArena, buildBucket, copyBucket, emptyBuckets, HEAD_BYTES, entriesOf, entryOf, sortedBucket, updateBucket, type Bucket, type BucketInput, type LeafEntry} from "./bucket.js";
import {Commitment} from "./commitment.js";
import {bucketOf, bucketPrefix, bucketRange, decodeMessageHash} from "./leaf.js";
import {TopTree} from "./top-tree.js";

/** What the commitment reads from the message store (ProofTables implements it). */
export interface CommitmentSource {
  /** Messages with lo <= hash < hi and expiry > minExpiryExclusive. */
  rowsInRange(lo: string, hi: string, minExpiryExclusive: number): BucketInput[];
  /**
   * Up to `limit` messages with hash > after and expiry > minExpiryExclusive, in ascending hash
   * order (ASCII, SQLite's BINARY collation): one statement, so no read stays open between pages.
   */
  rowsAfter(after: string, minExpiryExclusive: number, limit: number): BucketInput[];
  /** The messages among `hashes` that exist with expiry > minExpiryExclusive (any order). */
  rowsByHashes(hashes: readonly string[], minExpiryExclusive: number): BucketInput[];
  /** The data of a message read without its digest (a row from before migration 0006). */
  dataByHash(hash: string): Buffer | null;
  /**
   * The messages the change log names up to `watermark` as their last logged change left them
   * (migration 0011): a row, "gone", or "unknown" (read the message). Absent: every changed
   * message is read.
   */
  loggedRows?(watermark: number): ReadonlyMap<string, BucketInput | "gone" | "unknown">;
}

/** The buckets to rebuild and, for an incremental refresh, the changed hashes per bucket. */
export interface RefreshPlan {
  /** Read every message; `buckets` and `changed` are then empty. */
  readonly full: boolean;
  /** Ascending. */
  readonly buckets: readonly number[];
  readonly changed: ReadonlyMap<number, readonly string[]>;
  /** The raw hashes of `changed`, in the same order (decoded once, when planning). Absent: decoded when used. */
  readonly raw?: ReadonlyMap<number, readonly Buffer[]>;
  /**
   * Buckets (also in `buckets`) read again in full from the store: a persisted bucket that was
   * stale or corrupt (persisted.ts) holds nothing to update.
   */
  readonly reread?: ReadonlySet<number>;
}

export interface RefreshOptions {
  /** The proof timestamp T: messages with expiry <= T are left out. */
  readonly timestamp: number;
  readonly sliceBudgetMs: number;
  /**
   * The change log's watermark the plan's changes go up to: an incremental refresh takes the
   * changed messages the log carries from it (`CommitmentSource.loggedRows`) and reads only the rest.
   */
  readonly logWatermark?: number;
  /** Rows per query of a full build (PAGE_ROWS by default; tests use small pages). */
  readonly pageRows?: number;
  /** Wall time for slicing (performance.now by default). */
  readonly now?: () => number;
  /** Called between slices; resolves when the refresh may continue (setImmediate by default). */
  readonly yieldFn?: () => Promise<void>;
  /** Checked between slices; a true result abandons the refresh (returns null). */
  readonly aborted?: () => boolean;
  /** Arena bytes tolerated beyond COMPACT_RATIO × the live records (COMPACT_SLACK_BYTES; tests use 0). */
  readonly compactSlackBytes?: number;
  /** Called after every slice with how far the refresh got. */
  readonly onProgress?: (p: RefreshProgress) => void;
  /**
   * Fetches the records of buckets held as heads only (their records on disk, persisted.ts), given
   * ascending with those heads: a full bucket per number, or null if the stored one is unusable
   * (the bucket is then read again from the messages). Needed once heads are in the commitment.
   */
  readonly records?: (buckets: readonly number[], heads: readonly Bucket[]) => ReadonlyMap<number, Bucket | null>;
  /**
   * Called after every step, inside a slice: the commitment worker serves the inclusion requests
   * that arrived meanwhile, so an answer waits for one step (a few ms), not for a whole slice.
   */
  readonly poll?: () => void;
}

/** How far a running refresh got (startup logs and /health: how long until a node answers). */
export interface RefreshProgress {
  readonly full: boolean;
  /**
   * "load": the persisted commitment being read (persisted.ts); "read": buckets being read or
   * updated; "tree": the top tree being hashed.
   */
  readonly phase: "load" | "read" | "tree";
  /**
   * Buckets done of `total` (all 262,144 for a full build: hashes are uniform, so the share of
   * buckets passed is the share of messages read).
   */
  readonly done: number;
  readonly total: number;
  /** Messages read so far. */
  readonly messages: number;
  readonly elapsedMs: number;
}

export interface RefreshStats {
  rebuilt: number;
  reread: number;
  slices: number;
  longestSliceMs: number;
}

export const FULL_PLAN: RefreshPlan = Object.freeze({full: true, buckets: [], changed: new Map()});

/**
 * Rows per query of a full build: ~5 ms of reading and hashing, so a slice (and a `find` waiting
 * for it) overruns its budget by little, while the per-query cost stays below 1 %.
 */
export const PAGE_ROWS = 256;

/**
 * Changed hashes read per statement, and step, of an incremental refresh: ~40 µs each at 1 M
 * (SQLite's page reads), so a step of 64 takes ~3 ms; larger batches saved nothing measurable
 * (docs/PROTOCOL.md, Part II C.5 §11.2) and made a waiting inclusion request wait ~10 ms.
 */
export const LOOKUP_BATCH = 64;

/**
 * Compaction threshold: the arenas of the buckets a commitment references may hold this many
 * times its live records (plus COMPACT_SLACK_BYTES) before the refresh copies every bucket into
 * one new arena. Each refresh writes its rebuilt buckets into a new arena, and a chunk lives as
 * long as any bucket in it does, so without this a node refreshing 1 % of its buckets an epoch
 * would end up holding several times its commitment.
 */
const COMPACT_RATIO = 2;
const COMPACT_SLACK_BYTES = 8 * 1024 * 1024;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The plan for T after `previous` given the changed hashes (a full plan without `previous`);
 * `reread` buckets are read again in full. `planSteps` in one go (tests, benchmarks).
 */
export function planRefresh(changed: Iterable<string>, previous: Commitment | null, timestamp: number, reread: readonly number[] = []): RefreshPlan {
  if (previous === null) return FULL_PLAN;
  return runSteps(planSteps(changed, previous, timestamp, reread));
}

/**
 * Buckets checked for expired leaves, and changed hashes decoded, per step of planning (~1 ms
 * each): the scan of all 262,144 buckets and 10,000 decodes took ~100 ms of CPU in one step at load
 * 12, ~10 ms quiet, and an inclusion request waited for it.
 */
const PLAN_STEP = 16_384;
const PLAN_HASHES_STEP = 2_048;

/** `planRefresh` in steps of PLAN_STEP hashes or buckets, so the worker answers finds between them. */
export function* planSteps(changed: Iterable<string>, previous: Commitment, timestamp: number, reread: readonly number[] = []): Generator<void, RefreshPlan> {
  const byBucket = new Map<number, string[]>();
  const raws = new Map<number, Buffer[]>();
  let n = 0;
  for (const hash of new Set(changed)) {
    if (++n % PLAN_HASHES_STEP === 0) yield;
    const raw = decodeMessageHash(hash);
    if (raw === null) continue;
    const b = bucketOf(raw);
    const list = byBucket.get(b);
    if (list === undefined) {
      byBucket.set(b, [hash]);
      raws.set(b, [raw]);
    } else {
      list.push(hash);
      (raws.get(b) as Buffer[]).push(raw);
    }
  }
  const buckets = new Set([...byBucket.keys(), ...reread]);
  const all = previous.buckets;
  for (let b = 0; b < all.length; b++) {
    if ((all[b] as Bucket).minExpiry <= timestamp) buckets.add(b);
    if ((b + 1) % PLAN_STEP === 0) yield;
  }
  // A typed array sorts numerically without a comparator call per pair (~100,000 buckets at 10 M).
  return {full: false, buckets: Array.from(Uint32Array.from(buckets).sort()), changed: byBucket, raw: raws, reread: new Set(reread)};
}

/** Runs a generator of steps to its end and returns its value. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/** Builds the commitment for `opts.timestamp` by applying `plan` to `previous`; null if aborted. */
export async function refreshCommitment(
  source: CommitmentSource,
  previous: Commitment | null,
  plan: RefreshPlan,
  opts: RefreshOptions,
  stats: RefreshStats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0},
): Promise<Commitment | null> {
  const full = plan.full || previous === null;
  const buckets: Bucket[] = full ? emptyBuckets() : [...previous.buckets];
  // Records going to disk all become heads once this refresh's write lands: they can share slabs.
  const arena = opts.records === undefined ? new BucketArena() : BucketArena.slabs();
  const progress: Progress = {full, phase: "read", done: 0, total: full ? BUCKET_COUNT : plan.buckets.length, messages: 0, elapsedMs: 0};
  let top: TopTree | null = null;
  let arenaBytes = 0;
  let totals: Tally | null = null;
  function* steps(): Generator<void> {
    if (full) {
      yield* readAll(source, buckets, opts.timestamp, opts.pageRows ?? PAGE_ROWS, arena, progress);
      arenaBytes = arena.allocatedBytes;
      totals = yield* tallySteps(buckets);
      progress.phase = "tree";
      top = yield* TopTree.build(buckets);
    } else {
      const logged = opts.logWatermark === undefined ? undefined : source.loggedRows?.(opts.logWatermark);
      if (logged !== undefined) yield;
      yield* updateAll(source, buckets, plan, opts, stats, arena, progress, logged);
      arenaBytes = previous.arenaBytes + arena.allocatedBytes;
      const live = yield* tallySteps(buckets);
      totals = live;
      if (arenaBytes > COMPACT_RATIO * live.recordBytes + (opts.compactSlackBytes ?? COMPACT_SLACK_BYTES)) arenaBytes = yield* compact(buckets);
      progress.phase = "tree";
      top = yield* previous.top.update(buckets, plan.buckets);
    }
  }
  if (!(await sliced(steps(), opts, stats, progress)) || top === null) return null;
  stats.rebuilt = full ? BUCKET_COUNT : plan.buckets.length;
  if (full) stats.reread = BUCKET_COUNT;
  return new Commitment(opts.timestamp, buckets, top, arenaBytes, totals ?? undefined);
}

export type Progress = {-readonly [K in keyof RefreshProgress]: RefreshProgress[K]};

/** What the buckets of a commitment hold, summed. */
export interface Tally {
  readonly messageCount: number;
  readonly usedBytes: number;
  /** Bytes of the non-empty buckets' records (the compaction threshold's base). */
  readonly recordBytes: number;
}

/** Buckets summed per step (a pass over all 262,144 took a few ms at once). */
const TALLY_STEP = 32_768;

/** Sums `buckets` in steps of TALLY_STEP buckets. */
export function* tallySteps(buckets: readonly Bucket[]): Generator<void, Tally> {
  let messageCount = 0;
  let usedBytes = 0;
  let recordBytes = 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as Bucket;
    const count = b.count;
    if (count > 0) {
      messageCount += count;
      usedBytes += b.bytes;
      recordBytes += b.resident ? b.length : HEAD_BYTES;
    }
    if ((i + 1) % TALLY_STEP === 0) yield;
  }
  return {messageCount, usedBytes, recordBytes};
}

/**
 * Old records fetched per statement (~0.5 MB at 10 M messages). Buckets are taken in the merge's
 * (hash) order: a batch is four runs of 64 consecutive bucket numbers, the table's key order.
 */
const FETCH_BATCH = 256;

/**
 * The stored records of the buckets of a plan held as heads only, fetched FETCH_BATCH at a time
 * just before the merge reaches them (`upTo`), so only a batch of old records waits beside the
 * rebuilt ones. A bucket whose stored record is unusable goes to `reread`.
 */
class RecordFeed {
  readonly reread: Set<number>;
  /** The buckets to fetch, in merge order, and each one's index in that order. */
  readonly #wanted: number[] = [];
  readonly #at: number[] = [];
  #fetched = 0;

  constructor(
    order: Uint32Array,
    private readonly buckets: Bucket[],
    plan: RefreshPlan,
    private readonly records: RefreshOptions["records"],
  ) {
    this.reread = new Set(plan.reread);
    order.forEach((b, i) => {
      if ((buckets[b] as Bucket).resident || this.reread.has(b)) return;
      this.#wanted.push(b);
      this.#at.push(i);
    });
    if (this.#wanted.length > 0 && records === undefined) throw new Error("a commitment of heads needs RefreshOptions.records");
  }

  /** Fetches the records of the wanted buckets before index `end` of the merge order; false if none was due. */
  upTo(end: number): boolean {
    const records = this.records;
    const from = this.#fetched;
    if (records === undefined) return false;
    while (this.#fetched < this.#wanted.length && (this.#at[this.#fetched] as number) < end) {
      const batch = this.#wanted.slice(this.#fetched, this.#fetched + FETCH_BATCH);
      this.#fetched += batch.length;
      const got = records([...batch].sort((x, y) => x - y), this.buckets);
      for (const b of batch) {
        const full = got.get(b) ?? null;
        if (full === null) this.reread.add(b);
        else this.buckets[b] = full;
      }
    }
    return this.#fetched > from;
  }
}

/** Copies every bucket into one new arena; returns its size. One step per 4,096 buckets. */
function* compact(buckets: Bucket[]): Generator<void, number> {
  const arena = new BucketArena();
  for (let i = 0; i < buckets.length; i++) {
    buckets[i] = copyBucket(buckets[i] as Bucket, arena);
    if ((i & 4095) === 4095) yield;
  }
  return arena.allocatedBytes;
}

/** Runs `steps` in slices of `opts.sliceBudgetMs`, yielding between them; false if aborted. */
export async function sliced(steps: Iterator<unknown>, opts: RefreshOptions, stats: RefreshStats, progress: Progress): Promise<boolean> {
  const now = opts.now ?? ((): number => performance.now());
  const started = now();
  for (;;) {
    const start = now();
    let done: boolean | undefined;
    do {
      done = steps.next().done;
      opts.poll?.();
    } while (done !== true && now() - start < opts.sliceBudgetMs);
    stats.slices++;
    stats.longestSliceMs = Math.max(stats.longestSliceMs, now() - start);
    progress.elapsedMs = now() - started;
    opts.onProgress?.({...progress});
    if (done === true) return true;
    await (opts.yieldFn ?? yieldToLoop)();
    if (opts.aborted?.() === true) return false;
  }
}

/**
 * Reads every message page by page in hash order and fills `buckets`; one page per step. A
 * bucket's hashes share their 3-character prefix, so they are contiguous in that order: a bucket
 * is packed when the first leaf of another arrives (or at the end), and one cut by a page boundary
 * continues in the next page. Each message is read once, by one of the page statements.
 */
function* readAll(source: CommitmentSource, buckets: Bucket[], timestamp: number, pageRows: number, arena: BucketArena, progress: Progress): Generator<void> {
  const loadData = (hash: string): Buffer | null => source.dataByHash(hash);
  let current = -1;
  let pending: LeafEntry[] = [];
  for (let after = ""; ; ) {
    const rows = source.rowsAfter(after, timestamp, pageRows);
    for (const row of rows) {
      const e = entryOf(row, loadData);
      if (e === null) continue;
      const b = bucketOf(e.raw);
      if (b !== current && pending.length > 0) {
        buckets[current] = sortedBucket(pending, arena);
        pending = [];
      }
      current = b;
      pending.push(e);
    }
    progress.messages += rows.length;
    if (rows.length < pageRows) break;
    after = (rows.at(-1) as BucketInput).hash;
    // Buckets passed in hash order: the prefix of the last hash read (ASCII order, bucketRange).
    progress.done = prefixRank(after);
    yield;
  }
  if (pending.length > 0) buckets[current] = sortedBucket(pending, arena);
  progress.done = BUCKET_COUNT;
}

/** Base64 characters in ASCII order (SQLite's order of hashes). */
const ASCII_ORDER = "+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Buckets whose hashes sort before `hash`'s three-character prefix (0 … BUCKET_COUNT). */
function prefixRank(hash: string): number {
  let rank = 0;
  for (let i = 0; i < 3; i++) rank = rank * 64 + Math.max(0, ASCII_ORDER.indexOf(hash[i] ?? "+"));
  return rank;
}

/**
 * Rebuilds the buckets of an incremental plan in `buckets`. Buckets are taken in hash order
 * (their prefixes in ASCII order, as SQLite's index holds them). A changed message the change log
 * carries (`logged`: its row, or gone) is taken from it; the others are read LOOKUP_BATCH at a time
 * with one statement: sorted seeks share the index pages they walk, and a statement per message
 * cost more in calls than in reading. One step per batch.
 */
function* updateAll(
  source: CommitmentSource,
  buckets: Bucket[],
  plan: RefreshPlan,
  opts: RefreshOptions,
  stats: RefreshStats,
  arena: BucketArena,
  progress: Progress,
  logged?: ReadonlyMap<string, BucketInput | "gone" | "unknown">,
): Generator<void> {
  const {timestamp} = opts;
  const order = inHashOrder(plan.buckets);
  const feed = new RecordFeed(order, buckets, plan, opts.records);
  const loadData = (hash: string): Buffer | null => source.dataByHash(hash);
  for (let start = 0; start < order.length; ) {
    let end = start;
    let leaves = 0;
    const hashes: string[] = [];
    const rows = new Map<string, BucketInput>();
    // A step ends at LOOKUP_BATCH changes (read, or taken from the log) or STEP_LEAVES leaves to
    // merge and hash, whichever comes first (expired leaves alone can dirty thousands of buckets);
    // a bucket is never split.
    for (let taken = 0; end < order.length && ((taken < LOOKUP_BATCH && leaves < STEP_LEAVES) || end === start); end++) {
      const b = order[end] as number;
      for (const h of plan.changed.get(b) ?? []) {
        taken++;
        const known = logged?.get(h);
        if (known === undefined || known === "unknown") hashes.push(h);
        else if (known !== "gone" && known.expiry > timestamp) rows.set(h, known);
      }
      leaves += feed.reread.has(b) ? REREAD_LEAVES : (buckets[b] as Bucket).count;
    }
    // The records fetched are a step of their own, as the merge and hashing of these buckets is.
    if (feed.upTo(end)) yield;
    if (hashes.length > 0) for (const row of source.rowsByHashes(hashes.sort(), timestamp)) rows.set(row.hash, row);
    progress.messages += rows.size;
    const added = stepEntries(order.subarray(start, end), plan, feed.reread, rows, loadData);
    for (let i = start; i < end; i++) {
      const b = order[i] as number;
      if (feed.reread.has(b)) {
        buckets[b] = reread(source, b, timestamp, stats, arena);
        continue;
      }
      buckets[b] = update(source, buckets[b] as Bucket, b, removedOf(plan, b), added.get(b) ?? [], timestamp, stats, arena);
    }
    progress.done = end;
    start = end;
    yield;
  }
}

/**
 * Leaves merged and hashed per step of an incremental refresh besides its changed messages
 * (~1 µs each: a step stays within a few ms), and what a bucket read again in full counts as.
 */
const STEP_LEAVES = 2_048;
const REREAD_LEAVES = 256;

/** ASCII rank of each base64 digit (bucketPrefix's third character of bucket i is digit i). */
const ASCII_RANK = Array.from({length: 64}, (_, i) => ASCII_ORDER.indexOf(bucketPrefix(i)[2] ?? ""));
const BASE64_OF_RANK = Array.from({length: 64}, (_, r) => ASCII_RANK.indexOf(r));

/**
 * `buckets` in the ASCII order of their prefixes (SQLite's order of hashes): each 6-bit digit
 * mapped to its character's rank gives a number in that order, and a typed array sorts numbers
 * without a comparator (a string sort of 100,000 buckets took ~50 ms in one step).
 */
export function inHashOrder(buckets: readonly number[]): Uint32Array {
  const key = (b: number): number => ((ASCII_RANK[b >> 12] as number) << 12) | ((ASCII_RANK[(b >> 6) & 63] as number) << 6) | (ASCII_RANK[b & 63] as number);
  const back = (k: number): number => ((BASE64_OF_RANK[k >> 12] as number) << 12) | ((BASE64_OF_RANK[(k >> 6) & 63] as number) << 6) | (BASE64_OF_RANK[k & 63] as number);
  return Uint32Array.from(buckets, key).sort().map(back);
}

/** The bucket read in full from the store (after a key tie). */
function reread(source: CommitmentSource, b: number, timestamp: number, stats: RefreshStats, arena: BucketArena): Bucket {
  const {lo, hi} = bucketRange(b);
  stats.reread++;
  return buildBucket(source.rowsInRange(lo, hi, timestamp), (hash) => source.dataByHash(hash), arena);
}

/** The raw hashes of bucket `b`'s changed messages (decoded when planning: RefreshPlan.raw). */
function removedOf(plan: RefreshPlan, b: number): readonly Buffer[] {
  return plan.raw?.get(b) ?? (plan.changed.get(b) ?? []).map((hash) => decodeMessageHash(hash) as Buffer);
}

/**
 * The current leaves of the changed messages of `step`'s buckets (`rows`: as read now), by bucket,
 * hashed in one batch (entriesOf). The row read for a hash is its message: its raw hash is the one
 * decoded when planning.
 */
function stepEntries(step: Uint32Array, plan: RefreshPlan, rereads: ReadonlySet<number>, rows: ReadonlyMap<string, BucketInput>, loadData: (hash: string) => Buffer | null): Map<number, LeafEntry[]> {
  const inputs: BucketInput[] = [];
  const raws: Buffer[] = [];
  const owners: number[] = [];
  for (const b of step) {
    if (rereads.has(b)) continue;
    const removed = removedOf(plan, b);
    (plan.changed.get(b) ?? []).forEach((hash, k) => {
      const row = rows.get(hash);
      if (row === undefined) return;
      inputs.push(row);
      raws.push(removed[k] as Buffer);
      owners.push(b);
    });
  }
  const out = new Map<number, LeafEntry[]>();
  entriesOf(inputs, raws, loadData).forEach((e, k) => {
    if (e === null) return;
    const b = owners[k] as number;
    const list = out.get(b);
    if (list === undefined) out.set(b, [e]);
    else list.push(e);
  });
  return out;
}

/** The previous bucket with the `removed` messages (raw hashes) and its expired leaves dropped, and `added` merged in. */
function update(source: CommitmentSource, prev: Bucket, b: number, removed: readonly Buffer[], added: LeafEntry[], timestamp: number, stats: RefreshStats, arena: BucketArena): Bucket {
  return updateBucket(prev, removed, added, timestamp, arena) ?? reread(source, b, timestamp, stats, arena);
}
