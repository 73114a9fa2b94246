/**
 * What replication reads from the membership: our swarm, its other members, peers' addresses and
 * keys, and which swarm serves an account (the router's rule, empty swarms included).
 */
import type {MembershipSnapshot} from "../swarm/index.js";
import {swarmIdToWire} from "../swarm/index.js";
import type {NodeRecord} from "../swarm/index.js";
import type {PeerKeys} from "../peer/index.js";
import type {PeerAddress} from "../peer/index.js";

/** The membership service satisfies it. */
export interface MembershipProvider {
  readonly snapshot: MembershipSnapshot | null;
}

export class MembershipView {
  readonly #membership: MembershipProvider;
  readonly #ourId: string;

  constructor(membership: MembershipProvider, ourId: string) {
    this.#membership = membership;
    this.#ourId = ourId;
  }

  get snapshot(): MembershipSnapshot | null {
    return this.#membership.snapshot;
  }

  get ourId(): string {
    return this.#ourId;
  }

  /** Our swarm, or null (no membership yet, or we are not in it). */
  ourSwarm(): bigint | null {
    return this.snapshot?.ourSwarm ?? null;
  }

  ourSwarmWire(): string | null {
    const s = this.ourSwarm();
    return s === null ? null : swarmIdToWire(s);
  }

  /** The other members of our swarm, sorted by node ID. */
  peers(): NodeRecord[] {
    const s = this.snapshot;
    if (s === null || s.ourSwarm === null) return [];
    return s.view.membersOf(s.ourSwarm).filter((r) => r.nodeId !== this.#ourId);
  }

  isPeer(nodeId: string): boolean {
    return this.peers().some((r) => r.nodeId === nodeId);
  }

  keysOf(nodeId: string): PeerKeys | null {
    const r = this.snapshot?.view.node(nodeId) ?? null;
    return r === null ? null : {mlDsaPublicKey: r.mlDsaPublicKey, mlKemPublicKey: r.mlKemPublicKey};
  }

  addressOf(nodeId: string): PeerAddress | null {
    const r = this.snapshot?.view.node(nodeId) ?? null;
    return r === null ? null : {nodeId, host: r.host, port: r.port};
  }

  /** A predicate "served by `swarmId`" for accounts (memoised per account). */
  servedBy(swarmId: bigint | null): (account: string) => boolean {
    const s = this.snapshot;
    if (s === null || swarmId === null) return () => false;
    const memo = new Map<string, boolean>();
    return (account) => {
      let served = memo.get(account);
      if (served === undefined) {
        served = s.serving.servingSwarm(account)?.swarmId === swarmId;
        memo.set(account, served);
      }
      return served;
    };
  }

  /** The swarm serving `account` and its members, or null without a membership. */
  servingOf(account: string): {swarmId: bigint; members: readonly NodeRecord[]} | null {
    const serving = this.snapshot?.serving.servingSwarm(account) ?? null;
    return serving === null ? null : {swarmId: serving.swarmId, members: serving.members};
  }
}
