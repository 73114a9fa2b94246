import {InvalidArgumentError} from "../util/index.js";
import {BPS_DENOMINATOR, assertNonNegativeAmount} from "./units.js";

/**
 * PIP-0008 §6.2 "Fee Distribution" (80 % swarm nodes, 20 % network treasury) and the one
 * integer-apportionment rule every split in this module uses. See docs/economics.md "Splits".
 */

/** §6.2: share of every fee that goes to the swarm's nodes. */
export const SWARM_SHARE_BPS = 8_000n;
/** §6.2: share of every fee that goes to the network treasury. */
export const TREASURY_SHARE_BPS = 2_000n;

export interface FeeSplit {
  swarm: bigint;
  treasury: bigint;
}

/**
 * Splits a fee 80/20. The treasury gets floor(fee × 20 %) and the swarm gets the rest, so the parts
 * sum to `fee` exactly and the sub-unit remainder goes to the nodes that did the work.
 */
export function splitFee(fee: bigint): FeeSplit {
  assertNonNegativeAmount(fee, "fee");
  const treasury = (fee * TREASURY_SHARE_BPS) / BPS_DENOMINATOR;
  return {swarm: fee - treasury, treasury};
}

export interface WeightedPart {
  /** Unique key; ties are broken by ascending key (UTF-16 code-unit order, locale-independent). */
  key: string;
  weight: bigint;
}

/**
 * Largest-remainder apportionment: splits `amount` in proportion to the weights so the result sums
 * to `amount` exactly. Each part first gets floor(amount × weight / Σweight); the leftover units
 * (fewer than the number of parts) go one each to the parts with the largest remainder
 * (amount × weight mod Σweight), ties by ascending key. Result is in input order.
 */
export function apportion(amount: bigint, parts: readonly WeightedPart[]): bigint[] {
  assertNonNegativeAmount(amount, "amount");
  assertUniqueKeys(parts.map((p) => p.key));
  parts.forEach((p) => assertNonNegativeAmount(p.weight, `weight of ${p.key}`));
  const total = parts.reduce((sum, p) => sum + p.weight, 0n);
  if (total === 0n) throw new InvalidArgumentError("cannot apportion: no parts or all weights are zero");
  const shares = parts.map((p) => (amount * p.weight) / total);
  let leftover = amount - shares.reduce((sum, s) => sum + s, 0n);
  const order = parts
    .map((p, index) => ({index, key: p.key, remainder: (amount * p.weight) % total}))
    .sort((a, b) => compareRemainderThenKey(a, b));
  for (const {index} of order) {
    if (leftover === 0n) break;
    shares[index] = (shares[index] ?? 0n) + 1n;
    leftover -= 1n;
  }
  return shares;
}

function compareRemainderThenKey(a: {key: string; remainder: bigint}, b: {key: string; remainder: bigint}): number {
  if (a.remainder !== b.remainder) return a.remainder > b.remainder ? -1 : 1;
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

function assertUniqueKeys(keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new InvalidArgumentError(`duplicate key ${JSON.stringify(key)}`);
    seen.add(key);
  }
}

export interface NodeAllocation {
  nodeId: string;
  amount: bigint;
}

/**
 * Splits the swarm's share equally among its nodes. The remainder (fewer units than nodes) goes one
 * unit each to the nodes with the smallest IDs (code-unit order). Result is in input order.
 */
export function splitAmongNodes(swarmShare: bigint, nodeIds: readonly string[]): NodeAllocation[] {
  const shares = apportion(swarmShare, nodeIds.map((key) => ({key, weight: 1n})));
  return nodeIds.map((nodeId, i) => ({nodeId, amount: shares[i] ?? 0n}));
}
