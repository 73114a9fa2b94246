import {afterEach, beforeEach, describe, expect, it} from "vitest";
import vectors from "../../fixtures/rpc/request-vectors.json" with {type: "json"};
import {deriveAccountId07} from "../../../src/crypto/account.js";
import {messageHash} from "../../../src/crypto/hash.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

/**
 * Requests built and signed by an independent implementation (Python, pyca/cryptography with
 * OpenSSL's ML-DSA) from the rules in docs/PROTOCOL.md. The node must accept each one as is and
 * refuse it once the signed content changes.
 */
let h: RpcHarness;
beforeEach(async () => {
  h = await rpcHarness({nowMs: vectors.now});
});
afterEach(() => h.close());

/** Replaces the signature with one over other bytes of the same length (flip one base64 char). */
function corrupt(sig: string): string {
  const i = 10;
  return sig.slice(0, i) + (sig[i] === "A" ? "B" : "A") + sig.slice(i + 1);
}

describe("fixed request vectors", () => {
  it("derives the 07 account from the vector's keys and hashes messages the same way", () => {
    const c = vectors.cases.find((x) => x.name === "07 store ns 42")!;
    const p = c.params as unknown as Record<string, string>;
    expect(deriveAccountId07(Buffer.from(p.pubkey_mlkem!, "hex"), Buffer.from(p.pubkey_mldsa!, "base64"))).toBe(vectors.accounts["07"]);
    expect(messageHash(Buffer.from(vectors.accounts["05"], "hex"), 0, Buffer.from("vector message one"))).toBe(vectors.hashes["vector message one"]);
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))("%s: accepted as signed, refused when altered", async (_name, c) => {
    const res = await h.call(c.method, c.params as Record<string, unknown>);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const altered = await h.call(c.method, {...c.params, signature: corrupt((c.params as {signature: string}).signature)});
    expect(altered.status, JSON.stringify(altered.body)).toBe(401);
  });
});
