import {beforeAll, describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import {
  ML_DSA65_PUBLIC_KEY_BYTES,
  ML_DSA65_SECRET_KEY_BYTES,
  ML_DSA65_SIGNATURE_BYTES,
  ML_KEM768_CIPHERTEXT_BYTES,
  ML_KEM768_PUBLIC_KEY_BYTES,
  ML_KEM768_SECRET_KEY_BYTES,
  type PqBackend,
} from "../../../src/crypto/interface.js";
import {checkMlDsa65KeyPair, createLiboqsBackend, nobleBackend} from "../../../src/crypto/pq/index.js";
import {hex, identityFixture, toHexString} from "./fixtures.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const MSG = enc("store 05abc… 1700000000000");
const EMPTY = new Uint8Array(0);
const invalidInput = expect.objectContaining({code: "CRYPTO_ERROR_INVALID_INPUT"});

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

const factories: [string, () => Promise<PqBackend>][] = [
  ["noble", () => Promise.resolve(nobleBackend)],
  ["liboqs", createLiboqsBackend],
];

describe.each(factories)("%s backend (PqBackend contract)", (name, factory) => {
  let b: PqBackend;
  beforeAll(async () => {
    b = await factory();
  });

  it("reports its name", () => {
    expect(b.name).toBe(name);
  });

  it("reproduces the NIST ACVP key-generation vectors from seeds", () => {
    const {mlDsa65, mlKem768} = identityFixture.acvp;
    expect(toHexString(b.mlDsa65.keygen(hex(mlDsa65.seed)).publicKey)).toBe(mlDsa65.publicKey);
    expect(toHexString(b.mlKem768.keygen(hex(mlKem768.d + mlKem768.z)).publicKey)).toBe(mlKem768.publicKey);
  });

  it("generates FIPS-sized, distinct, structurally valid random keys", () => {
    const a = b.mlDsa65.keygen();
    const c = b.mlDsa65.keygen();
    expect([a.publicKey.length, a.secretKey.length]).toEqual([ML_DSA65_PUBLIC_KEY_BYTES, ML_DSA65_SECRET_KEY_BYTES]);
    expect(a.publicKey).not.toEqual(c.publicKey);
    expect(checkMlDsa65KeyPair(a.publicKey, a.secretKey)).toBeNull();
    const k = b.mlKem768.keygen();
    expect([k.publicKey.length, k.secretKey.length]).toEqual([ML_KEM768_PUBLIC_KEY_BYTES, ML_KEM768_SECRET_KEY_BYTES]);
  });

  it("signs and verifies under every protocol context, and only under that context", () => {
    const keys = b.mlDsa65.keygen();
    const contexts = Object.entries(CTX);
    for (const [ctxName, ctx] of contexts) {
      const sig = b.mlDsa65.sign(keys.secretKey, MSG, ctx);
      expect(sig.length, ctxName).toBe(ML_DSA65_SIGNATURE_BYTES);
      expect(b.mlDsa65.verify(keys.publicKey, MSG, sig, ctx), ctxName).toBe(true);
      expect(b.mlDsa65.verify(keys.publicKey, MSG, sig, EMPTY), `${ctxName} vs empty context`).toBe(false);
      const other = contexts.find(([n]) => n !== ctxName)![1];
      expect(b.mlDsa65.verify(keys.publicKey, MSG, sig, other), `${ctxName} vs another context`).toBe(false);
    }
  });

  it("signs with the empty context, hedged (two signatures differ), and rejects changes", () => {
    const keys = b.mlDsa65.keygen();
    const s1 = b.mlDsa65.sign(keys.secretKey, MSG, EMPTY);
    const s2 = b.mlDsa65.sign(keys.secretKey, MSG, EMPTY);
    expect(s1).not.toEqual(s2);
    expect(b.mlDsa65.verify(keys.publicKey, MSG, s1, EMPTY)).toBe(true);
    expect(b.mlDsa65.verify(keys.publicKey, MSG, s1, CTX.REQUEST_AUTH)).toBe(false);
    expect(b.mlDsa65.verify(keys.publicKey, flip(MSG, 0), s1, EMPTY)).toBe(false);
    expect(b.mlDsa65.verify(keys.publicKey, MSG, flip(s1, 2000), EMPTY)).toBe(false);
    expect(b.mlDsa65.verify(b.mlDsa65.keygen().publicKey, MSG, s1, EMPTY)).toBe(false);
  });

  it("accepts Buffers anywhere a Uint8Array is expected", () => {
    const keys = b.mlDsa65.keygen();
    const sig = b.mlDsa65.sign(Buffer.from(keys.secretKey), Buffer.from(MSG), Buffer.from(CTX.NODE_RECORD));
    expect(b.mlDsa65.verify(Buffer.from(keys.publicKey), Buffer.from(MSG), Buffer.from(sig), Buffer.from(CTX.NODE_RECORD))).toBe(true);
    const sig0 = b.mlDsa65.sign(Buffer.from(keys.secretKey), Buffer.from(MSG), Buffer.alloc(0));
    expect(b.mlDsa65.verify(Buffer.from(keys.publicKey), Buffer.from(MSG), Buffer.from(sig0), Buffer.alloc(0))).toBe(true);
    const kem = b.mlKem768.keygen();
    const {cipherText, sharedSecret} = b.mlKem768.encapsulate(Buffer.from(kem.publicKey));
    expect(b.mlKem768.decapsulate(Buffer.from(cipherText), Buffer.from(kem.secretKey))).toEqual(sharedSecret);
  });

  it("verify returns false, never throws, on malformed input", () => {
    const keys = b.mlDsa65.keygen();
    const sig = b.mlDsa65.sign(keys.secretKey, MSG, CTX.REQUEST_AUTH);
    const pk = keys.publicKey;
    const cases: [string, unknown, unknown, unknown, unknown][] = [
      ["short key", pk.subarray(1), MSG, sig, CTX.REQUEST_AUTH],
      ["long signature", pk, MSG, new Uint8Array(ML_DSA65_SIGNATURE_BYTES + 1), CTX.REQUEST_AUTH],
      ["short signature", pk, MSG, sig.subarray(0, 3000), CTX.REQUEST_AUTH],
      ["empty signature", pk, MSG, EMPTY, EMPTY],
      ["zero signature", pk, MSG, new Uint8Array(ML_DSA65_SIGNATURE_BYTES), CTX.REQUEST_AUTH],
      ["0xff signature", pk, MSG, new Uint8Array(ML_DSA65_SIGNATURE_BYTES).fill(0xff), EMPTY],
      ["0xff key", new Uint8Array(ML_DSA65_PUBLIC_KEY_BYTES).fill(0xff), MSG, sig, CTX.REQUEST_AUTH],
      ["context of 256 bytes", pk, MSG, sig, new Uint8Array(256)],
      ["message is a string", pk, "hello", sig, CTX.REQUEST_AUTH],
      ["signature is null", pk, MSG, null, CTX.REQUEST_AUTH],
      ["context missing", pk, MSG, sig, undefined],
    ];
    for (const [label, ...args] of cases) {
      const call = (): boolean => b.mlDsa65.verify(...(args as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]));
      expect(call, label).not.toThrow();
      expect(call(), label).toBe(false);
    }
  });

  it("sign and keygen throw CRYPTO_ERROR_INVALID_INPUT on bad arguments", () => {
    const keys = b.mlDsa65.keygen();
    expect(() => b.mlDsa65.sign(keys.secretKey.subarray(1), MSG, EMPTY)).toThrow(invalidInput);
    expect(() => b.mlDsa65.sign(keys.secretKey, MSG, new Uint8Array(256))).toThrow(invalidInput);
    expect(() => b.mlDsa65.sign(keys.secretKey, "msg" as unknown as Uint8Array, EMPTY)).toThrow(invalidInput);
    expect(() => b.mlDsa65.keygen(new Uint8Array(31))).toThrow(invalidInput);
    expect(() => b.mlKem768.keygen(new Uint8Array(32))).toThrow(invalidInput);
  });

  it("refuses to sign with a secret key whose s1/s2 coefficients are out of range", () => {
    const keys = b.mlDsa65.keygen();
    const bad = keys.secretKey.slice();
    bad[500] = 0xff;
    expect(() => b.mlDsa65.sign(bad, MSG, EMPTY)).toThrow(invalidInput);
    expect(() => b.mlDsa65.sign(bad, MSG, CTX.REQUEST_AUTH)).toThrow(invalidInput);
    expect(b.mlDsa65.verify(keys.publicKey, MSG, b.mlDsa65.sign(keys.secretKey, MSG, EMPTY), EMPTY)).toBe(true);
  });

  it("a 255-byte context is allowed", () => {
    const keys = b.mlDsa65.keygen();
    const ctx = new Uint8Array(255).fill(7);
    expect(b.mlDsa65.verify(keys.publicKey, MSG, b.mlDsa65.sign(keys.secretKey, MSG, ctx), ctx)).toBe(true);
  });

  it("ML-KEM encapsulates and decapsulates, deterministically with a seed", () => {
    const keys = b.mlKem768.keygen();
    const {cipherText, sharedSecret} = b.mlKem768.encapsulate(keys.publicKey);
    expect([cipherText.length, sharedSecret.length]).toEqual([ML_KEM768_CIPHERTEXT_BYTES, 32]);
    expect(b.mlKem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret);
    expect(b.mlKem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret); // key not consumed
    const m = new Uint8Array(32).fill(0x42);
    const e1 = b.mlKem768.encapsulate(keys.publicKey, m);
    const e2 = b.mlKem768.encapsulate(keys.publicKey, m);
    expect(e1).toEqual(e2);
    expect(e1.sharedSecret).not.toEqual(sharedSecret);
  });

  it("ML-KEM implicit rejection: a modified ciphertext yields a different, stable secret", () => {
    const keys = b.mlKem768.keygen();
    const {cipherText, sharedSecret} = b.mlKem768.encapsulate(keys.publicKey);
    const bad = flip(cipherText, 500);
    const k1 = b.mlKem768.decapsulate(bad, keys.secretKey);
    expect(k1).not.toEqual(sharedSecret);
    expect(b.mlKem768.decapsulate(bad, keys.secretKey)).toEqual(k1);
  });

  it("ML-KEM rejects bad keys and ciphertexts with CRYPTO_ERROR_INVALID_INPUT", () => {
    const keys = b.mlKem768.keygen();
    const {cipherText} = b.mlKem768.encapsulate(keys.publicKey);
    const notModQ = keys.publicKey.slice();
    notModQ.set([0xff, 0xff, 0xff], 0); // coefficient 0xfff ≥ q = 3329
    expect(() => b.mlKem768.encapsulate(notModQ)).toThrow(invalidInput);
    expect(() => b.mlKem768.encapsulate(keys.publicKey.subarray(1))).toThrow(invalidInput);
    expect(() => b.mlKem768.encapsulate(keys.publicKey, new Uint8Array(31))).toThrow(invalidInput);
    expect(() => b.mlKem768.decapsulate(cipherText.subarray(1), keys.secretKey)).toThrow(invalidInput);
    expect(() => b.mlKem768.decapsulate(cipherText, keys.secretKey.subarray(1))).toThrow(invalidInput);
    expect(() => b.mlKem768.decapsulate(cipherText, flip(keys.secretKey, 2340))).toThrow(invalidInput); // H(ek)
  });
});

describe("noble ↔ liboqs interoperability", () => {
  let oqs: PqBackend;
  const noble = nobleBackend;
  beforeAll(async () => {
    oqs = await createLiboqsBackend();
  });

  it.each([
    ["empty context", EMPTY],
    ["REQUEST_AUTH context", CTX.REQUEST_AUTH],
    ["STORAGE_PROOF context", CTX.STORAGE_PROOF],
  ])("signatures verify across implementations, both directions (%s)", (_label, ctx) => {
    for (const [signer, verifier, keyMaker] of [
      [oqs, noble, oqs],
      [noble, oqs, noble],
      [oqs, noble, noble],
      [noble, oqs, oqs],
    ] as const) {
      const label = `${signer.name} signs, ${verifier.name} verifies, ${keyMaker.name} keys`;
      const keys = keyMaker.mlDsa65.keygen();
      const sig = signer.mlDsa65.sign(keys.secretKey, MSG, ctx);
      expect(verifier.mlDsa65.verify(keys.publicKey, MSG, sig, ctx), label).toBe(true);
      const wrongCtx = ctx.length === 0 ? CTX.NODE_RECORD : EMPTY;
      expect(verifier.mlDsa65.verify(keys.publicKey, MSG, sig, wrongCtx), `${label}, wrong context`).toBe(false);
      expect(verifier.mlDsa65.verify(keys.publicKey, flip(MSG, 3), sig, ctx), `${label}, other message`).toBe(false);
    }
  });

  it("KEM works across implementations, both directions, including implicit rejection", () => {
    for (const [encapsulator, owner] of [
      [oqs, noble],
      [noble, oqs],
    ] as const) {
      const keys = owner.mlKem768.keygen();
      const {cipherText, sharedSecret} = encapsulator.mlKem768.encapsulate(keys.publicKey);
      expect(owner.mlKem768.decapsulate(cipherText, keys.secretKey), `${encapsulator.name}→${owner.name}`).toEqual(sharedSecret);
      expect(encapsulator.mlKem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret);
      const bad = flip(cipherText, 7);
      expect(oqs.mlKem768.decapsulate(bad, keys.secretKey)).toEqual(noble.mlKem768.decapsulate(bad, keys.secretKey));
    }
  });

  it("liboqs decapsulates a seeded noble encapsulation to the ACVP key", () => {
    const {d, z} = identityFixture.acvp.mlKem768;
    const keys = noble.mlKem768.keygen(hex(d + z));
    const m = hex("00".repeat(31) + "01");
    const {cipherText, sharedSecret} = noble.mlKem768.encapsulate(keys.publicKey, m);
    expect(oqs.mlKem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret);
  });
});
