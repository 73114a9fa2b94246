/**
 * The networked `SwarmRouter`: serving by swarm from the current membership (Session §1.5 421,
 * §3.4 get_swarm, §6 readiness). An account is ours when the swarm serving it (its PIP-0008 swarm,
 * or by the empty-swarm rule in serving.ts the next non-empty one) is our swarm.
 */
import type {Account} from "../rpc/account.js";
import {INVALID_SWARM_ID, type PeerEntry, type SwarmJson, type SwarmMemberJson, type SwarmRouter} from "../rpc/swarm-router.js";
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

export interface MembershipRouterModules {
  readonly membership: MembershipProvider;
}

export class MembershipRouter implements SwarmRouter {
  readonly #membership: MembershipProvider;
  /** Snode entries per swarm, built once per snapshot (base64 of ~3 KB of keys per member). */
  readonly #entries = new WeakMap<MembershipSnapshot, Map<bigint, SwarmMemberJson[]>>();

  constructor(modules: MembershipRouterModules) {
    this.#membership = modules.membership;
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

  /**
   * TODO(issue 4, replication): fan the request out to the other members of our swarm over the
   * ML-KEM peer channel and collect their signed entries. Until then only our own entry answers.
   */
  forward(): Promise<Record<string, PeerEntry>> {
    return Promise.resolve({});
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
