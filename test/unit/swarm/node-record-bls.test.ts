/**
 * Node records with the BLS key (payload v4, v5 with TLS): layout, verification, and the rejection
 * of a record whose proof of possession does not verify, alone and inside a membership document.
 */
import {describe, expect, it} from "vitest";
import {blsProofOfPossession, blsPublicKey, blsSign, generateBlsSecretKey, initHashing} from "../../../src/crypto/index.js";
import {encodeNodeRecordPayload} from "../../../src/swarm/record-payload.js";
import {signNodeRecord, verifyNodeRecord} from "../../../src/swarm/node-record.js";
import {parseNodeRecords} from "../../../src/swarm/registry.js";
import {signOwnRecord} from "../../../src/swarm/own-record.js";
import type {NodeRecordFields} from "../../../src/swarm/record-types.js";
import {nobleBackend, signedRecord, testFields, testIdentity} from "./helpers.js";

await initHashing();

const x25519PublicKey = new Uint8Array(32).fill(9);
const tlsSpkiSha256 = new Uint8Array(32).fill(0xab);
const skA = generateBlsSecretKey(new Uint8Array(32).fill(0xa1));
const skB = generateBlsSecretKey(new Uint8Array(32).fill(0xb2));
const bls = (sk: Uint8Array): Pick<NodeRecordFields, "blsPublicKey" | "blsProofOfPossession"> => ({
  blsPublicKey: blsPublicKey(sk),
  blsProofOfPossession: blsProofOfPossession(sk),
});
const sign = (fields: NodeRecordFields, index = 0): ReturnType<typeof signNodeRecord> =>
  signNodeRecord(fields, testIdentity(index).dsa.secretKey, nobleBackend);

describe("node record payload v4/v5 (BLS key)", () => {
  it("is the v2/v3 payload with version 4/5 and the 48-byte key and 96-byte proof after the X25519 key / TLS pin", () => {
    for (const [extra, before, after] of [
      [{x25519PublicKey}, 2, 4],
      [{x25519PublicKey, tlsSpkiSha256}, 3, 5],
    ] as const) {
      const base = testFields(0, extra);
      const withBls = {...base, ...bls(skA)};
      const old = encodeNodeRecordPayload(base, "00".repeat(32));
      const payload = encodeNodeRecordPayload(withBls, "00".repeat(32));
      expect(old[0]).toBe(before);
      expect(payload[0]).toBe(after);
      const cut = 1 + 4 + 32 + 1952 + 1184 + 32 + ("tlsSpkiSha256" in extra ? 32 : 0);
      expect(payload.length).toBe(old.length + 144);
      expect(payload.subarray(1, cut)).toEqual(old.subarray(1, cut));
      expect(payload.subarray(cut, cut + 48)).toEqual(withBls.blsPublicKey);
      expect(payload.subarray(cut + 48, cut + 144)).toEqual(withBls.blsProofOfPossession);
      expect(payload.subarray(cut + 144)).toEqual(old.subarray(cut));
    }
  });

  it("a signed own record carries bls (hex) and verifies; the BLS key reaches the verified record", () => {
    const json = signOwnRecord(
      {
        networkId: 7070,
        identity: {mlDsa: testIdentity(0).dsa, mlKem: testIdentity(0).kem, x25519: {publicKey: x25519PublicKey, secretKey: new Uint8Array(32)}},
        bls: {secretKey: skA, publicKey: blsPublicKey(skA)},
        host: "10.0.0.1",
        port: 22021,
        stake: {operator: {address: "0x" + "11".repeat(20), amount: (15_000n * 10n ** 18n).toString()}, contributors: []},
        version: "0.1.0",
        timestampMs: 1_767_225_600_000,
      },
      nobleBackend,
    );
    expect(json.bls).toEqual({publicKey: Buffer.from(blsPublicKey(skA)).toString("hex"), proofOfPossession: Buffer.from(blsProofOfPossession(skA)).toString("hex")});
    const result = verifyNodeRecord(json, nobleBackend);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.record.blsPublicKey).toEqual(blsPublicKey(skA));
  });

  it("older records (v1, v2, v3) still verify", () => {
    for (const extra of [{}, {x25519PublicKey}, {x25519PublicKey, tlsSpkiSha256}]) {
      expect(verifyNodeRecord(signedRecord(0, extra), nobleBackend).ok).toBe(true);
    }
  });

  it("rejects a validly signed record whose proof of possession is for another key, another tag, or whose key is invalid", () => {
    const wrongKey = {blsPublicKey: blsPublicKey(skA), blsProofOfPossession: blsProofOfPossession(skB)};
    // A signature over the key under the ordinary tag is not a proof of possession.
    const wrongTag = {blsPublicKey: blsPublicKey(skA), blsProofOfPossession: blsSign(skA, blsPublicKey(skA))};
    const infinity = {blsPublicKey: Uint8Array.from([0xc0, ...new Array<number>(47).fill(0)]), blsProofOfPossession: blsProofOfPossession(skA)};
    for (const fields of [wrongKey, wrongTag, infinity]) {
      const result = verifyNodeRecord(sign(testFields(0, {x25519PublicKey, ...fields})), nobleBackend);
      expect(result).toMatchObject({ok: false, code: "NODE_RECORD_ERROR_BAD_PROOF_OF_POSSESSION"});
    }
  });

  it("signs the BLS fields: stripping or swapping them breaks the ML-DSA signature", () => {
    const json = sign(testFields(0, {x25519PublicKey, ...bls(skA)}));
    const {bls: _strip, ...stripped} = json;
    expect(verifyNodeRecord(stripped, nobleBackend)).toMatchObject({ok: false, code: "NODE_RECORD_ERROR_BAD_SIGNATURE"});
    const swapped = {
      ...json,
      bls: {publicKey: Buffer.from(blsPublicKey(skB)).toString("hex"), proofOfPossession: Buffer.from(blsProofOfPossession(skB)).toString("hex")},
    };
    expect(verifyNodeRecord(swapped, nobleBackend)).toMatchObject({ok: false, code: "NODE_RECORD_ERROR_BAD_SIGNATURE"});
  });

  it("rejects malformed bls objects before any crypto", () => {
    const json = sign(testFields(0, {x25519PublicKey, ...bls(skA)}));
    const {x25519PublicKey: _x, ...noX25519} = json;
    expect(verifyNodeRecord(noX25519, nobleBackend)).toMatchObject({ok: false, code: "NODE_RECORD_ERROR_MALFORMED"});
    const cases: [unknown, string][] = [
      [{publicKey: json.bls!.publicKey.toUpperCase(), proofOfPossession: json.bls!.proofOfPossession}, "NODE_RECORD_ERROR_BAD_ENCODING"],
      [{publicKey: json.bls!.publicKey.slice(2), proofOfPossession: json.bls!.proofOfPossession}, "NODE_RECORD_ERROR_BAD_ENCODING"],
      [{publicKey: json.bls!.publicKey}, "NODE_RECORD_ERROR_MALFORMED"],
      [{...json.bls, extra: 1}, "NODE_RECORD_ERROR_MALFORMED"],
      ["nope", "NODE_RECORD_ERROR_MALFORMED"],
    ];
    for (const [value, code] of cases) expect(verifyNodeRecord({...json, bls: value}, nobleBackend)).toMatchObject({ok: false, code});
    expect(() => sign(testFields(0, {blsPublicKey: blsPublicKey(skA), blsProofOfPossession: blsProofOfPossession(skA)}))).toThrow(/x25519/);
  });

  it("drops a member whose proof of possession is bad from a membership document, keeps the others", () => {
    const good = sign(testFields(0, {x25519PublicKey, ...bls(skA)}), 0);
    const bad = sign(testFields(1, {x25519PublicKey, blsPublicKey: blsPublicKey(skB), blsProofOfPossession: blsProofOfPossession(skA)}), 1);
    const parsed = parseNodeRecords({version: 1, network_id: 7070, nodes: [good, bad]}, nobleBackend);
    expect(parsed.records.map((r) => r.nodeId)).toEqual([good.nodeId]);
    expect(parsed.rejected).toMatchObject([{index: 1, nodeId: bad.nodeId, code: "NODE_RECORD_ERROR_BAD_PROOF_OF_POSSESSION"}]);
  });
});
