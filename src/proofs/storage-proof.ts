/**
 * StorageProof (PIP-0008 §3.4): exactly the PIP's fields. JSON carries hex for IDs and the root,
 * numbers for the integers, base64 for the signature; the signed bytes are the fixed 97-byte
 * payload below, signed with ML-DSA-65 and context CTX.STORAGE_PROOF.
 */
import type {ContextSigner} from "../signer/index.js";
import {NODE_ID_BYTES} from "../protocol/index.js";
import {CTX} from "../crypto/index.js";
import {ML_DSA65_SIGNATURE_BYTES, type PqBackend} from "../crypto/index.js";

import {base64Bytes, exactObject, hexBytes, safeU64, toBase64, writeU64, type Json} from "./codec.js";
import {NODE_BYTES, PAYLOAD_VERSION, PROOF_PAYLOAD_BYTES} from "./constants.js";

export interface UnsignedStorageProof {
  /** 64 lowercase hex. */
  readonly nodeId: string;
  /** The node's swarm (a safe integer; Pars swarm IDs are below the swarm count). */
  readonly swarmId: number;
  readonly merkleRoot: Uint8Array;
  readonly messageCount: number;
  /** Sum of the data sizes of the committed messages. */
  readonly usedBytes: number;
  /** Unix ms; also the inclusion cutoff: committed messages have expiry > timestamp. */
  readonly timestamp: number;
}

export interface StorageProof extends UnsignedStorageProof {
  readonly signature: Uint8Array;
}

const FIELDS = ["nodeId", "swarmId", "merkleRoot", "messageCount", "usedBytes", "timestamp", "signature"] as const;

/** version ‖ nodeId 32 ‖ swarmId u64 ‖ merkleRoot 32 ‖ messageCount u64 ‖ usedBytes u64 ‖ timestamp u64. */
export function encodeProofPayload(p: UnsignedStorageProof): Buffer {
  const out = Buffer.alloc(PROOF_PAYLOAD_BYTES);
  out[0] = PAYLOAD_VERSION;
  let o = 1 + hexBytes(p.nodeId, "nodeId", NODE_ID_BYTES).copy(out, 1);
  o = writeU64(out, o, safeU64(p.swarmId, "swarmId"));
  if (p.merkleRoot.length !== NODE_BYTES) throw new RangeError("merkleRoot must be 32 bytes");
  o += Buffer.from(p.merkleRoot).copy(out, o);
  o = writeU64(out, o, safeU64(p.messageCount, "messageCount"));
  o = writeU64(out, o, safeU64(p.usedBytes, "usedBytes"));
  writeU64(out, o, safeU64(p.timestamp, "timestamp"));
  return out;
}

export async function signProof(p: UnsignedStorageProof, signer: ContextSigner): Promise<StorageProof> {
  const signature = await signer.sign(encodeProofPayload(p), CTX.STORAGE_PROOF);
  return {...p, signature};
}

/** True when `signature` is the ML-DSA-65 signature of the payload under `mlDsaPublicKey`. Never throws. */
export function verifyProofSignature(p: StorageProof, mlDsaPublicKey: Uint8Array, pq: PqBackend): boolean {
  try {
    return pq.mlDsa65.verify(mlDsaPublicKey, encodeProofPayload(p), p.signature, CTX.STORAGE_PROOF);
  } catch {
    return false;
  }
}

export function proofToJson(p: StorageProof): Json {
  return {
    nodeId: p.nodeId,
    swarmId: p.swarmId,
    merkleRoot: Buffer.from(p.merkleRoot).toString("hex"),
    messageCount: p.messageCount,
    usedBytes: p.usedBytes,
    timestamp: p.timestamp,
    signature: toBase64(p.signature),
  };
}

/** Decodes the JSON form; PROOF_ERROR_MALFORMED on any deviation. */
export function proofFromJson(value: unknown, field = "proof"): StorageProof {
  const o = exactObject(value, field, FIELDS);
  return {
    nodeId: hexBytes(o.nodeId, `${field}.nodeId`, NODE_ID_BYTES).toString("hex"),
    swarmId: safeU64(o.swarmId, `${field}.swarmId`),
    merkleRoot: hexBytes(o.merkleRoot, `${field}.merkleRoot`, NODE_BYTES),
    messageCount: safeU64(o.messageCount, `${field}.messageCount`),
    usedBytes: safeU64(o.usedBytes, `${field}.usedBytes`),
    timestamp: safeU64(o.timestamp, `${field}.timestamp`),
    signature: base64Bytes(o.signature, `${field}.signature`, ML_DSA65_SIGNATURE_BYTES),
  };
}
