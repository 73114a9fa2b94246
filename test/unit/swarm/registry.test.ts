import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {REGISTRY_MAX_NODES, parseNodeRecords} from "../../../src/swarm/registry.js";
import type {NodeRecordJson} from "../../../src/swarm/record-types.js";
import {buildSwarmView} from "../../../src/swarm/view.js";
import {toSnodeEntry} from "../../../src/swarm/snode-entry.js";
import {detBytes, nobleBackend, signedRecord, testFields, testIdentity} from "./helpers.js";
import {signNodeRecord} from "../../../src/swarm/node-record.js";

const fixtureRecord = (
  JSON.parse(readFileSync(new URL("../../fixtures/swarm/vectors.json", import.meta.url), "utf8")) as {
    nodeRecord: {record: NodeRecordJson};
  }
).nodeRecord.record;

const doc = (nodes: unknown[], networkId = 7070): {version: number; network_id: number; nodes: unknown[]} => ({
  version: 1,
  network_id: networkId,
  nodes,
});

describe("parseNodeRecords", () => {
  const good = [0, 1, 2, 3].map((i) => signedRecord(i));

  it("accepts a valid document (object or JSON text), sorted by nodeId", () => {
    for (const input of [doc(good), JSON.stringify(doc([...good].reverse()))]) {
      const parsed = parseNodeRecords(input, nobleBackend, {networkId: 7070});
      expect(parsed.documentError).toBeNull();
      expect(parsed.rejected).toEqual([]);
      expect(parsed.records.map((r) => r.nodeId)).toEqual(good.map((r) => r.nodeId).sort());
    }
  });

  it("drops bad records with their index and reason, keeps the rest", () => {
    const badSig = {...signedRecord(4), port: 1};
    const nodes = [good[0], null, 42, "x", {}, badSig, good[1], {...fixtureRecord, networkId: 7071}];
    const parsed = parseNodeRecords(doc(nodes), nobleBackend);
    expect(parsed.records.map((r) => r.nodeId).sort()).toEqual([good[0]?.nodeId, good[1]?.nodeId].sort());
    expect(parsed.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, "NODE_RECORD_ERROR_MALFORMED"],
      [2, "NODE_RECORD_ERROR_MALFORMED"],
      [3, "NODE_RECORD_ERROR_MALFORMED"],
      [4, "NODE_RECORD_ERROR_MALFORMED"],
      [5, "NODE_RECORD_ERROR_BAD_SIGNATURE"],
      [7, "NODE_RECORD_ERROR_WRONG_NETWORK"],
    ]);
    expect(parsed.rejected[4]?.nodeId).toBe(badSig.nodeId);
  });

  it("keeps the newest record per node, whatever the order", () => {
    const older = signedRecord(5, {timestamp: 1_000});
    const newer = signedRecord(5, {timestamp: 2_000, host: "10.9.9.9"});
    for (const nodes of [[older, newer], [newer, older]]) {
      const parsed = parseNodeRecords(doc(nodes), nobleBackend);
      expect(parsed.records).toHaveLength(1);
      expect(parsed.records[0]?.host).toBe("10.9.9.9");
      expect(parsed.rejected).toEqual([
        expect.objectContaining({index: nodes.indexOf(older), code: "NODE_RECORD_ERROR_SUPERSEDED"}),
      ]);
    }
  });

  it("picks the same winner for equal timestamps in any order", () => {
    const a = signedRecord(6, {host: "10.1.1.1"});
    const b = signedRecord(6, {host: "10.2.2.2"});
    const first = parseNodeRecords(doc([a, b]), nobleBackend).records[0]?.host;
    const second = parseNodeRecords(doc([b, a]), nobleBackend).records[0]?.host;
    expect(first).toBe(second);
  });

  it("keeps one record per ML-DSA key (same identity key, other KEM key)", () => {
    const original = signedRecord(7, {timestamp: 5_000});
    const otherKem = nobleBackend.mlKem768.keygen(detBytes("kem/other", 64)).publicKey;
    const fields = testFields(7, {mlKemPublicKey: otherKem, timestamp: 6_000});
    const rekeyed = signNodeRecord(fields, testIdentity(7).dsa.secretKey, nobleBackend);
    const parsed = parseNodeRecords(doc([original, rekeyed]), nobleBackend);
    expect(parsed.records.map((r) => r.nodeId)).toEqual([rekeyed.nodeId]);
    expect(parsed.rejected).toEqual([expect.objectContaining({index: 0, code: "NODE_RECORD_ERROR_SUPERSEDED"})]);
  });

  it("reports a broken document without throwing", () => {
    const cases: Array<[unknown, string]> = [
      ["{not json", "REGISTRY_ERROR_MALFORMED"],
      [null, "REGISTRY_ERROR_MALFORMED"],
      [42, "REGISTRY_ERROR_MALFORMED"],
      [[], "REGISTRY_ERROR_MALFORMED"],
      ["[]", "REGISTRY_ERROR_MALFORMED"],
      [{version: 2, network_id: 7070, nodes: []}, "REGISTRY_ERROR_UNSUPPORTED_VERSION"],
      [{network_id: 7070, nodes: []}, "REGISTRY_ERROR_UNSUPPORTED_VERSION"],
      [{version: 1, network_id: "7070", nodes: []}, "REGISTRY_ERROR_MALFORMED"],
      [{version: 1, network_id: 7070, nodes: {}}, "REGISTRY_ERROR_MALFORMED"],
      [doc([], 7071), "REGISTRY_ERROR_WRONG_NETWORK"],
      [doc(new Array(REGISTRY_MAX_NODES + 1).fill(null)), "REGISTRY_ERROR_TOO_MANY_NODES"],
    ];
    for (const [input, code] of cases) {
      const parsed = parseNodeRecords(input, nobleBackend, {networkId: 7070});
      expect(parsed.documentError?.code, JSON.stringify(input)?.slice(0, 60)).toBe(code);
      expect(parsed.records).toEqual([]);
    }
  });

  it("survives random mutations of a valid document", () => {
    const text = JSON.stringify(doc([good[0], good[1]]));
    const noise = detBytes("fuzz", 3 * 200);
    const verifiedCache = new Set<string>(); // unchanged records skip ML-DSA verification
    for (let i = 0; i < 200; i++) {
      const pos = ((noise[3 * i] ?? 0) * 256 + (noise[3 * i + 1] ?? 0)) % text.length;
      const mutated = text.slice(0, pos) + String.fromCharCode(32 + ((noise[3 * i + 2] ?? 0) % 95)) + text.slice(pos + 1);
      const parsed = parseNodeRecords(mutated, nobleBackend, {verifiedCache});
      expect(parsed.records.length + parsed.rejected.length, `mutation ${i}`).toBeLessThanOrEqual(2);
    }
  });

  it("feeds a swarm view and get_swarm entries", () => {
    const parsed = parseNodeRecords(doc(good), nobleBackend);
    const view = buildSwarmView(parsed.records, "pip0008");
    expect(view.swarmCount).toBe(1);
    const entry = toSnodeEntry(view.membersOf(0n)[0] ?? parsed.records[0]!);
    expect(Object.keys(entry).sort()).toEqual(["ip", "node_id", "port", "port_https", "pubkey_mldsa", "pubkey_mlkem"]);
    expect(typeof entry.port).toBe("string");
    expect(entry.port).toBe(String(entry.port_https));
    expect(entry.pubkey_mldsa).toBe(good.find((g) => g.nodeId === entry.node_id)?.mlDsaPublicKey);
  });
});
