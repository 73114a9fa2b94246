/**
 * Nothing is lost while a member is down: a swarm of three on loopback, one member stopped during
 * 1,000 stores (its forwards are answered as timeouts and persisted), then restarted on the same
 * port. Its peers' retries and its own anti-entropy must give it every message within 30 s, and
 * messages arriving from peers are announced to the store's subscribers like local stores.
 */
import {Pool} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {StoredMessage} from "../../src/storage/interface.js";
import {sessionAccount, sessionHash} from "../utils/keys.js";
import {SwarmHarness, pickLabels, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

const STORES = 1_000;
const CONCURRENCY = 25;
const h = new SwarmHarness({
  mode: "pip0008",
  flags: {"replication.antiEntropyIntervalMs": "5000", "replication.retryInitialMs": "200", "replication.retryMaxMs": "2000"},
});

afterAll(() => h.close());

beforeAll(async () => {
  for (const label of await pickLabels("restart", 1, [() => true, () => true, () => true])) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
});

/** Stores `count` messages spread over `entries` (round-robin), `CONCURRENCY` at a time. */
async function storeMany(entries: TestNode[], count: number): Promise<Array<{account: string; hash: string; swarm: Record<string, unknown>}>> {
  const accounts = Array.from({length: 20}, () => sessionAccount());
  const pools = entries.map((n) => new Pool(n.url, {connections: CONCURRENCY, keepAliveTimeout: 10}));
  const out: Array<{account: string; hash: string; swarm: Record<string, unknown>}> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const acc = accounts[i % accounts.length]!;
      const text = `message ${i}`;
      const res = await rpc(pools[i % pools.length]!, "store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")});
      expect(res.status, `store ${i}`).toBe(200);
      out.push({account: acc.hex, hash: sessionHash(acc.hex, 0, Buffer.from(text)), swarm: res.body.swarm as Record<string, unknown>});
    }
  };
  await Promise.all(Array.from({length: CONCURRENCY}, worker));
  await Promise.all(pools.map((p) => p.close()));
  return out;
}

describe("a member stopped during 1,000 stores", () => {
  it("holds all of them within 30 s of its restart, announced as added", async () => {
    const [a, b, c] = h.nodes as [TestNode, TestNode, TestNode];
    const {label, port} = c;
    const downId = c.node.nodeId;
    await h.stopNode(c);
    const messages = await storeMany([a, b], STORES);
    // A stopped member refuses connections: reported as unreachable (PROTOCOL Replication §2), not a timeout.
    expect(messages.every((m) => (m.swarm[downId] as {unreachable?: boolean}).unreachable === true)).toBe(true);
    expect(Object.values(a.node.replication!.stats().pendingRetries).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);

    const restartedAt = Date.now();
    const back = await h.startNode(label, {port});
    const announced = new Set<string>();
    back.node.store.on("added", (added: StoredMessage[]) => added.forEach((m) => announced.add(m.hash)));
    const heldAtStart = messages.filter((m) => back.node.store.getExpiries(m.account, [m.hash]).has(m.hash)).length;
    const missing = (): number => messages.filter((m) => !back.node.store.getExpiries(m.account, [m.hash]).has(m.hash)).length;
    await waitFor("the restarted member to hold every message", () => missing() === 0, 30_000);
    const elapsed = Date.now() - restartedAt;
    expect(elapsed, "catch-up time (ms)").toBeLessThan(30_000);
    expect(heldAtStart).toBe(0);
    // With the writer thread a commit is readable a moment before its answer reaches the main
    // thread and the store announces it: wait for the announcements rather than assume them.
    await waitFor("every message announced to subscribers", () => announced.size === STORES, 5_000);
    expect(announced.size, "messages announced to subscribers").toBe(STORES);
    await waitFor("the peers' retries for it to drain", () => Object.keys(a.node.replication!.stats().pendingRetries).length === 0, 10_000);
  });
});
