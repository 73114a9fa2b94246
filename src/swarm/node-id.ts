/**
 * Node ID = lowercase hex BLAKE2b-256(ML-KEM-768 public key ‖ ML-DSA-65 public key): 64 hex chars,
 * the same hash as a Pars `07` account ID without the `07` prefix (pars-lux-landscape §2.2, §2.7).
 *
 * TODO(crypto): src/crypto/ will export `deriveNodeId`; switch to it once it lands and delete this
 * local helper (kept here so the swarm module does not wait on the crypto module).
 */
import {NODE_ID_BYTES} from "../protocol/index.js";
import {toHex} from "../protocol/index.js";
import {blake2b} from "@noble/hashes/blake2.js";

export function deriveNodeIdHex(mlKemPublicKey: Uint8Array, mlDsaPublicKey: Uint8Array): string {
  const input = new Uint8Array(mlKemPublicKey.length + mlDsaPublicKey.length);
  input.set(mlKemPublicKey, 0);
  input.set(mlDsaPublicKey, mlKemPublicKey.length);
  return toHex(blake2b(input, {dkLen: NODE_ID_BYTES}));
}
