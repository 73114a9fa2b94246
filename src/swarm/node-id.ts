/**
 * Node ID = lowercase hex BLAKE2b-256(ML-KEM-768 public key ‖ ML-DSA-65 public key): 64 hex chars,
 * the same hash as a Pars `07` account ID without the `07` prefix (pars-lux-landscape §2.2, §2.7).
 *
 * `crypto`'s `deriveNodeId` computes the same with hash-wasm, which needs `initHashing()` first;
 * this one (noble, synchronous) serves record decoding, which may run before that. Both are
 * checked to agree (test/unit/swarm/node-record.test.ts).
 */
import {blake2b} from "@noble/hashes/blake2.js";
import {NODE_ID_BYTES, toHex} from "../protocol/index.js";

export function deriveNodeIdHex(mlKemPublicKey: Uint8Array, mlDsaPublicKey: Uint8Array): string {
  const input = new Uint8Array(mlKemPublicKey.length + mlDsaPublicKey.length);
  input.set(mlKemPublicKey, 0);
  input.set(mlDsaPublicKey, mlKemPublicKey.length);
  return toHex(blake2b(input, {dkLen: NODE_ID_BYTES}));
}
