/**
 * An interim BLS claim signer until the node's luxd-format BLS key (issue #18 item 1,
 * `staking/signer.key`) is wired in: BLS12-381 min-pk (48-byte G1 public keys, 96-byte G2
 * signatures), the proof-of-possession ciphersuite luxd signs with. The secret key is derived
 * from the node's ML-DSA secret key (HKDF-SHA-256), so it is stable across restarts and needs no
 * file of its own.
 */
import {hkdfSync} from "node:crypto";
import {bls12_381} from "@noble/curves/bls12-381.js";
import type {ClaimSigner} from "./claim-service.js";

/** luxd's signature DST (draft-irtf-cfrg-bls-signature-05 §4.2.3, proof-of-possession scheme, min-pk). */
export const BLS_SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

const bls = bls12_381.longSignatures;

/** A signer over a 32-byte BLS secret key (big-endian scalar, luxd's encoding). */
export function blsClaimSigner(secretKey: Uint8Array): ClaimSigner {
  const publicKey = bls.getPublicKey(secretKey).toBytes();
  return {
    publicKey,
    sign: (message) => bls.Signature.toBytes(bls.sign(bls.hash(message, BLS_SIGNATURE_DST), secretKey)),
  };
}

/** The interim key: HKDF-SHA-256 of the ML-DSA secret key, then the IETF KeyGen of it. */
export function derivedBlsSecretKey(mlDsaSecretKey: Uint8Array): Uint8Array {
  const ikm = new Uint8Array(hkdfSync("sha256", mlDsaSecretKey, "pars-rewards", "pars-rewards/v1/interim-bls-key", 32));
  return bls.keygen(ikm).secretKey;
}
