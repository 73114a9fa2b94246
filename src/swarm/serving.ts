/**
 * Which swarm serves an account, including the empty-swarm rule (docs/PROTOCOL.md Swarms §1.3).
 *
 * With PIP-0008 node mapping a swarm ID in 0..count-1 may have no node, while `userSwarm` still
 * sends accounts there. Every node applies the same rule so no account is left unservable:
 *
 *   the account is served by its own swarm if that has members, otherwise by the next non-empty
 *   swarm ID in ascending order, wrapping around to the lowest non-empty ID.
 *
 * The rule depends only on the membership (the same view on every node), so every node agrees on
 * who serves an account, answers `get_swarm` identically and sends 421s to the same members.
 */
import type {SwarmMember} from "./assignment.js";
import type {SwarmView} from "./view.js";

export interface ServingSwarm<T> {
  /** The swarm whose members serve the account (differs from `natural` only if that is empty). */
  readonly swarmId: bigint;
  /** `userSwarm(account, count)`: the account's swarm by the PIP-0008 formula. */
  readonly natural: bigint;
  /** Members of `swarmId`, sorted by node ID; never empty. */
  readonly members: readonly T[];
}

export class ServingMap<T extends SwarmMember> {
  readonly view: SwarmView<T>;
  /** Non-empty swarm IDs, ascending. */
  readonly #nonEmpty: readonly bigint[];

  constructor(view: SwarmView<T>) {
    this.view = view;
    this.#nonEmpty = view.swarmIds().filter((id) => view.membersOf(id).length > 0);
  }

  /**
   * The swarm serving `accountId` (66 hex chars; throws INVALID_ARGUMENT otherwise), or null if
   * the view has no nodes at all.
   */
  servingSwarm(accountId: string): ServingSwarm<T> | null {
    const natural = this.view.swarmForAccount(accountId);
    const swarmId = this.servingSwarmId(natural);
    if (swarmId === null) return null;
    return {swarmId, natural, members: this.view.membersOf(swarmId)};
  }

  /** The swarm serving accounts whose natural swarm is `natural` (see the rule above). */
  servingSwarmId(natural: bigint): bigint | null {
    const ids = this.#nonEmpty;
    const first = ids[0];
    if (first === undefined) return null;
    // Smallest non-empty ID >= natural (binary search), else wrap to the lowest.
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ids[mid] ?? 0n) < natural) lo = mid + 1;
      else hi = mid;
    }
    return ids[lo] ?? first;
  }
}
