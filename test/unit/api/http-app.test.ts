import type {FastifyInstance} from "fastify";
import {afterEach, describe, expect, it} from "vitest";
import {buildHttpApp, type HttpAppOptions} from "../../../src/api/http/app.js";
import type {SwarmRouter} from "../../../src/swarm/swarm-router.js";
import {sessionAccount} from "../../utils/keys.js";
import {harnessPipeline, rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";
import {RateLimiter} from "../../../src/util/rate-limiter.js";
import {silentLogger} from "../../utils/logger.js";

let h: RpcHarness;
let app: FastifyInstance;
afterEach(async () => {
  await app.close();
  await h.close();
});

async function setup(opts: Partial<HttpAppOptions> = {}, notReady: string[] = []): Promise<void> {
  h = await rpcHarness();
  const router: SwarmRouter = Object.assign(Object.create(h.ctx.router) as SwarmRouter, {notReadyReasons: () => notReady});
  const o: HttpAppOptions = {
    bodyLimitBytes: 10 * 1024 * 1024,
    rateLimit: {enabled: true, capacity: 600, refillPerSecond: 300, maxClients: 10_000},
    serverName: "Pars Storage Server/test",
    rpcVersion: "2.8.0",
    ...opts,
  };
  const limiter = o.rateLimit.enabled ? new RateLimiter(o.rateLimit, () => h.clock.now()) : null;
  const pipeline = harnessPipeline(h, {router, limiter});
  app = buildHttpApp(o, {pipeline, logger: silentLogger, now: () => h.clock.now(), health: () => ({nodeId: h.identity.nodeId})});
}

const rpc = (payload: string | object, headers: Record<string, string> = {}) =>
  app.inject({method: "POST", url: "/storage_rpc/v1", payload: typeof payload === "string" ? payload : JSON.stringify(payload), headers: {"content-type": "application/json", ...headers}});

describe("POST /storage_rpc/v1", () => {
  it("answers JSON results with the Server header, whatever the content type", async () => {
    await setup();
    const res = await rpc({method: "info", params: {}}, {"content-type": "text/plain"});
    expect(res.statusCode).toBe(200);
    expect(res.headers["server"]).toBe("Pars Storage Server/test");
    expect(res.headers["content-type"]).toContain("application/json");
    expect(res.json()).toMatchObject({version: [2, 8, 0]});
  });

  it("answers a retrieve page and a store as JSON.stringify's bytes, with the charset and length headers a string answer had", async () => {
    await setup();
    const acc = sessionAccount().hex;
    const store = await rpc({method: "store", params: {pubkey: acc, namespace: -10, timestamp: h.clock.now(), ttl: 86_400_000, data: Buffer.from("m").toString("base64")}});
    const page = await rpc({method: "retrieve", params: {pubkey: acc, namespace: -10}});
    for (const res of [store, page]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(res.headers["content-length"]).toBe(String(res.rawPayload.length));
      expect(res.body).toBe(JSON.stringify(res.json()));
    }
    expect(page.json<{messages: unknown[]}>().messages).toHaveLength(1);
  });

  it("sends the Server header with every answer: errors, 404, 413, 429 and other routes", async () => {
    await setup({bodyLimitBytes: 1024, rateLimit: {enabled: true, capacity: 4, refillPerSecond: 1, maxClients: 10}});
    const answers = [
      await rpc("not json"),
      await rpc({method: "info", params: {}}, {"x-loki-long-poll": "1"}),
      await app.inject({method: "GET", url: "/nowhere"}),
      await app.inject({method: "GET", url: "/health"}),
      await rpc({method: "store", params: {data: "A".repeat(2000)}}),
    ];
    answers.push(await rpc({method: "info", params: {}})); // the bucket is empty by now
    (answers[4] as (typeof answers)[number]).raw.req.socket.emit("close"); // see the 413 test below
    expect(answers.map((r) => r.statusCode)).toEqual([400, 410, 404, 200, 413, 429]);
    for (const r of answers) expect(r.headers["server"]).toBe("Pars Storage Server/test");
  });

  it("reads the body as JSON whatever the Content-Type header holds, an empty or malformed one too (Session)", async () => {
    await setup();
    for (const type of ["", " ", "json", "application/", ";charset=utf-8", "application/json; charset"]) {
      const res = await rpc({method: "info", params: {}}, {"content-type": type});
      expect(res.statusCode, JSON.stringify(type)).toBe(200);
      expect(res.headers["content-type"]).toContain("application/json");
      expect(res.json()).toMatchObject({version: [2, 8, 0]});
    }
    const bad = await rpc("{", {"content-type": ""});
    expect([bad.statusCode, bad.body]).toEqual([400, "invalid json"]);
  });

  it("GET /get_stats/v1 answers the RPC level the node passes in", async () => {
    await setup({rpcVersion: "2.9.1"});
    const res = await app.inject({method: "GET", url: "/get_stats/v1"});
    expect([res.statusCode, res.json()]).toEqual([200, {version: "2.9.1"}]);
  });

  it("stores and retrieves over HTTP", async () => {
    await setup();
    const acc = sessionAccount();
    const now = h.clock.now();
    const store = await rpc({method: "store", params: {pubkey: acc.hex, timestamp: now, ttl: 60_000, data: "aGk="}});
    expect(store.statusCode).toBe(200);
    const sig = acc.ed.sign(`retrieve${now}`).toString("base64");
    const res = await rpc({method: "retrieve", params: {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: now, signature: sig}});
    expect(res.json().messages).toHaveLength(1);
  });

  it("answers errors in plain text with Session's status codes", async () => {
    await setup();
    const bad = await rpc("{not json");
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toContain("text/plain");
    expect(bad.body).toBe("invalid json");
    const empty = await app.inject({method: "POST", url: "/storage_rpc/v1"});
    expect([empty.statusCode, empty.body]).toEqual([400, "invalid json"]);
    const longPoll = await rpc({method: "info", params: {}}, {"x-loki-long-poll": "true"});
    expect([longPoll.statusCode, longPoll.body]).toEqual([410, "long polling is no longer supported, client upgrade required"]);
    const notFound = await app.inject({method: "GET", url: "/nope"});
    expect([notFound.statusCode, notFound.body]).toEqual([404, "GET /nope Not Found"]);
  });

  it("refuses bodies over the limit with 413 and stores nothing", async () => {
    await setup({bodyLimitBytes: 1024});
    const acc = sessionAccount();
    const res = await rpc({method: "store", params: {pubkey: acc.hex, timestamp: Date.now(), ttl: 60_000, data: "A".repeat(2000)}});
    expect([res.statusCode, res.body]).toEqual([413, "Request body too large"]);
    expect(h.store.stats().messageCount).toBe(0);
    // inject()'s mock socket has no destroy(): close it as the client would, so the lingering
    // close's timer stops instead of firing in a later file sharing this worker.
    res.raw.req.socket.emit("close");
  });

  it("answers 503 with the reasons until ready", async () => {
    await setup({}, ["not in any swarm", "not done syncing"]);
    const res = await rpc({method: "info", params: {}});
    expect([res.statusCode, res.body]).toEqual([503, "Service node is not ready: not in any swarm; not done syncing\n"]);
  });

  it("rate-limits per client with 429", async () => {
    await setup({rateLimit: {enabled: true, capacity: 3, refillPerSecond: 1, maxClients: 10}});
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await rpc({method: "info", params: {}})).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
  });

  it("serves /health", async () => {
    await setup();
    const res = await app.inject({method: "GET", url: "/health"});
    expect(res.json()).toMatchObject({status: "ok", ready: true, nodeId: h.identity.nodeId});
  });
});
