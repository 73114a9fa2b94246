import {createHash} from "node:crypto";

/**
 * RFC 6962 / RFC 9162 Merkle tree over response receipts: leaf = SHA-256(0x00 ‖ receipt),
 * node = SHA-256(0x01 ‖ left ‖ right), split at the largest power of two below n. The domain
 * bytes keep leaves and inner nodes apart, and unbalanced trees never duplicate a last leaf.
 */
export function leafHash(receipt: Uint8Array): Buffer {
  return createHash("sha256").update(LEAF_PREFIX).update(receipt).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest();
}

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Builds the tree over `leaves` (already leaf-hashed) and returns its root and, for every leaf,
 * its audit path ordered from the leaf upwards.
 */
export function buildTree(leaves: Buffer[]): {root: Buffer; paths: Buffer[][]} {
  if (leaves.length === 0) throw new RangeError("a receipt tree needs at least one leaf");
  const paths: Buffer[][] = leaves.map(() => []);
  const root = subtree(leaves, 0, leaves.length, paths);
  return {root, paths};
}

function subtree(leaves: Buffer[], lo: number, hi: number, paths: Buffer[][]): Buffer {
  if (hi - lo === 1) return leaves[lo] as Buffer;
  const k = largestPowerOfTwoBelow(hi - lo);
  const left = subtree(leaves, lo, lo + k, paths);
  const right = subtree(leaves, lo + k, hi, paths);
  // Every leaf on one side gets the other side's root as its next sibling (paths grow upwards).
  for (let i = lo; i < lo + k; i++) (paths[i] as Buffer[]).push(right);
  for (let i = lo + k; i < hi; i++) (paths[i] as Buffer[]).push(left);
  return nodeHash(left, right);
}

/**
 * RFC 9162 §2.1.3.2: recomputes the root from a leaf hash, its index, the tree size and the audit
 * path. Returns null when the path has the wrong shape for (index, size).
 */
export function rootFromPath(leaf: Uint8Array, index: number, size: number, path: Uint8Array[]): Buffer | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return null;
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
