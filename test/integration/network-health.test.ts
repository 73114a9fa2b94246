/**
 * `GET /network/v1/health` with real nodes on loopback: two swarms of three (pip0008, identities
 * picked per swarm), StorageProofs every second, the network view polling every 300 ms and a node
 * active while its newest proof is at most 5 epochs old (a loaded CI machine can delay a 1 s
 * epoch's proof by a few seconds; the default is 3 epochs of 10 minutes). Each check waits until
 * the whole expected state holds at once, then asserts it. Healthy with all six; after one node
 * stops, its swarm counts 2 active members and the network is unhealthy. The scarcity multiplier
 * reads the same view (docs/economics.md "Network view").
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {BYTES_PER_GB} from "../../src/economics/index.js";
import {sessionAccount} from "../utils/keys.js";
import {SwarmHarness, getJson, pickLabels, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

const FAST = {
  "proofs.epochMs": "1000",
  "proofs.challengeIntervalMs": "0",
  "networkView.pollIntervalMs": "300",
  "networkView.requestTimeoutMs": "1000",
  "networkView.activeEpochs": "5",
};
const h = new SwarmHarness({mode: "pip0008", flags: FAST});
const swarmOf = (n: TestNode): string => String(n.node.membership?.snapshot?.ourSwarm);

afterAll(() => h.close());

beforeAll(async () => {
  const isSwarm = (id: bigint) => (s: bigint) => s === id;
  const labels = await pickLabels("health", 2, [isSwarm(0n), isSwarm(0n), isSwarm(0n), isSwarm(1n), isSwarm(1n), isSwarm(1n)]);
  for (const label of labels) await h.startNode(label);
  expect((await getJson(h.nodes[0]!.pool, "/network/v1/health")).status).toBe(503);
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
});

async function health(n: TestNode): Promise<Record<string, unknown>> {
  const res = await getJson(n.pool, "/network/v1/health");
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

/** Waits until `read()` matches `expected` (a subset), then asserts it on that very value. */
async function settle(what: string, read: () => Promise<Record<string, unknown>>, expected: Record<string, unknown>, timeoutMs?: number): Promise<void> {
  let last: Record<string, unknown> = {};
  const matches = (v: Record<string, unknown>): boolean => Object.entries(expected).every(([k, e]) => v[k] === e);
  await waitFor(what, async () => matches((last = await read())), timeoutMs).catch(() => undefined);
  expect(last).toMatchObject(expected);
}

describe("GET /network/v1/health", () => {
  it("is healthy with two swarms of three active nodes, and the fee multiplier reads the network's load", async () => {
    const [a] = h.nodes as [TestNode];
    const healthy = {
      totalNodes: 6,
      activeNodes: 6,
      swarmCount: 2,
      avgNodesPerSwarm: 3,
      minSwarmSize: 3,
      storageCapacity: 60,
      storageUsed: 0,
      replicationOk: true,
      isHealthy: true,
    };
    await settle("all six nodes active in the view", () => health(a), healthy);
    expect(Object.keys(await health(a)).sort()).toEqual(Object.keys(healthy).sort());

    // A store is held by the three members of its swarm: their next proofs carry it.
    let acc = sessionAccount();
    while ((await rpc(a.pool, "get_swarm", {pubkey: acc.hex})).body.swarm !== swarmOf(a)) acc = sessionAccount();
    const data = Buffer.alloc(3_000, 7);
    const stored = await rpc(a.pool, "store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: data.toString("base64")});
    expect(stored.status).toBe(200);
    const fees = async (): Promise<Record<string, unknown>> => (await getJson(a.pool, "/economics/v1/fees")).body as Record<string, unknown>;
    await settle("the stored bytes in the network load", fees, {load_origin: "network", storage_used: 3 * data.length, storage_capacity: 6 * 10 * BYTES_PER_GB, multiplier: 1});
    await settle("used storage in the health", () => health(a), {activeNodes: 6, storageUsed: 1});
  });

  it("flips to minSwarmSize 2 and unhealthy when one node of a swarm stops", async () => {
    const [a] = h.nodes as [TestNode];
    const victim = h.nodes.find((n) => n !== a && swarmOf(n) !== swarmOf(a))!;
    const mate = h.nodes.find((n) => n !== victim && swarmOf(n) === swarmOf(victim))!;
    await h.stopNode(victim);
    const flipped = {
      totalNodes: 6,
      activeNodes: 5,
      swarmCount: 2,
      avgNodesPerSwarm: 2.5,
      minSwarmSize: 2,
      storageCapacity: 50,
      replicationOk: false,
      isHealthy: false,
    };
    for (const n of [a, mate]) await settle(`${n.label} sees the stopped node inactive`, () => health(n), flipped, 20_000);
    await settle("the load without the stopped node", async () => (await getJson(a.pool, "/economics/v1/fees")).body as Record<string, unknown>, {storage_capacity: 5 * 10 * BYTES_PER_GB});
  });
});
