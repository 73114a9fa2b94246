/**
 * A replayed bulk delete must not delete more than the original did (docs/PROTOCOL.md
 * (Replication) §4.1). A swarm of three on loopback; C is stopped, the client clears its mailbox at
 * A (delete_all), or shortens every expiry to ten minutes from now (expire_all) — C's forward is
 * persisted as a retry — and then stores a new message. When C comes back, A's retries push the new
 * message first, then re-deliver the request (delete_all: a replay inside its ±70 s window;
 * expire_all: the caps it set). C must leave the new message alone, and anti-entropy must leave
 * every member with the new message, untouched, and the old ones deleted or capped.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {sessionAccount, sessionHash, type SessionAccount} from "../utils/keys.js";
import {SwarmHarness, antiEntropyRound, pickLabels, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

// Retries only run when C shows a sign of life (the first back-off is a minute away), so A
// delivers them in one go, stores first: the new message reaches C before the replayed delete.
const h = new SwarmHarness({
  mode: "pip0008",
  flags: {"replication.antiEntropyIntervalMs": "1000", "replication.retryInitialMs": "60000", "replication.retryMaxMs": "60000"},
});

const TTL_MS = 3_600_000;
const CAP_IN_MS = 600_000;

afterAll(() => h.close());

beforeAll(async () => {
  for (const label of await pickLabels("replayed-delete", 1, [() => true, () => true, () => true])) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
});

const expiryAt = (n: TestNode, account: string, hash: string): number | undefined => n.node.store.getExpiries(account, [hash]).get(hash);
const holds = (n: TestNode, account: string, hash: string): boolean => expiryAt(n, account, hash) !== undefined;

async function store(n: TestNode, acc: SessionAccount, text: string, timestamp: number): Promise<string> {
  const res = await rpc(n.pool, "store", {pubkey: acc.hex, timestamp, ttl: TTL_MS, data: Buffer.from(text).toString("base64")});
  expect(res.status, `store ${text}`).toBe(200);
  return sessionHash(acc.hex, 0, Buffer.from(text));
}

type Bulk = "delete_all" | "expire_all";

/** The client's signed delete_all (timestamp now), or expire_all to ten minutes from now. */
function bulkParams(method: Bulk, acc: SessionAccount, at: number): Record<string, unknown> {
  const value = method === "delete_all" ? at : at + CAP_IN_MS;
  const signature = acc.ed.sign(`${method}${value}`).toString("base64");
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), [method === "delete_all" ? "timestamp" : "expiry"]: value, signature};
}

describe.each<Bulk>(["delete_all", "expire_all"])("a %s retried to a member that was down", (method) => {
  it("affects what the client's request covered and not the message sent after it, on every member", async () => {
    const [a, b, c] = [...h.nodes].sort((x, y) => x.label.localeCompare(y.label)) as [TestNode, TestNode, TestNode];
    const acc = sessionAccount();
    const old = [await store(a, acc, "old 1", Date.now() - 5_000), await store(b, acc, "old 2", Date.now())];
    for (const n of h.nodes) for (const hash of old) expect(holds(n, acc.hex, hash), `${hash} at ${n.label}`).toBe(true);

    const {label, port} = c;
    const downId = c.node.nodeId;
    await h.stopNode(c);
    const at = Date.now();
    const res = await rpc(a.pool, method, bulkParams(method, acc, at));
    expect(res.status).toBe(200);
    // A stopped member refuses connections: said as such, not as a timeout (issue #11 item 6).
    expect(res.body.swarm[downId]).toEqual({failed: true, unreachable: true, reason: "connect ECONNREFUSED"});
    // The client's next message, sent right after the request.
    const sentAt = Math.max(Date.now(), at + 1);
    const fresh = await store(a, acc, `sent after ${method}`, sentAt);
    expect(a.node.replication!.stats().pendingRetries[downId], "C's persisted retries at A").toBe(2);

    const back = await h.startNode(label, {port});
    // What the old messages must look like everywhere: gone, or capped.
    const oldDone = (n: TestNode): boolean =>
      old.every((hash) => (method === "delete_all" ? !holds(n, acc.hex, hash) : expiryAt(n, acc.hex, hash) === at + CAP_IN_MS));
    await waitFor("A's retries for C to drain", () => a.node.replication!.stats().pendingRetries[downId] === undefined, 20_000);
    await waitFor("the request to take effect at C", () => oldDone(back), 10_000);
    await antiEntropyRound([a, b, back]);
    for (const n of [a, b, back]) {
      expect(expiryAt(n, acc.hex, fresh), `the message sent after ${method}, at ${n.label}`).toBe(sentAt + TTL_MS);
      expect(oldDone(n), `the old messages at ${n.label}`).toBe(true);
    }
  });
});
