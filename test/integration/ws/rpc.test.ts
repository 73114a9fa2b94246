/**
 * Client RPC over the WebSocket: the same answers as POST /storage_rpc/v1, request IDs, readiness,
 * rate limiting and the in-flight cap.
 */
import {afterEach, describe, expect, it} from "vitest";
import {sessionAccount} from "../../utils/keys.js";
import {startWsNode, TestClient, type WsTestNode} from "./harness.js";

let node: WsTestNode;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await node.close();
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(node.url);
  clients.push(c);
  return c;
}

async function http(method: string, params: object): Promise<{code: number; body: unknown}> {
  const res = await node.app.inject({method: "POST", url: "/storage_rpc/v1", payload: JSON.stringify({method, params})});
  return {code: res.statusCode, body: String(res.headers["content-type"]).includes("json") ? res.json() : res.body};
}

describe("rpc frames", () => {
  it("store then retrieve, answered exactly as over HTTP", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = sessionAccount();
    const ts = node.h.clock.now();
    const store = await c.rpc("store", {pubkey: acc.hex, timestamp: ts, ttl: 60_000, data: Buffer.from("over ws").toString("base64")});
    expect(store).toMatchObject({id: store.id, type: "rpc", code: 200});
    expect(store.body.hash).toHaveLength(43);

    const params = {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature: acc.ed.sign(`retrieve${ts}`).toString("base64")};
    const overWs = await c.rpc("retrieve", params);
    expect(overWs.body.messages.map((m: {data: string}) => m.data)).toEqual([Buffer.from("over ws").toString("base64")]);
    expect({code: overWs.code, body: overWs.body}).toEqual(await http("retrieve", params));
  });

  it("answers errors with HTTP's status and plain-text body", async () => {
    node = await startWsNode();
    const c = await connect();
    expect(await c.rpc("nope", {})).toMatchObject({type: "rpc", code: 400, body: "no method nope"});
    expect(await c.request("rpc", {method: "info"})).toMatchObject({code: 400, body: "invalid json: no `params` field"});
    expect(await c.request("rpc", {params: {}})).toMatchObject({code: 400, body: "invalid json: no `method` field"});
    const bad = await c.rpc("retrieve", {pubkey: "05"});
    expect({code: bad.code, body: bad.body}).toEqual(await http("retrieve", {pubkey: "05"}));
  });

  it("gives HTTP's answer to the same bad request, not ready and rate limited too (one pipeline)", async () => {
    const notReady: string[] = [];
    node = await startWsNode({notReady: () => notReady, rateLimit: {capacity: 100, refillPerSecond: 1, maxClients: 10}});
    const c = await connect();
    const overHttp = async (req: object): Promise<{code: number; body: unknown}> => {
      const res = await node.app.inject({method: "POST", url: "/storage_rpc/v1", payload: JSON.stringify(req)});
      return {code: res.statusCode, body: String(res.headers["content-type"]).includes("json") ? res.json() : res.body};
    };
    const overWs = async (req: object): Promise<{code: number; body: unknown}> => {
      const r = await c.request("rpc", req);
      return {code: r.code, body: r.body};
    };
    const bad = [
      {params: {}},
      {method: 5, params: {}},
      {method: ["info"], params: {}},
      {method: "info"},
      {method: "info", params: []},
      {method: "info", params: "x"},
      {method: "nope", params: {}},
      {method: "retrieve", params: {pubkey: "05"}},
      {method: "batch", params: {requests: []}},
    ];
    for (const req of bad) {
      const http = await overHttp(req);
      expect(http.code, JSON.stringify(req)).toBe(400);
      expect(await overWs(req), JSON.stringify(req)).toEqual(http);
    }
    notReady.push("not in any swarm");
    expect(await overWs({method: "info", params: {}})).toEqual(await overHttp({method: "info", params: {}}));
    expect((await overHttp({})).code).toBe(503);
    notReady.length = 0;
    // Drain the shared bucket over HTTP; the WebSocket then meets the same empty bucket.
    let last = 0;
    for (let i = 0; i < 200 && last !== 429; i++) last = (await overHttp({method: "info", params: {}})).code;
    expect(await overWs({method: "info", params: {}})).toEqual({code: 429, body: "Too Many Requests\n"});
    expect(await overHttp({method: "info", params: {}})).toEqual({code: 429, body: "Too Many Requests\n"});
  });

  it("echoes numeric and string ids, and runs frames without an id", async () => {
    node = await startWsNode();
    const c = await connect();
    c.send({id: 42, type: "rpc", method: "info", params: {}});
    expect(await c.waitFor((f) => f.id === 42)).toMatchObject({type: "rpc", code: 200, body: {version: [2, 8, 0]}});
    c.send({type: "ping"});
    expect(await c.waitFor((f) => f.type === "pong")).toEqual({type: "pong"});
  });

  it("answers 503 with the reasons until the node is ready", async () => {
    node = await startWsNode({notReady: () => ["not in any swarm"]});
    const c = await connect();
    expect(await c.rpc("info", {})).toMatchObject({code: 503, body: "Service node is not ready: not in any swarm\n"});
  });

  it("rate-limits frames per IP: 429 for RPCs, an error frame for the rest", async () => {
    node = await startWsNode({rateLimit: {capacity: 2, refillPerSecond: 1, maxClients: 10}});
    const c = await connect();
    expect((await c.rpc("info", {})).code).toBe(200);
    expect((await c.rpc("info", {})).code).toBe(200);
    expect(await c.rpc("info", {})).toMatchObject({code: 429, body: "Too Many Requests\n"});
    expect(await c.request("ping")).toMatchObject({type: "error", code: "WS_ERROR_RATE_LIMITED"});
    node.h.clock.advance(1_000);
    expect((await c.rpc("info", {})).code).toBe(200);
  });

  it("uses the pipeline's limiter (shared with HTTP)", async () => {
    const seen: string[] = [];
    node = await startWsNode({pipeline: {limiter: {take: (ip) => (seen.push(ip), seen.length < 2)}}});
    const c = await connect();
    expect((await c.rpc("info", {})).code).toBe(200);
    expect((await c.rpc("info", {})).code).toBe(429);
    expect(seen).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  it("answers every pipelined request when at most one runs at a time", async () => {
    node = await startWsNode({ws: {maxInflightRpc: 1}});
    const c = await connect();
    const replies = await Promise.all(Array.from({length: 25}, () => c.rpc("info", {})));
    expect(new Set(replies.map((r: {id: string}) => r.id)).size).toBe(25);
    expect(replies.every((r) => r.code === 200)).toBe(true);
    expect(node.ws.stats().rpcRequests).toBe(25);
  });

  it("an answer that cannot be serialised becomes a 500 reply, not an unhandled rejection", async () => {
    const rejections: unknown[] = [];
    const onRejection = (err: unknown): void => void rejections.push(err);
    process.on("unhandledRejection", onRejection);
    try {
      const rpc = {handle: () => Promise.resolve({status: 200, body: {n: 1n}})};
      node = await startWsNode({pipeline: {rpc} as never});
      const c = await connect();
      expect(await c.rpc("info", {})).toMatchObject({type: "rpc", code: 500, body: "request failed"});
      expect(await c.rpc("info", {})).toMatchObject({code: 500});
      await new Promise((r) => setTimeout(r, 20));
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
});
