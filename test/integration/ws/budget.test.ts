/**
 * The node-wide outbound budget with real sockets: its count equals what `ws` buffers for a
 * stalled connection; subscribers that stop reading (paused sockets) fill a small budget and are
 * closed with 1013 one by one, largest queue first, while a subscriber that reads keeps receiving
 * every push; the counted bytes return to zero afterwards.
 */
import {once} from "node:events";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import WebSocket, {WebSocketServer} from "ws";
import {WsConnection} from "../../../src/api/ws/connection.js";
import {defaultWsOptions} from "../../../src/api/ws/options.js";
import {OutboundBudget} from "../../../src/api/ws/outbound-budget.js";
import {MAX_MESSAGE_BODY_BYTES} from "../../../src/protocol/limits.js";
import {sessionAccount} from "../../utils/keys.js";
import {seconds, startWsNode, sub05, TestClient, type WsTestNode} from "./harness.js";

const BUDGET_BYTES = 1024 * 1024;
const SLOW_READERS = 3;
/** Loopback kernel buffers absorb several MB per paused socket before the node holds anything. */
const MAX_STORES = 1_500;

let node: WsTestNode | null = null;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate();
  await node?.close();
  node = null;
});

async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("node-wide outbound budget", () => {
  it("counts exactly the bytes ws buffers for a client that stopped reading, and none once it reads", async () => {
    const wss = new WebSocketServer({host: "127.0.0.1", port: 0, perMessageDeflate: false});
    await once(wss, "listening");
    const accepted = once(wss, "connection");
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await once(client, "open");
    const [socket] = (await accepted) as [WebSocket];
    const budget = new OutboundBudget<WsConnection>(1024 ** 3);
    const conn = new WsConnection(socket, "127.0.0.1", defaultWsOptions, {onDrop: () => undefined}, budget);
    try {
      client.pause();
      // Fill the kernel's buffers first, so that what follows stays with the node.
      while (socket.bufferedAmount === 0) {
        conn.send("k".repeat(100_000));
        await tick();
      }
      // One frame of each header size (2, 4 and 10 bytes).
      for (const n of [10, 1_000, 70_000]) conn.send(JSON.stringify({type: "message", data: "d".repeat(n)}));
      await tick();
      expect(budget.totalBytes).toBeGreaterThan(70_000);
      expect(budget.totalBytes).toBe(socket.bufferedAmount);
      expect(budget.liveBytes).toBe(budget.totalBytes);

      client.resume();
      await expect.poll(() => socket.bufferedAmount).toBe(0);
      await tick();
      expect(budget.totalBytes).toBe(0);
    } finally {
      client.terminate();
      await conn.closed;
      wss.close();
    }
    expect(budget.totalBytes).toBe(0);
  });

  it("closes stalled subscribers with 1013 once they fill the budget; a reading subscriber misses nothing", async () => {
    // Per-connection limits stay at their (much larger) defaults: only the node-wide budget can act.
    node = await startWsNode({ws: {queueBudgetBytes: BUDGET_BYTES, closeGraceMs: 30_000}});
    const {h} = node;
    const acc = sessionAccount();
    const slow = await Promise.all(Array.from({length: SLOW_READERS}, () => connect(node!.url)));
    const normal = await connect(node.url);
    // Subscribed last, the reading subscriber gets each push after the stalled ones: the frame
    // that finds the budget full is often its own, and must close a stalled connection, not it.
    for (const c of [...slow, normal]) {
      expect((await c.subscribe(sub05(acc, [0], true, seconds(h.clock.now())))).success).toBe(true);
    }
    for (const c of slow) c.socket.pause();

    const hashes: string[] = [];
    const store = async (): Promise<void> => {
      const hash = `b${hashes.length}`.padEnd(43, "x");
      const data = Buffer.alloc(MAX_MESSAGE_BODY_BYTES, hashes.length % 256);
      await h.store.store({account: acc.hex, namespace: 0, data, hash, timestamp: h.clock.now(), expiry: h.clock.now() + 60_000, replaceNamespace: false});
      hashes.push(hash);
    };
    let peakQueued = 0;
    while (node.ws.stats().budgetSheddings < SLOW_READERS && hashes.length < MAX_STORES) {
      await store();
      peakQueued = Math.max(peakQueued, node.ws.stats().queuedBytes);
    }
    // Each shed connection keeps its queue until its socket is gone; the open ones stay within the budget.
    expect(peakQueued).toBeGreaterThan(BUDGET_BYTES / 2);
    expect(peakQueued).toBeLessThanOrEqual((SLOW_READERS + 1) * BUDGET_BYTES);
    for (let i = 0; i < 5; i++) await store();

    const stats = node.ws.stats();
    expect(stats).toMatchObject({budgetSheddings: SLOW_READERS, queueBudgetBytes: BUDGET_BYTES, connections: SLOW_READERS + 1});
    expect(stats.dropsByReason).toEqual({WS_ERROR_NODE_OVERLOADED: SLOW_READERS});

    // The reading subscriber is still connected and got every message, in order.
    await normal.sync();
    expect(normal.pushes().map((p) => p.hash)).toEqual(hashes);

    // The stalled ones, once they read again, find their pushes without a gap, then the reason.
    for (const c of slow) c.socket.resume();
    for (const c of slow) {
      const closed = await c.closed;
      expect(closed.code).toBe(1013);
      expect(closed.reason).toMatch(new RegExp(`^node overloaded: outbound budget of ${BUDGET_BYTES} bytes full, \\d+ bytes queued here$`));
      expect(c.frames.at(-1)).toEqual({type: "error", code: "WS_ERROR_NODE_OVERLOADED", error: closed.reason, reason: closed.reason});
      const got = c.pushes().map((p) => p.hash);
      expect(got.length).toBeLessThan(hashes.length);
      expect(got).toEqual(hashes.slice(0, got.length));
    }

    await expect.poll(() => node!.ws.stats().connections).toBe(1);
    await expect.poll(() => node!.ws.stats().queuedBytes).toBe(0);
    await store();
    await normal.sync();
    expect(normal.pushes().length).toBe(hashes.length);
  });
});
