import {describe, expect, it} from "vitest";
import {userSwarm} from "../../../src/swarm/mapping.js";
import {buildSwarmView} from "../../../src/swarm/view.js";
import {fakeMember} from "./helpers.js";

type Member = ReturnType<typeof fakeMember>;

/** First deterministic 6-node set (2 swarms) in which PIP-0008 leaves a swarm empty. */
function setWithEmptySwarm(): Member[] {
  for (let seed = 0; seed < 10_000; seed++) {
    const members = Array.from({length: 6}, (_, i) => fakeMember(`empty/${seed}/${i}`));
    if (buildSwarmView(members, "pip0008").emptySwarmIds().length > 0) return members;
  }
  throw new Error("no set with an empty swarm found");
}

function accountIn(swarmId: bigint, count: number): string {
  for (let i = 0; ; i++) {
    const account = `05${i.toString(16).padStart(64, "0")}`;
    if (userSwarm(account, count) === swarmId) return account;
  }
}

describe("buildSwarmView", () => {
  const members = Array.from({length: 23}, (_, i) => fakeMember(`v${i}`));

  it("indexes nodes by swarm, sorted by nodeId, in both modes", () => {
    for (const mode of ["pip0008", "balanced"] as const) {
      const view = buildSwarmView(members, mode);
      expect(view.swarmCount, mode).toBe(5);
      expect(view.nodeCount, mode).toBe(23);
      expect(view.swarmIds(), mode).toEqual([0n, 1n, 2n, 3n, 4n]);
      let total = 0;
      for (const id of view.swarmIds()) {
        const ids = view.membersOf(id).map((m) => m.nodeId);
        expect(ids, `${mode} swarm ${id}`).toEqual([...ids].sort());
        for (const nodeId of ids) expect(view.swarmOfNode(nodeId), nodeId).toBe(id);
        total += ids.length;
      }
      expect(total, mode).toBe(23);
      expect(view.nodes().map((m) => m.nodeId), mode).toEqual(members.map((m) => m.nodeId).sort());
    }
  });

  it("is independent of input order", () => {
    const a = buildSwarmView(members, "pip0008");
    const b = buildSwarmView([...members].reverse(), "pip0008");
    for (const id of a.swarmIds()) expect(b.membersOf(id), `swarm ${id}`).toEqual(a.membersOf(id));
  });

  it("maps accounts with userSwarm(account, count) and lists the members", () => {
    const view = buildSwarmView(members, "balanced");
    const account = `07${"5a".repeat(32)}`;
    const swarmId = userSwarm(account, 5);
    expect(view.swarmForAccount(account)).toBe(swarmId);
    expect(view.swarmForAccount(account.toUpperCase())).toBe(swarmId);
    const result = view.membersForAccount(account);
    expect(result.served).toBe(true);
    expect(result.members).toEqual(view.membersOf(swarmId));
    const member = result.members[0];
    expect(member && view.isAccountForNode(account, member.nodeId)).toBe(true);
  });

  it("represents an empty PIP-0008 swarm explicitly: users there have no serving nodes", () => {
    const set = setWithEmptySwarm();
    const view = buildSwarmView(set, "pip0008");
    const [empty] = view.emptySwarmIds();
    if (empty === undefined) throw new Error("unreachable");
    expect(view.membersOf(empty)).toEqual([]);
    const account = accountIn(empty, view.swarmCount);
    expect(view.membersForAccount(account)).toEqual({swarmId: empty, served: false, members: []});
    for (const m of set) expect(view.isAccountForNode(account, m.nodeId), m.nodeId).toBe(false);
    // The balanced mode serves the same users from the same membership.
    expect(buildSwarmView(set, "balanced").membersForAccount(account).served).toBe(true);
  });

  it("returns empty lists for unknown nodes and swarms, and peersOf excludes the node", () => {
    const view = buildSwarmView(members, "balanced");
    expect(view.node("ff".repeat(32))).toBeNull();
    expect(view.swarmOfNode("ff".repeat(32))).toBeNull();
    expect(view.peersOf("ff".repeat(32))).toEqual([]);
    expect(view.membersOf(99n)).toEqual([]);
    const first = members[0] as Member;
    const peers = view.peersOf(first.nodeId);
    expect(peers.map((p) => p.nodeId)).not.toContain(first.nodeId);
    expect(peers.length).toBe(view.membersOf(view.swarmOfNode(first.nodeId) ?? -1n).length - 1);
  });

  it("has a single (empty) swarm with no nodes", () => {
    const view = buildSwarmView([], "pip0008");
    expect(view.swarmCount).toBe(1);
    expect(view.emptySwarmIds()).toEqual([0n]);
    expect(view.membersForAccount(`05${"00".repeat(32)}`).served).toBe(false);
  });

  it("returns frozen member lists", () => {
    const view = buildSwarmView(members, "pip0008");
    expect(Object.isFrozen(view.membersOf(0n))).toBe(true);
  });
});
