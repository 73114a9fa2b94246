/**
 * The top tree of a commitment (docs/PROTOCOL.md (Storage proofs) §2.1): RFC 6962 over the
 * 262,144 bucket roots, each taken as a 32-byte entry (SHA-256(0x00 ‖ root)), so a perfect tree
 * of depth 18. Every level is kept (2 × 262,144 nodes, 16 MB) because rebuilding it costs up to
 * 524,287 hashes (~0.7 s): a refresh copies the levels and re-hashes only the paths above the
 * buckets it rebuilt (k buckets: at most 18k node hashes), and a top path is read off without
 * hashing. Building and updating are generators that yield every STEP_HASHES hashes, so the
 * refresh runs them in its slices like the bucket work (a `find` never waits for a whole tree).
 */
import {hash} from "node:crypto";
import {BUCKET_BITS, BUCKET_COUNT, NODE_BYTES} from "./constants.js";
import type {Bucket} from "./bucket.js";
import {EMPTY_ROOT, leafHash, nodeHash} from "../crypto/index.js";

const scratch = Buffer.alloc(1 + 2 * NODE_BYTES);

/** Hashes between yields: ~1.5 ms. */
const STEP_HASHES = 1024;

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

/** Writes SHA-256(0x00 ‖ root) at entry `i` of level 0. */
function setEntry(level0: Buffer, i: number, root: Buffer): void {
  scratch[0] = 0x00;
  root.copy(scratch, 1);
  hash("sha256", scratch.subarray(0, 1 + NODE_BYTES), "buffer").copy(level0, i * NODE_BYTES);
}

/** Writes node `j` of `up` as SHA-256(0x01 ‖ level[2j] ‖ level[2j + 1]). */
function setParent(level: Buffer, up: Buffer, j: number): void {
  scratch[0] = 0x01;
  level.copy(scratch, 1, 2 * j * NODE_BYTES, (2 * j + 2) * NODE_BYTES);
  hash("sha256", scratch, "buffer").copy(up, j * NODE_BYTES);
}

export class TopTree {
  /** levels[l] holds BUCKET_COUNT >> l nodes; levels[BUCKET_BITS] is the root. Never mutated once built. */
  private constructor(private readonly levels: readonly Buffer[]) {}

  /** The tree over every bucket's root, hashing only where a subtree has a non-empty bucket. */
  static *build(buckets: readonly Bucket[]): Generator<void, TopTree> {
    const levels = [Buffer.allocUnsafe(BUCKET_COUNT * NODE_BYTES)];
    let empty = new Uint8Array(BUCKET_COUNT);
    let hashes = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const b = buckets[i] as Bucket;
      if (b.count === 0) {
        (EMPTY_NODES[0] as Buffer).copy(levels[0] as Buffer, i * NODE_BYTES);
        empty[i] = 1;
        continue;
      }
      setEntry(levels[0] as Buffer, i, b.root);
      if (++hashes % STEP_HASHES === 0) yield;
    }
    for (let l = 0; l < BUCKET_BITS; l++) {
      const level = levels[l] as Buffer;
      const n = BUCKET_COUNT >> (l + 1);
      const up = Buffer.allocUnsafe(n * NODE_BYTES);
      const upEmpty = new Uint8Array(n);
      for (let j = 0; j < n; j++) {
        if (empty[2 * j] === 1 && empty[2 * j + 1] === 1) {
          (EMPTY_NODES[l + 1] as Buffer).copy(up, j * NODE_BYTES);
          upEmpty[j] = 1;
          continue;
        }
        setParent(level, up, j);
        if (++hashes % STEP_HASHES === 0) yield;
      }
      levels.push(up);
      empty = upEmpty;
    }
    return new TopTree(levels);
  }

  /**
   * A new tree with the entries of the `changed` buckets set from `buckets` and only their paths
   * re-hashed. This tree stays as it is (the published commitment still answers from it).
   */
  *update(buckets: readonly Bucket[], changed: Iterable<number>): Generator<void, TopTree> {
    const levels: Buffer[] = [];
    for (const level of this.levels) {
      levels.push(Buffer.from(level));
      yield;
    }
    let dirty = [...new Set(changed)].sort((a, b) => a - b);
    let hashes = 0;
    for (const i of dirty) {
      setEntry(levels[0] as Buffer, i, (buckets[i] as Bucket).root);
      if (++hashes % STEP_HASHES === 0) yield;
    }
    for (let l = 0; l < BUCKET_BITS; l++) {
      const up: number[] = [];
      for (const i of dirty) {
        const j = i >> 1;
        if (up.at(-1) === j) continue;
        setParent(levels[l] as Buffer, levels[l + 1] as Buffer, j);
        up.push(j);
        if (++hashes % STEP_HASHES === 0) yield;
      }
      dirty = up;
    }
    return new TopTree(levels);
  }

  get root(): Buffer {
    return Buffer.from((this.levels[BUCKET_BITS] as Buffer).subarray(0, NODE_BYTES));
  }

  /** Audit path of bucket `b`: its sibling at every level, entry upwards (always 18 nodes). */
  path(b: number): Buffer[] {
    const out: Buffer[] = [];
    for (let l = 0, i = b; l < BUCKET_BITS; l++, i >>= 1) {
      const sibling = i ^ 1;
      out.push(Buffer.from((this.levels[l] as Buffer).subarray(sibling * NODE_BYTES, (sibling + 1) * NODE_BYTES)));
    }
    return out;
  }
}
