/**
 * Membership-change events, derived purely from two consecutive views by `diffViews`.
 * Enum + payload map (STYLE.md "events"); `SwarmEventMap` plugs into a typed
 * `EventEmitter<SwarmEventMap>` from node:events.
 *
 * Order of the returned array (stable, so logs and tests are deterministic):
 * SwarmCountChanged, NodeLeft, NodeJoined, NodeMoved, NodeUpdated, OurSwarmChanged,
 * OurSwarmPeersChanged; within one type, ascending nodeId.
 */
import type {SwarmMember} from "./assignment.js";
import type {SwarmView} from "./view.js";

export enum SwarmEvent {
  /** A node ID is in the new membership and was not in the old one. */
  NodeJoined = "swarm.node_joined",
  /** A node ID was in the old membership and is not in the new one. */
  NodeLeft = "swarm.node_left",
  /** A node stayed but its swarm changed (count change in PIP-0008 mode, any change in balanced). */
  NodeMoved = "swarm.node_moved",
  /** A node stayed but published a record with a different timestamp (address, stake, version). */
  NodeUpdated = "swarm.node_updated",
  SwarmCountChanged = "swarm.swarm_count_changed",
  /** Our node's swarm changed; null = we are not (or no longer) in the membership. */
  OurSwarmChanged = "swarm.our_swarm_changed",
  /** The set of other nodes in our swarm changed (Session's `new_snodes`, plus departures). */
  OurSwarmPeersChanged = "swarm.our_swarm_peers_changed",
}

export interface SwarmEventData {
  [SwarmEvent.NodeJoined]: {nodeId: string; swarmId: bigint};
  [SwarmEvent.NodeLeft]: {nodeId: string; swarmId: bigint};
  [SwarmEvent.NodeMoved]: {nodeId: string; from: bigint; to: bigint};
  [SwarmEvent.NodeUpdated]: {nodeId: string; previousTimestamp: number; timestamp: number};
  /** `previous` is 0 when there was no previous view. */
  [SwarmEvent.SwarmCountChanged]: {previous: number; current: number};
  [SwarmEvent.OurSwarmChanged]: {previous: bigint | null; current: bigint | null};
  [SwarmEvent.OurSwarmPeersChanged]: {swarmId: bigint | null; joined: string[]; left: string[]};
}

export type SwarmEventOf<E extends SwarmEvent> = {readonly type: E; readonly data: SwarmEventData[E]};
export type AnySwarmEvent = {[E in SwarmEvent]: SwarmEventOf<E>}[SwarmEvent];
/** For `new EventEmitter<SwarmEventMap>()`: each event has one payload argument. */
export type SwarmEventMap = {[E in SwarmEvent]: [SwarmEventData[E]]};

/** A member whose record freshness can be compared (NodeRecord satisfies it). */
export interface DiffableMember extends SwarmMember {
  readonly timestamp: number;
}

/** Events turning `prev` into `next` as seen by node `ourNodeId`; `prev = null` = first view. */
export function diffViews<T extends DiffableMember>(
  prev: SwarmView<T> | null,
  next: SwarmView<T>,
  ourNodeId: string,
): AnySwarmEvent[] {
  const events: AnySwarmEvent[] = [];
  const previousCount = prev?.swarmCount ?? 0;
  if (previousCount !== next.swarmCount) {
    events.push(event(SwarmEvent.SwarmCountChanged, {previous: previousCount, current: next.swarmCount}));
  }
  events.push(...nodeEvents(prev, next));
  events.push(...ourEvents(prev, next, ourNodeId));
  return events;
}

function nodeEvents<T extends DiffableMember>(prev: SwarmView<T> | null, next: SwarmView<T>): AnySwarmEvent[] {
  const left: AnySwarmEvent[] = [];
  const joined: AnySwarmEvent[] = [];
  const moved: AnySwarmEvent[] = [];
  const updated: AnySwarmEvent[] = [];
  for (const old of prev?.nodes() ?? []) {
    if (next.node(old.nodeId) === null) {
      left.push(event(SwarmEvent.NodeLeft, {nodeId: old.nodeId, swarmId: mustSwarm(prev, old.nodeId)}));
    }
  }
  for (const current of next.nodes()) {
    const nodeId = current.nodeId;
    const to = mustSwarm(next, nodeId);
    const old = prev?.node(nodeId) ?? null;
    if (old === null) {
      joined.push(event(SwarmEvent.NodeJoined, {nodeId, swarmId: to}));
      continue;
    }
    const from = mustSwarm(prev, nodeId);
    if (from !== to) moved.push(event(SwarmEvent.NodeMoved, {nodeId, from, to}));
    if (old.timestamp !== current.timestamp) {
      updated.push(event(SwarmEvent.NodeUpdated, {nodeId, previousTimestamp: old.timestamp, timestamp: current.timestamp}));
    }
  }
  return [...left, ...joined, ...moved, ...updated];
}

function ourEvents<T extends DiffableMember>(
  prev: SwarmView<T> | null,
  next: SwarmView<T>,
  ourNodeId: string,
): AnySwarmEvent[] {
  const events: AnySwarmEvent[] = [];
  const previous = prev?.swarmOfNode(ourNodeId) ?? null;
  const current = next.swarmOfNode(ourNodeId);
  if (previous !== current) events.push(event(SwarmEvent.OurSwarmChanged, {previous, current}));
  const before = new Set((prev?.peersOf(ourNodeId) ?? []).map((r) => r.nodeId));
  const after = new Set(next.peersOf(ourNodeId).map((r) => r.nodeId));
  const joined = [...after].filter((id) => !before.has(id)).sort();
  const left = [...before].filter((id) => !after.has(id)).sort();
  if (joined.length > 0 || left.length > 0) {
    events.push(event(SwarmEvent.OurSwarmPeersChanged, {swarmId: current, joined, left}));
  }
  return events;
}

function mustSwarm<T extends DiffableMember>(view: SwarmView<T> | null, nodeId: string): bigint {
  const swarmId = view?.swarmOfNode(nodeId) ?? null;
  // Unreachable: callers only ask about nodes that `view.nodes()`/`view.node()` returned.
  if (swarmId === null) throw new Error(`node ${nodeId} has no swarm in its own view`);
  return swarmId;
}

function event<E extends SwarmEvent>(type: E, data: SwarmEventData[E]): AnySwarmEvent {
  return {type, data} as AnySwarmEvent;
}
