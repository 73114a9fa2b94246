/**
 * Test helpers for the network view: membership nodes with real ML-DSA-65 keys (the swarm tests'
 * deterministic identities) and StorageProofs they sign.
 */
import {proofToJson, signProof, type StorageProof} from "../../../src/proofs/storage-proof.js";
import type {PublicKeys} from "../../../src/proofs/keys.js";
import {InlineSigner} from "../../../src/signing/context-signer.js";
import {nobleBackend, signedRecord, testIdentity} from "../swarm/helpers.js";

export const T0 = 1_767_225_600_000;
export {silentLogger as silent} from "../../utils/logger.js";
export {nobleBackend};

export interface TestMember {
  readonly index: number;
  readonly nodeId: string;
  readonly keys: PublicKeys;
}

export function member(index: number): TestMember {
  const {dsa, kem} = testIdentity(index);
  return {index, nodeId: signedRecord(index).nodeId, keys: {mlDsa: dsa.publicKey, mlKem: kem.publicKey}};
}

/** A StorageProof for `of`'s node ID, signed with the key of `signedBy` (default: the same node). */
export async function proof(of: TestMember, over: {timestamp?: number; usedBytes?: number; signedBy?: TestMember} = {}): Promise<StorageProof> {
  const signer = new InlineSigner(nobleBackend, testIdentity((over.signedBy ?? of).index).dsa.secretKey);
  const unsigned = {
    nodeId: of.nodeId,
    swarmId: 0,
    merkleRoot: new Uint8Array(32).fill(of.index),
    messageCount: 1,
    usedBytes: over.usedBytes ?? 1_000,
    timestamp: over.timestamp ?? T0,
  };
  return signProof(unsigned, signer);
}

export const json = (p: StorageProof): unknown => JSON.parse(JSON.stringify(proofToJson(p)));
