/**
 * PIP-0008 §4.1 NetworkHealth and the network's storage load from the membership and the newest
 * StorageProof of each node (docs/economics.md "Network view"). Pure: the caller passes the time.
 *
 * - A node is *active* while its newest valid proof is at most `activeWindowMs` old.
 * - Swarms are the membership's non-empty swarms: an empty swarm ID holds nothing (its accounts are
 *   served by the next non-empty swarm, docs/PROTOCOL.md Swarms §1.3), so it is not a swarm of size 0.
 * - Use is the proof's `usedBytes`; capacity is `capacityBytesPerNode` for every active node,
 *   because node records carry no capacity (PIP-0008 §3.2 SIZE_LIMIT, 10 GB per node).
 */
import {computeNetworkHealth, type NetworkHealth, type StorageLoad, type SwarmMembership} from "../economics/index.js";
import type {StorageProof} from "../proofs/index.js";
import type {SwarmMember} from "../swarm/index.js";
import type {SwarmView} from "../swarm/index.js";

export interface ActivityRules {
  /** A proof older than this no longer makes its node active. */
  readonly activeWindowMs: number;
  /** Storage capacity credited to each active node, in bytes. */
  readonly capacityBytesPerNode: number;
}

export interface NetworkState {
  readonly health: NetworkHealth;
  /** Summed over active nodes, in bytes (scaled down together if a sum exceeds 2^53); null when none is active. */
  readonly load: StorageLoad | null;
  /** Last instant (Unix ms) at which this state is still true, unless proofs or membership change first. */
  readonly validUntilMs: number;
}

export function networkState(
  view: SwarmView<SwarmMember>,
  proofOf: (nodeId: string) => StorageProof | null,
  nowMs: number,
  rules: ActivityRules,
): NetworkState {
  const swarms = new Map<bigint, SwarmMembership>();
  const usedBytesByNode = new Map<string, number>();
  const capacityBytesByNode = new Map<string, number>();
  let validUntilMs = Number.MAX_SAFE_INTEGER;
  let used = 0n;
  for (const swarmId of view.swarmIds()) {
    const members = view.membersOf(swarmId);
    if (members.length === 0) continue;
    const activeNodeIds: string[] = [];
    for (const {nodeId} of members) {
      const proof = proofOf(nodeId);
      if (proof === null || nowMs - proof.timestamp > rules.activeWindowMs) continue;
      activeNodeIds.push(nodeId);
      usedBytesByNode.set(nodeId, proof.usedBytes);
      capacityBytesByNode.set(nodeId, rules.capacityBytesPerNode);
      used += BigInt(proof.usedBytes);
      validUntilMs = Math.min(validUntilMs, proof.timestamp + rules.activeWindowMs);
    }
    swarms.set(swarmId, {nodeIds: members.map((r) => r.nodeId), activeNodeIds});
  }
  const health = computeNetworkHealth({swarms, capacityBytesByNode, usedBytesByNode});
  const active = usedBytesByNode.size;
  const load = active === 0 ? null : safeLoad(used, BigInt(active) * BigInt(rules.capacityBytesPerNode));
  return {health, load, validUntilMs};
}

/** Both sums as safe integers with their ratio kept: halved together while either exceeds 2^53 - 1. */
function safeLoad(used: bigint, capacity: bigint): StorageLoad {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  while (used > max || capacity > max) {
    used >>= 1n;
    capacity >>= 1n;
  }
  return {storageUsed: Number(used), storageCapacity: Number(capacity)};
}
