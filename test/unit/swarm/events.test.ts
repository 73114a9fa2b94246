import {describe, expect, it} from "vitest";
import {SwarmEvent, diffViews, type AnySwarmEvent} from "../../../src/swarm/events.js";
import {buildSwarmView} from "../../../src/swarm/view.js";
import {fakeMember} from "./helpers.js";

type Member = ReturnType<typeof fakeMember>;
const base: Member[] = Array.from({length: 12}, (_, i) => fakeMember(`e${i}`)); // 12 nodes: 3 swarms

function ofType<E extends SwarmEvent>(events: AnySwarmEvent[], type: E): AnySwarmEvent[] {
  return events.filter((e) => e.type === type);
}

describe("diffViews", () => {
  it("reports nothing for identical memberships", () => {
    const a = buildSwarmView(base, "pip0008");
    const b = buildSwarmView([...base].reverse(), "pip0008");
    expect(diffViews(a, b, (base[0] as Member).nodeId)).toEqual([]);
  });

  it("reports a join without a count change (PIP-0008: nobody else moves)", () => {
    const joiner = fakeMember("joiner");
    const prev = buildSwarmView(base, "pip0008");
    const next = buildSwarmView([...base, joiner], "pip0008"); // 13 nodes: still 3 swarms
    const events = diffViews(prev, next, "00".repeat(32));
    expect(events).toEqual([
      {type: SwarmEvent.NodeJoined, data: {nodeId: joiner.nodeId, swarmId: next.swarmOfNode(joiner.nodeId)}},
    ]);
  });

  it("reports a leave", () => {
    const leaver = base[5] as Member;
    const prev = buildSwarmView(base, "pip0008");
    const next = buildSwarmView(base.filter((m) => m !== leaver), "pip0008"); // 11 nodes: 3 swarms
    expect(ofType(diffViews(prev, next, "00".repeat(32)), SwarmEvent.NodeLeft)).toEqual([
      {type: SwarmEvent.NodeLeft, data: {nodeId: leaver.nodeId, swarmId: prev.swarmOfNode(leaver.nodeId)}},
    ]);
  });

  it("reports a swarm count change first, then joins and the nodes that moved", () => {
    const prev = buildSwarmView(base.slice(0, 10), "pip0008"); // 2 swarms
    const next = buildSwarmView(base.slice(0, 11), "pip0008"); // 3 swarms
    const events = diffViews(prev, next, "00".repeat(32));
    expect(events[0]).toEqual({type: SwarmEvent.SwarmCountChanged, data: {previous: 2, current: 3}});
    expect(ofType(events, SwarmEvent.NodeJoined)).toHaveLength(1);
    const moved = ofType(events, SwarmEvent.NodeMoved);
    const expected = base.slice(0, 10).filter((m) => prev.swarmOfNode(m.nodeId) !== next.swarmOfNode(m.nodeId));
    expect(moved.map((e) => (e.data as {nodeId: string}).nodeId)).toEqual(expected.map((m) => m.nodeId).sort());
  });

  it("reports our swarm changing and our peers changing", () => {
    const ours = base.find((m) => {
      const prev = buildSwarmView(base.slice(0, 10), "pip0008").swarmOfNode(m.nodeId);
      return prev !== buildSwarmView(base.slice(0, 11), "pip0008").swarmOfNode(m.nodeId);
    });
    if (ours === undefined) throw new Error("fixture: no node moves between 2 and 3 swarms");
    const prev = buildSwarmView(base.slice(0, 10), "pip0008");
    const next = buildSwarmView(base.slice(0, 11), "pip0008");
    const events = diffViews(prev, next, ours.nodeId);
    expect(ofType(events, SwarmEvent.OurSwarmChanged)).toEqual([
      {
        type: SwarmEvent.OurSwarmChanged,
        data: {previous: prev.swarmOfNode(ours.nodeId), current: next.swarmOfNode(ours.nodeId)},
      },
    ]);
    const [peers] = ofType(events, SwarmEvent.OurSwarmPeersChanged);
    const before = prev.peersOf(ours.nodeId).map((m) => m.nodeId);
    const after = next.peersOf(ours.nodeId).map((m) => m.nodeId);
    expect(peers?.data).toEqual({
      swarmId: next.swarmOfNode(ours.nodeId),
      joined: after.filter((id) => !before.includes(id)).sort(),
      left: before.filter((id) => !after.includes(id)).sort(),
    });
  });

  it("reports our node joining and leaving the membership", () => {
    const ours = base[3] as Member;
    const without = buildSwarmView(base.filter((m) => m !== ours), "pip0008");
    const withUs = buildSwarmView(base, "pip0008");
    const joined = ofType(diffViews(without, withUs, ours.nodeId), SwarmEvent.OurSwarmChanged);
    expect(joined).toEqual([
      {type: SwarmEvent.OurSwarmChanged, data: {previous: null, current: withUs.swarmOfNode(ours.nodeId)}},
    ]);
    const left = ofType(diffViews(withUs, without, ours.nodeId), SwarmEvent.OurSwarmChanged);
    expect(left).toEqual([
      {type: SwarmEvent.OurSwarmChanged, data: {previous: withUs.swarmOfNode(ours.nodeId), current: null}},
    ]);
  });

  it("reports an updated record (new timestamp) without other events", () => {
    const prev = buildSwarmView(base, "balanced");
    const changed = {...(base[2] as Member), timestamp: 99};
    const next = buildSwarmView(base.map((m) => (m.nodeId === changed.nodeId ? changed : m)), "balanced");
    expect(diffViews(prev, next, "00".repeat(32))).toEqual([
      {type: SwarmEvent.NodeUpdated, data: {nodeId: changed.nodeId, previousTimestamp: 0, timestamp: 99}},
    ]);
  });

  it("treats a missing previous view as an empty network", () => {
    const next = buildSwarmView(base, "pip0008");
    const ours = base[0] as Member;
    const events = diffViews(null, next, ours.nodeId);
    expect(events[0]).toEqual({type: SwarmEvent.SwarmCountChanged, data: {previous: 0, current: 3}});
    expect(ofType(events, SwarmEvent.NodeJoined)).toHaveLength(12);
    expect(ofType(events, SwarmEvent.OurSwarmChanged)).toHaveLength(1);
    const types = events.map((e) => e.type);
    expect(types.indexOf(SwarmEvent.OurSwarmChanged)).toBeGreaterThan(types.lastIndexOf(SwarmEvent.NodeJoined));
  });

  it("in balanced mode, lists as moved exactly the nodes whose slice changed", () => {
    const prev = buildSwarmView(base, "balanced");
    const next = buildSwarmView([fakeMember("j2"), ...base], "balanced");
    const events = diffViews(prev, next, "00".repeat(32));
    expect(ofType(events, SwarmEvent.NodeJoined)).toHaveLength(1);
    const moved = ofType(events, SwarmEvent.NodeMoved).map((e) => (e.data as {nodeId: string}).nodeId);
    const expected = base.filter((m) => prev.swarmOfNode(m.nodeId) !== next.swarmOfNode(m.nodeId));
    expect(moved).toEqual(expected.map((m) => m.nodeId).sort());
  });
});
