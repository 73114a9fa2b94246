import {ParsError} from "../util/index.js";

/**
 * Failures of the crypto primitives. Match on `err.code`:
 * - `CRYPTO_ERROR_NOT_INITIALIZED`: a hash function ran before `initHashing()` resolved.
 * - `CRYPTO_ERROR_INVALID_INPUT`: a key, seed, context or ciphertext has the wrong length or
 *   fails a FIPS 203/204 input check (signing, key generation, encapsulation, decapsulation).
 *   Verification never throws this: it returns false instead.
 * - `CRYPTO_ERROR_BACKEND_UNAVAILABLE`: a post-quantum backend could not be loaded.
 * - `CRYPTO_ERROR_SELF_TEST_FAILED`: a backend loaded but disagreed with the reference (noble).
 */
export type CryptoErrorType =
  | {code: "CRYPTO_ERROR_NOT_INITIALIZED"}
  | {code: "CRYPTO_ERROR_INVALID_INPUT"; what: string}
  | {code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE"; backend: string}
  | {code: "CRYPTO_ERROR_SELF_TEST_FAILED"; backend: string; check: string};

export type CryptoErrorCode = CryptoErrorType["code"];

export class CryptoError extends ParsError<CryptoErrorType> {
  constructor(type: CryptoErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "CryptoError";
    if (cause !== undefined) this.cause = cause;
  }
}

/** Which key of the identity file a check is about. */
export type IdentityKeyName = "ml-dsa-65" | "ml-kem-768" | "x25519";

/**
 * Failures while loading, checking or creating the node identity key file. Every message names
 * the file, says what is wrong and states that the file was not modified. Match on `err.code`:
 * - `IDENTITY_ERROR_FOREIGN_FILE`: not a PQID key file at all (wrong magic, or absurd size).
 * - `IDENTITY_ERROR_UNSUPPORTED_VERSION`: a PQID file of a version this node does not know.
 * - `IDENTITY_ERROR_CORRUPT`: a PQID v1 file that is truncated, too long, or internally
 *   inconsistent in a way that is not a key/key mismatch (bad ID text, bad H(ek), bad encoding).
 * - `IDENTITY_ERROR_KEY_MISMATCH`: a secret key does not belong to the public key next to it.
 * - `IDENTITY_ERROR_ID_MISMATCH`: the stored `07…` ID is not the one derived from the keys.
 * - `IDENTITY_ERROR_SELF_TEST_FAILED`: the keys passed every structural check but a test
 *   signature made with them did not verify (points at the backend rather than the file).
 * - `IDENTITY_ERROR_IO`: the file or its directory could not be read, created or synced.
 */
export type IdentityErrorType =
  | {code: "IDENTITY_ERROR_FOREIGN_FILE"; path: string | null; sizeBytes: number}
  | {code: "IDENTITY_ERROR_UNSUPPORTED_VERSION"; path: string | null; version: number}
  | {code: "IDENTITY_ERROR_CORRUPT"; path: string | null; detail: string}
  | {code: "IDENTITY_ERROR_KEY_MISMATCH"; path: string | null; key: IdentityKeyName; detail: string}
  | {code: "IDENTITY_ERROR_ID_MISMATCH"; path: string | null; storedId: string; derivedId: string}
  | {code: "IDENTITY_ERROR_SELF_TEST_FAILED"; path: string | null; backend: string}
  | {code: "IDENTITY_ERROR_IO"; path: string; syscallCode: string | null};

export type IdentityErrorCode = IdentityErrorType["code"];

export class IdentityError extends ParsError<IdentityErrorType> {
  constructor(type: IdentityErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "IdentityError";
    if (cause !== undefined) this.cause = cause;
  }
}
