/**
 * RFC 6962 / RFC 9162 Merkle trees on flat buffers: leaf = SHA-256(0x00 ‖ entry), node =
 * SHA-256(0x01 ‖ left ‖ right), the empty tree's root is SHA-256() and an odd node at the end of a
 * level is promoted unchanged (which is exactly RFC 6962's split at the largest power of two below
 * n: no duplicated last leaf). Levels are stored as one Buffer of n × 32 bytes each.
 */
import {hash} from "node:crypto";
/** SHA-256 output: every node of these trees. */
export const NODE_BYTES = 32;

/** MTH of the empty list: SHA-256 of nothing. Also the root of an empty bucket. */
export const EMPTY_ROOT: Buffer = hash("sha256", Buffer.alloc(0), "buffer");

const scratch = Buffer.alloc(1 + 2 * NODE_BYTES);

/** SHA-256(0x00 ‖ entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return hash("sha256", Buffer.concat([LEAF_PREFIX, entry]), "buffer");
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  scratch[0] = 0x01;
  scratch.set(left, 1);
  scratch.set(right, 1 + NODE_BYTES);
  return hash("sha256", scratch, "buffer");
}

const LEAF_PREFIX = Buffer.from([0x00]);

/** The next level up of a level of `n` nodes (n ≥ 2): pairs hashed, an odd last node promoted. */
function parentLevel(level: Buffer, n: number): Buffer {
  const up = Buffer.allocUnsafe(Math.ceil(n / 2) * NODE_BYTES);
  let j = 0;
  for (let i = 0; i + 1 < n; i += 2, j++) {
    scratch[0] = 0x01;
    level.copy(scratch, 1, i * NODE_BYTES, (i + 2) * NODE_BYTES);
    hash("sha256", scratch, "buffer").copy(up, j * NODE_BYTES);
  }
  if (n % 2 === 1) level.copy(up, j * NODE_BYTES, (n - 1) * NODE_BYTES, n * NODE_BYTES);
  return up;
}

/** Every level from the leaf hashes (level 0) up to the root (last, one node). Needs n ≥ 1. */
export function treeLevels(leaves: Buffer, n: number): Buffer[] {
  const levels = [leaves.subarray(0, n * NODE_BYTES)];
  for (let size = n; size > 1; size = Math.ceil(size / 2)) levels.push(parentLevel(levels.at(-1) as Buffer, size));
  return levels;
}

/** MTH over `n` leaf hashes stored back to back in `leaves`; EMPTY_ROOT for n = 0. */
export function rootOf(leaves: Buffer, n: number): Buffer {
  if (n === 0) return EMPTY_ROOT;
  const levels = treeLevels(leaves, n);
  return Buffer.from((levels.at(-1) as Buffer).subarray(0, NODE_BYTES));
}

/** RFC 9162 §2.1.3.1 audit path of leaf `index` (leaf upwards), read off precomputed levels. */
export function pathFromLevels(levels: readonly Buffer[], index: number): Buffer[] {
  const path: Buffer[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l] as Buffer;
    const size = level.length / NODE_BYTES;
    const sibling = i ^ 1;
    if (sibling < size) path.push(Buffer.from(level.subarray(sibling * NODE_BYTES, (sibling + 1) * NODE_BYTES)));
    i >>= 1;
  }
  return path;
}

/**
 * RFC 9162 §2.1.3.2: the root implied by a leaf hash, its index, the tree size and an audit path;
 * null when the path has the wrong length or shape for (index, size). Never throws.
 */
export function rootFromPath(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Buffer | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0 || p.length !== NODE_BYTES) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}
