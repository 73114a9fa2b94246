import Fastify, {type FastifyInstance, type LightMyRequestResponse} from "fastify";
import {describe, expect, it} from "vitest";
import {registerRewardsRoutes, type RewardsApi} from "../../../src/api/http/routes/rewards.js";
import {RewardsError} from "../../../src/rewards/index.js";

function app(claim: RewardsApi["claim"], allow = true): {app: FastifyInstance; claimed: unknown[]} {
  const a = Fastify();
  // As the node's body reader (api/http/app.ts): every route gets the raw body as a Buffer.
  a.removeAllContentTypeParsers();
  a.addContentTypeParser("*", {parseAs: "buffer"}, (_req, body, done) => done(null, body));
  const claimed: unknown[] = [];
  const api: RewardsApi = {
    balances: () => ({balances: []}),
    balance: (address) => (address === "0xaa" ? {address, earned: "5"} : null),
    epochs: (limit) => ({limit}),
    reportsOf: (epoch) => [{epoch}],
    claim: (address) => {
      claimed.push(address);
      return claim(address);
    },
  };
  registerRewardsRoutes(a, {api, allow: () => allow, now: () => 1_000});
  return {app: a, claimed};
}

const ok = (): Promise<Record<string, unknown>> => Promise.resolve({signature: "00"});
const post = (a: FastifyInstance, payload: string): Promise<LightMyRequestResponse> =>
  a.inject({method: "POST", url: "/rewards/v1/claim", payload, headers: {"content-type": "application/json"}});

describe("rewards routes", () => {
  it("answers bad claim bodies 400/413 without asking the claim service", async () => {
    const {app: a, claimed} = app(ok);
    for (const body of ["", "{", "[1,2", "x".repeat(10)]) {
      const res = await post(a, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toBe("REWARDS_ERROR_BAD_REQUEST");
    }
    expect((await post(a, JSON.stringify({address: "a".repeat(2_000)}))).statusCode).toBe(413);
    expect(claimed).toEqual([]);
    const res = await post(a, JSON.stringify({address: "0xaa"}));
    expect(res.statusCode).toBe(200);
    expect(claimed).toEqual(["0xaa"]);
  });

  it("maps claim refusals to their statuses, with Retry-After for the threshold", async () => {
    const cases: Array<[RewardsError, number]> = [
      [new RewardsError({code: "REWARDS_ERROR_BAD_REQUEST"}, "bad"), 400],
      [new RewardsError({code: "REWARDS_ERROR_UNKNOWN_ADDRESS"}, "unknown"), 404],
      [new RewardsError({code: "REWARDS_ERROR_NOTHING_TO_CLAIM"}, "zero"), 409],
      [new RewardsError({code: "REWARDS_ERROR_CLAIM_THRESHOLD", retryAtMs: 61_000}, "over"), 429],
    ];
    for (const [err, status] of cases) {
      const res = await post(app(() => Promise.reject(err)).app, JSON.stringify({address: "0xaa"}));
      expect(res.statusCode, err.code).toBe(status);
      expect(res.json()).toEqual({error: err.code, message: err.message});
    }
    const res = await post(app(() => Promise.reject(cases[3]![0])).app, JSON.stringify({address: "0xaa"}));
    expect(res.headers["retry-after"]).toBe("60");
  });

  it("validates the GET routes' parameters", async () => {
    const {app: a} = app(ok);
    expect((await a.inject("/rewards/v1/reports/-1")).statusCode).toBe(400);
    expect((await a.inject("/rewards/v1/reports/1e3")).statusCode).toBe(400);
    expect((await a.inject("/rewards/v1/reports/7")).json()).toEqual({epoch: 7, reports: [{epoch: 7}]});
    expect((await a.inject("/rewards/v1/epochs?limit=0")).statusCode).toBe(400);
    expect((await a.inject("/rewards/v1/epochs?limit=5")).json()).toEqual({limit: 5});
    expect((await a.inject("/rewards/v1/balances/0xbb")).statusCode).toBe(404);
    expect((await a.inject("/rewards/v1/balances/0xaa")).json()).toEqual({address: "0xaa", earned: "5"});
    expect((await app(ok, false).app.inject("/rewards/v1/balances")).statusCode).toBe(429);
  });
});
