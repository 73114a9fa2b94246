/**
 * What the proof service needs to know about the swarm: our swarm ID (for StorageProof.swarmId),
 * our swarm peers (to challenge and to send proofs to) and the keys of any member (to accept its
 * challenges and proofs without it sending keys). `membershipContext` reads a MembershipService.
 */
import {MEMBERSHIP_UPDATED, type MembershipService} from "../swarm/index.js";
import type {PublicKeys} from "./keys.js";
import type {PeerInfo} from "./transport.js";

export interface SwarmContext {
  /** Our swarm, or null when this node is in no swarm (then it signs no proofs). */
  ourSwarm(): number | null;
  /** The other members of our swarm. */
  peers(): PeerInfo[];
  /** Keys of a node in the membership, or null. */
  memberKeys(nodeId: string): PublicKeys | null;
}

/** A node alone (membership source "none"): swarm 0, no peers. */
export const singleNodeContext: SwarmContext = {
  ourSwarm: () => 0,
  peers: () => [],
  memberKeys: () => null,
};

/** Reads the current membership snapshot; peers are cached per snapshot. */
export function membershipContext(membership: MembershipService, ourNodeId: string): SwarmContext {
  let peers: PeerInfo[] = [];
  membership.on(MEMBERSHIP_UPDATED, (snapshot) => {
    peers = snapshot.view.peersOf(ourNodeId).map((r) => ({
      nodeId: r.nodeId,
      keys: {mlDsa: r.mlDsaPublicKey, mlKem: r.mlKemPublicKey},
    }));
  });
  return {
    ourSwarm: () => {
      const swarm = membership.snapshot?.ourSwarm ?? null;
      return swarm === null ? null : Number(swarm);
    },
    peers: () => peers,
    memberKeys: (nodeId) => {
      const record = membership.snapshot?.view.node(nodeId) ?? null;
      return record === null ? null : {mlDsa: record.mlDsaPublicKey, mlKem: record.mlKemPublicKey};
    },
  };
}
