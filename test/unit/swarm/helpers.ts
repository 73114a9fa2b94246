/**
 * Test helpers for the swarm module: the crypto module's noble backend, deterministic byte
 * sources and record factories.
 */
import type {KeyPair} from "../../../src/crypto/interface.js";
import {nobleBackend} from "../../../src/crypto/pq/noble.js";
import {signNodeRecord} from "../../../src/swarm/node-record.js";
import type {NodeRecordFields, NodeRecordJson} from "../../../src/swarm/record-types.js";
import {createHash} from "node:crypto";
import {detBytes} from "../../utils/prng.js";

export {detBytes, nobleBackend};


/** A fake 1952-byte "ML-DSA key" for assignment tests (no signing needed). */
export function fakeMember(label: string, timestamp = 0): {nodeId: string; mlDsaPublicKey: Uint8Array; timestamp: number} {
  const mlDsaPublicKey = detBytes(`key/${label}`, 1952);
  const nodeId = createHash("sha256").update(`id/${label}`).digest("hex");
  return {nodeId, mlDsaPublicKey, timestamp};
}

export const PARS = 10n ** 18n;

export interface TestIdentity {
  readonly dsa: KeyPair;
  readonly kem: KeyPair;
}

const identities = new Map<number, TestIdentity>();

/** Cached deterministic identities (keygen is the slow part). */
export function testIdentity(index: number): TestIdentity {
  let identity = identities.get(index);
  if (identity === undefined) {
    identity = {
      dsa: nobleBackend.mlDsa65.keygen(detBytes(`dsa/${index}`, 32)),
      kem: nobleBackend.mlKem768.keygen(detBytes(`kem/${index}`, 64)),
    };
    identities.set(index, identity);
  }
  return identity;
}

export function testFields(index: number, overrides: Partial<NodeRecordFields> = {}): NodeRecordFields {
  const {dsa, kem} = testIdentity(index);
  return {
    networkId: 7070,
    mlDsaPublicKey: dsa.publicKey,
    mlKemPublicKey: kem.publicKey,
    host: `10.0.0.${index + 1}`,
    port: 22021,
    stake: {
      operator: {address: `0x${"11".repeat(19)}${(index % 256).toString(16).padStart(2, "0")}`, amount: 15_000n * PARS},
      contributors: [],
    },
    version: [0, 1, 0],
    timestamp: 1_767_225_600_000 + index,
    ...overrides,
  };
}

export function signedRecord(index: number, overrides: Partial<NodeRecordFields> = {}): NodeRecordJson {
  return signNodeRecord(testFields(index, overrides), testIdentity(index).dsa.secretKey, nobleBackend);
}
