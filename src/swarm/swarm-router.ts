import type {PeerEntry} from "../protocol/index.js";
import type {SnodeEntry} from "./snode-entry.js";
import type {Account} from "../protocol/index.js";

/**
 * What the RPC layer needs from swarm membership and replication. The single-node router below
 * serves every account; the swarm module (membership, PIP-0008 mapping) and the replication module
 * (fan-out over PQ channels) provide the networked implementation.
 */
/** One swarm member as get_swarm and 421 answers list it (defined with the node records). */
export type SwarmMemberJson = SnodeEntry;

export interface SwarmJson {
  snodes: SwarmMemberJson[];
  /** Lowercase hex swarm ID; "ffffffffffffffff" when no swarm is known. */
  swarm: string;
}

export interface SwarmRouter {
  /** Reasons this node cannot serve clients yet; empty when ready. */
  notReadyReasons(): string[];
  /** Does this account belong to our swarm? */
  isOurs(account: Account): boolean;
  /** The swarm that serves this account (for get_swarm and 421 answers). */
  swarmFor(account: Account): SwarmJson;
  /**
   * Forwards a recursive request to every other member of our swarm and resolves, within the
   * replication timeout, with one entry per peer keyed by node ID. Never rejects.
   */
  forward(method: string, params: Record<string, unknown>): Promise<Record<string, PeerEntry>>;
}

export const INVALID_SWARM_ID = "ffffffffffffffff";

/** A node alone: every account is ours, the swarm is just us. */
export class SingleNodeRouter implements SwarmRouter {
  constructor(private readonly self: SwarmMemberJson) {}

  notReadyReasons(): string[] {
    return [];
  }

  isOurs(): boolean {
    return true;
  }

  swarmFor(): SwarmJson {
    return {snodes: [this.self], swarm: "0"};
  }

  forward(): Promise<Record<string, PeerEntry>> {
    return Promise.resolve({});
  }
}
