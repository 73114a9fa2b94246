/**
 * The top tree of a commitment (docs/PROTOCOL.md (Storage proofs) §2.1): RFC 6962 over the
 * 262,144 bucket roots, each taken as a 32-byte entry (SHA-256(0x00 ‖ root)), so a perfect tree
 * of depth 18. The levels from GROUP_BITS up are kept (65,536 + 32,768 + … nodes, 4 MB) because
 * rebuilding the tree costs up to 524,287 hashes (~0.7 s): a refresh copies them and re-hashes
 * only the paths above the buckets it rebuilt. The two lowest levels (12 MB, three quarters of
 * the tree) are not kept: the node of a group of four buckets is hashed again from their roots
 * (7 hashes), for an update of one of them and for a top path through it. Building and updating are generators that yield every STEP_HASHES hashes, so the
 * refresh runs them in its slices like the bucket work (a `find` never waits for a whole tree).
 */
import {hash} from "node:crypto";
import {BUCKET_BITS, BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import type {Bucket} from "./bucket.js";
import {sha256EntriesInto, sha256ParentsInto} from "../crypto/hash.js";
import {EMPTY_ROOT, leafHash, nodeHash} from "../crypto/merkle.js";

const scratch = Buffer.alloc(1 + 2 * NODE_BYTES);

/**
 * Hashes between yields: ~1 ms. Building and updating hash whole runs of a level per call of the
 * WebAssembly batch hasher (~0.5 µs a node, node:crypto's one-shot `hash` ~1.5 µs and a Buffer
 * each; docs/benchmarks.md, "Session 8: churn at 10 M").
 */
const STEP_HASHES = 2048;

/**
 * The node at each level over buckets that are all empty: level 0 is the entry of an empty
 * bucket, level l + 1 the hash of two level-l ones. A full build copies them instead of hashing,
 * so a small node's mostly empty tree costs little.
 */
const EMPTY_NODES: readonly Buffer[] = (() => {
  const out = [leafHash(EMPTY_ROOT)];
  for (let l = 0; l < BUCKET_BITS; l++) out.push(nodeHash(out[l] as Buffer, out[l] as Buffer));
  return out;
})();

/** Levels below this are hashed again when needed (a group: 2^GROUP_BITS buckets). */
const GROUP_BITS = 2;
const GROUP = 1 << GROUP_BITS;

/** Groups hashed per batch: their roots, entries and the two levels above (7 hashes a group). */
const GROUP_BATCH = 256;
const groupRoots = Buffer.alloc(GROUP_BATCH * GROUP * NODE_BYTES);
const groupEntries = Buffer.alloc(GROUP_BATCH * GROUP * NODE_BYTES);

/** SHA-256(0x00 ‖ root) of bucket `b` (the empty entry for an empty bucket). */
function entryOf(buckets: readonly Bucket[], b: number): Buffer {
  const bucket = buckets[b] as Bucket;
  if (bucket.count === 0) return EMPTY_NODES[0] as Buffer;
  scratch[0] = 0x00;
  bucket.root.copy(scratch, 1);
  return hash("sha256", scratch.subarray(0, 1 + NODE_BYTES), "buffer");
}

/** The levels 0 … GROUP_BITS of group `g`: its entries, their parents, …, its node. */
function groupLevels(buckets: readonly Bucket[], g: number): Buffer[][] {
  const levels: Buffer[][] = [Array.from({length: GROUP}, (_, k) => entryOf(buckets, g * GROUP + k))];
  for (let l = 0; l < GROUP_BITS; l++) {
    const below = levels[l] as Buffer[];
    const up: Buffer[] = [];
    for (let j = 0; j < below.length / 2; j++) up.push(nodeHash(below[2 * j] as Buffer, below[2 * j + 1] as Buffer));
    levels.push(up);
  }
  return levels;
}

/**
 * Writes the node of each group in `groups` (ascending) at its entry of `level`, GROUP_BATCH groups
 * per batch (entries, then the two levels above, each one call), yielding after each batch.
 */
function* setGroups(buckets: readonly Bucket[], level: Buffer, groups: readonly number[]): Generator<void> {
  for (let start = 0; start < groups.length; start += GROUP_BATCH) {
    const k = Math.min(GROUP_BATCH, groups.length - start);
    for (let i = 0; i < k; i++) {
      const g = groups[start + i] as number;
      for (let j = 0; j < GROUP; j++) {
        const bucket = buckets[g * GROUP + j] as Bucket;
        // An empty bucket's root is EMPTY_ROOT, so its entry is EMPTY_NODES[0] as entryOf gives it.
        if (bucket.count === 0) EMPTY_ROOT.copy(groupRoots, (i * GROUP + j) * NODE_BYTES);
        else bucket.chunk.copy(groupRoots, (i * GROUP + j) * NODE_BYTES, bucket.at, bucket.at + NODE_BYTES);
      }
    }
    sha256EntriesInto(groupRoots, 0, k * GROUP, groupEntries, 0);
    for (let n = k * GROUP; n > k; n >>= 1) sha256ParentsInto(groupEntries, 0, n >> 1, groupEntries, 0);
    for (let i = 0; i < k; i++) groupEntries.copy(level, (groups[start + i] as number) * NODE_BYTES, i * NODE_BYTES, (i + 1) * NODE_BYTES);
    yield;
  }
}

/**
 * Writes node j of `up` as SHA-256(0x01 ‖ level[2j] ‖ level[2j + 1]) for each j of `parents`
 * (ascending): each run of consecutive parents is one call, split every STEP_HASHES hashes by a yield.
 */
function* setParents(level: Buffer, up: Buffer, parents: readonly number[]): Generator<void> {
  let hashes = 0;
  for (let i = 0; i < parents.length; ) {
    const first = parents[i] as number;
    let end = i + 1;
    while (end < parents.length && end - i < STEP_HASHES && parents[end] === first + (end - i)) end++;
    sha256ParentsInto(level, 2 * first * NODE_BYTES, end - i, up, first * NODE_BYTES);
    hashes += end - i;
    i = end;
    if (hashes >= STEP_HASHES) {
      hashes = 0;
      yield;
    }
  }
}

/**
 * The groups of `changed` buckets, ascending and once each: a typed array sorts numbers without a
 * comparator (a Set and a sort with one took ~20 ms in one step for 100,000 buckets).
 */
function groupsOf(changed: Iterable<number>): number[] {
  const sorted = Uint32Array.from(changed, (b) => b >> GROUP_BITS).sort();
  const out: number[] = [];
  for (const g of sorted) if (out.at(-1) !== g) out.push(g);
  return out;
}

export class TopTree {
  /**
   * levels[k] is tree level GROUP_BITS + k, with BUCKET_COUNT >> (GROUP_BITS + k) nodes; the last
   * is the root. Never mutated once built.
   */
  private constructor(private readonly levels: readonly Buffer[]) {}

  /** The tree over every bucket's root, hashing only where a subtree has a non-empty bucket. */
  static *build(buckets: readonly Bucket[]): Generator<void, TopTree> {
    const groups = BUCKET_COUNT >> GROUP_BITS;
    const levels = [Buffer.allocUnsafe(groups * NODE_BYTES)];
    let empty = new Uint8Array(groups);
    const filled: number[] = [];
    for (let g = 0; g < groups; g++) {
      let any = false;
      for (let k = 0; k < GROUP && !any; k++) any = (buckets[g * GROUP + k] as Bucket).count > 0;
      if (any) filled.push(g);
      else {
        (EMPTY_NODES[GROUP_BITS] as Buffer).copy(levels[0] as Buffer, g * NODE_BYTES);
        empty[g] = 1;
      }
    }
    yield* setGroups(buckets, levels[0] as Buffer, filled);
    for (let l = GROUP_BITS; l < BUCKET_BITS; l++) {
      const level = levels[l - GROUP_BITS] as Buffer;
      const n = BUCKET_COUNT >> (l + 1);
      const up = Buffer.allocUnsafe(n * NODE_BYTES);
      const upEmpty = new Uint8Array(n);
      const parents: number[] = [];
      for (let j = 0; j < n; j++) {
        if (empty[2 * j] === 1 && empty[2 * j + 1] === 1) {
          (EMPTY_NODES[l + 1] as Buffer).copy(up, j * NODE_BYTES);
          upEmpty[j] = 1;
        } else parents.push(j);
      }
      yield* setParents(level, up, parents);
      levels.push(up);
      empty = upEmpty;
    }
    return new TopTree(levels);
  }

  /**
   * A new tree with the groups of the `changed` buckets hashed again from `buckets` and only their
   * paths re-hashed. This tree stays as it is (the published commitment still answers from it).
   */
  *update(buckets: readonly Bucket[], changed: Iterable<number>): Generator<void, TopTree> {
    const levels: Buffer[] = [];
    for (const level of this.levels) {
      levels.push(Buffer.from(level));
      yield;
    }
    let dirty = groupsOf(changed);
    yield* setGroups(buckets, levels[0] as Buffer, dirty);
    for (let l = GROUP_BITS; l < BUCKET_BITS; l++) {
      const up: number[] = [];
      for (const i of dirty) if (up.at(-1) !== i >> 1) up.push(i >> 1);
      yield* setParents(levels[l - GROUP_BITS] as Buffer, levels[l - GROUP_BITS + 1] as Buffer, up);
      dirty = up;
    }
    return new TopTree(levels);
  }

  /** The kept levels end to end (persisted.ts stores them: 131,071 nodes, 4 MB). */
  serialize(): Buffer {
    return Buffer.concat(this.levels);
  }

  /**
   * `serialize()` cut into pages of `pageBytes`, without the 4 MB copy: a page inside one level is
   * a view of it (the levels are never mutated), and only a page that spans levels (the last, a few
   * small levels) is copied. A write of every refresh made the 4 MB concatenation as garbage.
   */
  *pages(pageBytes: number): Generator<Buffer> {
    let page: Buffer[] = [];
    let filled = 0;
    for (const level of this.levels) {
      for (let at = 0; at < level.length; ) {
        const take = Math.min(pageBytes - filled, level.length - at);
        page.push(level.subarray(at, at + take));
        filled += take;
        at += take;
        if (filled === pageBytes) {
          yield page.length === 1 ? (page[0] as Buffer) : Buffer.concat(page, filled);
          page = [];
          filled = 0;
        }
      }
    }
    if (filled > 0) yield page.length === 1 ? (page[0] as Buffer) : Buffer.concat(page, filled);
  }

  /** A tree from `serialize()`'s bytes; null if their length is not a tree's. */
  static fromBytes(bytes: Buffer): TopTree | null {
    const levels: Buffer[] = [];
    let at = 0;
    for (let l = GROUP_BITS; l <= BUCKET_BITS; l++) {
      const length = (BUCKET_COUNT >> l) * NODE_BYTES;
      levels.push(Buffer.from(bytes.subarray(at, at + length)));
      at += length;
    }
    return at === bytes.length ? new TopTree(levels) : null;
  }

  get root(): Buffer {
    return Buffer.from((this.levels[BUCKET_BITS - GROUP_BITS] as Buffer).subarray(0, NODE_BYTES));
  }

  /**
   * Audit path of bucket `b` (whose roots this tree was built or updated from): its sibling at
   * every level, entry upwards (always 18 nodes); the lowest GROUP_BITS hashed again.
   */
  path(b: number, buckets: readonly Bucket[]): Buffer[] {
    const out: Buffer[] = [];
    const group = groupLevels(buckets, b >> GROUP_BITS);
    for (let l = 0, i = b & (GROUP - 1); l < GROUP_BITS; l++, i >>= 1) out.push((group[l] as Buffer[])[i ^ 1] as Buffer);
    for (let l = GROUP_BITS, i = b >> GROUP_BITS; l < BUCKET_BITS; l++, i >>= 1) {
      const sibling = i ^ 1;
      out.push(Buffer.from((this.levels[l - GROUP_BITS] as Buffer).subarray(sibling * NODE_BYTES, (sibling + 1) * NODE_BYTES)));
    }
    return out;
  }
}
