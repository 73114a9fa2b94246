/**
 * Relocation with real nodes on loopback: five nodes form one swarm (count 1); a sixth makes the
 * count 2, so about half of the accounts move to the other swarm. Every message must end up held
 * by exactly the members of the swarm that now serves its account: none lost, none left behind
 * (Session's issue #470). A deleted message must not be resurrected by the move.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {sessionAccount, sessionHash, type SessionAccount} from "../utils/keys.js";
import {SwarmHarness, pickLabels, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

const h = new SwarmHarness({
  mode: "pip0008",
  flags: {"replication.antiEntropyIntervalMs": "1000", "replication.retryInitialMs": "100", "replication.retryMaxMs": "1000"},
});
let labels: string[] = [];
const messages: Array<{account: string; hash: string}> = [];
let buried: {account: string; hash: string} | null = null;

afterAll(() => h.close());

beforeAll(async () => {
  const isSwarm = (id: bigint) => (s: bigint) => s === id;
  labels = await pickLabels("reloc", 2, [isSwarm(0n), isSwarm(0n), isSwarm(0n), isSwarm(1n), isSwarm(1n), isSwarm(1n)]);
  for (const label of labels.slice(0, 5)) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("five ready nodes", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
});

const holds = (n: TestNode, m: {account: string; hash: string}): boolean => n.node.store.getExpiries(m.account, [m.hash]).has(m.hash);

/** Node IDs of the swarm serving `account`, as the first node's get_swarm says. */
async function servingIds(account: string): Promise<string[]> {
  const res = await rpc(h.nodes[0]!.pool, "get_swarm", {pubkey: account});
  return (res.body.snodes as Array<{node_id: string}>).map((s) => s.node_id).sort();
}

async function store(acc: SessionAccount, text: string, at: TestNode): Promise<{account: string; hash: string}> {
  const res = await rpc(at.pool, "store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")});
  expect(res.status).toBe(200);
  return {account: acc.hex, hash: sessionHash(acc.hex, 0, Buffer.from(text))};
}

describe("a swarm count change", () => {
  it("stores land on all five nodes of the single swarm", async () => {
    const accounts = Array.from({length: 30}, () => sessionAccount());
    for (const [i, acc] of accounts.entries()) {
      messages.push(...(await Promise.all([0, 1, 2, 3, 4].map((k) => store(acc, `m${i}/${k}`, h.nodes[(i + k) % 5]!)))));
    }
    const victim = accounts[0]!;
    buried = await store(victim, "deleted before the move", h.nodes[0]!);
    const sig = victim.ed.sign(`delete${buried.hash}`).toString("base64");
    const del = await rpc(h.nodes[1]!.pool, "delete", {pubkey: victim.hex, pubkey_ed25519: victim.ed.pub.toString("hex"), messages: [buried.hash], signature: sig});
    expect(del.status).toBe(200);
    for (const n of h.nodes) expect(messages.every((m) => holds(n, m)), n.label).toBe(true);
  });

  it("relocates every message to exactly the members of its new swarm", async () => {
    await h.startNode(labels[5]!);
    h.writeMembership(await h.nodeRecords());
    await waitFor("two swarms on every node", () => h.nodes.every((n) => n.node.membership?.snapshot?.view.swarmCount === 2));
    const expected = new Map<string, string[]>();
    for (const m of messages) expected.set(m.account, expected.get(m.account) ?? (await servingIds(m.account)));
    expect(new Set([...expected.values()].map((ids) => ids.join())).size, "accounts in both swarms").toBe(2);
    const placedRight = (): boolean =>
      messages.every((m) => h.nodes.every((n) => holds(n, m) === expected.get(m.account)!.includes(n.node.nodeId)));
    await waitFor("every message on exactly its swarm's members", placedRight, 30_000);
    for (const n of h.nodes) expect(holds(n, buried!), `deleted message at ${n.label}`).toBe(false);
  });
});
