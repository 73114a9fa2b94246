/**
 * One bucket of the commitment: its leaves sorted by raw message hash, the RFC 6962 root over
 * them, and per leaf what answers and updates need (key, expiry, size). Immutable once built, so a
 * new commitment shares every unchanged bucket with the previous one.
 *
 * A bucket is one record in a BucketArena chunk, read through offsets (a per-bucket object with
 * five typed-array views cost ~700 bytes of JS objects a bucket, more than the leaves of a
 * 1 M-message node; docs/benchmarks.md, Storage proofs). Record layout:
 *
 *   root 32 ‖ minExpiry f64 ‖ bytes f64 ‖ leaves 32·n ‖ keys 8·n ‖ expiries f64·n ‖ sizes u32·n
 *
 * Memory per message: 32 (leaf) + 8 (key) + 8 (expiry) + 4 (size) = 52 bytes, plus 48 bytes and
 * one 48-byte object (chunk, offset, length: no typed-array view) per non-empty bucket.
 */
import {ACCOUNT_BYTES} from "../protocol/identity.js";
import {BUCKET_COUNT, LEAF_ENTRY_BYTES, NODE_BYTES} from "./constants.js";
import {dataDigest, decodeMessageHash, rawLeafHash, writeLeafEntry} from "./leaf.js";
import {sha256LeavesInto, sha256RootInto} from "../crypto/hash.js";
import {EMPTY_ROOT} from "../crypto/merkle.js";

/**
 * Bytes of the raw hash kept per leaf to find it again, from KEY_OFFSET (a full leaf check settles
 * ties). A bucket's hashes share their first 18 bits, so bytes 0–1 tell nothing within a bucket:
 * bytes 2–9 order its leaves as the full hash does and leave 62 bits to tell them apart.
 */
export const KEY_BYTES = 8;
export const KEY_OFFSET = 2;

const HEADER_BYTES = NODE_BYTES + 16;
const LEAF_RECORD_BYTES = NODE_BYTES + KEY_BYTES + 8 + 4;

/** Records are bump-allocated in chunks of this size (a larger record gets its own). */
const CHUNK_BYTES = 64 * 1024;

/**
 * Records of at least this many bytes (~20 leaves: a 5 M-message node's average bucket) get an
 * allocation of their own, freed with their bucket. A chunk shared by 30 such records lives while
 * any of them does, so after an epoch that rebuilt a third of the buckets nearly every chunk
 * stayed: at 10 M each 100,000-change epoch added the rebuilt records (~170 MB) beside the dead
 * ones until a compaction, which then copied everything (docs/benchmarks.md, "Session 7: memory").
 * An allocation of its own costs ~170 bytes of heap (Buffer and ArrayBuffer): ~44 MB at 10 M,
 * < 10 % of its records.
 */
const OWN_RECORD_BYTES = 1024;

/**
 * Chunk size of an arena whose records all die together (`shared`): a refresh of a commitment
 * whose records go to disk turns every record it rebuilt into a head once its write lands
 * (persisted.ts `keepHeads`), so the reason above for a record's own allocation is gone, and the
 * ~83,000 allocations of a 100,000-change refresh at 10 M (1.5–10 µs CPU each, ~17 % of the
 * refresh: docs/benchmarks.md, "Session 9: churn at 10 M") become ~2,700 of these. 64 KB, not
 * more: below glibc's mmap threshold (128 KB) a chunk comes from the heap and reuses memory the
 * records of earlier refreshes freed; 1 MB slabs were mapped afresh each time and paid a page
 * fault per 4 KB on first write (~0.7 s CPU per 170 MB of records, every refresh).
 */
export const SLAB_BYTES = CHUNK_BYTES;

/**
 * Bump allocator of bucket records in chunks outside Buffer's shared pool (a pooled slice keeps
 * its whole 8 KB pool chunk, and the garbage allocated beside it, alive). A chunk lives as long as
 * any record in it, so the engine counts `allocatedBytes` and compacts (refresh.ts) once it is
 * well above what the commitment holds.
 */
export class BucketArena {
  /** Bytes of the chunks handed out (a record with an allocation of its own is not counted: it cannot fragment). */
  allocatedBytes = 0;
  #chunk: Buffer = Buffer.alloc(0);
  #used = 0;

  /**
   * @param chunkBytes 0: every record its own allocation (a bucket built alone, tests).
   * @param shared Records of OWN_RECORD_BYTES or more share chunks too (their records die
   *   together: SLAB_BYTES); only one above a quarter of a chunk gets its own.
   */
  constructor(
    private readonly chunkBytes = CHUNK_BYTES,
    private readonly shared = false,
  ) {}

  /** An arena of SLAB_BYTES chunks shared by records of any size up to a quarter of one (a refresh whose records go to disk). */
  static slabs(): BucketArena {
    return new BucketArena(SLAB_BYTES, true);
  }

  /** A chunk with `length` free bytes from `at`, and those bytes taken. */
  alloc(length: number): {chunk: Buffer; at: number} {
    if (length > this.chunkBytes / 4 || (length >= OWN_RECORD_BYTES && !this.shared)) return {chunk: Buffer.allocUnsafeSlow(length), at: 0};
    if (this.#used + length > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
      this.#used = 0;
      this.allocatedBytes += this.chunkBytes;
    }
    const at = this.#used;
    this.#used += length;
    return {chunk: this.#chunk, at};
  }
}

export class Bucket {
  /**
   * The record (laid out as above) is `chunk` from `at`, `length` bytes; for a head (`resident`
   * false) only its first HEAD_BYTES are there: the record is on disk (persisted.ts), and only
   * `root`, `minExpiry`, `bytes`, `count` and `length` may be read before the engine fetches it.
   */
  constructor(
    readonly chunk: Buffer,
    readonly at: number,
    readonly length: number,
    readonly resident = true,
  ) {}

  /** The record itself (a new view: tests, copies). */
  get record(): Buffer {
    return this.chunk.subarray(this.at, this.at + this.length);
  }

  get count(): number {
    return (this.length - HEADER_BYTES) / LEAF_RECORD_BYTES;
  }

  get root(): Buffer {
    return this.chunk.subarray(this.at, this.at + NODE_BYTES);
  }

  /** Smallest expiry (Infinity when empty): the bucket changes by time once a proof passes it. */
  get minExpiry(): number {
    return this.chunk.readDoubleLE(this.at + NODE_BYTES);
  }

  /** Sum of sizes. */
  get bytes(): number {
    return this.chunk.readDoubleLE(this.at + NODE_BYTES + 8);
  }

  /** count × 32: leaf hashes, ascending by raw hash. */
  get leaves(): Buffer {
    return this.chunk.subarray(this.leafOffset(0), this.leafOffset(this.count));
  }

  /** Offset of the leaf at `i` in `chunk`. */
  leafOffset(i: number): number {
    return this.at + HEADER_BYTES + i * NODE_BYTES;
  }

  /** Offset of the key of leaf `i` in `chunk`. */
  keyOffset(i: number): number {
    return this.at + HEADER_BYTES + this.count * NODE_BYTES + i * KEY_BYTES;
  }

  expiry(i: number): number {
    return this.chunk.readDoubleLE(this.at + HEADER_BYTES + this.count * (NODE_BYTES + KEY_BYTES) + i * 8);
  }

  size(i: number): number {
    return this.chunk.readUInt32LE(this.at + HEADER_BYTES + this.count * (NODE_BYTES + KEY_BYTES + 8) + i * 4);
  }

  /** Compares the key of `raw` (a raw hash) with the key of leaf `i`. */
  compareKey(raw: Uint8Array, i: number): number {
    const at = this.keyOffset(i);
    return 0 - this.chunk.compare(raw, KEY_OFFSET, KEY_OFFSET + KEY_BYTES, at, at + KEY_BYTES);
  }
}

function emptyRecord(): Buffer {
  const r = Buffer.alloc(HEADER_BYTES);
  EMPTY_ROOT.copy(r, 0);
  r.writeDoubleLE(Number.POSITIVE_INFINITY, NODE_BYTES);
  return r;
}

/** Bytes of a record's head: root 32 ‖ smallest expiry f64 ‖ byte total f64. */
export const HEAD_BYTES = HEADER_BYTES;

/** Whether `length` bytes can be a non-empty record. */
export function isRecordLength(length: number): boolean {
  return length > HEADER_BYTES && (length - HEADER_BYTES) % LEAF_RECORD_BYTES === 0;
}

/**
 * The head of a bucket whose `length`-byte record stays on disk (the first HEAD_BYTES of `head`
 * from `from`), copied into `arena` (48 bytes in a shared chunk: ~100 bytes a bucket with its
 * object, against ~2 KB a record at 10 M messages).
 */
export function headBucket(head: Buffer, from: number, length: number, arena: BucketArena): Bucket {
  const {chunk, at} = arena.alloc(HEADER_BYTES);
  head.copy(chunk, at, from, from + HEADER_BYTES);
  return new Bucket(chunk, at, length, false);
}

/** `b` as a head only (its record is on disk); the empty bucket stays itself. */
export function headOf(b: Bucket, arena: BucketArena): Bucket {
  return b.count === 0 ? EMPTY_BUCKET : headBucket(b.chunk, b.at, b.length, arena);
}

/** Whether two buckets have the same head and length (the same record: the root covers every leaf). */
export function sameHead(a: Bucket, b: Bucket): boolean {
  return a === b || (a.length === b.length && a.chunk.compare(b.chunk, b.at, b.at + HEADER_BYTES, a.at, a.at + HEADER_BYTES) === 0);
}

export const EMPTY_BUCKET: Bucket = Object.freeze(new Bucket(emptyRecord(), 0, HEADER_BYTES));

/**
 * A new array of BUCKET_COUNT empty buckets, where a full build or a load starts. Not a module
 * constant copied from: that was 2 MB (262,144 pointers) held for good by every isolate that loads
 * this module, the main thread's and the commitment worker's.
 */
export function emptyBuckets(): Bucket[] {
  const out: Bucket[] = [];
  for (let b = 0; b < BUCKET_COUNT; b++) out.push(EMPTY_BUCKET);
  return out;
}

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

/**
 * The leaf of a message read from the store; null for a non-canonical hash or missing data. `raw`:
 * its hash already decoded (a refresh decodes each changed hash once, when planning).
 */
export function entryOf(row: BucketInput, loadData: DataLoader, raw: Buffer | null = decodeMessageHash(row.hash)): LeafEntry | null {
  const digest = raw === null ? null : leafDigest(row, loadData);
  if (raw === null || digest === null) return null;
  const {account, namespace, expiry, size} = row;
  return {raw, leaf: rawLeafHash({raw, account, namespace, expiry, size, dataDigest: digest}), expiry, size};
}

/** Leaf entries of `entriesOf` laid end to end for one batch hash (reused, grown as needed). */
let leafInputs = Buffer.allocUnsafeSlow(0);

/**
 * `entryOf` for each of `rows` (raw hashes decoded: `raws`), the leaves hashed in one call of the
 * WebAssembly batch hasher: a refresh's ~100,000 changed messages at 10 M took ~0.5 s in
 * node:crypto's one-shot hash with a Buffer each (docs/benchmarks.md, "Session 9: churn at 10 M").
 * The leaves are views of one Buffer per call.
 */
export function entriesOf(rows: readonly BucketInput[], raws: readonly Buffer[], loadData: DataLoader): (LeafEntry | null)[] {
  if (leafInputs.length < rows.length * LEAF_ENTRY_BYTES) leafInputs = Buffer.allocUnsafeSlow(Math.max(rows.length, 2 * (leafInputs.length / LEAF_ENTRY_BYTES), 64) * LEAF_ENTRY_BYTES);
  const slot: number[] = [];
  let n = 0;
  rows.forEach((row, i) => {
    const raw = raws[i] as Buffer;
    const digest = leafDigest(row, loadData);
    if (digest === null) return void slot.push(-1);
    writeLeafEntry(leafInputs, n * LEAF_ENTRY_BYTES, {raw, account: row.account, namespace: row.namespace, expiry: row.expiry, size: row.size, dataDigest: digest});
    slot.push(n++);
  });
  const leaves = Buffer.allocUnsafe(n * NODE_BYTES);
  sha256LeavesInto(leafInputs, 0, n, leaves, 0);
  return rows.map((row, i) => {
    const k = slot[i] as number;
    return k < 0 ? null : {raw: raws[i] as Buffer, leaf: leaves.subarray(k * NODE_BYTES, (k + 1) * NODE_BYTES), expiry: row.expiry, size: row.size};
  });
}

/** The data digest a leaf of `row` commits to; null if the row cannot be a leaf (account, data). */
function leafDigest(row: BucketInput, loadData: DataLoader): Buffer | null {
  if (row.account.length !== ACCOUNT_BYTES) return null;
  const digest = row.digest ?? digestOfData(row, loadData);
  return digest === null || digest.length !== NODE_BYTES ? null : digest;
}

function digestOfData(row: BucketInput, loadData: DataLoader): Buffer | null {
  const data = row.data ?? loadData(row.hash);
  return data === null || data.length !== row.size ? null : dataDigest(data);
}

/** Builds a bucket from all of its current messages (any order). */
export function buildBucket(rows: readonly BucketInput[], loadData: DataLoader, arena = new BucketArena(0)): Bucket {
  const entries: LeafEntry[] = [];
  for (const row of rows) {
    const e = entryOf(row, loadData);
    if (e !== null) entries.push(e);
  }
  return sortedBucket(entries, arena);
}

/** Packs the entries of one bucket given in any order (sorts `entries` in place). */
export function sortedBucket(entries: LeafEntry[], arena = new BucketArena(0)): Bucket {
  return packBucket(entries.sort(byRaw), arena);
}

/** Packs entries sorted by raw hash into a bucket and computes its root. */
export function packBucket(sorted: readonly LeafEntry[], arena = new BucketArena(0)): Bucket {
  if (sorted.length === 0) return EMPTY_BUCKET;
  const out = BucketWriter.start(sorted.length);
  for (const e of sorted) out.push(e.raw, KEY_OFFSET, e.leaf, 0, e.expiry, e.size);
  return out.finish(arena);
}

/**
 * A bucket from a stored record (persisted.ts): a copy in `arena`, EMPTY_BUCKET for an empty
 * record, null if the length fits no record.
 */
export function bucketFromRecord(record: Buffer, arena: BucketArena): Bucket | null {
  if (record.length === 0) return EMPTY_BUCKET;
  if (record.length <= HEADER_BYTES || (record.length - HEADER_BYTES) % LEAF_RECORD_BYTES !== 0) return null;
  const {chunk, at} = arena.alloc(record.length);
  record.copy(chunk, at);
  return new Bucket(chunk, at, record.length);
}

/** A copy of `b` in `arena` (compaction). */
export function copyBucket(b: Bucket, arena: BucketArena): Bucket {
  if (b.count === 0) return EMPTY_BUCKET;
  if (!b.resident) return headOf(b, arena);
  const {chunk, at} = arena.alloc(b.length);
  b.chunk.copy(chunk, at, b.at, b.at + b.length);
  return new Bucket(chunk, at, b.length);
}

/**
 * Collects a bucket's leaves column by column in scratch space reused by every bucket, then
 * copies them into an exact-size record (updateBucket only knows an upper bound of the count).
 */
class BucketWriter {
  static #scratch = Buffer.allocUnsafeSlow(0);
  static #capacity = 0;

  n = 0;
  bytes = 0;
  minExpiry = Number.POSITIVE_INFINITY;

  private constructor(private readonly capacity: number) {}

  static start(capacity: number): BucketWriter {
    if (capacity > BucketWriter.#capacity) {
      BucketWriter.#capacity = Math.max(capacity, 2 * BucketWriter.#capacity, 64);
      BucketWriter.#scratch = Buffer.allocUnsafeSlow(BucketWriter.#capacity * LEAF_RECORD_BYTES);
    }
    return new BucketWriter(BucketWriter.#capacity);
  }

  /** `key` holds the key at `keyOffset` (KEY_BYTES); `leaf` 32 bytes at `leafOffset`. */
  push(key: Buffer, keyOffset: number, leaf: Buffer, leafOffset: number, expiry: number, size: number): void {
    const s = BucketWriter.#scratch;
    const c = this.capacity;
    leaf.copy(s, this.n * NODE_BYTES, leafOffset, leafOffset + NODE_BYTES);
    key.copy(s, c * NODE_BYTES + this.n * KEY_BYTES, keyOffset, keyOffset + KEY_BYTES);
    s.writeDoubleLE(expiry, c * (NODE_BYTES + KEY_BYTES) + this.n * 8);
    s.writeUInt32LE(size, c * (NODE_BYTES + KEY_BYTES + 8) + this.n * 4);
    this.bytes += size;
    if (expiry < this.minExpiry) this.minExpiry = expiry;
    this.n++;
  }

  finish(arena: BucketArena): Bucket {
    const {n, capacity: c} = this;
    if (n === 0) return EMPTY_BUCKET;
    const s = BucketWriter.#scratch;
    const length = HEADER_BYTES + n * LEAF_RECORD_BYTES;
    const {chunk, at: start} = arena.alloc(length);
    const r = chunk.subarray(start, start + length);
    r.writeDoubleLE(this.minExpiry, NODE_BYTES);
    r.writeDoubleLE(this.bytes, NODE_BYTES + 8);
    let at = HEADER_BYTES;
    for (const [from, width] of [[0, NODE_BYTES], [c * NODE_BYTES, KEY_BYTES], [c * (NODE_BYTES + KEY_BYTES), 8], [c * (NODE_BYTES + KEY_BYTES + 8), 4]] as const) {
      s.copy(r, at, from, from + n * width);
      at += n * width;
    }
    // The whole tree in one call of the WebAssembly batch hasher, nothing allocated (crypto/sha256-batch.ts).
    sha256RootInto(r, HEADER_BYTES, n, r, 0);
    return new Bucket(chunk, start, length);
  }

  /**
   * Appends the leaves `from` … `to` - 1 of `prev` whole: four copies (one per column) instead of
   * four per leaf. `bytes` and `minExpiry` are those leaves' (the caller read them deciding to keep them).
   */
  pushRun(prev: Bucket, from: number, to: number, bytes: number, minExpiry: number): void {
    const k = to - from;
    if (k <= 0) return;
    const s = BucketWriter.#scratch;
    const c = this.capacity;
    const n = this.n;
    const src = prev.chunk;
    const count = prev.count;
    const base = prev.at + HEADER_BYTES;
    src.copy(s, n * NODE_BYTES, base + from * NODE_BYTES, base + to * NODE_BYTES);
    let at = base + count * NODE_BYTES;
    src.copy(s, c * NODE_BYTES + n * KEY_BYTES, at + from * KEY_BYTES, at + to * KEY_BYTES);
    at += count * KEY_BYTES;
    src.copy(s, c * (NODE_BYTES + KEY_BYTES) + n * 8, at + from * 8, at + to * 8);
    at += count * 8;
    src.copy(s, c * (NODE_BYTES + KEY_BYTES + 8) + n * 4, at + from * 4, at + to * 4);
    this.bytes += bytes;
    if (minExpiry < this.minExpiry) this.minExpiry = minExpiry;
    this.n += k;
  }
}

/**
 * The bucket after some of its messages changed: drops leaves whose message is in `removed` (raw
 * hashes of every changed message) or expired at `timestamp`, and merges in `added` (their
 * current leaves). Returns null if an added key ties with a kept one on KEY_BYTES bytes (order
 * unknowable without full hashes: the caller rebuilds the bucket from the store).
 */
export function updateBucket(prev: Bucket, removed: readonly Buffer[], added: LeafEntry[], timestamp: number, arena = new BucketArena(0)): Bucket | null {
  const count = prev.count;
  if (drops.length < count) drops = new Uint8Array(Math.max(count, 2 * drops.length));
  const drop = drops;
  drop.fill(0, 0, count);
  for (const raw of removed) {
    const i = findKey(prev, raw);
    if (i < 0) continue;
    if (i + 1 < count && prev.compareKey(raw, i + 1) === 0) return null;
    drop[i] = 1;
  }
  const adds = added.filter((e) => e.expiry > timestamp).sort(byRaw);
  const out = BucketWriter.start(count + adds.length);
  const chunk = prev.chunk;
  const expiries = prev.at + HEADER_BYTES + count * (NODE_BYTES + KEY_BYTES);
  const sizes = expiries + count * 8;
  // Kept leaves are copied in runs (BucketWriter.pushRun): a run ends at a dropped leaf or an added one.
  let run = 0;
  let runBytes = 0;
  let runMin = Number.POSITIVE_INFINITY;
  let a = 0;
  for (let i = 0; i < count; i++) {
    const expiry = chunk.readDoubleLE(expiries + i * 8);
    if (drop[i] === 1 || expiry <= timestamp) {
      out.pushRun(prev, run, i, runBytes, runMin);
      run = i + 1;
      runBytes = 0;
      runMin = Number.POSITIVE_INFINITY;
      continue;
    }
    for (; a < adds.length; a++) {
      // The added key against the kept one: a larger added key goes after it.
      const order = prev.compareKey((adds[a] as LeafEntry).raw, i);
      if (order === 0) return null;
      if (order > 0) break;
      out.pushRun(prev, run, i, runBytes, runMin);
      run = i;
      runBytes = 0;
      runMin = Number.POSITIVE_INFINITY;
      pushEntry(out, adds[a] as LeafEntry);
    }
    runBytes += chunk.readUInt32LE(sizes + i * 4);
    if (expiry < runMin) runMin = expiry;
  }
  out.pushRun(prev, run, count, runBytes, runMin);
  for (; a < adds.length; a++) pushEntry(out, adds[a] as LeafEntry);
  return out.finish(arena);
}

/** Which leaves of the bucket being updated are dropped, reused by every update (grown as needed). */
let drops = new Uint8Array(0);

function pushEntry(out: BucketWriter, e: LeafEntry): void {
  out.push(e.raw, KEY_OFFSET, e.leaf, 0, e.expiry, e.size);
}

/** Index of the first leaf whose key matches `raw`'s key; -1 if none. */
export function findKey(bucket: Bucket, raw: Uint8Array): number {
  let lo = 0;
  let hi = bucket.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bucket.compareKey(raw, mid) > 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < bucket.count && bucket.compareKey(raw, lo) === 0 ? lo : -1;
}
