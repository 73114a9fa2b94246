/**
 * Refreshing the commitment for a new proof timestamp T (docs/PROTOCOL.md (Storage proofs) §2.3): a
 * bucket is rebuilt only if one of its messages changed (ChangeTracker) or one of its leaves
 * expired by T, and only the changed messages are read again (point lookups); unchanged leaves
 * are copied. Without a previous commitment every bucket is read in full. The work runs in slices
 * of at most `sliceBudgetMs` of synchronous time, each followed by a yield to the event loop
 * (bench/proofs.ts compares this with a worker thread).
 */
import {BUCKET_COUNT} from "./constants.js";
import {buildBucket, EMPTY_BUCKETS, entryOf, updateBucket, type Bucket, type BucketInput, type LeafEntry} from "./bucket.js";
import {Commitment} from "./commitment.js";
import {bucketOf, bucketRange, decodeMessageHash} from "./leaf.js";

/** What the commitment reads from the message store (ProofTables implements it). */
export interface CommitmentSource {
  /** Messages with lo <= hash < hi and expiry > minExpiryExclusive. */
  rowsInRange(lo: string, hi: string, minExpiryExclusive: number): BucketInput[];
  /** One message, if it exists with expiry > minExpiryExclusive. */
  rowByHash(hash: string, minExpiryExclusive: number): BucketInput | null;
  /** The data of a message read without its digest (a row from before migration 0006). */
  dataByHash(hash: string): Buffer | null;
}

/** The buckets to rebuild and, for an incremental refresh, the changed hashes per bucket. */
export interface RefreshPlan {
  readonly full: boolean;
  readonly buckets: readonly number[];
  readonly changed: ReadonlyMap<number, readonly string[]>;
}

export interface RefreshOptions {
  /** The proof timestamp T: messages with expiry <= T are left out. */
  readonly timestamp: number;
  readonly sliceBudgetMs: number;
  /** Wall time for slicing (performance.now by default). */
  readonly now?: () => number;
  /** Called between slices; resolves when the refresh may continue (setImmediate by default). */
  readonly yieldFn?: () => Promise<void>;
  /** Checked between slices; a true result abandons the refresh (returns null). */
  readonly aborted?: () => boolean;
  /** Clock time recorded as the commitment's `completedAt`. */
  readonly clockNow: () => number;
}

export interface RefreshStats {
  rebuilt: number;
  reread: number;
  slices: number;
  longestSliceMs: number;
}

export const ALL_BUCKETS: readonly number[] = Object.freeze(Array.from({length: BUCKET_COUNT}, (_, i) => i));

export const FULL_PLAN: RefreshPlan = Object.freeze({full: true, buckets: ALL_BUCKETS, changed: new Map()});

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
  const now = opts.now ?? ((): number => performance.now());
  const full = plan.full || previous === null;
  const todo = full ? ALL_BUCKETS : plan.buckets;
  const buckets: Bucket[] = [...(full ? EMPTY_BUCKETS : previous.buckets)];
  let i = 0;
  while (i < todo.length) {
    const start = now();
    do {
      const b = todo[i++] as number;
      buckets[b] = full ? reread(source, b, opts.timestamp, stats) : update(source, buckets[b] as Bucket, b, plan, opts.timestamp, stats);
    } while (i < todo.length && now() - start < opts.sliceBudgetMs);
    stats.slices++;
    stats.longestSliceMs = Math.max(stats.longestSliceMs, now() - start);
    if (i < todo.length) {
      await (opts.yieldFn ?? yieldToLoop)();
      if (opts.aborted?.() === true) return null;
    }
  }
  stats.rebuilt = todo.length;
  const top = full ? null : {level0: previous.topLevel0, changed: todo};
  return new Commitment(opts.timestamp, opts.clockNow(), buckets, top);
}

/** The bucket read in full from the store. */
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
