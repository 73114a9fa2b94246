import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import {beforeAll, describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import {
  addFunctionExports,
  extractEmbeddedWasm,
  loadLiboqsContextMlDsa65,
  type LiboqsContextMlDsa65,
} from "../../../src/crypto/pq/liboqs-context.js";
import {hex, mlDsaContextFixture, toHexString} from "./fixtures.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const MSG = enc("retrieve421800000000000");
// tsconfig's lib and @types/node 20 do not declare the WebAssembly global.
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => {exports: Record<string, unknown>};
    };
  }
).WebAssembly;
const CTX_255 = Uint8Array.from({length: 255}, (_, i) => i);

describe("liboqs ML-DSA-65 with a FIPS 204 context (patched liboqs-js WebAssembly)", () => {
  let oqs: LiboqsContextMlDsa65;
  beforeAll(async () => {
    oqs = await loadLiboqsContextMlDsa65();
  });

  it("verifies pyca/cryptography's signatures under their context and rejects them under another", () => {
    expect(mlDsaContextFixture.vectors.length).toBeGreaterThanOrEqual(4);
    for (const v of mlDsaContextFixture.vectors) {
      const [pk, msg, sig, ctx] = [hex(v.publicKey), hex(v.message), hex(v.signature), hex(v.context)];
      expect(toHexString(ml_dsa65.keygen(hex(v.seed)).publicKey), v.name).toBe(v.publicKey);
      expect(oqs.verify(pk, msg, sig, ctx), v.name).toBe(true);
      expect(ml_dsa65.verify(sig, msg, pk, {context: ctx}), v.name).toBe(true);
      const other = ctx.length === 0 ? CTX.REQUEST_AUTH : ctx.subarray(1);
      expect(oqs.verify(pk, msg, sig, other), v.name).toBe(false);
      const tampered = sig.slice();
      tampered[7] = (tampered[7] ?? 0) ^ 0x40;
      expect(oqs.verify(pk, msg, tampered, ctx), v.name).toBe(false);
    }
  });

  it("signs what noble verifies, with and without a context, and noble's signatures verify here", () => {
    const keys = ml_dsa65.keygen();
    for (const ctx of [new Uint8Array(0), CTX.REQUEST_AUTH, CTX.CHALLENGE_ANSWER, CTX_255]) {
      const mine = oqs.sign(keys.secretKey, MSG, ctx);
      expect(ml_dsa65.verify(mine, MSG, keys.publicKey, {context: ctx})).toBe(true);
      expect(ml_dsa65.verify(mine, MSG, keys.publicKey, {context: enc("other")})).toBe(false);
      const theirs = ml_dsa65.sign(MSG, keys.secretKey, {context: ctx});
      expect(oqs.verify(keys.publicKey, MSG, theirs, ctx)).toBe(true);
    }
  });

  it("is hedged by default: two signatures of the same message differ", () => {
    const keys = ml_dsa65.keygen();
    expect(oqs.sign(keys.secretKey, MSG, CTX.REQUEST_AUTH)).not.toEqual(oqs.sign(keys.secretKey, MSG, CTX.REQUEST_AUTH));
  });

  it("reproduces noble's deterministic (rnd = 0) signatures byte for byte, and stays hedged afterwards", () => {
    for (const v of mlDsaContextFixture.vectors) {
      const sk = ml_dsa65.keygen(hex(v.seed)).secretKey;
      const [msg, ctx] = [hex(v.message), hex(v.context)];
      const expected = ml_dsa65.sign(msg, sk, {context: ctx, extraEntropy: false});
      expect(toHexString(oqs.signDeterministic(sk, msg, ctx)), v.name).toBe(toHexString(expected));
      expect(toHexString(oqs.sign(sk, msg, ctx)), v.name).not.toBe(toHexString(expected));
    }
  });

  it("handles messages larger than its first heap (the heap grows) and the empty message", () => {
    const keys = ml_dsa65.keygen();
    for (const msg of [new Uint8Array(0), new Uint8Array(20 * 1024 * 1024).fill(0x5a)]) {
      const sig = oqs.sign(keys.secretKey, msg, CTX.STORAGE_PROOF);
      expect(oqs.verify(keys.publicKey, msg, sig, CTX.STORAGE_PROOF)).toBe(true);
      expect(ml_dsa65.verify(sig, msg, keys.publicKey, {context: CTX.STORAGE_PROOF})).toBe(true);
    }
  });
});

describe("WebAssembly patching helpers", () => {
  it("refuses a glue script without an embedded module", () => {
    expect(() => extractEmbeddedWasm("var x = 'no module here';")).toThrow(
      expect.objectContaining({code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE"}),
    );
  });

  it("decodes an embedded module and adds an export without changing the existing ones", () => {
    // (module (func (result i32) i32.const 7) (export "f" (func 0)))
    const mod = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 0x41, 7, 0x0b];
    const literal = "'" + mod.map((b) => (b === 0 ? "\\0" : b === 0x0b ? "\\v" : String.fromCharCode(b))).join("") + "'";
    const wasm = extractEmbeddedWasm(`L??=ca(${literal})`);
    expect([...wasm]).toEqual(mod);
    const patched = addFunctionExports(wasm, {g: 0});
    const {exports} = new Wasm.Instance(new Wasm.Module(patched), {});
    expect([(exports.f as () => number)(), (exports.g as () => number)()]).toEqual([7, 7]);
  });
});

describe("liboqs context path input checks (the copies into its heap must stay in bounds)", () => {
  it("rejects wrong lengths before touching the heap", async () => {
    const oqs = await loadLiboqsContextMlDsa65();
    const keys = ml_dsa65.keygen();
    const sig = oqs.sign(keys.secretKey, MSG, CTX.REQUEST_AUTH);
    const long = new Uint8Array(64 * 1024);
    expect(oqs.verify(keys.publicKey, MSG, long, CTX.REQUEST_AUTH)).toBe(false);
    expect(oqs.verify(long, MSG, sig, CTX.REQUEST_AUTH)).toBe(false);
    expect(oqs.verify(keys.publicKey, MSG, sig, new Uint8Array(256))).toBe(false);
    const invalid = expect.objectContaining({code: "CRYPTO_ERROR_INVALID_INPUT"});
    expect(() => oqs.sign(long, MSG, CTX.REQUEST_AUTH)).toThrow(invalid);
    expect(() => oqs.sign(keys.secretKey, MSG, new Uint8Array(256))).toThrow(invalid);
    expect(oqs.verify(keys.publicKey, MSG, sig, CTX.REQUEST_AUTH)).toBe(true);
  });
});
