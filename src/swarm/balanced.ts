/**
 * `balanced` assignment: an alternative to PIP-0008's hash-mod node mapping that keeps every
 * swarm between 3 and 10 nodes (in fact between 3 and 5) whenever n >= 3.
 *
 * Inputs are the same membership list the PIP mode uses, so every node computes the same result:
 *   1. count = swarmCount(n) (the PIP-0008 count, so user mapping stays userSwarm(account, count));
 *   2. sort the nodes by SHA-256(ML-DSA-65 public key), bytewise ascending (ties, which only arise
 *      for duplicated keys and are rejected earlier, fall back to nodeId);
 *   3. swarm i gets the contiguous slice [floor(i*n/c), floor((i+1)*n/c)) of that order.
 *
 * Bound. Let c = count, s_i = floor((i+1)n/c) - floor(in/c). For any real x, y:
 * floor(x) + floor(y) <= floor(x + y) <= floor(x) + floor(y) + 1, so with x = in/c, y = n/c every s_i
 * is floor(n/c) or floor(n/c) + 1, i.e. the sizes differ by at most 1 and lie in
 * [floor(n/c), ceil(n/c)].
 *   - Upper: c = ceil(n/5) >= n/5, so n/c <= 5 and ceil(n/c) <= 5 <= MAX_NODES_PER_SWARM (10).
 *   - Lower: if 3 <= n <= 5 then c = 1 and the only swarm has n >= 3 nodes. If n >= 6 then c >= 2
 *     and c = ceil(n/5) < n/5 + 1, so n > 5(c - 1), i.e. n >= 5c - 4, hence n/c >= 5 - 4/c >= 3 and
 *     floor(n/c) >= 3 = MIN_NODES_PER_SWARM.
 * So for n >= 3 every swarm has 3..5 nodes and no swarm is empty (tested for n in 3..2000).
 *
 * Cost of the balance: the slice boundaries move when a node joins or leaves, so roughly one node
 * per boundary changes swarm on every membership change (see `npm run sim:swarms`, "churn").
 */

/** What the balanced assignment needs to know about a node. */
export interface BalancedInput {
  readonly nodeId: string;
  /** Lowercase hex SHA-256 of the node's ML-DSA-65 public key (hex order = byte order). */
  readonly keyDigestHex: string;
}

/** Start index (in the sorted order) of each swarm's slice, plus a final entry equal to n. */
export function balancedGroupStarts(nodeCount: number, count: number): number[] {
  const starts: number[] = [];
  for (let i = 0; i <= count; i++) {
    const numerator = i * nodeCount;
    starts.push((numerator - (numerator % count)) / count);
  }
  return starts;
}

/** Deterministic balanced assignment: nodeId -> swarm ID in 0..count-1. */
export function balancedAssignment(nodes: readonly BalancedInput[], count: number): Map<string, bigint> {
  const sorted = [...nodes].sort(compareBalancedInput);
  const starts = balancedGroupStarts(sorted.length, count);
  const result = new Map<string, bigint>();
  for (let swarm = 0; swarm < count; swarm++) {
    const end = starts[swarm + 1] ?? sorted.length;
    for (let index = starts[swarm] ?? 0; index < end; index++) {
      const node = sorted[index];
      if (node !== undefined) result.set(node.nodeId, BigInt(swarm));
    }
  }
  return result;
}

function compareBalancedInput(a: BalancedInput, b: BalancedInput): number {
  if (a.keyDigestHex !== b.keyDigestHex) return a.keyDigestHex < b.keyDigestHex ? -1 : 1;
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? -1 : 1;
}
