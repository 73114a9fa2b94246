/**
 * The networked `SwarmRouter`: serving by swarm from the current membership (Session §1.5 421,
 * §3.4 get_swarm, §6 readiness). An account is ours when the swarm serving it (its PIP-0008 swarm,
 * or by the empty-swarm rule in serving.ts the next non-empty one) is our swarm.
 */
import type {PeerEntry} from "../protocol/index.js";
import type {Account} from "../protocol/index.js";
import {INVALID_SWARM_ID, type SwarmJson, type SwarmMemberJson, type SwarmRouter} from "./swarm-router.js";
import {swarmIdToWire} from "./mapping.js";
import type {MembershipSnapshot} from "./membership-service.js";
import {toSnodeEntry} from "./snode-entry.js";

/** `notReadyReasons()` before the first valid membership document (Session: "not ready"). */
export const NOT_READY_MEMBERSHIP_NOT_LOADED = "membership not loaded";
/** `notReadyReasons()` while our node is not in the membership. */
export const NOT_READY_NOT_IN_SWARM = "not in any swarm";

/** What the router reads: the membership service satisfies it. */
export interface MembershipProvider {
  readonly snapshot: MembershipSnapshot | null;
}

/** The fan-out of recursive requests to our swarm peers (src/replication/ provides it). */
export interface SwarmForwarder {
  forward(method: string, params: Record<string, unknown>): Promise<Record<string, PeerEntry>>;
}

export interface MembershipRouterModules {
  readonly membership: MembershipProvider;
  /** Without one (tests), a swarm member answers with its own entry only. */
  readonly forwarder?: SwarmForwarder;
}

export class MembershipRouter implements SwarmRouter {
  readonly #membership: MembershipProvider;
  readonly #forwarder: SwarmForwarder | null;
  /** Snode entries per swarm, built once per snapshot (base64 of ~3 KB of keys per member). */
  readonly #entries = new WeakMap<MembershipSnapshot, Map<bigint, SwarmMemberJson[]>>();

  constructor(modules: MembershipRouterModules) {
    this.#membership = modules.membership;
    this.#forwarder = modules.forwarder ?? null;
  }

  notReadyReasons(): string[] {
    const snapshot = this.#membership.snapshot;
    if (snapshot === null) return [NOT_READY_MEMBERSHIP_NOT_LOADED];
    if (snapshot.ourSwarm === null) return [NOT_READY_NOT_IN_SWARM];
    return [];
  }

  isOurs(account: Account): boolean {
    const snapshot = this.#membership.snapshot;
    if (snapshot === null || snapshot.ourSwarm === null) return false;
    return snapshot.serving.servingSwarm(account.hex)?.swarmId === snapshot.ourSwarm;
  }

  swarmFor(account: Account): SwarmJson {
    const snapshot = this.#membership.snapshot;
    const serving = snapshot?.serving.servingSwarm(account.hex) ?? null;
    if (snapshot === null || serving === null) return {snodes: [], swarm: INVALID_SWARM_ID};
    return {snodes: this.#entriesOf(snapshot, serving.swarmId), swarm: swarmIdToWire(serving.swarmId)};
  }

  /** Every other member of our swarm's entry (or failure entry), over the PQ channel; never rejects. */
  forward(method: string, params: Record<string, unknown>): Promise<Record<string, PeerEntry>> {
    return this.#forwarder?.forward(method, params) ?? Promise.resolve({});
  }

  #entriesOf(snapshot: MembershipSnapshot, swarmId: bigint): SwarmMemberJson[] {
    let bySwarm = this.#entries.get(snapshot);
    if (bySwarm === undefined) {
      bySwarm = new Map();
      this.#entries.set(snapshot, bySwarm);
    }
    let entries = bySwarm.get(swarmId);
    if (entries === undefined) {
      entries = snapshot.view.membersOf(swarmId).map(toSnodeEntry);
      bySwarm.set(swarmId, entries);
    }
    // Callers spread these into response bodies; hand out copies so nobody mutates the cache.
    return entries.map((e) => ({...e}));
  }
}
