/**
 * Argument checks shared by both post-quantum backends, so they accept and reject exactly the
 * same inputs: signing/keygen/KEM throw CRYPTO_ERROR_INVALID_INPUT, verification returns false.
 */
import {assertBytes, isBytes} from "../bytes.js";
import {CryptoError} from "../errors.js";
import {
  ML_DSA65_PUBLIC_KEY_BYTES,
  ML_DSA65_SECRET_KEY_BYTES,
  ML_DSA65_SIGNATURE_BYTES,
  ML_KEM768_CIPHERTEXT_BYTES,
  ML_KEM768_PUBLIC_KEY_BYTES,
  ML_KEM768_SECRET_KEY_BYTES,
} from "../interface.js";

export const ML_DSA65_SEED_BYTES = 32;
export const ML_KEM768_SEED_BYTES = 64;
export const ML_KEM768_ENCAPS_SEED_BYTES = 32;
/** FIPS 204: the context string is at most 255 bytes. */
export const ML_DSA_MAX_CONTEXT_BYTES = 255;

export function assertContext(context: unknown): asserts context is Uint8Array {
  if (!isBytes(context) || context.length > ML_DSA_MAX_CONTEXT_BYTES) {
    throw new CryptoError(
      {code: "CRYPTO_ERROR_INVALID_INPUT", what: "ML-DSA-65 context"},
      `ML-DSA-65 context must be a Uint8Array of at most ${ML_DSA_MAX_CONTEXT_BYTES} bytes`,
    );
  }
}

export function assertSignInput(secretKey: unknown, message: unknown, context: unknown): void {
  assertBytes(secretKey, ML_DSA65_SECRET_KEY_BYTES, "ML-DSA-65 secret key");
  if (!isBytes(message)) {
    throw new CryptoError({code: "CRYPTO_ERROR_INVALID_INPUT", what: "message"}, "message must be a Uint8Array");
  }
  assertContext(context);
}

/** True when verify's inputs are well-formed; verify returns false otherwise. */
export function isVerifyInput(publicKey: unknown, message: unknown, signature: unknown, context: unknown): boolean {
  return (
    isBytes(publicKey, ML_DSA65_PUBLIC_KEY_BYTES) &&
    isBytes(signature, ML_DSA65_SIGNATURE_BYTES) &&
    isBytes(message) &&
    isBytes(context) &&
    context.length <= ML_DSA_MAX_CONTEXT_BYTES
  );
}

export function assertOptionalSeed(seed: unknown, length: number, what: string): void {
  if (seed !== undefined) assertBytes(seed, length, what);
}

export function assertEncapsInput(publicKey: unknown, seed: unknown): void {
  assertBytes(publicKey, ML_KEM768_PUBLIC_KEY_BYTES, "ML-KEM-768 public key");
  assertOptionalSeed(seed, ML_KEM768_ENCAPS_SEED_BYTES, "ML-KEM-768 encapsulation seed");
}

export function assertDecapsInput(cipherText: unknown, secretKey: unknown): void {
  assertBytes(cipherText, ML_KEM768_CIPHERTEXT_BYTES, "ML-KEM-768 ciphertext");
  assertBytes(secretKey, ML_KEM768_SECRET_KEY_BYTES, "ML-KEM-768 secret key");
}

/** Wraps an error thrown by a library into CRYPTO_ERROR_INVALID_INPUT (CryptoErrors pass through). */
export function invalidInput(what: string, err: unknown): CryptoError {
  if (err instanceof CryptoError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new CryptoError({code: "CRYPTO_ERROR_INVALID_INPUT", what}, `${what}: ${reason}`, err);
}
