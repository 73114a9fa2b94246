/**
 * Registry membership source against a local HTTP registry (fastify on 127.0.0.1 port 0): 503 until
 * the first good document (the registry first answers 500), then serving; garbage, timeouts and
 * errors keep the last good view; a changed document is picked up by polling.
 */
import Fastify, {type FastifyInstance} from "fastify";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {SwarmHarness, getJson, rpc, waitFor} from "../utils/swarm-harness.js";

type Behaviour = {kind: "status"; status: number} | {kind: "body"; body: string} | {kind: "hang"};

let behaviour: Behaviour = {kind: "status", status: 500};
let requests = 0;
let registry: FastifyInstance;
let h: SwarmHarness;

beforeAll(async () => {
  registry = Fastify();
  registry.get("/nodes.json", async (_req, reply) => {
    requests++;
    const b = behaviour;
    if (b.kind === "status") return reply.code(b.status).send("registry down");
    if (b.kind === "hang") return new Promise(() => undefined); // never answers; the node's deadline must fire
    return reply.type("application/json").send(b.body);
  });
  const url = await registry.listen({host: "127.0.0.1", port: 0});
  h = new SwarmHarness({mode: "balanced", registryUrl: `${url}/nodes.json`, pollIntervalMs: 300, requestTimeoutMs: 500});
  for (const label of ["registry/0", "registry/1", "registry/2"]) await h.startNode(label);
});

afterAll(async () => {
  await h.close();
  await registry.close();
});

const doc = (nodes: unknown[]): string => JSON.stringify({version: 1, network_id: 7072, generated_at: Date.now(), nodes});

async function nodeCounts(): Promise<number[]> {
  return Promise.all(h.nodes.map(async (n) => ((await getJson(n.pool, "/network/v1/nodes")).body?.nodes?.length as number) ?? -1));
}

describe("registry membership source", () => {
  it("answers 503 while the registry fails, then serves once a document arrives", async () => {
    await waitFor("a few failed polls", () => requests >= 3 * 2);
    for (const n of h.nodes) {
      expect(await rpc(n.pool, "info", {})).toEqual({status: 503, body: "Service node is not ready: membership not loaded\n"});
      expect(n.warnings.some((w) => w.msg === "membership source failed; no membership loaded yet" && String(w.reason).includes("HTTP 500"))).toBe(true);
    }
    behaviour = {kind: "body", body: doc(await h.nodeRecords())};
    await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
    expect(await nodeCounts()).toEqual([3, 3, 3]);
  });

  it("keeps the last good view through garbage, errors and a registry that never answers", async () => {
    const bad: Behaviour[] = [
      {kind: "body", body: "<html>not json</html>"},
      {kind: "body", body: JSON.stringify({version: 2, network_id: 7072, nodes: []})},
      {kind: "body", body: doc([{nodeId: "zz"}, 42])},
      {kind: "status", status: 404},
      {kind: "hang"},
    ];
    for (const b of bad) {
      const before = requests;
      behaviour = b;
      await waitFor("two more polls", () => requests >= before + 2 * h.nodes.length, 10_000);
      expect(await nodeCounts(), JSON.stringify(b).slice(0, 60)).toEqual([3, 3, 3]);
      for (const n of h.nodes) expect((await rpc(n.pool, "info", {})).status).toBe(200);
    }
    const reasons = h.nodes[0]!.warnings.map((w) => String(w.reason ?? w.msg));
    expect(reasons.some((r) => r.startsWith("not JSON"))).toBe(true);
    expect(reasons.some((r) => r.includes("HTTP 404"))).toBe(true);
    expect(reasons.some((r) => r.includes("no complete answer within"))).toBe(true);
  }, 60_000);

  it("picks up a changed document: a node removed from the registry stops serving", async () => {
    const records = await h.nodeRecords();
    const dropped = h.nodes[2]!;
    behaviour = {kind: "body", body: doc(records.filter((r) => r.nodeId !== dropped.node.nodeId))};
    await waitFor("2 nodes everywhere", async () => (await nodeCounts()).every((c) => c === 2));
    expect(await rpc(dropped.pool, "info", {})).toEqual({status: 503, body: "Service node is not ready: not in any swarm\n"});
    expect((await rpc(h.nodes[0]!.pool, "info", {})).status).toBe(200);
  });
});
