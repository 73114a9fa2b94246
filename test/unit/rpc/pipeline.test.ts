import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import type {RpcResponse} from "../../../src/protocol/response.js";
import {RequestPipeline, type RequestSource} from "../../../src/rpc/pipeline.js";
import {RateLimiter} from "../../../src/util/rate-limiter.js";
import {harnessPipeline, rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

let h: RpcHarness;
beforeEach(async () => {
  h = await rpcHarness();
});
afterEach(() => h.close());

const HTTP: RequestSource = {transport: "http", ip: "203.0.113.7"};
const INFO = '{"method":"info","params":{}}';

/** A pipeline whose readiness reasons the test sets, with a 2-token bucket it can watch. */
function watched(): {pipeline: RequestPipeline; notReady: string[]; take: ReturnType<typeof vi.fn>} {
  const notReady: string[] = [];
  const bucket = new RateLimiter({capacity: 2, refillPerSecond: 1, maxClients: 10}, () => h.clock.now());
  const take = vi.fn((ip: string) => bucket.take(ip));
  const pipeline = harnessPipeline(h, {router: {notReadyReasons: () => notReady}, limiter: {take}});
  return {pipeline, notReady, take};
}

describe("RequestPipeline", () => {
  it("answers an RPC given as text, bytes or parsed fields alike", async () => {
    const p = harnessPipeline(h);
    const answers = await Promise.all([p.handle(INFO, HTTP), p.handle(Buffer.from(INFO), HTTP), p.handle({method: "info", params: {}}, HTTP)]);
    for (const a of answers) expect(a).toMatchObject({status: 200, body: {version: [2, 8, 0], hf: [19, 4]}});
  });

  it.each<[string, unknown, string]>([
    ["text that is not JSON", "{", "invalid json"],
    ["an empty body", "", "invalid json"],
    ["a JSON array", "[]", "invalid json: no `method` field"],
    ["a JSON string", '"info"', "invalid json: no `method` field"],
    ["no method", {params: {}}, "invalid json: no `method` field"],
    ["a numeric method", {method: 5, params: {}}, "invalid json: no `method` field"],
    ["no params", {method: "info"}, "invalid json: no `params` field"],
    ["array params", {method: "info", params: []}, "invalid json: no `params` field"],
    ["null params", {method: "info", params: null}, "invalid json: no `params` field"],
    ["an unknown method", {method: "nope", params: {}}, "no method nope"],
  ])("answers 400 to %s", async (_what, input, text) => {
    const p = harnessPipeline(h);
    const asText = typeof input === "string" ? input : JSON.stringify(input);
    expect(await p.handle(asText, HTTP)).toEqual({status: 400, body: text});
    // The parsed form (a WebSocket frame's fields) gets the same answer where it can express the input.
    if (typeof input === "object") expect(await p.handle(input as {method: unknown; params: unknown}, HTTP)).toEqual({status: 400, body: text});
  });

  it("checks readiness first: 503 with the reasons, before the bucket and the body are looked at", async () => {
    const {pipeline, notReady, take} = watched();
    notReady.push("not in any swarm", "no membership yet");
    expect(await pipeline.handle("{", HTTP)).toEqual({status: 503, body: "Service node is not ready: not in any swarm; no membership yet\n"});
    expect(take).not.toHaveBeenCalled();
  });

  it("takes one token per request from the source's bucket, 429 when it is empty, before the shape checks", async () => {
    const {pipeline, take} = watched();
    expect((await pipeline.handle(INFO, HTTP)).status).toBe(200);
    expect((await pipeline.handle("{", HTTP)).status).toBe(400);
    expect(await pipeline.handle("{", HTTP)).toEqual({status: 429, body: "Too Many Requests\n"});
    expect((await pipeline.handle(INFO, {transport: "http", ip: "198.51.100.1"})).status).toBe(200);
    expect(take.mock.calls).toEqual([["203.0.113.7"], ["203.0.113.7"], ["203.0.113.7"], ["198.51.100.1"]]);
    h.clock.advance(1_000);
    expect((await pipeline.handle(INFO, HTTP)).status).toBe(200);
  });

  it("charges nothing for a source without an IP (onion final hop, WebSocket frames charged on arrival)", async () => {
    const {pipeline, take} = watched();
    for (let i = 0; i < 5; i++) expect((await pipeline.handle(INFO, {transport: "onion", ip: null})).status).toBe(200);
    expect(take).not.toHaveBeenCalled();
  });

  it("is the same answer for every transport", async () => {
    const p = harnessPipeline(h);
    const bodies = ["{", '{"method":"info"}', '{"method":"retrieve","params":{"pubkey":"05"}}', INFO];
    for (const body of bodies) {
      const [http, ws, onion] = await Promise.all(
        (["http", "ws", "onion"] as const).map((transport) => p.handle(body, {transport, ip: null})),
      );
      expect(ws).toEqual(http);
      expect(onion).toEqual(http);
    }
  });

  it("turns an exception the dispatcher lets through into 500 and logs it", async () => {
    const error = vi.fn();
    const rpc = {handle: (): Promise<RpcResponse> => Promise.reject(new Error("boom"))};
    const p = harnessPipeline(h, {rpc, logger: {error}});
    expect(await p.handle(INFO, HTTP)).toEqual({status: 500, body: "request failed"});
    expect(error).toHaveBeenCalledWith(expect.objectContaining({method: "info"}), "rpc request raised an exception");
  });

  it("allow() shares the bucket with the RPC, and lets everything through without a limiter", async () => {
    const {pipeline} = watched();
    expect(pipeline.allow("203.0.113.7")).toBe(true);
    expect(pipeline.allow("203.0.113.7")).toBe(true);
    expect((await pipeline.handle(INFO, HTTP)).status).toBe(429);
    const open = harnessPipeline(h);
    expect(Array.from({length: 1_000}, () => open.allow("203.0.113.7")).every(Boolean)).toBe(true);
  });
});
