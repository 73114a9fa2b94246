import {describe, expect, it} from "vitest";
import {verifyNodeRecord} from "../../../src/swarm/node-record.js";
import {parseVersion, signOwnRecord} from "../../../src/swarm/own-record.js";
import {PARS, nobleBackend, testIdentity} from "./helpers.js";
import {x25519KeyPair} from "../../../src/crypto/x25519.js";
import {toHex} from "../../../src/protocol/encoding.js";
import {toSnodeEntry} from "../../../src/swarm/snode-entry.js";

describe("own node record", () => {
  const {dsa, kem} = testIdentity(3);
  const input = {
    networkId: 7072,
    identity: {mlDsa: dsa, mlKem: kem},
    host: "node1",
    port: 22025,
    stake: {operator: {address: "0xaa", amount: (3_750n * PARS).toString()}, contributors: [{address: "0xbb", amount: (11_250n * PARS).toString()}]},
    version: "0.1.0-rc.2",
    timestampMs: 1_767_225_600_000,
  };

  it("signs a record other nodes accept", () => {
    const json = signOwnRecord(input, nobleBackend);
    const result = verifyNodeRecord(json, nobleBackend, {networkId: 7072});
    expect(result.ok).toBe(true);
    expect(json).toMatchObject({host: "node1", port: 22025, version: [0, 1, 0], stake: {operator: {amount: "3750000000000000000000"}}});
  });

  it("publishes the identity's X25519 onion key; its snode entry carries it as pubkey_x25519 (hex)", () => {
    const x25519 = x25519KeyPair(new Uint8Array(32).fill(9));
    const json = signOwnRecord({...input, identity: {...input.identity, x25519}}, nobleBackend);
    expect(json.x25519PublicKey).toBe(toHex(x25519.publicKey));
    const result = verifyNodeRecord(json, nobleBackend, {networkId: 7072});
    if (!result.ok) expect.fail(result.reason);
    expect(result.record.x25519PublicKey).toEqual(x25519.publicKey);
    const entry = toSnodeEntry(result.record);
    expect(entry.pubkey_x25519).toBe(toHex(x25519.publicKey));
    expect(Object.keys(entry)).toEqual(["node_id", "pubkey_mldsa", "pubkey_mlkem", "pubkey_x25519", "ip", "port", "port_https"]);
    // Without a key (an identity decoded from a PQID v1 file) the record and entry simply lack it.
    const old = verifyNodeRecord(signOwnRecord(input, nobleBackend), nobleBackend);
    if (!old.ok) expect.fail(old.reason);
    expect("x25519PublicKey" in old.record).toBe(false);
    expect("pubkey_x25519" in toSnodeEntry(old.record)).toBe(false);
  });

  it("refuses bad amounts, versions and hosts", () => {
    expect(() => signOwnRecord({...input, stake: {...input.stake, operator: {address: "0xaa", amount: "-1"}}}, nobleBackend)).toThrow(/amount/);
    expect(() => signOwnRecord({...input, host: "0.0.0.0"}, nobleBackend)).toThrow(/invalid node record fields/);
    expect(() => parseVersion("1.2")).toThrow(/major.minor.patch/);
    expect(() => parseVersion("1.2.70000")).toThrow(/65535/);
    expect(parseVersion("12.0.7+build")).toEqual([12, 0, 7]);
  });
});
