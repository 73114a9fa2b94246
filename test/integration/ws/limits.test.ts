/**
 * Slow or hostile clients: connection limits, oversize frames, a client that stops reading, one
 * that never answers pings, and shutdown. Each closing case checks the close code and reason the
 * client sees and the node's drop counters.
 */
import {afterEach, describe, expect, it, vi} from "vitest";
import {MAX_MESSAGE_BODY_BYTES} from "../../../src/protocol/limits.js";
import {sessionAccount} from "../../utils/keys.js";
import {seconds, startWsNode, sub05, TestClient, type WsTestNode} from "./harness.js";

let node: WsTestNode | null = null;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate();
  await node?.close();
  node = null;
});

async function connect(url: string, opts = {}): Promise<TestClient> {
  const c = await TestClient.connect(url, opts);
  clients.push(c);
  return c;
}

function finalError(c: TestClient): any {
  return c.frames.find((f) => f.type === "error" && f.reason !== undefined);
}

describe("connection limits", () => {
  it("closes connections over the per-IP limit with 1013 and a reason; frees the slot on close", async () => {
    node = await startWsNode({ws: {maxConnectionsPerIp: 2}});
    const a = await connect(node.url);
    await connect(node.url);
    const third = await connect(node.url);
    const reason = "too many connections from this address (at most 2)";
    expect(await third.closed).toEqual({code: 1013, reason});
    expect(finalError(third)).toEqual({type: "error", code: "WS_ERROR_TOO_MANY_CONNECTIONS", error: reason, reason});
    expect(node.ws.stats()).toMatchObject({connections: 2, drops: 1, dropsByReason: {WS_ERROR_TOO_MANY_CONNECTIONS: 1}});

    a.close();
    await a.closed;
    await expect.poll(() => node!.ws.stats().connections).toBe(1);
    const fourth = await connect(node.url);
    await fourth.sync();
  });

  it("closes connections over the node-wide limit", async () => {
    node = await startWsNode({ws: {maxConnections: 1}});
    await connect(node.url);
    const second = await connect(node.url);
    expect(await second.closed).toEqual({code: 1013, reason: "too many connections on this node"});
    expect(finalError(second).code).toBe("WS_ERROR_SERVER_FULL");
  });
});

describe("inbound frames", () => {
  it("closes on a frame over maxInboundFrameBytes with 1009 (ws layer, before buffering it)", async () => {
    node = await startWsNode({ws: {maxInboundFrameBytes: 1024}});
    const c = await connect(node.url);
    await c.sync();
    c.send({id: 1, type: "ping", pad: "x".repeat(2000)});
    expect((await c.closed).code).toBe(1009);
    expect(node.ws.stats().dropsByReason).toEqual({WS_ERROR_PROTOCOL: 1});
    await expect.poll(() => node!.ws.stats().connections).toBe(0);
  });

  it("a frame just under the limit is fine", async () => {
    node = await startWsNode({ws: {maxInboundFrameBytes: 1024}});
    const c = await connect(node.url);
    c.send({id: 1, type: "ping", pad: "x".repeat(900)});
    expect(await c.waitFor((f) => f.id === 1)).toEqual({id: 1, type: "pong"});
  });
});

describe("slow consumers", () => {
  it("closes a client that stops reading once its queue passes maxQueuedBytes; memory stays bounded", async () => {
    node = await startWsNode({ws: {maxQueuedBytes: 256 * 1024, closeGraceMs: 10_000}});
    const c = await connect(node.url);
    const acc = sessionAccount();
    const {h} = node;
    await c.subscribe(sub05(acc, [0], true, seconds(h.clock.now())));
    c.socket.pause();
    // Kernel buffers absorb several MB on loopback before ws.bufferedAmount grows.
    let stored = 0;
    while (node.ws.stats().drops === 0 && stored < 1_000) {
      const data = Buffer.alloc(MAX_MESSAGE_BODY_BYTES, stored % 256);
      await h.store.store({account: acc.hex, namespace: 0, data, hash: `h${stored}`.padEnd(43, "x"), timestamp: h.clock.now(), expiry: h.clock.now() + 60_000, replaceNamespace: false});
      stored++;
    }
    expect(node.ws.stats().dropsByReason).toEqual({WS_ERROR_SLOW_CONSUMER: 1});
    const pushed = node.ws.stats().pushes;
    expect(pushed).toBeLessThan(stored);
    await h.store.store({account: acc.hex, namespace: 0, data: Buffer.from("late"), hash: "late".padEnd(43, "x"), timestamp: h.clock.now(), expiry: h.clock.now() + 60_000, replaceNamespace: false});
    expect(node.ws.stats().pushes).toBe(pushed);

    c.socket.resume();
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^slow consumer: \d+ bytes queued$/);
    expect(finalError(c)).toMatchObject({type: "error", code: "WS_ERROR_SLOW_CONSUMER", reason: closed.reason});
    expect(c.pushes().length).toBe(pushed);
  });
});

describe("ping/pong", () => {
  it("closes a client that does not answer pings; keeps one that does", async () => {
    node = await startWsNode({ws: {pingIntervalMs: 100, pongTimeoutMs: 500, closeGraceMs: 200}});
    const silent = await connect(node.url, {autoPong: false});
    const alive = await connect(node.url);
    const closed = await silent.closed;
    expect(closed).toEqual({code: 1008, reason: "ping timeout: no pong within 500 ms"});
    expect(finalError(silent)).toMatchObject({code: "WS_ERROR_PING_TIMEOUT"});
    expect(node.ws.stats().dropsByReason).toEqual({WS_ERROR_PING_TIMEOUT: 1});
    // Three more ping rounds for the one that answers.
    let pings = 0;
    alive.socket.on("ping", () => pings++);
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(3), {timeout: 5_000, interval: 20});
    await alive.sync();
    expect(node.ws.stats().connections).toBe(1);
  });
});

describe("shutdown", () => {
  it("app.close() closes every connection with 1001 and an error frame", async () => {
    node = await startWsNode();
    const c = await connect(node.url);
    await c.subscribe(sub05(sessionAccount(), [0], false, seconds(node.h.clock.now())));
    const n = node;
    node = null;
    await n.close();
    expect(await c.closed).toEqual({code: 1001, reason: "node shutting down"});
    expect(finalError(c)).toMatchObject({code: "WS_ERROR_SHUTTING_DOWN"});
    expect(n.ws.stats()).toMatchObject({connections: 0, subscriptions: 0});
  });
});
