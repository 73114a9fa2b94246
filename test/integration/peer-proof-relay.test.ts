/**
 * `POST /proof/v1/peer-proof` on real nodes (issue #11 item 7): an outsider relays genuine
 * StorageProofs. Six membership records make two PIP-0008 swarms; A and B (swarm 0) and C
 * (swarm 1) run, the other three are only records. Before the fix every relayed genuine proof got
 * 204; now only a swarm peer's own, newer proof is accepted: 403 for another swarm's node or a
 * node's own proof, 409 for one not newer than the proof held.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {proofToJson} from "../../src/proofs/index.js";
import {SwarmHarness, pickLabels, waitFor, type HttpResult, type TestNode} from "../utils/swarm-harness.js";

const h = new SwarmHarness({mode: "pip0008", flags: {"proofs.epochMs": "3600000", "proofs.challengeIntervalMs": "0"}});
let a: TestNode;
let b: TestNode;
let c: TestNode;

async function post(to: TestNode, body: unknown): Promise<HttpResult> {
  const res = await to.pool.request({method: "POST", path: "/proof/v1/peer-proof", body: JSON.stringify(body), headers: {"content-type": "application/json"}});
  const text = await res.body.text();
  return {status: res.statusCode, body: text === "" ? null : JSON.parse(text)};
}

beforeAll(async () => {
  const isSwarm = (id: bigint) => (s: bigint) => s === id;
  const labels = await pickLabels("relay", 2, [isSwarm(0n), isSwarm(0n), isSwarm(1n), isSwarm(0n), isSwarm(1n), isSwarm(1n)]);
  [a, b, c] = (await Promise.all(labels.slice(0, 3).map((l) => h.startNode(l)))) as [TestNode, TestNode, TestNode];
  // Records only: the three other nodes never run (their ports are those of A, B, C: never contacted here).
  const idle = await Promise.all(labels.slice(3).map((l, i) => h.record(l, [a, b, c][i]!.port)));
  h.writeMembership([...(await h.nodeRecords()), ...idle]);
  await waitFor("every node's first StorageProof", () => [a, b, c].every((n) => n.node.proofs?.latest !== null));
  await waitFor("A's proof pushed to B", () => b.node.proofs!.health.get(a.node.nodeId)?.latestProof?.timestamp === a.node.proofs!.latest!.timestamp);
}, 60_000);
afterAll(() => h.close());

describe("POST /proof/v1/peer-proof with relayed genuine proofs", () => {
  it("refuses another swarm's node (403), a node's own proof (403) and a proof not newer than the one held (409)", async () => {
    expect(String(a.node.membership?.snapshot?.ourSwarm)).toBe("0");
    expect(String(c.node.membership?.snapshot?.ourSwarm)).toBe("1");
    const fromC = await post(a, proofToJson(c.node.proofs!.latest!));
    expect(fromC.status).toBe(403);
    expect(fromC.body).toMatchObject({error: "PROOF_ERROR_NOT_SWARM_PEER", message: expect.stringContaining("not a peer in our swarm") as string});
    expect(a.node.proofs!.health.get(c.node.nodeId)?.latestProof ?? null).toBeNull();

    expect((await post(a, proofToJson(a.node.proofs!.latest!))).status).toBe(403);

    const again = await post(b, proofToJson(a.node.proofs!.latest!));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({error: "PROOF_ERROR_STALE"});
  });

  it("accepts a swarm peer's own newer proof (its push goes through the route), then refuses a relayed copy (409)", async () => {
    const held = b.node.proofs!.health.get(a.node.nodeId)!.latestProof!.timestamp;
    const newer = await a.node.proofs!.runEpoch(); // pushed by A through B's route (the push fails unless 204)
    expect(newer!.timestamp).toBeGreaterThan(held);
    await waitFor("A's newer proof at B", () => b.node.proofs!.health.get(a.node.nodeId)?.latestProof?.timestamp === newer!.timestamp);
    expect((await post(b, proofToJson(newer!))).status, "A's own push got there first").toBe(409);
    // The network view takes the pushed proof too.
    expect(b.node.network!.view.get(a.node.nodeId)?.timestamp).toBe(newer!.timestamp);
  });
});

describe("GET /health on a node with storage proofs", () => {
  it("says the node answers challenges (a proof is signed) and that no refresh runs", async () => {
    const res = await a.pool.request({method: "GET", path: "/health"});
    const body = (await res.body.json()) as {proofs?: unknown};
    expect(res.statusCode).toBe(200);
    expect(body.proofs).toEqual({proofReady: true, commitmentBuild: null});
  });
});
