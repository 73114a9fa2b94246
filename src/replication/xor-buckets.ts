/**
 * Set digests that follow changes in O(1): per bucket the XOR of its items (32-byte hashes) and
 * their count, and the bucket's digest is the first DIGEST_BUCKET_BYTES of SHA-256(xor ‖ int32be
 * count), recomputed only for buckets that changed. Anti-entropy compares them to find the
 * buckets worth listing (messages and tombstones: digest-index.ts; revocations:
 * revocation-index.ts).
 */
import {createHash} from "node:crypto";
import {DIGEST_BUCKET_BYTES} from "./wire.js";

export const ITEM_BYTES = 32;

export class XorBuckets {
  readonly buckets: number;
  readonly #acc: Uint8Array;
  readonly #count: Int32Array;
  readonly #digest: Uint8Array;
  readonly #stale: Uint8Array;

  constructor(buckets: number) {
    this.buckets = buckets;
    this.#acc = new Uint8Array(buckets * ITEM_BYTES);
    this.#count = new Int32Array(buckets);
    this.#digest = new Uint8Array(buckets * DIGEST_BUCKET_BYTES);
    this.#stale = new Uint8Array(buckets).fill(1);
  }

  /** XORs `item` (ITEM_BYTES) into `bucket` and adds `delta` to its count. */
  toggle(bucket: number, item: Uint8Array, delta: number): void {
    const acc = this.#acc.subarray(bucket * ITEM_BYTES, (bucket + 1) * ITEM_BYTES);
    for (let i = 0; i < ITEM_BYTES; i++) acc[i] = (acc[i] ?? 0) ^ (item[i] ?? 0);
    this.#count[bucket] = (this.#count[bucket] ?? 0) + delta;
    this.#stale[bucket] = 1;
  }

  /** buckets × DIGEST_BUCKET_BYTES. */
  digest(): Uint8Array {
    for (let b = 0; b < this.buckets; b++) {
      if (this.#stale[b] === 0) continue;
      const count = Buffer.alloc(4);
      count.writeInt32BE(this.#count[b] ?? 0);
      const h = createHash("sha256").update(this.#acc.subarray(b * ITEM_BYTES, (b + 1) * ITEM_BYTES)).update(count).digest();
      this.#digest.set(h.subarray(0, DIGEST_BUCKET_BYTES), b * DIGEST_BUCKET_BYTES);
      this.#stale[b] = 0;
    }
    return this.#digest.slice();
  }

  /** Buckets whose digest differs from `theirs` (same layout as `digest()`). */
  differing(theirs: Uint8Array): number[] {
    const ours = this.digest();
    const out: number[] = [];
    for (let b = 0; b < this.buckets; b++) {
      const o = b * DIGEST_BUCKET_BYTES;
      if (Buffer.compare(ours.subarray(o, o + DIGEST_BUCKET_BYTES), theirs.subarray(o, o + DIGEST_BUCKET_BYTES)) !== 0) out.push(b);
    }
    return out;
  }

  count(bucket: number): number {
    return this.#count[bucket] ?? 0;
  }
}
