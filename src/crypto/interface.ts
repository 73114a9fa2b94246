/**
 * The one interface behind which all post-quantum crypto lives. Two backends implement it:
 * `noble` (@noble/post-quantum, pure JS, the audited reference) and `liboqs` (@oqs/liboqs-js,
 * liboqs compiled to WebAssembly, much faster). Tests cross-check them against each other.
 *
 * Key and signature encodings are the FIPS 203/204 byte strings:
 *   ML-DSA-65: public key 1952 B, secret key 4032 B (expanded), signature 3309 B.
 *   ML-KEM-768: encapsulation key 1184 B, decapsulation key 2400 B, ciphertext 1088 B, secret 32 B.
 */
export const ML_DSA65_PUBLIC_KEY_BYTES = 1952;
export const ML_DSA65_SECRET_KEY_BYTES = 4032;
export const ML_DSA65_SIGNATURE_BYTES = 3309;
export const ML_KEM768_PUBLIC_KEY_BYTES = 1184;
export const ML_KEM768_SECRET_KEY_BYTES = 2400;
export const ML_KEM768_CIPHERTEXT_BYTES = 1088;
export const ML_KEM768_SHARED_SECRET_BYTES = 32;

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface MlDsa65 {
  /** FIPS 204 ML-DSA.KeyGen; with `seed` (32 bytes, ξ) it is deterministic. */
  keygen(seed?: Uint8Array): KeyPair;
  /** Pure ML-DSA-65 (hedged) with a FIPS 204 context string (at most 255 bytes). */
  sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array;
  /** Never throws on malformed input: wrong lengths or garbage return false. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean;
}

export interface MlKem768 {
  /** FIPS 203 ML-KEM.KeyGen; with `seed` (64 bytes, d ‖ z) it is deterministic. */
  keygen(seed?: Uint8Array): KeyPair;
  /** With `seed` (32 bytes, m) it is deterministic (test vectors only). */
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): {cipherText: Uint8Array; sharedSecret: Uint8Array};
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

export type PqBackendName = "noble" | "liboqs";

export interface PqBackend {
  readonly name: PqBackendName;
  readonly mlDsa65: MlDsa65;
  readonly mlKem768: MlKem768;
}
