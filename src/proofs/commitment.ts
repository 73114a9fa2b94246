/**
 * A node's Merkle commitment at one proof timestamp (docs/PROTOCOL.md (Storage proofs) §2): 262,144
 * buckets, each an RFC 6962 tree over its leaves, and a top tree (RFC 6962 over the bucket roots
 * as 32-byte entries, a perfect tree of depth 18: top-tree.ts). Immutable: a refresh builds a new
 * one that shares every clean bucket.
 */
import {BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import {findKey, type Bucket} from "./bucket.js";
import {bucketOf} from "./leaf.js";
import type {TopTree} from "./top-tree.js";
import {pathFromLevels, treeLevels} from "../crypto/merkle.js";

export interface Located {
  readonly bucket: number;
  readonly index: number;
}

export class Commitment {
  /**
   * Gives the full record of bucket `b` held here as a head only (its record on disk: the engine
   * that persists the commitment sets this, engine.ts); throws if it cannot be had now.
   */
  resolve: ((b: number, head: Bucket) => Bucket) | null = null;
  readonly root: Buffer;
  readonly messageCount: number;
  readonly usedBytes: number;
  /**
   * @param timestamp the proof timestamp T: the commitment holds messages with expiry > T
   * @param top the top tree over `buckets` (built or updated by the refresh, in its slices)
   * @param arenaBytes at most what the arenas of `buckets` hold (refresh.ts compacts on it; the
   *   engine lowers it once the records it wrote are held as heads only)
   * @param totals the buckets' messages and bytes, if summed already (a refresh sums them in its
   *   steps: a pass over every bucket here would hold an inclusion request for a few ms)
   */
  constructor(
    readonly timestamp: number,
    readonly buckets: readonly Bucket[],
    readonly top: TopTree,
    public arenaBytes = 0,
    totals?: {readonly messageCount: number; readonly usedBytes: number},
  ) {
    if (buckets.length !== BUCKET_COUNT) throw new RangeError(`a commitment has ${BUCKET_COUNT} buckets`);
    this.root = top.root;
    if (totals !== undefined) {
      this.messageCount = totals.messageCount;
      this.usedBytes = totals.usedBytes;
      return;
    }
    let count = 0;
    let bytes = 0;
    for (const b of buckets) {
      count += b.count;
      bytes += b.bytes;
    }
    this.messageCount = count;
    this.usedBytes = bytes;
  }

  /** Bucket `b` with its full record (fetched through `resolve` if held as a head only). */
  record(b: number): Bucket {
    const bucket = this.buckets[b] as Bucket;
    if (bucket.resident) return bucket;
    if (this.resolve === null) throw new Error(`bucket ${b} is held as a head only and nothing fetches its record`);
    return this.resolve(b, bucket);
  }

  /** Candidate positions of a raw message hash (one, unless KEY_BYTES-byte key prefixes collide). */
  *locate(raw: Uint8Array): Generator<Located> {
    const bucket = bucketOf(raw);
    const b = this.record(bucket);
    const first = findKey(b, raw);
    if (first < 0) return;
    for (let index = first; index < b.count; index++) {
      if (b.compareKey(raw, index) !== 0) return;
      yield {bucket, index};
    }
  }

  leafAt(at: Located): Buffer {
    const b = this.record(at.bucket);
    return b.chunk.subarray(b.leafOffset(at.index), b.leafOffset(at.index) + NODE_BYTES);
  }

  /** Audit path of a leaf within its bucket (computes the bucket's levels: ~n hashes). */
  bucketPath(at: Located): Buffer[] {
    const b = this.record(at.bucket);
    return pathFromLevels(treeLevels(b.leaves, b.count), at.index);
  }

  /** Audit path of a bucket root in the top tree: always 18 nodes. */
  topPath(bucket: number): Buffer[] {
    return this.top.path(bucket, this.buckets);
  }
}
