/** A node's (or auditor's) public keys as proofs carry them, and the node ID they imply. */
import {deriveNodeId} from "../crypto/identity.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../crypto/interface.js";
import {base64Bytes, exactObject, toBase64, type Json} from "./codec.js";

export interface PublicKeys {
  /** ML-DSA-65 public key, 1952 bytes: verifies the party's signatures. */
  readonly mlDsa: Uint8Array;
  /** ML-KEM-768 public key, 1184 bytes: only needed to recompute the node ID. */
  readonly mlKem: Uint8Array;
}

/** hex BLAKE2b-256(ML-KEM pk ‖ ML-DSA pk), or null for keys of the wrong size. Needs initHashing(). */
export function nodeIdOf(keys: PublicKeys): string | null {
  if (keys.mlDsa.length !== ML_DSA65_PUBLIC_KEY_BYTES || keys.mlKem.length !== ML_KEM768_PUBLIC_KEY_BYTES) return null;
  return deriveNodeId(keys.mlKem, keys.mlDsa);
}

export function keysToJson(keys: PublicKeys): Json {
  return {mlDsa: toBase64(keys.mlDsa), mlKem: toBase64(keys.mlKem)};
}

export function keysFromJson(value: unknown, field: string): PublicKeys {
  const o = exactObject(value, field, ["mlDsa", "mlKem"]);
  return {
    mlDsa: base64Bytes(o.mlDsa, `${field}.mlDsa`, ML_DSA65_PUBLIC_KEY_BYTES),
    mlKem: base64Bytes(o.mlKem, `${field}.mlKem`, ML_KEM768_PUBLIC_KEY_BYTES),
  };
}
