/**
 * The empty-swarm rule end to end (docs/PROTOCOL.md Swarms §1.3): six nodes whose ML-DSA keys all
 * hash to swarm 0 of 2 (pip0008), so swarm 1 is empty. Accounts of swarm 1 are served by the next
 * non-empty swarm (wrapping: swarm 0) on every node, and nothing answers 421 for them.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {userSwarm} from "../../src/swarm/mapping.js";
import {sessionAccount} from "../utils/keys.js";
import {SwarmHarness, getJson, pickLabels, rpc, waitFor} from "../utils/swarm-harness.js";

const h = new SwarmHarness({mode: "pip0008"});
afterAll(() => h.close());

beforeAll(async () => {
  const labels = await pickLabels("empty", 2, Array.from({length: 6}, () => (s: bigint) => s === 0n));
  for (const label of labels) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("all ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
});

describe("an empty swarm", () => {
  it("is reported, and its accounts are served by the next non-empty swarm on every node", async () => {
    const view = (await getJson(h.nodes[0]!.pool, "/network/v1/nodes")).body;
    expect(view).toMatchObject({swarm_count: 2, empty_swarms: ["1"]});
    let acc = sessionAccount();
    while (userSwarm(acc.hex, 2) !== 1n) acc = sessionAccount();
    const all = h.nodes.map((n) => n.node.nodeId).sort();
    for (const n of h.nodes) {
      const swarm = await rpc(n.pool, "get_swarm", {pubkey: acc.hex});
      expect(swarm.body.swarm).toBe("0");
      expect(swarm.body.snodes.map((s: {node_id: string}) => s.node_id).sort()).toEqual(all);
      const store = await rpc(n.pool, "store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 60_000, data: "aGk="});
      expect(store.status, `store at ${n.label}`).toBe(200);
    }
  });
});
