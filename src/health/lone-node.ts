/**
 * `GET /network/v1/health` for a node without a membership (`membership.source = "none"`): it is a
 * network of one, a single swarm holding only itself (docs/PROTOCOL.md Swarms §9). The node counts
 * as active while its own newest StorageProof is within the activity window, like any node in the
 * network view; with proofs disabled it is never active. A swarm of one is below the replication
 * factor of 3, so `isHealthy` is always false.
 */
import {computeNetworkHealth, isHealthy} from "../economics/index.js";
import type {StorageProof} from "../proofs/index.js";
import type {Clock} from "../util/index.js";
import type {NetworkHealthReport} from "./health-service.js";
import type {ActivityRules} from "./network-state.js";

export interface LoneNodeHealthModules {
  readonly nodeId: string;
  /** Our newest signed StorageProof; null before the first or with proofs disabled. */
  readonly ownProof: () => StorageProof | null;
  readonly clock: Clock;
}

/** The lone node's swarm ID (singleNodeContext signs its proofs with swarm 0 too). */
const LONE_SWARM = 0;

export class LoneNodeHealth {
  readonly #rules: ActivityRules;
  readonly #m: LoneNodeHealthModules;

  constructor(rules: ActivityRules, modules: LoneNodeHealthModules) {
    this.#rules = rules;
    this.#m = modules;
  }

  /** Never null: a lone node has no membership to wait for. */
  report(): NetworkHealthReport {
    const {nodeId} = this.#m;
    const proof = this.#m.ownProof();
    const active = proof !== null && this.#m.clock.now() - proof.timestamp <= this.#rules.activeWindowMs;
    const health = computeNetworkHealth({
      swarms: new Map([[LONE_SWARM, {nodeIds: [nodeId], activeNodeIds: active ? [nodeId] : []}]]),
      capacityBytesByNode: new Map(active ? [[nodeId, this.#rules.capacityBytesPerNode]] : []),
      usedBytesByNode: new Map(active ? [[nodeId, proof.usedBytes]] : []),
    });
    return {...health, isHealthy: isHealthy(health)};
  }
}
