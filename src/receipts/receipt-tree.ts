import {leafHash, NODE_BYTES, nodeHash, pathFromLevels, rootFromPath, treeLevels} from "../crypto/index.js";

/**
 * The response-receipt tree: RFC 6962 (leaf = SHA-256(0x00 ‖ receipt), node =
 * SHA-256(0x01 ‖ left ‖ right), no duplicated last leaf), the same implementation the storage
 * proofs use (src/crypto/merkle.ts).
 */
export {leafHash, nodeHash, rootFromPath};

/**
 * Builds the tree over `leaves` (already leaf-hashed) and returns its root and, for every leaf,
 * its audit path ordered from the leaf upwards.
 */
export function buildTree(leaves: Buffer[]): {root: Buffer; paths: Buffer[][]} {
  if (leaves.length === 0) throw new RangeError("a receipt tree needs at least one leaf");
  const levels = treeLevels(Buffer.concat(leaves), leaves.length);
  const root = Buffer.from((levels.at(-1) as Buffer).subarray(0, NODE_BYTES));
  return {root, paths: leaves.map((_, i) => pathFromLevels(levels, i))};
}
