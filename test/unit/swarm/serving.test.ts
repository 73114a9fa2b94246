import {describe, expect, it} from "vitest";
import {ServingMap} from "../../../src/swarm/serving.js";
import {buildSwarmView, type SwarmView} from "../../../src/swarm/view.js";
import {fakeMember} from "./helpers.js";

type Member = ReturnType<typeof fakeMember>;

/** The first pip0008 view of `n` fake members (label sets set<k>/…) satisfying `want`. */
function findView(n: number, want: (v: SwarmView<Member>) => boolean): SwarmView<Member> {
  for (let k = 0; k < 5000; k++) {
    const view = buildSwarmView(Array.from({length: n}, (_, i) => fakeMember(`set${k}/${i}`)), "pip0008");
    if (want(view)) return view;
  }
  throw new Error("no such view");
}

/** The rule, written out the slow way: the first non-empty ID at or after `natural`, wrapping. */
function expectedServing(view: SwarmView<Member>, natural: bigint): bigint {
  const ids = view.swarmIds();
  for (let step = 0; step < ids.length; step++) {
    const id = (natural + BigInt(step)) % BigInt(view.swarmCount);
    if (view.membersOf(id).length > 0) return id;
  }
  throw new Error("all swarms empty");
}

function account(i: number): string {
  return `05${i.toString(16).padStart(64, "0")}`;
}

describe("ServingMap (empty-swarm rule)", () => {
  it("serves a non-empty swarm's accounts in that swarm", () => {
    const view = buildSwarmView(Array.from({length: 23}, (_, i) => fakeMember(`balanced/${i}`)), "balanced");
    const map = new ServingMap(view);
    for (let i = 0; i < 200; i++) {
      const serving = map.servingSwarm(account(i));
      expect(serving?.swarmId, `account ${i}`).toBe(serving?.natural);
      expect(serving?.members).toEqual(view.membersOf(serving!.swarmId));
    }
  });

  it("moves an empty swarm's accounts to the next non-empty swarm ID", () => {
    const view = findView(11, (v) => v.emptySwarmIds().some((id) => id < BigInt(v.swarmCount - 1) && v.membersOf(id + 1n).length > 0));
    const map = new ServingMap(view);
    for (const natural of view.swarmIds()) expect(map.servingSwarmId(natural), `natural ${natural}`).toBe(expectedServing(view, natural));
    const empty = view.emptySwarmIds()[0]!;
    expect(map.servingSwarmId(empty)).toBeGreaterThan(empty);
  });

  it("wraps around to the lowest non-empty ID after the last swarm", () => {
    const view = findView(6, (v) => v.membersOf(BigInt(v.swarmCount - 1)).length === 0);
    const map = new ServingMap(view);
    const last = BigInt(view.swarmCount - 1);
    const lowest = view.swarmIds().find((id) => view.membersOf(id).length > 0);
    expect(map.servingSwarmId(last)).toBe(lowest);
    for (let i = 0; i < 300; i++) {
      const serving = map.servingSwarm(account(i))!;
      expect(serving.swarmId).toBe(expectedServing(view, serving.natural));
      expect(serving.members.length).toBeGreaterThan(0);
    }
  });

  it("has nothing to serve with without nodes", () => {
    const map = new ServingMap(buildSwarmView<Member>([], "pip0008"));
    expect(map.servingSwarm(account(1))).toBeNull();
  });

  it("rejects malformed account IDs", () => {
    const map = new ServingMap(buildSwarmView([fakeMember("x")], "pip0008"));
    expect(() => map.servingSwarm("05zz")).toThrow(/66 hex/);
  });
});
