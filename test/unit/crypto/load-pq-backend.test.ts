import {shake256} from "@noble/hashes/sha3.js";
import {describe, expect, it} from "vitest";
import {CryptoError} from "../../../src/crypto/errors.js";
import type {MlDsa65, MlKem768, PqBackend, PqBackendName} from "../../../src/crypto/interface.js";
import {crossCheckPqBackend, loadPqBackend, nobleBackend} from "../../../src/crypto/pq/index.js";

/** A backend that is noble with one operation swapped, posing as liboqs. */
function broken(overrides: {mlDsa65?: Partial<MlDsa65>; mlKem768?: Partial<MlKem768>}): PqBackend {
  return {
    name: "liboqs",
    mlDsa65: {...nobleBackend.mlDsa65, ...overrides.mlDsa65},
    mlKem768: {...nobleBackend.mlKem768, ...overrides.mlKem768},
  };
}

const ignoresContext = broken({
  mlDsa65: {
    sign: (sk, msg) => nobleBackend.mlDsa65.sign(sk, msg, new Uint8Array(0)),
    verify: (pk, msg, sig) => nobleBackend.mlDsa65.verify(pk, msg, sig, new Uint8Array(0)),
  },
});
const acceptsAnything = broken({mlDsa65: {verify: () => true}});
const wrongSecret = broken({mlKem768: {decapsulate: () => new Uint8Array(32)}});
/** Returns zeros instead of FIPS 203's K̄ = SHAKE256(z ‖ c, 32) when it rejects a ciphertext. */
const zeroRejection = broken({
  mlKem768: {
    decapsulate: (ct, sk) => {
      const k = nobleBackend.mlKem768.decapsulate(ct, sk);
      const kBar = shake256.create({dkLen: 32}).update(sk.subarray(2368)).update(ct).digest();
      return Buffer.from(k).equals(kBar) ? new Uint8Array(32) : k;
    },
  },
});

describe("crossCheckPqBackend", () => {
  it("passes noble against itself", () => {
    expect(() => crossCheckPqBackend(nobleBackend, nobleBackend)).not.toThrow();
  });

  it.each([
    ["ignores the context string", ignoresContext],
    ["accepts any signature", acceptsAnything],
    ["returns a wrong shared secret", wrongSecret],
  ])("fails a backend that %s", (_label, backend) => {
    expect(() => crossCheckPqBackend(backend, nobleBackend)).toThrow(
      expect.objectContaining({code: "CRYPTO_ERROR_SELF_TEST_FAILED", type: expect.objectContaining({backend: "liboqs"})}),
    );
  });

  it("fails a backend whose implicit rejection differs from FIPS 203", () => {
    expect(() => crossCheckPqBackend(zeroRejection, nobleBackend)).toThrow(/implicit rejection/);
  });
});

describe("loadPqBackend", () => {
  it("returns noble for 'noble'", async () => {
    expect((await loadPqBackend("noble")).name).toBe("noble");
  });

  it("returns a self-tested liboqs for 'liboqs' and 'auto' when it loads", async () => {
    expect((await loadPqBackend("liboqs")).name).toBe("liboqs");
    let fellBack: CryptoError | null = null;
    const auto = await loadPqBackend("auto", {onFallback: (reason) => (fellBack = reason)});
    expect(auto.name).toBe("liboqs");
    expect(fellBack).toBeNull();
  });

  it("'auto' falls back to noble and reports why when liboqs cannot load", async () => {
    const reasons: CryptoError[] = [];
    const unavailable = new CryptoError({code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "liboqs"}, "no wasm");
    const backend = await loadPqBackend("auto", {
      liboqsFactory: () => Promise.reject(unavailable),
      onFallback: (reason) => reasons.push(reason),
    });
    expect(backend).toBe(nobleBackend);
    expect(reasons.map((r) => r.code)).toEqual(["CRYPTO_ERROR_BACKEND_UNAVAILABLE"]);
  });

  it("'auto' falls back to noble when liboqs fails the self-test; 'liboqs' throws instead", async () => {
    const reasons: string[] = [];
    const backend = await loadPqBackend("auto", {
      liboqsFactory: () => Promise.resolve(ignoresContext),
      onFallback: (reason) => reasons.push(reason.code),
    });
    expect(backend.name).toBe("noble");
    expect(reasons).toEqual(["CRYPTO_ERROR_SELF_TEST_FAILED"]);
    await expect(loadPqBackend("liboqs", {liboqsFactory: () => Promise.resolve(ignoresContext)})).rejects.toMatchObject({
      code: "CRYPTO_ERROR_SELF_TEST_FAILED",
    });
  });

  it("wraps non-CryptoError load failures", async () => {
    const reasons: CryptoError[] = [];
    await loadPqBackend("auto", {
      liboqsFactory: () => Promise.reject(new TypeError("boom")),
      onFallback: (reason) => reasons.push(reason),
    });
    expect(reasons[0]).toBeInstanceOf(CryptoError);
    expect(reasons[0]?.code).toBe("CRYPTO_ERROR_BACKEND_UNAVAILABLE");
  });

  it("rejects unknown backend names with INVALID_ARGUMENT", async () => {
    await expect(loadPqBackend("openssl" as PqBackendName)).rejects.toMatchObject({code: "INVALID_ARGUMENT"});
  });
});
