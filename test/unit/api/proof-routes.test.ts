import Fastify, {type FastifyInstance} from "fastify";
import {describe, expect, it} from "vitest";
import {registerProofRoutes, type ProofApi} from "../../../src/api/http/routes/proofs.js";

function app(allow = true): FastifyInstance {
  const a = Fastify();
  const proofs = {
    latest: null,
    ledger: {list: () => [], get: () => null},
  } as unknown as ProofApi;
  registerProofRoutes(a, {proofs, nodeId: "ab".repeat(32), now: () => 1_000, allow: () => allow, allowChallenge: () => allow});
  return a;
}

describe("proof routes' error bodies", () => {
  it.each(["12", "0", "abc", "99999999999999999"])("GET /proof/v1/results/%s of no result: 404 PROOF_ERROR_NOT_FOUND, like every proof error", async (id) => {
    const res = await app().inject(`/proof/v1/results/${id}`);
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toContain("application/json");
    expect(res.json()).toEqual({error: "PROOF_ERROR_NOT_FOUND", message: "no such result"});
  });

  it("every error body of the GET routes carries a PROOF_ERROR_ code", async () => {
    const answers = await Promise.all([
      app().inject("/proof/v1/latest"),
      app(false).inject("/proof/v1/latest"),
      app(false).inject("/proof/v1/results"),
      app(false).inject("/proof/v1/results/1"),
      app().inject("/proof/v1/results/1"),
    ]);
    expect(answers.map((r) => r.statusCode)).toEqual([503, 429, 429, 429, 404]);
    for (const r of answers) expect(r.json().error).toMatch(/^PROOF_ERROR_[A-Z_]+$/);
  });
});
