/**
 * Fees (PIP-0008 §4.2, §6): the scarcity multiplier follows the network view's load, or this
 * node's own usage against its size limit while the view has none; the swarm part of the ledger
 * is shared among our current swarm's members.
 */
import {defaultFeeLedgerOptions, FeeLedger, FeeService, networkOrOwnLoad} from "../fees/index.js";
import type {NetworkHealthService} from "../health/index.js";
import type {SqliteFeeLedger, SqliteMessageStore} from "../storage/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {Clock} from "../util/index.js";

export interface FeeParts {
  readonly clock: Clock;
  readonly store: SqliteMessageStore;
  readonly ledger: SqliteFeeLedger;
  readonly nodeId: string;
  readonly membership: MembershipService | null;
  readonly network: NetworkHealthService | null;
  /** config `rewards.epochMs`: one fee ledger row per reward epoch. */
  readonly epochMs: number;
}

/** Builds and starts the fee service. */
export function assembleFees(p: FeeParts): FeeService {
  const {membership} = p;
  const ourSwarmMembers = (): string[] => {
    const snap = membership?.snapshot ?? null;
    if (snap === null || snap.ourSwarm === null) return [p.nodeId];
    return snap.view.membersOf(snap.ourSwarm).map((r) => r.nodeId);
  };
  // Both are cached figures (the store's refreshed after every commit): a quote costs no query.
  const load = networkOrOwnLoad(p.network, () => {
    const u = p.store.usage();
    return {storageUsed: u.usedBytes, storageCapacity: u.sizeLimitBytes};
  });
  const ledger = new FeeLedger({...defaultFeeLedgerOptions, epochMs: p.epochMs}, {clock: p.clock, table: p.ledger, swarmMembers: ourSwarmMembers});
  const fees = new FeeService({clock: p.clock, load, ledger});
  fees.start();
  return fees;
}
