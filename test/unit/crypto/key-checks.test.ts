import {sha3_256} from "@noble/hashes/sha3.js";
import {beforeAll, describe, expect, it} from "vitest";
import type {KeyPair, PqBackend} from "../../../src/crypto/interface.js";
import {
  checkMlDsa65KeyPair,
  checkMlKem768KeyPair,
  createLiboqsBackend,
  nobleBackend,
} from "../../../src/crypto/pq/index.js";
import {hex, identityFixture} from "./fixtures.js";

const vector = identityFixture.vectors[0]!;

function flipped(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] ?? 0) ^ mask;
  return copy;
}

describe("checkMlDsa65KeyPair", () => {
  let keys: KeyPair;
  let liboqs: PqBackend;
  beforeAll(async () => {
    keys = nobleBackend.mlDsa65.keygen(hex(vector.mlDsaSeed));
    liboqs = await createLiboqsBackend();
  });

  it("accepts matching pairs from noble (seeded and random) and from liboqs", () => {
    expect(checkMlDsa65KeyPair(keys.publicKey, keys.secretKey)).toBeNull();
    const random = nobleBackend.mlDsa65.keygen();
    expect(checkMlDsa65KeyPair(random.publicKey, random.secretKey)).toBeNull();
    const fromLiboqs = liboqs.mlDsa65.keygen();
    expect(checkMlDsa65KeyPair(fromLiboqs.publicKey, fromLiboqs.secretKey)).toBeNull();
  });

  it("rejects a secret key of another key pair", () => {
    const other = nobleBackend.mlDsa65.keygen();
    expect(checkMlDsa65KeyPair(keys.publicKey, other.secretKey)).toMatchObject({kind: "mismatch", detail: /ρ/});
  });

  it.each([
    ["ρ in the secret key", "sk", 5, /ρ/],
    ["tr", "sk", 70, /tr/],
    ["s1", "sk", 200, /A·s1 \+ s2/],
    ["s2", "sk", 1000, /A·s1 \+ s2/],
    ["t0, lowest bit", "sk", 2000, /A·s1 \+ s2/],
    ["t0, last byte", "sk", 4031, /A·s1 \+ s2/],
    ["ρ in the public key", "pk", 3, /ρ/],
    ["t1 in the public key", "pk", 1000, /tr/],
  ] as const)("detects a one-bit flip in %s as a mismatch", (_label, which, index, detail) => {
    const pk = which === "pk" ? flipped(keys.publicKey, index) : keys.publicKey;
    const sk = which === "sk" ? flipped(keys.secretKey, index) : keys.secretKey;
    expect(checkMlDsa65KeyPair(pk, sk)).toMatchObject({kind: "mismatch", detail});
  });

  it("reports an out-of-range s1/s2 coefficient as corrupt", () => {
    const sk = keys.secretKey.slice();
    sk[300] = 0xff; // two 4-bit values of 15 > 2η = 8
    expect(checkMlDsa65KeyPair(keys.publicKey, sk)).toMatchObject({kind: "corrupt", detail: /outside \[−4, 4\]/});
  });

  it("detects every single-bit flip outside K across the whole secret key (sampled)", () => {
    for (let index = 0; index < keys.secretKey.length; index += 61) {
      if (index >= 32 && index < 64) continue; // K: see the next test
      for (const mask of [0x01, 0x80]) {
        expect(checkMlDsa65KeyPair(keys.publicKey, flipped(keys.secretKey, index, mask)), `byte ${index} ^ ${mask}`).not.toBeNull();
      }
    }
  });

  it("cannot see damage to K (bytes 32–63): documented, signatures stay valid", () => {
    const sk = flipped(keys.secretKey, 40);
    expect(checkMlDsa65KeyPair(keys.publicKey, sk)).toBeNull();
    const ctx = new Uint8Array(0);
    const sig = nobleBackend.mlDsa65.sign(sk, Uint8Array.of(1), ctx);
    expect(nobleBackend.mlDsa65.verify(keys.publicKey, Uint8Array.of(1), sig, ctx)).toBe(true);
  });

  it("reports wrong lengths as corrupt", () => {
    expect(checkMlDsa65KeyPair(keys.publicKey.subarray(1), keys.secretKey)?.kind).toBe("corrupt");
    expect(checkMlDsa65KeyPair(keys.publicKey, keys.secretKey.subarray(1))?.kind).toBe("corrupt");
  });
});

describe("checkMlKem768KeyPair", () => {
  let keys: KeyPair;
  beforeAll(() => {
    keys = nobleBackend.mlKem768.keygen(hex(vector.mlKemSeed));
  });

  it("accepts a matching pair", () => {
    expect(checkMlKem768KeyPair(keys.publicKey, keys.secretKey)).toBeNull();
  });

  it("reports another key pair's secret key as a mismatch", () => {
    const other = nobleBackend.mlKem768.keygen();
    expect(checkMlKem768KeyPair(keys.publicKey, other.secretKey)).toMatchObject({kind: "mismatch"});
  });

  it.each([
    ["public key", "pk", 10, "mismatch", /embedded/],
    ["ek embedded in the secret key", "sk", 1200, "corrupt", /H\(ek\)/],
    ["H(ek) in the secret key", "sk", 2340, "corrupt", /H\(ek\)/],
  ] as const)("detects a flip in the %s", (_label, which, index, kind, detail) => {
    const pk = which === "pk" ? flipped(keys.publicKey, index) : keys.publicKey;
    const sk = which === "sk" ? flipped(keys.secretKey, index) : keys.secretKey;
    expect(checkMlKem768KeyPair(pk, sk)).toMatchObject({kind, detail});
  });

  it("reports 12-bit values ≥ q in dk_PKE and in a consistent ek as corrupt", () => {
    const sk = keys.secretKey.slice();
    sk.set([0xff, 0xff, 0xff], 30);
    expect(checkMlKem768KeyPair(keys.publicKey, sk)).toMatchObject({kind: "corrupt", detail: /dk_PKE/});
    const pk = keys.publicKey.slice();
    pk.set([0xff, 0xff, 0xff], 30);
    const consistent = keys.secretKey.slice();
    consistent.set(pk, 1152);
    consistent.set(sha3_256(pk), 2336);
    expect(checkMlKem768KeyPair(pk, consistent)).toMatchObject({kind: "corrupt", detail: /modulus/});
  });

  it("leaves dk_PKE value changes and z to the identity loader's round trip (documented)", () => {
    expect(checkMlKem768KeyPair(keys.publicKey, flipped(keys.secretKey, 100))).toBeNull();
    expect(checkMlKem768KeyPair(keys.publicKey, flipped(keys.secretKey, 2390))).toBeNull();
  });
});
