import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {sessionAccount} from "../../utils/keys.js";
import {harnessPipeline, rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

let h: RpcHarness;
beforeEach(async () => {
  h = await rpcHarness();
});
afterEach(() => h.close());

const DAY = 86_400_000;
const storeReq = (data: string) => ({method: "store", params: {pubkey: sessionAccount().hex, timestamp: Date.now(), ttl: DAY, data: Buffer.from(data).toString("base64")}});

describe("request envelope", () => {
  it.each([
    ["{", "invalid json"],
    ["[]", "invalid json: no `method` field"],
    ['{"method": 5, "params": {}}', "invalid json: no `method` field"],
    ['{"method": "info"}', "invalid json: no `params` field"],
    ['{"method": "info", "params": []}', "invalid json: no `params` field"],
    ['{"method": "nope", "params": {}}', "no method nope"],
  ])("%s → 400 %s", async (body, text) => {
    expect(await harnessPipeline(h).dispatch(body)).toEqual({status: 400, body: text});
  });

  it("info reports versions and time", async () => {
    const res = await harnessPipeline(h).dispatch('{"method":"info","params":{}}');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({version: [2, 8, 0], hf: [19, 4], timestamp: h.clock.now(), t: h.clock.now()});
  });

  it("get_swarm answers for any account with a string port", async () => {
    const res = await h.json("get_swarm", {pubkey: sessionAccount().hex});
    expect(res.body.snodes[0]).toMatchObject({node_id: h.identity.nodeId, port: "22025", port_https: 22025});
    expect(await h.call("get_snodes_for_pubkey", {pubkey: "05"})).toEqual({status: 400, body: "invalid request: Pubkey must be 66 hex digits/33 bytes long"});
  });
});

describe("batch and sequence", () => {
  it("batch runs every sub-request and reports each code and body in order", async () => {
    const res = await h.json("batch", {requests: [storeReq("a"), {method: "retrieve", params: {pubkey: sessionAccount().hex}}, {method: "info", params: {}}]});
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: {code: number}) => r.code)).toEqual([200, 401, 200]);
    expect(res.body.results[1].body).toBe("retrieve: request signature required");
  });

  it("sequence stops after the first failure", async () => {
    const res = await h.json("sequence", {requests: [storeReq("a"), {method: "retrieve", params: {pubkey: sessionAccount().hex}}, storeReq("c")]});
    expect(res.body.results.map((r: {code: number}) => r.code)).toEqual([200, 401]);
    expect(h.store.stats().messageCount).toBe(1);
  });

  it.each([
    [{}, 'invalid request: Invalid batch request: no valid "requests" field'],
    [{requests: []}, 'invalid request: Invalid batch request: no valid "requests" field'],
    [{requests: Array.from({length: 21}, () => ({method: "info", params: {}}))}, "invalid request: Invalid batch request: subrequest limit exceeded"],
    [{requests: [5]}, "invalid request: Invalid batch request: requests must be objects"],
    [{requests: [{method: "info"}]}, "invalid request: Invalid batch request: subrequests must have method/params keys"],
    [{requests: [{method: "nope", params: {}}]}, 'invalid request: Invalid batch subrequest: invalid method "nope"'],
    [{requests: [{method: "batch", params: {requests: [{method: "info", params: {}}]}}]}, "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests"],
    [{requests: [{method: "store", params: {}}]}, "invalid request: Required field 'timestamp' missing"],
  ])("rejects %j and runs nothing", async (params, body) => {
    expect(await h.call("batch", params)).toEqual({status: 400, body});
    expect(h.store.stats().messageCount).toBe(0);
  });
});

describe("ifelse", () => {
  it("takes the branch the condition selects", async () => {
    const yes = await h.json("ifelse", {if: {hf_at_least: [19, 4]}, then: {method: "info", params: {}}, else: storeReq("x")});
    expect(yes.body).toMatchObject({condition: true, hf: [19, 4], v: [2, 8, 0], result: {code: 200}});
    const no = await h.json("ifelse", {if: {v_before: [2, 8]}, then: {method: "info", params: {}}});
    expect(no.body.condition).toBe(false);
    expect(no.body.result).toBeUndefined();
    const nested = await h.json("ifelse", {if: {hf_before: [99]}, then: {method: "batch", params: {requests: [{method: "info", params: {}}]}}});
    expect(nested.body.result.body.results[0].code).toBe(200);
  });

  it.each([
    [{}, 'invalid request: Invalid ifelse request: no valid "if" field'],
    [{if: {}}, 'invalid request: Invalid ifelse request: must specify at least one "if" condition'],
    [{if: {hf_at_least: []}, then: {method: "info", params: {}}}, 'invalid request: Invalid ifelse request: must specify at least one "if" condition'],
    [{if: {height_before: 5}}, 'invalid request: Invalid ifelse request: at least one of "then"/"else" required'],
    [{if: {height_before: 5}, then: 3}, "invalid request: Invalid ifelse request: then must be an object"],
    [{if: {height_before: 5}, else: {method: "x", params: {}}}, 'invalid request: Invalid ifelse request method "else"'],
  ])("rejects %j", async (params, body) => {
    expect(await h.call("ifelse", params)).toEqual({status: 400, body});
  });
});

describe("nesting limit (hostile input)", () => {
  const nestedIfElse = (depth: number): string =>
    `{"method":"ifelse","params":${'{"if":{"hf_at_least":[1]},"then":{"method":"ifelse","params":'.repeat(depth)}{"if":{"hf_at_least":[1]},"then":{"method":"info","params":{}}}${"}}".repeat(depth)}}`;
  const tooDeep = {status: 400, body: "invalid request: params nested more than 64 levels deep"};

  it("answers 400, not 500, to an ifelse nested 30,000 deep (it used to exhaust the stack)", async () => {
    expect(await harnessPipeline(h).dispatch(nestedIfElse(30_000))).toEqual(tooDeep);
    // Also where the parse survived but the answer could not be serialised (~10,000 levels).
    expect(await harnessPipeline(h).dispatch(nestedIfElse(10_000))).toEqual(tooDeep);
  });

  it("still runs ifelse nested 20 deep (64 levels of JSON)", async () => {
    const res = await harnessPipeline(h).dispatch(nestedIfElse(20));
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain('"condition":true');
  });

  it("refuses a deeply nested unknown field before anything is stored or forwarded", async () => {
    const req = storeReq("deep");
    const body = JSON.stringify(req).replace(/}}$/, `,"x":${"[".repeat(100_000)}1${"]".repeat(100_000)}}}`);
    expect(await harnessPipeline(h).dispatch(body)).toEqual(tooDeep);
    expect(h.store.stats().messageCount).toBe(0);
    // The same request with shallow extra fields is fine (Session ignores unknown keys).
    const shallow = JSON.stringify(req).replace(/}}$/, ',"x":[[1]],"__proto__":{"y":1}}}');
    expect((await harnessPipeline(h).dispatch(shallow)).status).toBe(200);
  });
});
