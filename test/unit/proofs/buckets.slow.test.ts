/**
 * The top tree over 262,144 bucket roots at full scale: a full build equals the generic RFC 6962
 * tree, and an incrementally updated tree equals a full build. Scale tests: the `slow` vitest
 * project (npm test), not the unit suite.
 */
import {randomBytes} from "node:crypto";
import {describe, expect, it} from "vitest";
import {
  BUCKET_COUNT,
  BucketArena,
  EMPTY_BUCKET,
  leafHash,
  packBucket,
  rootFromPath,
  rootOf,
  TOP_PATH_LENGTH,
  TopTree,
  type Bucket,
} from "../../../src/proofs/index.js";
import {uniform as rng} from "../../utils/prng.js";

/** Runs a tree build or update to its end; returns the tree and how often it yielded. */
function drain(g: Generator<void, TopTree>): {tree: TopTree; yields: number} {
  let yields = 0;
  for (;;) {
    const r = g.next();
    if (r.done === true) return {tree: r.value, yields};
    yields++;
  }
}

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
      // Dense: ~400,000 hashes, handed out in steps of ≤ 2,048 (batches of 256 groups, runs of
      // 2,048 parents) so the refresh can slice them.
      if (filled > 1) expect(yields).toBeGreaterThan(150);
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

  it("pages are serialize() cut at the page size, views of the levels where a page lies in one, and give the tree back", () => {
    const random = rng(12);
    const buckets: Bucket[] = Array.from({length: BUCKET_COUNT}, () => EMPTY_BUCKET);
    for (let i = 0; i < 2000; i++) buckets[Math.floor(random() * BUCKET_COUNT)] = fakeBucket(randomBytes(32));
    const tree = drain(TopTree.build(buckets)).tree;
    const whole = tree.serialize();
    for (const size of [64 * 1024, 1000, 3 * 1024 * 1024, whole.length + 5]) {
      const pages = [...tree.pages(size)];
      expect(pages.slice(0, -1).every((p) => p.length === size), `page size ${size}`).toBe(true);
      expect(Buffer.concat(pages).equals(whole), `page size ${size}`).toBe(true);
    }
    // 64 KB pages: all but the last lie in one level (2 MB, 1 MB, … 64 KB) and share its memory.
    const pages = [...tree.pages(64 * 1024)];
    expect(pages).toHaveLength(64);
    const shared = pages.filter((p) => p.byteOffset !== 0 || p.buffer.byteLength !== p.length);
    expect(shared.length).toBeGreaterThanOrEqual(56);
    expect(TopTree.fromBytes(Buffer.concat(pages))?.root.equals(tree.root)).toBe(true);
  });
});
