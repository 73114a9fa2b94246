/**
 * The 18-bit bucket split (three base64 characters) and the top tree over 262,144 bucket roots:
 * string ranges that are exact in ASCII (SQLite BINARY) order for every bucket, and an
 * incrementally updated top tree that equals a full build.
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
  BucketArena,
  EMPTY_BUCKET,
  packBucket,
  encodeMessageHash,
  leafHash,
  rootFromPath,
  rootOf,
  TOP_PATH_LENGTH,
  TopTree,
  type Bucket,
} from "../../../src/proofs/index.js";
import {uniform as rng} from "../../utils/prng.js";


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
    for (let i = 0; i < 20_000; i++) {
      const raw = randomBytes(32);
      const text = encodeMessageHash(raw);
      expect(bucketPrefix(bucketOf(raw)), text).toBe(text.slice(0, 3));
      expect(bucketOfPrefix(text.slice(0, 3)), text).toBe(bucketOf(raw));
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
      expect(r.lo < r.hi, `bucket ${r.b}`).toBe(true);
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
      expect(raw, text).not.toBeNull();
      const b = bucketOf(raw!);
      const {lo, hi} = bucketRange(b);
      if (!(lo <= text && text < hi) || rangeHolding(text) !== b) expect({text, b, holder: rangeHolding(text)}).toBeNull();
    }
  });
});

/** Runs a tree build or update to its end; returns the tree and how often it yielded. */
function drain(g: Generator<void, TopTree>): {tree: TopTree; yields: number} {
  let yields = 0;
  for (;;) {
    const r = g.next();
    if (r.done === true) return {tree: r.value, yields};
    yields++;
  }
}

/** A stand-in bucket: only its root and count matter to the top tree. */
/** A one-leaf bucket with the given root (only roots matter to the top tree), in one shared arena. */
const fakes = new BucketArena();
const fakeBucket = (root: Buffer): Bucket => {
  const b = packBucket([{raw: Buffer.alloc(32), leaf: Buffer.alloc(32), expiry: 1, size: 1}], fakes);
  root.copy(b.chunk, b.at);
  return b;
};

/** The top tree's root by the generic RFC 6962 code over all 262,144 entries. */
function genericRoot(buckets: readonly Bucket[]): Buffer {
  return rootOf(Buffer.concat(buckets.map((b) => leafHash(b.root))), BUCKET_COUNT);
}

describe("TopTree", () => {
  it("a full build equals the generic RFC 6962 tree, empty, sparse or dense, and its paths fold to the root", () => {
    const buckets: Bucket[] = Array.from({length: BUCKET_COUNT}, () => EMPTY_BUCKET);
    const empty = drain(TopTree.build(buckets));
    expect(empty.tree.root.equals(genericRoot(buckets))).toBe(true);
    expect(empty.yields).toBe(0); // every node is a precomputed empty one
    const random = rng(3);
    for (const filled of [1, 200_000]) {
      for (let i = 0; i < filled; i++) buckets[Math.floor(random() * BUCKET_COUNT)] = fakeBucket(randomBytes(32));
      const {tree, yields} = drain(TopTree.build(buckets));
      expect(tree.root.equals(genericRoot(buckets)), `${filled} filled`).toBe(true);
      // Dense: ~400,000 hashes, handed out in steps of 1,024 so the refresh can slice them.
      if (filled > 1) expect(yields).toBeGreaterThan(300);
      for (const b of [0, 1, BUCKET_COUNT - 1, Math.floor(random() * BUCKET_COUNT)]) {
        const path = tree.path(b, buckets);
        expect(path).toHaveLength(TOP_PATH_LENGTH);
        expect(rootFromPath(leafHash((buckets[b] as Bucket).root), b, BUCKET_COUNT, path)?.equals(tree.root), `bucket ${b}`).toBe(true);
      }
    }
    // ~1 M hashes in all: seconds on a loaded shared machine.
  }, 60_000);

  it("an incremental update equals a full build after random changes, and leaves the previous tree as it was", () => {
    const random = rng(11);
    const buckets: Bucket[] = Array.from({length: BUCKET_COUNT}, () => EMPTY_BUCKET);
    for (let i = 0; i < 5000; i++) buckets[Math.floor(random() * BUCKET_COUNT)] = fakeBucket(randomBytes(32));
    let tree = drain(TopTree.build(buckets)).tree;
    for (let round = 0; round < 8; round++) {
      const changed = new Set<number>(round === 0 ? [0, 1, BUCKET_COUNT - 2, BUCKET_COUNT - 1] : []);
      for (let i = 0; i < 1 + Math.floor(random() * 3000); i++) changed.add(Math.floor(random() * BUCKET_COUNT));
      const old = [...buckets];
      for (const b of changed) buckets[b] = random() < 0.3 ? EMPTY_BUCKET : fakeBucket(randomBytes(32));
      // Also list some buckets that did not change (a plan may): re-hashing them is harmless.
      const listed = [...changed, Math.floor(random() * BUCKET_COUNT)].reverse();
      const before = tree.root;
      const beforePath = tree.path(listed[0]!, old);
      const next = drain(tree.update(buckets, listed)).tree;
      expect(tree.root.equals(before), `round ${round}: the previous tree changed`).toBe(true);
      expect(tree.path(listed[0]!, old)).toEqual(beforePath);
      const full = drain(TopTree.build(buckets)).tree;
      expect(next.root.toString("hex"), `round ${round}`).toBe(full.root.toString("hex"));
      for (const b of [...changed].slice(0, 50)) expect(next.path(b, buckets), `round ${round} bucket ${b}`).toEqual(full.path(b, buckets));
      tree = next;
    }
    expect(tree.root.equals(genericRoot(buckets))).toBe(true);
  });
});
