/**
 * The claim signer over the node's BLS key (`staking/signer.key`, luxd's format): crypto/bls.ts's
 * `blsSign` with luxd's signature ciphersuite, min-pk (48-byte public key, 96-byte signature).
 */
import {blsPublicKey, blsSign} from "../crypto/index.js";
import type {ClaimSigner} from "./claim-service.js";

/** A signer over a 32-byte BLS secret key (big-endian scalar, luxd's encoding). */
export function blsClaimSigner(secretKey: Uint8Array): ClaimSigner {
  return {publicKey: blsPublicKey(secretKey), sign: (message) => blsSign(secretKey, message)};
}
