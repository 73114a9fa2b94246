/**
 * An immutable snapshot of the membership split into swarms. Build one per membership update with
 * `buildSwarmView(records, mode)`; compare two with `diffViews` (events.ts).
 *
 * Empty swarms are explicit: with PIP-0008 mode no node may hash to some swarm ID in 0..count-1,
 * yet users still map there (userSwarm is independent of where nodes land). `membersForAccount`
 * then returns `{served: false, members: []}`; Session answers such a get_swarm with `snodes: []`.
 */
import {type SwarmMember, type SwarmMode, assignSwarms} from "./assignment.js";
import {userSwarm} from "./mapping.js";

/** Where an account's messages live. `served: false` means no node is in that swarm. */
export type AccountSwarm<T> =
  | {readonly swarmId: bigint; readonly served: true; readonly members: readonly [T, ...T[]]}
  | {readonly swarmId: bigint; readonly served: false; readonly members: readonly []};

const NO_MEMBERS: readonly [] = Object.freeze([]);

export class SwarmView<T extends SwarmMember> {
  readonly mode: SwarmMode;
  /** PIP-0008 swarm count for this membership: swarm IDs are 0n..BigInt(swarmCount - 1). */
  readonly swarmCount: number;
  readonly nodeCount: number;
  readonly #bySwarm: ReadonlyMap<bigint, readonly T[]>;
  readonly #swarmOf: ReadonlyMap<string, bigint>;
  readonly #nodes: ReadonlyMap<string, T>;

  private constructor(mode: SwarmMode, count: number, records: readonly T[], swarmOf: ReadonlyMap<string, bigint>) {
    this.mode = mode;
    this.swarmCount = count;
    this.nodeCount = records.length;
    this.#swarmOf = swarmOf;
    this.#nodes = new Map(records.map((r) => [r.nodeId, r]));
    this.#bySwarm = groupBySwarm(records, swarmOf);
  }

  /** Use `buildSwarmView`. Throws INVALID_ARGUMENT on duplicated node IDs or ML-DSA keys. */
  static build<T extends SwarmMember>(records: readonly T[], mode: SwarmMode): SwarmView<T> {
    const sorted = [...records].sort(compareNodeId);
    const {count, swarmOf} = assignSwarms(sorted, mode);
    return new SwarmView(mode, count, sorted, swarmOf);
  }

  /** Every swarm ID 0..count-1, ascending, including empty ones. */
  swarmIds(): bigint[] {
    return Array.from({length: this.swarmCount}, (_, i) => BigInt(i));
  }

  /** Swarm IDs no node is assigned to (only possible in PIP-0008 mode, or with no nodes). */
  emptySwarmIds(): bigint[] {
    return this.swarmIds().filter((id) => !this.#bySwarm.has(id));
  }

  /** Members of a swarm sorted by nodeId; empty for an empty or unknown swarm ID. */
  membersOf(swarmId: bigint): readonly T[] {
    return this.#bySwarm.get(swarmId) ?? NO_MEMBERS;
  }

  /** All nodes sorted by nodeId. */
  nodes(): T[] {
    return [...this.#nodes.values()];
  }

  node(nodeId: string): T | null {
    return this.#nodes.get(nodeId) ?? null;
  }

  /** The node's swarm, or null if the node is not in the membership. */
  swarmOfNode(nodeId: string): bigint | null {
    return this.#swarmOf.get(nodeId) ?? null;
  }

  /** The other members of the node's swarm (empty if the node is unknown or alone). */
  peersOf(nodeId: string): T[] {
    const swarmId = this.swarmOfNode(nodeId);
    if (swarmId === null) return [];
    return this.membersOf(swarmId).filter((r) => r.nodeId !== nodeId);
  }

  /** userSwarm(accountId, swarmCount); throws INVALID_ARGUMENT unless 66 hex chars. */
  swarmForAccount(accountId: string): bigint {
    return userSwarm(accountId, this.swarmCount);
  }

  membersForAccount(accountId: string): AccountSwarm<T> {
    const swarmId = this.swarmForAccount(accountId);
    const members = this.membersOf(swarmId);
    const [first, ...rest] = members;
    if (first === undefined) return {swarmId, served: false, members: NO_MEMBERS};
    return {swarmId, served: true, members: [first, ...rest]};
  }

  /** Whether the account maps to the given node's swarm (Session's `is_pubkey_for_us`). */
  isAccountForNode(accountId: string, nodeId: string): boolean {
    const swarmId = this.swarmOfNode(nodeId);
    return swarmId !== null && swarmId === this.swarmForAccount(accountId);
  }
}

/** Builds the immutable view of `records` in `mode` (PIP-0008 is the default mode). */
export function buildSwarmView<T extends SwarmMember>(records: readonly T[], mode: SwarmMode = "pip0008"): SwarmView<T> {
  return SwarmView.build(records, mode);
}

function groupBySwarm<T extends SwarmMember>(
  sorted: readonly T[],
  swarmOf: ReadonlyMap<string, bigint>,
): Map<bigint, readonly T[]> {
  const groups = new Map<bigint, T[]>();
  for (const record of sorted) {
    const swarmId = swarmOf.get(record.nodeId);
    if (swarmId === undefined) continue;
    const group = groups.get(swarmId);
    if (group === undefined) groups.set(swarmId, [record]);
    else group.push(record);
  }
  for (const group of groups.values()) Object.freeze(group);
  return groups;
}

function compareNodeId(a: SwarmMember, b: SwarmMember): number {
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? -1 : 1;
}
