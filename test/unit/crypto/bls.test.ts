/**
 * src/crypto/bls.ts (noble) against vectors from supranational blst (test/fixtures/bls/, made by
 * gen-vectors.ts there): luxd's key file bytes, IETF KeyGen, signatures under luxd's tag (and
 * Ethereum's as a control), proofs of possession, aggregates, and the encodings blst rejects.
 */
import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {
  BLS_POP_DST,
  BLS_SIGNATURE_DST,
  CryptoError,
  blsAggregatePublicKeys,
  blsAggregateSignatures,
  blsProofOfPossession,
  blsPublicKey,
  blsSecretKeyFromBytes,
  blsSign,
  blsVerify,
  blsVerifyAggregate,
  blsVerifyProofOfPossession,
  generateBlsKeyPair,
  generateBlsSecretKey,
  isBlsPublicKey,
  isBlsSecretKey,
  isBlsSignature,
} from "../../../src/crypto/index.js";

interface Vectors {
  ciphersuites: {signature: string; proofOfPossession: string; ethereumControl: string};
  keys: {ikm: string; secretKey: string; publicKey: string}[];
  signerKeyFile: {fileBytes: string; publicKey: string};
  signatures: {dst: string; key: number; message: string; signature: string}[];
  proofsOfPossession: {key: number; proof: string}[];
  aggregates: {dst: string; message: string; keys: number[]; signatures: string[]; aggregateSignature: string; aggregatePublicKey: string}[];
  invalidPublicKeys: {name: string; key: string}[];
  invalidSignatures: {name: string; signature: string}[];
}

const vectors = JSON.parse(readFileSync(new URL("../../fixtures/bls/vectors.json", import.meta.url), "utf8")) as Vectors;
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const sk = (k: number): Uint8Array => hex(vectors.keys[k]!.secretKey);
const pk = (k: number): Uint8Array => hex(vectors.keys[k]!.publicKey);
const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

describe("BLS12-381 (luxd ciphersuites) against blst", () => {
  it("uses luxd's tags", () => {
    expect(BLS_SIGNATURE_DST).toBe(vectors.ciphersuites.signature);
    expect(BLS_POP_DST).toBe(vectors.ciphersuites.proofOfPossession);
  });

  it("derives keys as blst KeyGen does and reads signer.key bytes big-endian", () => {
    for (const key of vectors.keys) {
      expect(toHex(generateBlsSecretKey(hex(key.ikm)))).toBe(key.secretKey);
      expect(toHex(blsPublicKey(hex(key.secretKey)))).toBe(key.publicKey);
    }
    const file = hex(vectors.signerKeyFile.fileBytes);
    expect(toHex(blsPublicKey(blsSecretKeyFromBytes(file)))).toBe(vectors.signerKeyFile.publicKey);
    // Read little-endian, the same bytes are another key (or none: reversed they exceed r).
    const reversed = Uint8Array.from(file).reverse();
    expect(isBlsSecretKey(reversed) ? toHex(blsPublicKey(reversed)) : "not a key").not.toBe(vectors.signerKeyFile.publicKey);
  });

  it("reproduces blst's signatures and verifies them under their tag only", () => {
    // Pairings cost ~50 ms each here, so every signature is reproduced but only key 0's verified.
    for (const v of vectors.signatures) {
      const signature = blsSign(sk(v.key), hex(v.message), v.dst);
      expect(toHex(signature), `${v.dst} key ${v.key} message ${v.message.slice(0, 16)}`).toBe(v.signature);
      if (v.key !== 0) continue;
      expect(blsVerify(pk(v.key), hex(v.message), signature, v.dst)).toBe(true);
      const other = v.dst === BLS_SIGNATURE_DST ? BLS_POP_DST : BLS_SIGNATURE_DST;
      expect(blsVerify(pk(v.key), hex(v.message), signature, other)).toBe(false);
    }
    const luxd = vectors.signatures.find((v) => v.dst === BLS_SIGNATURE_DST && v.message !== "")!;
    expect(toHex(blsSign(sk(luxd.key), hex(luxd.message)))).toBe(luxd.signature); // the default tag
    expect(blsVerify(pk(luxd.key), hex(luxd.message), hex(luxd.signature))).toBe(true);
    expect(blsVerify(pk((luxd.key + 1) % 4), hex(luxd.message), hex(luxd.signature))).toBe(false);
    expect(blsVerify(pk(luxd.key), hex(luxd.message + "00"), hex(luxd.signature))).toBe(false);
  });

  it("reproduces blst's proofs of possession (the compressed public key under the PoP tag)", () => {
    for (const v of vectors.proofsOfPossession) {
      expect(toHex(blsProofOfPossession(sk(v.key)))).toBe(v.proof);
      expect(blsVerifyProofOfPossession(pk(v.key), hex(v.proof))).toBe(true);
      expect(blsVerifyProofOfPossession(pk((v.key + 1) % 4), hex(v.proof))).toBe(false);
      // A signature over the key bytes under the ordinary tag is not a proof of possession.
      expect(blsVerifyProofOfPossession(pk(v.key), blsSign(sk(v.key), pk(v.key)))).toBe(false);
    }
  });

  it("aggregates signatures and public keys as blst does and verifies the aggregate over one message", () => {
    for (const v of vectors.aggregates) {
      const keys = v.keys.map(pk);
      expect(toHex(blsAggregateSignatures(v.signatures.map(hex)))).toBe(v.aggregateSignature);
      expect(toHex(blsAggregatePublicKeys(keys))).toBe(v.aggregatePublicKey);
      if (v.dst !== BLS_SIGNATURE_DST) continue;
      expect(blsVerifyAggregate(keys, hex(v.message), hex(v.aggregateSignature))).toBe(true);
      const missing = [0, 1, 2, 3].find((k) => !v.keys.includes(k));
      if (missing !== undefined) {
        expect(blsVerifyAggregate([...keys, pk(missing)], hex(v.message), hex(v.aggregateSignature))).toBe(false);
      }
      expect(blsVerifyAggregate(keys.slice(1), hex(v.message), hex(v.aggregateSignature))).toBe(false);
      expect(blsVerifyAggregate(keys, hex(v.message + "ff"), hex(v.aggregateSignature))).toBe(false);
    }
    expect(blsVerifyAggregate([], new Uint8Array(0), hex(vectors.aggregates[0]!.aggregateSignature))).toBe(false);
    expect(() => blsAggregateSignatures([])).toThrow(CryptoError);
    expect(() => blsAggregatePublicKeys([])).toThrow(CryptoError);
  });

  it("rejects every public key and signature encoding blst rejects, without throwing in verify", () => {
    const v = vectors.signatures.find((s) => s.dst === BLS_SIGNATURE_DST)!;
    for (const bad of vectors.invalidPublicKeys) {
      expect(isBlsPublicKey(hex(bad.key)), bad.name).toBe(false);
      expect(blsVerify(hex(bad.key), hex(v.message), hex(v.signature)), bad.name).toBe(false);
      expect(blsVerifyProofOfPossession(hex(bad.key), hex(vectors.proofsOfPossession[0]!.proof)), bad.name).toBe(false);
      expect(() => blsAggregatePublicKeys([pk(0), hex(bad.key)]), bad.name).toThrow(CryptoError);
    }
    for (const bad of vectors.invalidSignatures) {
      expect(isBlsSignature(hex(bad.signature)), bad.name).toBe(false);
      expect(blsVerify(pk(v.key), hex(v.message), hex(bad.signature)), bad.name).toBe(false);
      expect(() => blsAggregateSignatures([hex(v.signature), hex(bad.signature)]), bad.name).toThrow(CryptoError);
    }
    expect(isBlsPublicKey(pk(0))).toBe(true);
    expect(isBlsSignature(hex(v.signature))).toBe(true);
  });

  it("rejects secret keys luxd rejects: zero, >= r, wrong length", () => {
    const r = hex(R.toString(16).padStart(64, "0"));
    const rMinus1 = hex((R - 1n).toString(16).padStart(64, "0"));
    for (const bad of [new Uint8Array(32), r, hex("ff".repeat(32)), new Uint8Array(31), new Uint8Array(33)]) {
      expect(isBlsSecretKey(bad)).toBe(false);
      expect(() => blsSecretKeyFromBytes(bad)).toThrow(CryptoError);
      expect(() => blsSign(bad, new Uint8Array(1))).toThrow(CryptoError);
    }
    expect(isBlsSecretKey(rMinus1)).toBe(true);
    expect(() => generateBlsSecretKey(new Uint8Array(31))).toThrow(CryptoError);
  });

  it("an aggregate of two keys that sum to infinity is rejected", () => {
    const a = generateBlsKeyPair();
    const negated = R - BigInt("0x" + toHex(a.secretKey));
    const b = blsPublicKey(hex(negated.toString(16).padStart(64, "0")));
    expect(() => blsAggregatePublicKeys([a.publicKey, b])).toThrow(CryptoError);
    const sa = blsSign(a.secretKey, new Uint8Array([1]));
    const sb = blsSign(hex(negated.toString(16).padStart(64, "0")), new Uint8Array([1]));
    expect(() => blsAggregateSignatures([sa, sb])).toThrow(CryptoError);
    // Random keys are fresh each call and sign-verify round-trip.
    const c = generateBlsKeyPair();
    expect(toHex(c.secretKey)).not.toBe(toHex(a.secretKey));
    expect(blsVerify(c.publicKey, new Uint8Array([2]), blsSign(c.secretKey, new Uint8Array([2])))).toBe(true);
  });
});
