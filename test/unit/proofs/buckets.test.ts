/**
 * The 18-bit bucket split (three base64 characters): string ranges that are exact in ASCII
 * (SQLite BINARY) order for every bucket. The top tree over the 262,144 bucket roots is checked at
 * full scale in buckets.slow.test.ts (the `slow` project).
 */
import {randomBytes} from "node:crypto";
import {describe, expect, it} from "vitest";
import {
  BUCKET_COUNT,
  bucketOf,
  bucketOfPrefix,
  bucketPrefix,
  bucketRange,
  decodeMessageHash,
  encodeMessageHash,
} from "../../../src/proofs/index.js";
import {uniform as rng} from "../../utils/prng.js";
import {entriesOf, entryOf, type BucketInput} from "../../../src/proofs/bucket.js";


/** Every bucket's range, sorted by lo in ASCII order (JS compares UTF-16 units: ASCII here). */
const SORTED = Array.from({length: BUCKET_COUNT}, (_, b) => ({b, ...bucketRange(b)})).sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));

/** The bucket whose range holds `text`, by binary search over the sorted ranges; -1 if none. */
function rangeHolding(text: string): number {
  let lo = 0;
  let hi = SORTED.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((SORTED[mid] as (typeof SORTED)[number]).lo <= text) lo = mid + 1;
    else hi = mid;
  }
  const r = SORTED[lo - 1];
  return r !== undefined && r.lo <= text && text < r.hi ? r.b : -1;
}

describe("18-bit buckets", () => {
  it("bucketOf is the first 18 bits, and its prefix is the first three characters of the hash", () => {
    expect(bucketOf(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(BUCKET_COUNT - 1);
    expect(bucketOf(Buffer.from([0x00, 0x00, 0x3f, 0xff]))).toBe(0);
    expect(bucketOf(Buffer.from([0x00, 0x00, 0x40]))).toBe(1);
    expect(bucketOf(Buffer.from([0x80, 0x00, 0x00]))).toBe(1 << 17);
    expect(bucketOf(Buffer.from([0x01, 0x02, 0xc3]))).toBe((0x01 << 10) | (0x02 << 2) | 3);
    // One expect per failure, not per hash: 40,000 passing expects cost seconds.
    for (let i = 0; i < 20_000; i++) {
      const raw = randomBytes(32);
      const text = encodeMessageHash(raw);
      if (bucketPrefix(bucketOf(raw)) !== text.slice(0, 3)) expect(bucketPrefix(bucketOf(raw)), text).toBe(text.slice(0, 3));
      if (bucketOfPrefix(text.slice(0, 3)) !== bucketOf(raw)) expect(bucketOfPrefix(text.slice(0, 3)), text).toBe(bucketOf(raw));
    }
  });

  it("prefixes and bucket numbers are inverse for every bucket; anything else is no prefix", () => {
    const seen = new Set<string>();
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const p = bucketPrefix(b);
      if (bucketOfPrefix(p) !== b) expect(bucketOfPrefix(p), `bucket ${b}`).toBe(b);
      seen.add(p);
    }
    expect(seen.size).toBe(BUCKET_COUNT);
    for (const bad of ["AA", "AAAA", "AA=", "A-A", "", "AA\u00e9"]) expect(bucketOfPrefix(bad), bad).toBeNull();
  });

  it("the ranges of all 262,144 buckets are disjoint in ASCII order", () => {
    for (let i = 0; i < SORTED.length; i++) {
      const r = SORTED[i] as (typeof SORTED)[number];
      if (!(r.lo < r.hi)) expect(r.lo < r.hi, `bucket ${r.b}`).toBe(true);
      const next = SORTED[i + 1];
      if (next !== undefined && !(r.hi <= next.lo)) expect(`${r.b} [${r.lo}, ${r.hi}) overlaps ${next.b} [${next.lo}, ${next.hi})`).toBe("");
    }
  });

  it("every bucket's range holds its smallest and largest hash in ASCII order, and no other bucket's does", () => {
    // ASCII order of the alphabet: "+" (43) first, "z" (122) last; the last character of a 32-byte
    // hash is one of AEIMQUYcgkosw048, of which "0" is the smallest and "w" the largest.
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const p = bucketPrefix(b);
      for (const text of [`${p}${"+".repeat(39)}0`, `${p}${"z".repeat(39)}w`, `${p}${"A".repeat(40)}`]) {
        const raw = decodeMessageHash(text);
        if (raw === null || bucketOf(raw) !== b || rangeHolding(text) !== b) expect({text, b, holder: rangeHolding(text)}).toBeNull();
      }
    }
  });

  it("random hashes, and hashes at the ASCII gaps of the alphabet, fall in exactly the range of their bucketOf", () => {
    const random = rng(7);
    const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The characters next to the alphabet's ASCII gaps ("+" "/" "0" "9" "A" "Z" "a" "z"), in every position.
    const edges = "+/09AZaz";
    const texts: string[] = [];
    for (let i = 0; i < 50_000; i++) texts.push(encodeMessageHash(randomBytes(32)));
    for (const c0 of edges) for (const c1 of edges) for (const c2 of edges) texts.push(`${c0}${c1}${c2}${chars[Math.floor(random() * 64)]!.repeat(39)}A`);
    for (const text of texts) {
      const raw = decodeMessageHash(text);
      if (raw === null) expect(raw, text).not.toBeNull();
      const b = bucketOf(raw!);
      const {lo, hi} = bucketRange(b);
      if (!(lo <= text && text < hi) || rangeHolding(text) !== b) expect({text, b, holder: rangeHolding(text)}).toBeNull();
    }
  });
});

describe("leaves of changed messages", () => {
  it("entriesOf (one batch hash) gives entryOf's leaf for every row, and null where entryOf gives null", () => {
    const next = rng(916);
    const rows: BucketInput[] = Array.from({length: 300}, (_, i) => {
      const data = randomBytes(1 + (i % 50));
      return {
        hash: encodeMessageHash(randomBytes(32)),
        // Every 7th: an account of the wrong length; every 11th: no stored digest (its data hashed; every 22nd: gone).
        account: randomBytes(i % 7 === 0 ? 32 : 33),
        namespace: Math.floor(next() * 65536) - 32768,
        expiry: 1_767_225_600_000 + Math.floor(next() * 1e9),
        size: data.length,
        digest: i % 11 === 0 ? null : randomBytes(32),
        data: i % 22 === 0 ? undefined : data,
      };
    });
    const loadData = (): Buffer | null => null;
    const raws = rows.map((r) => decodeMessageHash(r.hash)!);
    const batch = entriesOf(rows, raws, loadData);
    const one = rows.map((r, i) => entryOf(r, loadData, raws[i]));
    expect(batch.map((e) => e?.leaf.toString("hex") ?? null)).toEqual(one.map((e) => e?.leaf.toString("hex") ?? null));
    expect(batch.filter((e) => e === null).length).toBeGreaterThan(40);
    expect(batch.map((e) => (e === null ? null : [e.raw.toString("hex"), e.expiry, e.size]))).toEqual(one.map((e) => (e === null ? null : [e.raw.toString("hex"), e.expiry, e.size])));
    expect(entriesOf([], [], loadData)).toEqual([]);
  });
});
