/**
 * One bucket of the commitment: its leaves sorted by raw message hash, the RFC 6962 root over
 * them, and per leaf what answers and updates need (key, expiry, size). Immutable once built, so a
 * new commitment shares every unchanged bucket with the previous one.
 *
 * Memory per message: 16 (key) + 32 (leaf) + 8 (expiry) + 4 (size) = 60 bytes.
 */
import {ACCOUNT_BYTES} from "../protocol/index.js";
import {BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import {dataDigest, decodeMessageHash, rawLeafHash} from "./leaf.js";
import {EMPTY_ROOT, rootOf} from "../crypto/index.js";

/** Leading bytes of the raw hash kept per leaf to find it again (a full leaf check settles ties). */
export const KEY_BYTES = 16;

export interface Bucket {
  readonly count: number;
  /** count × KEY_BYTES: first bytes of each raw message hash, ascending. */
  readonly keys: Buffer;
  /** count × 32: leaf hashes, same order. */
  readonly leaves: Buffer;
  readonly expiries: Float64Array;
  readonly sizes: Uint32Array;
  readonly root: Buffer;
  /** Sum of sizes. */
  readonly bytes: number;
  /** Smallest expiry (Infinity when empty): the bucket changes by time once a proof passes it. */
  readonly minExpiry: number;
}

export const EMPTY_BUCKET: Bucket = Object.freeze({
  count: 0,
  keys: Buffer.alloc(0),
  leaves: Buffer.alloc(0),
  expiries: new Float64Array(0),
  sizes: new Uint32Array(0),
  root: EMPTY_ROOT,
  bytes: 0,
  minExpiry: Number.POSITIVE_INFINITY,
});

export const EMPTY_BUCKETS: readonly Bucket[] = Object.freeze(Array.from({length: BUCKET_COUNT}, () => EMPTY_BUCKET));

/** One committed message: raw hash, leaf hash, and the fields answers need. */
export interface LeafEntry {
  readonly raw: Buffer;
  readonly leaf: Buffer;
  readonly expiry: number;
  readonly size: number;
}

/** A message as read from the store (with its data). */
export interface BucketInput {
  readonly hash: string;
  /** 33 raw bytes: prefix ‖ key. */
  readonly account: Uint8Array;
  readonly namespace: number;
  readonly expiry: number;
  readonly size: number;
  /** SHA-256(data) as stored (migration 0006); null for older rows, whose data is then hashed. */
  readonly digest: Buffer | null;
  readonly data?: Buffer;
}

/** Fetches the data of a message read without it (null: the row vanished). */
export type DataLoader = (hash: string) => Buffer | null;

const byRaw = (a: LeafEntry, b: LeafEntry): number => Buffer.compare(a.raw, b.raw);

/** The leaf of a message read from the store; null for a non-canonical hash or missing data. */
export function entryOf(row: BucketInput, loadData: DataLoader): LeafEntry | null {
  const raw = decodeMessageHash(row.hash);
  if (raw === null || row.account.length !== ACCOUNT_BYTES) return null;
  const digest = row.digest ?? digestOfData(row, loadData);
  if (digest === null || digest.length !== NODE_BYTES) return null;
  const {account, namespace, expiry, size} = row;
  return {raw, leaf: rawLeafHash({raw, account, namespace, expiry, size, dataDigest: digest}), expiry, size};
}

function digestOfData(row: BucketInput, loadData: DataLoader): Buffer | null {
  const data = row.data ?? loadData(row.hash);
  return data === null || data.length !== row.size ? null : dataDigest(data);
}

/** Builds a bucket from all of its current messages (any order). */
export function buildBucket(rows: readonly BucketInput[], loadData: DataLoader): Bucket {
  const entries: LeafEntry[] = [];
  for (const row of rows) {
    const e = entryOf(row, loadData);
    if (e !== null) entries.push(e);
  }
  return sortedBucket(entries);
}

/** Packs the entries of one bucket given in any order (sorts `entries` in place). */
export function sortedBucket(entries: LeafEntry[]): Bucket {
  return packBucket(entries.sort(byRaw));
}

/** Packs entries sorted by raw hash into a bucket and computes its root. */
export function packBucket(sorted: readonly LeafEntry[]): Bucket {
  const n = sorted.length;
  if (n === 0) return EMPTY_BUCKET;
  const out = new BucketWriter(n);
  for (const e of sorted) out.push(e.raw, e.leaf, e.expiry, e.size);
  return out.finish();
}

class BucketWriter {
  readonly keys: Buffer;
  readonly leaves: Buffer;
  readonly expiries: Float64Array;
  readonly sizes: Uint32Array;
  n = 0;
  bytes = 0;
  minExpiry = Number.POSITIVE_INFINITY;

  readonly #memory: Buffer;

  /**
   * One allocation per bucket, outside Buffer's shared pool: with ~40 leaves a bucket, pooled
   * slices would keep whole 8 KB pool chunks (and the garbage allocated beside them) alive for as
   * long as any bucket in them lives. Layout: expiries (8-byte aligned at 0), leaves, keys, sizes,
   * root.
   */
  constructor(capacity: number) {
    const m = Buffer.allocUnsafeSlow(capacity * (8 + NODE_BYTES + KEY_BYTES + 4) + NODE_BYTES);
    this.#memory = m;
    this.expiries = new Float64Array(m.buffer, m.byteOffset, capacity);
    this.leaves = m.subarray(capacity * 8, capacity * (8 + NODE_BYTES));
    this.keys = m.subarray(capacity * (8 + NODE_BYTES), capacity * (8 + NODE_BYTES + KEY_BYTES));
    this.sizes = new Uint32Array(m.buffer, m.byteOffset + capacity * (8 + NODE_BYTES + KEY_BYTES), capacity);
  }

  /** `key` holds at least KEY_BYTES bytes at `keyOffset`; `leaf` 32 bytes at `leafOffset`. */
  push(key: Buffer, leaf: Buffer, expiry: number, size: number, keyOffset = 0, leafOffset = 0): void {
    key.copy(this.keys, this.n * KEY_BYTES, keyOffset, keyOffset + KEY_BYTES);
    leaf.copy(this.leaves, this.n * NODE_BYTES, leafOffset, leafOffset + NODE_BYTES);
    this.expiries[this.n] = expiry;
    this.sizes[this.n] = size;
    this.bytes += size;
    this.minExpiry = Math.min(this.minExpiry, expiry);
    this.n++;
  }

  finish(): Bucket {
    const n = this.n;
    if (n === 0) return EMPTY_BUCKET;
    const leaves = this.leaves.subarray(0, n * NODE_BYTES);
    const {bytes, minExpiry} = this;
    const keys = this.keys.subarray(0, n * KEY_BYTES);
    const root = this.#memory.subarray(this.#memory.length - NODE_BYTES);
    rootOf(leaves, n).copy(root);
    return {count: n, keys, leaves, expiries: this.expiries.subarray(0, n), sizes: this.sizes.subarray(0, n), root, bytes, minExpiry};
  }
}

/**
 * The bucket after some of its messages changed: drops leaves whose message is in `removed` (raw
 * hashes of every changed message) or expired at `timestamp`, and merges in `added` (their
 * current leaves). Returns null if an added key ties with a kept one on KEY_BYTES bytes (order
 * unknowable without full hashes: the caller rebuilds the bucket from the store).
 */
export function updateBucket(prev: Bucket, removed: readonly Buffer[], added: LeafEntry[], timestamp: number): Bucket | null {
  const drop = new Uint8Array(prev.count);
  for (const raw of removed) {
    const i = findKey(prev, raw);
    if (i < 0) continue;
    if (i + 1 < prev.count && prev.keys.compare(prev.keys, i * KEY_BYTES, (i + 1) * KEY_BYTES, (i + 1) * KEY_BYTES, (i + 2) * KEY_BYTES) === 0) return null;
    drop[i] = 1;
  }
  const adds = added.filter((e) => e.expiry > timestamp).sort(byRaw);
  const out = new BucketWriter(prev.count + adds.length);
  let a = 0;
  for (let i = 0; i < prev.count; i++) {
    if (drop[i] === 1 || (prev.expiries[i] as number) <= timestamp) continue;
    for (; a < adds.length; a++) {
      const order = prev.keys.compare((adds[a] as LeafEntry).raw, 0, KEY_BYTES, i * KEY_BYTES, (i + 1) * KEY_BYTES);
      if (order === 0) return null;
      if (order < 0) break;
      pushEntry(out, adds[a] as LeafEntry);
    }
    out.push(prev.keys, prev.leaves, prev.expiries[i] as number, prev.sizes[i] as number, i * KEY_BYTES, i * NODE_BYTES);
  }
  for (; a < adds.length; a++) pushEntry(out, adds[a] as LeafEntry);
  return out.finish();
}

function pushEntry(out: BucketWriter, e: LeafEntry): void {
  out.push(e.raw, e.leaf, e.expiry, e.size);
}

/** Index of the first leaf whose key matches `raw`'s first KEY_BYTES bytes; -1 if none. */
export function findKey(bucket: Bucket, raw: Uint8Array): number {
  let lo = 0;
  let hi = bucket.count;
  const key = Buffer.from(raw.buffer, raw.byteOffset, KEY_BYTES);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bucket.keys.compare(key, 0, KEY_BYTES, mid * KEY_BYTES, (mid + 1) * KEY_BYTES) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < bucket.count && bucket.keys.compare(key, 0, KEY_BYTES, lo * KEY_BYTES, (lo + 1) * KEY_BYTES) === 0 ? lo : -1;
}
