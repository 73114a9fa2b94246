/**
 * Refreshing the commitment for a new proof timestamp T (docs/PROTOCOL.md (Storage proofs) §2.3): a
 * bucket is rebuilt only if one of its messages changed (ChangeTracker) or one of its leaves
 * expired by T, and only the changed messages are read again (point lookups); unchanged leaves
 * are copied. Without a previous commitment every message is read, in pages of hash order that
 * span many buckets (a bucket per query would be 262,144 queries however small the store). Then
 * the top tree is built, or updated along the rebuilt buckets' paths (top-tree.ts). All of it runs
 * in slices of at most `sliceBudgetMs` of synchronous time, each followed by a yield to the event
 * loop (bench/proofs.ts compares this with a worker thread).
 */
import {BUCKET_COUNT} from "./constants.js";
import {buildBucket, EMPTY_BUCKETS, entryOf, sortedBucket, updateBucket, type Bucket, type BucketInput, type LeafEntry} from "./bucket.js";
import {Commitment} from "./commitment.js";
import {bucketOf, bucketRange, decodeMessageHash} from "./leaf.js";
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
  /** One message, if it exists with expiry > minExpiryExclusive. */
  rowByHash(hash: string, minExpiryExclusive: number): BucketInput | null;
  /** The data of a message read without its digest (a row from before migration 0006). */
  dataByHash(hash: string): Buffer | null;
}

/** The buckets to rebuild and, for an incremental refresh, the changed hashes per bucket. */
export interface RefreshPlan {
  /** Read every message; `buckets` and `changed` are then empty. */
  readonly full: boolean;
  /** Ascending. */
  readonly buckets: readonly number[];
  readonly changed: ReadonlyMap<number, readonly string[]>;
}

export interface RefreshOptions {
  /** The proof timestamp T: messages with expiry <= T are left out. */
  readonly timestamp: number;
  readonly sliceBudgetMs: number;
  /** Rows per query of a full build (PAGE_ROWS by default; tests use small pages). */
  readonly pageRows?: number;
  /** Wall time for slicing (performance.now by default). */
  readonly now?: () => number;
  /** Called between slices; resolves when the refresh may continue (setImmediate by default). */
  readonly yieldFn?: () => Promise<void>;
  /** Checked between slices; a true result abandons the refresh (returns null). */
  readonly aborted?: () => boolean;
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

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The plan for T after `previous` given the changed hashes (a full plan without `previous`). */
export function planRefresh(changed: Iterable<string>, previous: Commitment | null, timestamp: number): RefreshPlan {
  if (previous === null) return FULL_PLAN;
  const byBucket = new Map<number, string[]>();
  for (const hash of new Set(changed)) {
    const raw = decodeMessageHash(hash);
    if (raw === null) continue;
    const b = bucketOf(raw);
    const list = byBucket.get(b);
    if (list === undefined) byBucket.set(b, [hash]);
    else list.push(hash);
  }
  const buckets = new Set(byBucket.keys());
  previous.buckets.forEach((bucket, b) => {
    if (bucket.minExpiry <= timestamp) buckets.add(b);
  });
  return {full: false, buckets: [...buckets].sort((a, b) => a - b), changed: byBucket};
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
  const buckets: Bucket[] = [...(full ? EMPTY_BUCKETS : previous.buckets)];
  let top: TopTree | null = null;
  function* steps(): Generator<void> {
    if (full) {
      yield* readAll(source, buckets, opts.timestamp, opts.pageRows ?? PAGE_ROWS);
      top = yield* TopTree.build(buckets);
    } else {
      yield* updateAll(source, buckets, plan, opts.timestamp, stats);
      top = yield* previous.top.update(buckets, plan.buckets);
    }
  }
  if (!(await sliced(steps(), opts, stats)) || top === null) return null;
  stats.rebuilt = full ? BUCKET_COUNT : plan.buckets.length;
  if (full) stats.reread = BUCKET_COUNT;
  return new Commitment(opts.timestamp, buckets, top);
}

/** Runs `steps` in slices of `opts.sliceBudgetMs`, yielding between them; false if aborted. */
async function sliced(steps: Iterator<unknown>, opts: RefreshOptions, stats: RefreshStats): Promise<boolean> {
  const now = opts.now ?? ((): number => performance.now());
  for (;;) {
    const start = now();
    let done: boolean | undefined;
    do done = steps.next().done;
    while (done !== true && now() - start < opts.sliceBudgetMs);
    stats.slices++;
    stats.longestSliceMs = Math.max(stats.longestSliceMs, now() - start);
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
function* readAll(source: CommitmentSource, buckets: Bucket[], timestamp: number, pageRows: number): Generator<void> {
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
        buckets[current] = sortedBucket(pending);
        pending = [];
      }
      current = b;
      pending.push(e);
    }
    if (rows.length < pageRows) break;
    after = (rows.at(-1) as BucketInput).hash;
    yield;
  }
  if (pending.length > 0) buckets[current] = sortedBucket(pending);
}

/** Rebuilds the buckets of an incremental plan in `buckets`; one bucket per step. */
function* updateAll(source: CommitmentSource, buckets: Bucket[], plan: RefreshPlan, timestamp: number, stats: RefreshStats): Generator<void> {
  for (const b of plan.buckets) {
    buckets[b] = update(source, buckets[b] as Bucket, b, plan, timestamp, stats);
    yield;
  }
}

/** The bucket read in full from the store (after a key tie). */
function reread(source: CommitmentSource, b: number, timestamp: number, stats: RefreshStats): Bucket {
  const {lo, hi} = bucketRange(b);
  stats.reread++;
  return buildBucket(source.rowsInRange(lo, hi, timestamp), (hash) => source.dataByHash(hash));
}

/** The previous bucket with its changed messages read again and its expired leaves dropped. */
function update(source: CommitmentSource, prev: Bucket, b: number, plan: RefreshPlan, timestamp: number, stats: RefreshStats): Bucket {
  const hashes = plan.changed.get(b) ?? [];
  const removed: Buffer[] = [];
  const added: LeafEntry[] = [];
  for (const hash of hashes) {
    removed.push(decodeMessageHash(hash) as Buffer);
    const row = source.rowByHash(hash, timestamp);
    const entry = row === null ? null : entryOf(row, (h) => source.dataByHash(h));
    if (entry !== null) added.push(entry);
  }
  return updateBucket(prev, removed, added, timestamp) ?? reread(source, b, timestamp, stats);
}
