/**
 * The revocation digest (docs/PROTOCOL.md (Replication) §5.5): 256 buckets by the account's first
 * key byte, each the XOR of its records' items (revocation-records.ts) and their count. Built once
 * from the store, then kept per account: when the store reports an account's records changed, the
 * account's old contribution is XORed out and its current one in (merges, trims by the 50-per-owner
 * triggers and relocations all end up as "this account changed").
 */
import type {RevocationRecord} from "../storage/index.js";
import {REVOCATION_BUCKETS, revocationBucket, revocationItem} from "./revocation-records.js";
import {ITEM_BYTES, XorBuckets} from "./xor-buckets.js";

interface Contribution {
  xor: Uint8Array;
  count: number;
}

export class RevocationIndex {
  readonly #buckets = new XorBuckets(REVOCATION_BUCKETS);
  readonly #accounts = new Map<string, Contribution>();
  readonly #byBucket = Array.from({length: REVOCATION_BUCKETS}, () => new Set<string>());

  /** Replaces `account`'s contribution with that of `records` (all of its records). */
  setAccount(account: string, records: readonly RevocationRecord[]): void {
    const bucket = revocationBucket(account);
    const old = this.#accounts.get(account);
    if (old !== undefined) this.#buckets.toggle(bucket, old.xor, -old.count);
    if (records.length === 0) {
      this.#accounts.delete(account);
      this.#byBucket[bucket]?.delete(account);
      return;
    }
    const xor = new Uint8Array(ITEM_BYTES);
    for (const r of records) {
      const item = revocationItem(r);
      for (let i = 0; i < ITEM_BYTES; i++) xor[i] = (xor[i] ?? 0) ^ (item[i] ?? 0);
    }
    this.#accounts.set(account, {xor, count: records.length});
    this.#byBucket[bucket]?.add(account);
    this.#buckets.toggle(bucket, xor, records.length);
  }

  /** REVOCATION_BUCKETS × 8 bytes. */
  digest(): Uint8Array {
    return this.#buckets.digest();
  }

  differing(theirs: Uint8Array): number[] {
    return this.#buckets.differing(theirs);
  }

  /** Accounts with records in `bucket`, ascii order. */
  accountsIn(bucket: number): string[] {
    return [...(this.#byBucket[bucket] ?? [])].sort();
  }
}
