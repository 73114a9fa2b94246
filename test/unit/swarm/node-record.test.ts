import {toBase64, toHex} from "../../../src/protocol/encoding.js";
import {createHash} from "node:crypto";
import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import {initHashing} from "../../../src/crypto/hash.js";
import {deriveNodeId} from "../../../src/crypto/identity.js";
import {x25519PublicKey} from "../../../src/crypto/x25519.js";
import type {PqBackend} from "../../../src/crypto/interface.js";
import {fromBase64Strict} from "../../../src/swarm/encoding.js";
import {nodeSwarm} from "../../../src/swarm/mapping.js";
import {deriveNodeIdHex} from "../../../src/swarm/node-id.js";
import {nodeRecordPayload, signNodeRecord, verifyNodeRecord} from "../../../src/swarm/node-record.js";
import type {NodeRecordJson, NodeRecordResult} from "../../../src/swarm/record-types.js";
import {PARS, nobleBackend, signedRecord, testFields, testIdentity} from "./helpers.js";

interface RecordVector {
  mlDsaSeedHex: string;
  mlKemSeedHex: string;
  record: NodeRecordJson;
  payloadHex: string;
  payloadSha256: string;
  payloadBytes: number;
  nodeSwarm: Record<string, string>;
}

const vectors = JSON.parse(readFileSync(new URL("../../fixtures/swarm/vectors.json", import.meta.url), "utf8")) as {
  nodeRecord: RecordVector;
  nodeRecordX25519: RecordVector & {x25519SecretHex: string};
};
const vector = vectors.nodeRecord;
const vectorX25519 = vectors.nodeRecordX25519;

const fixture = (): NodeRecordJson => structuredClone(vector.record);

function expectRejected(result: NodeRecordResult, code: string, label: string): void {
  if (result.ok) expect.fail(`${label}: accepted`);
  expect(result.code, `${label}: ${result.reason}`).toBe(code);
}

function verify(json: unknown, opts = {}): NodeRecordResult {
  return verifyNodeRecord(json, nobleBackend, opts);
}

describe("node record fixture (payload built by gen_vectors.py from the documented layout)", () => {
  it("verifies, and the TS encoder reproduces the Python payload byte for byte", () => {
    const result = verify(fixture());
    if (!result.ok) expect.fail(result.reason);
    const payload = nodeRecordPayload(result.record);
    expect(payload.length).toBe(vector.payloadBytes);
    expect(toHex(payload)).toBe(vector.payloadHex);
    expect(createHash("sha256").update(payload).digest("hex")).toBe(vector.payloadSha256);
    expect(result.record.totalStake).toBe(15_000n * PARS);
  });

  it("a record with the X25519 onion key signs payload v2, reproduced byte for byte", () => {
    const result = verify(structuredClone(vectorX25519.record));
    if (!result.ok) expect.fail(result.reason);
    expect(toHex(result.record.x25519PublicKey as Uint8Array)).toBe(vectorX25519.record.x25519PublicKey);
    expect(toHex(x25519PublicKey(Buffer.from(vectorX25519.x25519SecretHex, "hex")))).toBe(vectorX25519.record.x25519PublicKey);
    const payload = nodeRecordPayload(result.record);
    expect(payload[0]).toBe(2);
    expect(toHex(payload)).toBe(vectorX25519.payloadHex);
    expect(payload.length).toBe(vector.payloadBytes + 32);
    // The v1 record (no key) still verifies, and has no x25519PublicKey.
    const v1 = verify(fixture());
    expect(v1.ok && v1.record.x25519PublicKey).toBeUndefined();
  });

  it("the X25519 key cannot be stripped, swapped or mis-encoded", () => {
    const base = (): NodeRecordJson => structuredClone(vectorX25519.record);
    const stripped = base();
    delete stripped.x25519PublicKey;
    expectRejected(verify(stripped), "NODE_RECORD_ERROR_BAD_SIGNATURE", "stripped");
    const swapped = {...base(), x25519PublicKey: "04".repeat(32)};
    expectRejected(verify(swapped), "NODE_RECORD_ERROR_BAD_SIGNATURE", "swapped");
    const added = {...fixture(), x25519PublicKey: "04".repeat(32)};
    expectRejected(verify(added), "NODE_RECORD_ERROR_BAD_SIGNATURE", "added to a v1 record");
    for (const bad of ["04".repeat(31), "04".repeat(33), "AB".repeat(32), 5, null]) {
      expectRejected(verify({...base(), x25519PublicKey: bad}), bad === null || bad === 5 ? "NODE_RECORD_ERROR_MALFORMED" : "NODE_RECORD_ERROR_BAD_ENCODING", String(bad));
    }
  });

  it("signature verifies with the raw backend under CTX.NODE_RECORD only", () => {
    const pk = fromBase64Strict(vector.record.mlDsaPublicKey) as Uint8Array;
    const sig = fromBase64Strict(vector.record.signature) as Uint8Array;
    const payload = Buffer.from(vector.payloadHex, "hex");
    expect(nobleBackend.mlDsa65.verify(pk, payload, sig, CTX.NODE_RECORD)).toBe(true);
    expect(nobleBackend.mlDsa65.verify(pk, payload, sig, CTX.STORAGE_PROOF)).toBe(false);
    expect(nobleBackend.mlDsa65.verify(pk, payload, sig, new Uint8Array())).toBe(false);
  });

  it("the local nodeId helper agrees with crypto's deriveNodeId", async () => {
    await initHashing();
    for (const index of [0, 1]) {
      const {dsa, kem} = testIdentity(index);
      expect(deriveNodeIdHex(kem.publicKey, dsa.publicKey)).toBe(deriveNodeId(kem.publicKey, dsa.publicKey));
    }
  });

  it("keys come from the fixed seeds; nodeId and node swarm match", () => {
    const dsa = nobleBackend.mlDsa65.keygen(Buffer.from(vector.mlDsaSeedHex, "hex"));
    const kem = nobleBackend.mlKem768.keygen(Buffer.from(vector.mlKemSeedHex, "hex"));
    expect(toBase64(dsa.publicKey)).toBe(vector.record.mlDsaPublicKey);
    expect(toBase64(kem.publicKey)).toBe(vector.record.mlKemPublicKey);
    expect(deriveNodeIdHex(kem.publicKey, dsa.publicKey)).toBe(vector.record.nodeId);
    for (const [count, swarm] of Object.entries(vector.nodeSwarm)) {
      expect(nodeSwarm(dsa.publicKey, Number(count)), `count=${count}`).toBe(BigInt(swarm));
    }
  });
});

describe("signNodeRecord / verifyNodeRecord", () => {
  it("round-trips through JSON text", () => {
    const json = JSON.parse(JSON.stringify(signedRecord(0))) as unknown;
    const result = verify(json);
    if (!result.ok) expect.fail(result.reason);
    const fields = testFields(0);
    expect(result.record).toMatchObject({host: fields.host, port: fields.port, timestamp: fields.timestamp});
    expect(result.record.nodeId).toBe(deriveNodeIdHex(fields.mlKemPublicKey, fields.mlDsaPublicKey));
    expect(result.record.mlDsaPublicKey).toEqual(fields.mlDsaPublicKey);
    expect(Object.isFrozen(result.record)).toBe(true);
  });

  it("refuses to sign invalid fields", () => {
    const sk = testIdentity(0).dsa.secretKey;
    for (const overrides of [{host: "0.0.0.0"}, {port: 0}, {version: [1, 2, 70_000] as const}, {timestamp: -1}]) {
      expect(() => signNodeRecord(testFields(0, overrides), sk, nobleBackend), JSON.stringify(overrides)).toThrow(
        expect.objectContaining({code: "INVALID_ARGUMENT"}),
      );
    }
  });

  it("refuses to sign with a secret key that does not match the public key", () => {
    expect(() => signNodeRecord(testFields(0), testIdentity(1).dsa.secretKey, nobleBackend)).toThrow(
      expect.objectContaining({code: "INVALID_ARGUMENT"}),
    );
  });

  it("rejects every tampered field", () => {
    const other = testIdentity(1);
    const otherKem = toBase64(other.kem.publicKey);
    const otherDsa = toBase64(other.dsa.publicKey);
    const original = fixture();
    const dsa = fromBase64Strict(original.mlDsaPublicKey) as Uint8Array;
    const kem = fromBase64Strict(original.mlKemPublicKey) as Uint8Array;
    const flipped = fromBase64Strict(original.signature) as Uint8Array;
    flipped[100] = (flipped[100] ?? 0) ^ 0x01;
    const cases: Array<[string, (r: NodeRecordJson) => void, string]> = [
      ["networkId", (r) => (r.networkId = 7071), "BAD_SIGNATURE"],
      ["host", (r) => (r.host = "203.0.113.8"), "BAD_SIGNATURE"],
      ["port", (r) => (r.port = 22022), "BAD_SIGNATURE"],
      ["version", (r) => (r.version = [0, 1, 1]), "BAD_SIGNATURE"],
      ["timestamp", (r) => (r.timestamp += 1), "BAD_SIGNATURE"],
      ["operator amount", (r) => (r.stake.operator.amount = (3751n * PARS).toString()), "BAD_SIGNATURE"],
      ["operator address", (r) => (r.stake.operator.address = `0x${"33".repeat(20)}`), "BAD_SIGNATURE"],
      ["contributor address", (r) => ((r.stake.contributors[0] as {address: string}).address = "0xabc"), "BAD_SIGNATURE"],
      ["contributors dropped", (r) => (r.stake.contributors = []), "STAKE_INELIGIBLE"],
      ["ML-KEM key", (r) => (r.mlKemPublicKey = otherKem), "NODE_ID_MISMATCH"],
      ["ML-DSA key", (r) => (r.mlDsaPublicKey = otherDsa), "NODE_ID_MISMATCH"],
      ["ML-KEM key + nodeId", (r) => {
        r.mlKemPublicKey = otherKem;
        r.nodeId = deriveNodeIdHex(other.kem.publicKey, dsa);
      }, "BAD_SIGNATURE"],
      ["ML-DSA key + nodeId", (r) => {
        r.mlDsaPublicKey = otherDsa;
        r.nodeId = deriveNodeIdHex(kem, other.dsa.publicKey);
      }, "BAD_SIGNATURE"],
      ["nodeId", (r) => (r.nodeId = "ab".repeat(32)), "NODE_ID_MISMATCH"],
      ["signature bit", (r) => (r.signature = toBase64(flipped)), "BAD_SIGNATURE"],
      ["signature of another record", (r) => (r.signature = signedRecord(1).signature), "BAD_SIGNATURE"],
    ];
    for (const [label, mutate, code] of cases) {
      const record = fixture();
      mutate(record);
      expectRejected(verify(record), `NODE_RECORD_ERROR_${code}`, label);
    }
  });

  it("rejects bad base64", () => {
    const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const pk = fixture().mlDsaPublicKey; // 1952 bytes: ends in one "="
    const lastData = pk.at(-2) ?? "A";
    const nonCanonical = `${pk.slice(0, -2)}${b64[b64.indexOf(lastData) ^ 1]}=`; // same bytes, other tail bits
    const cases: Array<[string, string, string]> = [
      ["mlDsaPublicKey", pk.slice(0, -1), "unpadded"],
      ["mlDsaPublicKey", nonCanonical, "non-canonical tail"],
      ["mlDsaPublicKey", `${pk.slice(0, 8)}\n${pk.slice(8)}`, "newline"],
      ["mlKemPublicKey", fixture().mlKemPublicKey.replace(/\+/g, "-").replace(/\//g, "_"), "url-safe alphabet"],
      ["signature", `!${fixture().signature.slice(1)}`, "invalid character"],
      ["nodeId", fixture().nodeId.toUpperCase(), "uppercase hex"],
    ];
    for (const [field, value, label] of cases) {
      const record = {...fixture(), [field]: value};
      expectRejected(verify(record), "NODE_RECORD_ERROR_BAD_ENCODING", label);
    }
  });

  it("rejects wrong key and signature lengths", () => {
    const cases: Array<[keyof NodeRecordJson, number]> = [
      ["mlDsaPublicKey", 1951], ["mlDsaPublicKey", 1953], ["mlKemPublicKey", 1183],
      ["mlKemPublicKey", 1952], ["signature", 3308], ["signature", 0],
    ];
    for (const [field, length] of cases) {
      const record = {...fixture(), [field]: toBase64(new Uint8Array(length).fill(7))};
      expectRejected(verify(record), "NODE_RECORD_ERROR_BAD_LENGTH", `${field} ${length}`);
    }
  });

  it("rejects ineligible stake with economics' reasons, even when correctly signed", () => {
    const small = signedRecord(2, {stake: {operator: {address: "0xop", amount: 1_000n * PARS}, contributors: []}});
    const result = verify(small);
    expectRejected(result, "NODE_RECORD_ERROR_STAKE_INELIGIBLE", "1,000 PARS");
    if (!result.ok) {
      expect(result.reason).toContain("TOTAL_BELOW_REQUIREMENT");
      expect(result.reason).toContain("OPERATOR_BELOW_MINIMUM");
    }
    const contributors = Array.from({length: 10}, (_, i) => ({address: `0xc${i}`, amount: 1_500n * PARS}));
    const crowded = signedRecord(2, {stake: {operator: {address: "0xop", amount: 15_000n * PARS}, contributors}});
    const crowdedResult = verify(crowded);
    expectRejected(crowdedResult, "NODE_RECORD_ERROR_STAKE_INELIGIBLE", "11 stakers");
    if (!crowdedResult.ok) expect(crowdedResult.reason).toContain("TOO_MANY_CONTRIBUTORS");
    expect(verify(crowded, {checkStake: () => ({eligible: true, totalStake: 1n})}).ok).toBe(true);
  });

  it("rejects malformed structure", () => {
    const cases: Array<[string, (r: Record<string, unknown>) => void]> = [
      ["unknown field", (r) => (r.extra = 1)],
      ["missing field", (r) => delete r.port],
      ["port string", (r) => (r.port = "22021")],
      ["port 0", (r) => (r.port = 0)],
      ["port 65536", (r) => (r.port = 65_536)],
      ["networkId negative", (r) => (r.networkId = -1)],
      ["version short", (r) => (r.version = [1, 2])],
      ["version text", (r) => (r.version = ["0", 1, 0])],
      ["timestamp fraction", (r) => (r.timestamp = 1.5)],
      ["timestamp unsafe", (r) => (r.timestamp = 2 ** 53)],
      ["stake null", (r) => (r.stake = null)],
      ["stake extra", (r) => (r.stake = {...(r.stake as object), slashed: true})],
      ["contributors object", (r) => (r.stake = {operator: (r.stake as {operator: unknown}).operator, contributors: {}})],
      ["signature number", (r) => (r.signature = 5)],
    ];
    for (const [label, mutate] of cases) {
      const record = fixture() as unknown as Record<string, unknown>;
      mutate(record);
      expectRejected(verify(record), "NODE_RECORD_ERROR_MALFORMED", label);
    }
  });

  it("rejects bad hosts and amounts, accepts host names", () => {
    for (const host of ["0.0.0.0", "256.1.1.1", "1.2.3.999", "01.2.3.4", "Example.com", "-a.com", "a..b", "a.com.", "", "::1"]) {
      expectRejected(verify({...fixture(), host}), "NODE_RECORD_ERROR_MALFORMED", `host ${JSON.stringify(host)}`);
    }
    for (const amount of ["-1", "01", "1e3", "1.5", " 1", (2n ** 256n).toString(), ""]) {
      const record = fixture();
      record.stake.operator.amount = amount;
      expectRejected(verify(record), "NODE_RECORD_ERROR_MALFORMED", `amount ${JSON.stringify(amount)}`);
    }
    for (const host of ["seed1.pars.network", "localhost", "127.0.0.1"]) {
      expect(verify(signedRecord(3, {host})).ok, host).toBe(true);
    }
  });

  it("checks network and freshness when asked", () => {
    const record = fixture();
    expectRejected(verify(record, {networkId: 7071}), "NODE_RECORD_ERROR_WRONG_NETWORK", "network");
    expect(verify(record, {networkId: 7070}).ok).toBe(true);
    const t = record.timestamp;
    expectRejected(verify(record, {nowMs: t - 5 * 60_000 - 1}), "NODE_RECORD_ERROR_FROM_FUTURE", "future");
    expect(verify(record, {nowMs: t - 5 * 60_000}).ok).toBe(true);
    expectRejected(verify(record, {nowMs: t + 1001, maxAgeMs: 1000}), "NODE_RECORD_ERROR_STALE", "stale");
    expect(verify(record, {nowMs: t + 1000, maxAgeMs: 1000}).ok).toBe(true);
  });

  it("skips only the signature check for records in the verified cache", () => {
    let verifies = 0;
    const counting: PqBackend = {
      ...nobleBackend,
      mlDsa65: {...nobleBackend.mlDsa65, verify: (...args) => (verifies++, nobleBackend.mlDsa65.verify(...args))},
    };
    const cache = new Set<string>();
    expect(verifyNodeRecord(fixture(), counting, {verifiedCache: cache}).ok).toBe(true);
    expect(verifyNodeRecord(fixture(), counting, {verifiedCache: cache}).ok).toBe(true);
    expect(verifies).toBe(1);
    expect(cache.size).toBe(1);
    const tampered = {...fixture(), port: 1};
    expectRejected(verifyNodeRecord(tampered, counting, {verifiedCache: cache}), "NODE_RECORD_ERROR_BAD_SIGNATURE", "p");
    expect(cache.size).toBe(1);
    const poor = fixture();
    poor.stake.contributors = [];
    expectRejected(verifyNodeRecord(poor, counting, {verifiedCache: cache}), "NODE_RECORD_ERROR_STAKE_INELIGIBLE", "s");
  });

  it("never throws on garbage", () => {
    const hostile = {
      ...fixture(),
      get host(): string {
        throw new Error("boom");
      },
    };
    const garbage: unknown[] = [null, undefined, 0, "x", [], {}, [fixture()], {stake: {}}, hostile, Object.create(null)];
    garbage.forEach((value, i) => expect(verify(value).ok, `garbage #${i}`).toBe(false));
  });
});
