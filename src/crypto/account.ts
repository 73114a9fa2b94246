/**
 * Post-quantum (`07`) account IDs, as in Pars' Go code (luxfi/session crypto/identity.go
 * `DeriveSessionID`): "07" ‖ lowercase hex(BLAKE2b-256(ML-KEM-768 pk ‖ ML-DSA-65 pk)), 66 chars.
 * A `07` ID is a hash, not a key: verifiers must be given both public keys and re-derive it.
 */
import {toHex} from "../protocol/index.js";
import {InvalidArgumentError} from "../util/index.js";
import {isBytes} from "./bytes.js";
import {blake2b256} from "./hash.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "./interface.js";

export const PQ_ACCOUNT_PREFIX = "07";
/** "07" + 64 hex chars. */
export const PQ_ACCOUNT_ID_CHARS = 66;

/** BLAKE2b-256(mlKemPk ‖ mlDsaPk): the 32 key bytes of a `07` account and of a node ID. */
export function pqKeysHash(mlKemPublicKey: Uint8Array, mlDsaPublicKey: Uint8Array): Uint8Array {
  if (!isBytes(mlKemPublicKey, ML_KEM768_PUBLIC_KEY_BYTES)) {
    throw new InvalidArgumentError(`ML-KEM-768 public key must be ${ML_KEM768_PUBLIC_KEY_BYTES} bytes`);
  }
  if (!isBytes(mlDsaPublicKey, ML_DSA65_PUBLIC_KEY_BYTES)) {
    throw new InvalidArgumentError(`ML-DSA-65 public key must be ${ML_DSA65_PUBLIC_KEY_BYTES} bytes`);
  }
  return blake2b256(mlKemPublicKey, mlDsaPublicKey);
}

/** "07" + hex(BLAKE2b-256(mlKemPk ‖ mlDsaPk)). Needs `initHashing()` first. */
export function deriveAccountId07(mlKemPublicKey: Uint8Array, mlDsaPublicKey: Uint8Array): string {
  return PQ_ACCOUNT_PREFIX + toHex(pqKeysHash(mlKemPublicKey, mlDsaPublicKey));
}
