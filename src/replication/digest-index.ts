/**
 * Anti-entropy digests (docs/PROTOCOL.md (Replication) §5.1), kept incrementally: 4,096
 * buckets by the first two base64 characters of the hash (storage proofs use finer, three-character
 * buckets of their own), each the XOR of its items and their count. A message's item is its 32-byte hash (a
 * BLAKE2b output, already uniform); a tombstone's is SHA-256("pars-storage/v1/tombstone" ‖ hash),
 * so a message and its tombstone never cancel. The index covers every row of both tables, expired
 * or not; it is built once from the database and then follows the store's events, so a digest
 * costs nothing but hashing the buckets that changed.
 */
import {createHash} from "node:crypto";
import {DIGEST_BUCKETS} from "./wire.js";
import {ITEM_BYTES, XorBuckets} from "./xor-buckets.js";

/** Base64 characters in ascii order, so bucket numbers follow hash order. */
const ALPHABET = "+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANK = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) RANK[ALPHABET.charCodeAt(i)] = i;
const TOMBSTONE_TAG = "pars-storage/v1/tombstone";

/** The bucket of a hash (0 for anything outside the base64 alphabet). */
export function bucketOf(hash: string): number {
  const a = RANK[hash.charCodeAt(0)] ?? -1;
  const b = RANK[hash.charCodeAt(1)] ?? -1;
  return a < 0 || b < 0 ? 0 : a * 64 + b;
}

/** Hash range [lo, hi) of a bucket, for range queries. */
export function bucketRange(bucket: number): {lo: string; hi: string} {
  const prefix = (ALPHABET[Math.floor(bucket / 64)] ?? "+") + (ALPHABET[bucket % 64] ?? "+");
  return {lo: prefix, hi: `${prefix}\u007f`};
}

function messageItem(hash: string): Uint8Array {
  const raw = Buffer.from(hash, "base64");
  return raw.length === ITEM_BYTES ? raw : createHash("sha256").update(hash).digest();
}

function tombstoneItem(hash: string): Uint8Array {
  return createHash("sha256").update(TOMBSTONE_TAG).update(hash).digest();
}

export class DigestIndex {
  readonly #buckets = new XorBuckets(DIGEST_BUCKETS);

  addMessage(hash: string): void {
    this.#buckets.toggle(bucketOf(hash), messageItem(hash), 1);
  }

  removeMessage(hash: string): void {
    this.#buckets.toggle(bucketOf(hash), messageItem(hash), -1);
  }

  addTombstone(hash: string): void {
    this.#buckets.toggle(bucketOf(hash), tombstoneItem(hash), 1);
  }

  removeTombstone(hash: string): void {
    this.#buckets.toggle(bucketOf(hash), tombstoneItem(hash), -1);
  }

  /** DIGEST_BUCKETS × DIGEST_BUCKET_BYTES: per bucket, SHA-256(xor ‖ count) truncated. */
  digest(): Uint8Array {
    return this.#buckets.digest();
  }

  /** Buckets whose digest differs from `theirs` (same layout as `digest()`). */
  differing(theirs: Uint8Array): number[] {
    return this.#buckets.differing(theirs);
  }

  /** Items counted in a bucket (messages and tombstones). */
  count(bucket: number): number {
    return this.#buckets.count(bucket);
  }
}
