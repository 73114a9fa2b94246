import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import {describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import type {CryptoError} from "../../../src/crypto/errors.js";
import {
  checkContextKnownAnswers,
  createLiboqsBackend,
  loadCheckedLiboqsContextMlDsa65,
  loadLiboqsContextMlDsa65,
  loadPqBackend,
  type LiboqsContextMlDsa65,
} from "../../../src/crypto/pq/index.js";

const MSG = new TextEncoder().encode("expire1800000003600000");
const EMPTY = new Uint8Array(0);

/** noble posing as the context path, with one behaviour broken. */
function fakePath(overrides: Partial<LiboqsContextMlDsa65>): LiboqsContextMlDsa65 {
  return {
    sign: (sk, msg, ctx) => ml_dsa65.sign(msg, sk, {context: ctx}),
    verify: (pk, msg, sig, ctx) => ml_dsa65.verify(sig, msg, pk, {context: ctx}),
    signDeterministic: (sk, msg, ctx) => ml_dsa65.sign(msg, sk, {context: ctx, extraEntropy: false}),
    ...overrides,
  };
}

describe("context path known-answer test", () => {
  it("passes liboqs' real context path and a faithful noble stand-in", async () => {
    expect(() => checkContextKnownAnswers(fakePath({}))).not.toThrow();
    await expect(loadCheckedLiboqsContextMlDsa65()).resolves.toBeDefined();
  });

  it.each([
    ["signs without the context", fakePath({signDeterministic: (sk, msg) => ml_dsa65.sign(msg, sk, {extraEntropy: false})})],
    ["is not deterministic when asked", fakePath({signDeterministic: (sk, msg, ctx) => ml_dsa65.sign(msg, sk, {context: ctx})})],
    ["ignores the context when verifying", fakePath({verify: (pk, msg, sig) => ml_dsa65.verify(sig, msg, pk, {context: CTX.REQUEST_AUTH}) || ml_dsa65.verify(sig, msg, pk)})],
    ["accepts anything", fakePath({verify: () => true})],
    ["signs deterministically when it should not", fakePath({sign: (sk, msg, ctx) => ml_dsa65.sign(msg, sk, {context: ctx, extraEntropy: false})})],
  ])("fails a path that %s", (_label, path) => {
    expect(() => checkContextKnownAnswers(path)).toThrow(expect.objectContaining({code: "CRYPTO_ERROR_SELF_TEST_FAILED"}));
  });
});

describe("liboqs backend and its context path", () => {
  it("signs and verifies with a context through the context path once it passed its self-test", async () => {
    const real = await loadLiboqsContextMlDsa65();
    const calls: string[] = [];
    const spy: LiboqsContextMlDsa65 = {
      sign: (...a) => (calls.push("sign"), real.sign(...a)),
      verify: (...a) => (calls.push("verify"), real.verify(...a)),
      signDeterministic: (...a) => real.signDeterministic(...a),
    };
    const reasons: CryptoError[] = [];
    const b = await createLiboqsBackend({
      contextFactory: () => loadCheckedLiboqsContextMlDsa65(() => Promise.resolve(spy)),
      onContextFallback: (r) => reasons.push(r),
    });
    calls.length = 0;
    const keys = b.mlDsa65.keygen();
    for (const ctx of [CTX.REQUEST_AUTH, EMPTY]) {
      const sig = b.mlDsa65.sign(keys.secretKey, MSG, ctx);
      expect(ml_dsa65.verify(sig, MSG, keys.publicKey, {context: ctx})).toBe(true);
      expect(b.mlDsa65.verify(keys.publicKey, MSG, ml_dsa65.sign(MSG, keys.secretKey, {context: ctx}), ctx)).toBe(true);
    }
    expect(calls).toEqual(["sign", "verify", "sign", "verify"]);
    expect(reasons).toEqual([]);
  });

  it("delegates contexts to noble and reports why when the context path fails its self-test", async () => {
    const reasons: CryptoError[] = [];
    const ignoresContext = fakePath({
      sign: (sk, msg) => ml_dsa65.sign(msg, sk),
      signDeterministic: (sk, msg) => ml_dsa65.sign(msg, sk, {extraEntropy: false}),
      verify: (pk, msg, sig) => ml_dsa65.verify(sig, msg, pk),
    });
    const b = await createLiboqsBackend({
      contextFactory: () => loadCheckedLiboqsContextMlDsa65(() => Promise.resolve(ignoresContext)),
      onContextFallback: (r) => reasons.push(r),
    });
    expect(reasons.map((r) => r.code)).toEqual(["CRYPTO_ERROR_SELF_TEST_FAILED"]);
    const keys = b.mlDsa65.keygen();
    const sig = b.mlDsa65.sign(keys.secretKey, MSG, CTX.CHALLENGE_ANSWER);
    expect(ml_dsa65.verify(sig, MSG, keys.publicKey, {context: CTX.CHALLENGE_ANSWER})).toBe(true);
    expect(b.mlDsa65.verify(keys.publicKey, MSG, sig, CTX.STORAGE_PROOF)).toBe(false);
  });

  it("loadPqBackend reports a context-path fallback through onFallback and still returns liboqs", async () => {
    const reasons: CryptoError[] = [];
    const unavailable = (): Promise<LiboqsContextMlDsa65> => Promise.reject(new Error("no wasm"));
    const b = await loadPqBackend("auto", {
      liboqsFactory: () => createLiboqsBackend({contextFactory: unavailable, onContextFallback: (r) => reasons.push(r)}),
    });
    expect(b.name).toBe("liboqs");
    expect(reasons.map((r) => r.code)).toEqual(["CRYPTO_ERROR_BACKEND_UNAVAILABLE"]);
    const viaDefault: CryptoError[] = [];
    expect((await loadPqBackend("liboqs", {onFallback: (r) => viaDefault.push(r)})).name).toBe("liboqs");
    expect(viaDefault).toEqual([]);
  });
});
