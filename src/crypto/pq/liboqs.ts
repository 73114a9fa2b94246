/**
 * The fast backend: @oqs/liboqs-js 0.15.1 (liboqs compiled to WebAssembly, synchronous calls).
 *
 * ML-DSA-65 sign/verify, with or without a FIPS 204 context, run in liboqs through
 * liboqs-context.ts: the package's JS wrapper has no context API and its build stubs out
 * `OQS_SIG_*_with_ctx_str`, so that file exports the underlying context-taking mldsa-native
 * routines from the same WebAssembly. That path is used only after its known-answer test against
 * noble passes; if it cannot load or fails, sign/verify with a non-empty context are DELEGATED TO
 * NOBLE (reported through `onContextFallback`) and the empty context uses the package's
 * `OQS_SIG_sign`/`OQS_SIG_verify` (which format M' = 0x00 ‖ 0x00 ‖ M, so no choice of M gives a
 * non-empty context).
 *
 * Seeded ML-DSA / ML-KEM key generation and seeded encapsulation are delegated to noble (`*_derand`
 * are not exported; randomness comes from node:crypto inside the module); the results are the
 * same FIPS byte strings, so keys work with either backend. Everything else (random keygen,
 * encapsulate, decapsulate) is liboqs.
 * Two input checks liboqs skips are added so both backends reject the same inputs: the s1/s2 range
 * of an ML-DSA secret key before signing, and the FIPS 203 H(ek) check before decapsulating (each
 * once per secret-key object).
 */
import type {MLDSA65, MLKEM768} from "@oqs/liboqs-js";
import {sha3_256} from "@noble/hashes/sha3.js";
import {equalBytes, toPlainBytes} from "../bytes.js";
import {CryptoError} from "../errors.js";
import type {KeyPair, MlDsa65, MlKem768, PqBackend} from "../interface.js";
import {
  assertDecapsInput,
  assertEncapsInput,
  assertSignInput,
  invalidInput,
  isVerifyInput,
} from "./checks.js";
import {mlDsa65SecretKeyInRange} from "./key-checks.js";
import {loadCheckedLiboqsContextMlDsa65, type LiboqsContextMlDsa65} from "./liboqs-context.js";
import {nobleMlDsa65, nobleMlKem768} from "./noble.js";

/**
 * Operations the liboqs backend always hands to noble (see the file comment for why). ML-DSA-65
 * with a non-empty context joins them only if the context path fails its self-test.
 */
export const LIBOQS_DELEGATED_TO_NOBLE: readonly string[] = Object.freeze([
  "ML-DSA-65 keygen from a seed",
  "ML-KEM-768 keygen from a seed",
  "ML-KEM-768 encapsulate with a seed",
]);

/** noble rejects secret keys with out-of-range s1/s2 when signing; liboqs signs them. Align. */
function assertSecretKeyInRange(secretKey: Uint8Array, checked: WeakSet<Uint8Array>): void {
  if (checked.has(secretKey)) return;
  if (!mlDsa65SecretKeyInRange(secretKey)) {
    throw new CryptoError(
      {code: "CRYPTO_ERROR_INVALID_INPUT", what: "ML-DSA-65 secret key"},
      "ML-DSA-65 sign: malformed secret key: an s1/s2 coefficient is outside [−4, 4]",
    );
  }
  checked.add(secretKey);
}

function liboqsMlDsa65(sig: MLDSA65, withContext: LiboqsContextMlDsa65 | null): MlDsa65 {
  const checkedKeys = new WeakSet<Uint8Array>();
  return {
    keygen(seed?: Uint8Array): KeyPair {
      if (seed !== undefined) return nobleMlDsa65.keygen(seed); // delegated: no seeded keygen export
      return sig.generateKeyPair();
    },
    sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array {
      assertSignInput(secretKey, message, context);
      if (withContext === null && context.length > 0) return nobleMlDsa65.sign(secretKey, message, context); // delegated
      assertSecretKeyInRange(secretKey, checkedKeys);
      try {
        if (withContext !== null) return withContext.sign(toPlainBytes(secretKey), toPlainBytes(message), toPlainBytes(context));
        return sig.sign(toPlainBytes(message), toPlainBytes(secretKey));
      } catch (err) {
        throw invalidInput("ML-DSA-65 sign", err);
      }
    },
    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean {
      if (!isVerifyInput(publicKey, message, signature, context)) return false;
      if (withContext === null && context.length > 0) return nobleMlDsa65.verify(publicKey, message, signature, context); // delegated
      try {
        if (withContext !== null) return withContext.verify(publicKey, message, signature, context);
        return sig.verify(toPlainBytes(message), toPlainBytes(signature), toPlainBytes(publicKey));
      } catch {
        return false;
      }
    },
  };
}

/**
 * liboqs' decapsulation skips the FIPS 203 §7.3 hash check (dk[1152:2336] hashes to dk[2336:2368])
 * that noble performs; we run it once per secret-key object so both backends reject the same keys.
 */
function assertDecapsKeyHash(secretKey: Uint8Array, checked: WeakSet<Uint8Array>): void {
  if (checked.has(secretKey)) return;
  if (!equalBytes(sha3_256(secretKey.subarray(1152, 2336)), secretKey.subarray(2336, 2368))) {
    throw new CryptoError(
      {code: "CRYPTO_ERROR_INVALID_INPUT", what: "ML-KEM-768 secret key"},
      "ML-KEM-768 decapsulate (FIPS 203 secret key check): invalid secretKey: hash check failed",
    );
  }
  checked.add(secretKey);
}

function liboqsMlKem768(kem: MLKEM768): MlKem768 {
  const checkedKeys = new WeakSet<Uint8Array>();
  return {
    keygen(seed?: Uint8Array): KeyPair {
      if (seed !== undefined) return nobleMlKem768.keygen(seed); // delegated: no seeded keygen export
      return kem.generateKeyPair();
    },
    encapsulate(publicKey: Uint8Array, seed?: Uint8Array): {cipherText: Uint8Array; sharedSecret: Uint8Array} {
      assertEncapsInput(publicKey, seed);
      if (seed !== undefined) return nobleMlKem768.encapsulate(publicKey, seed); // delegated
      try {
        const {ciphertext, sharedSecret} = kem.encapsulate(toPlainBytes(publicKey));
        return {cipherText: ciphertext, sharedSecret};
      } catch (err) {
        throw invalidInput("ML-KEM-768 encapsulate (FIPS 203 public key check)", err);
      }
    },
    decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
      assertDecapsInput(cipherText, secretKey);
      assertDecapsKeyHash(secretKey, checkedKeys);
      try {
        return kem.decapsulate(toPlainBytes(cipherText), toPlainBytes(secretKey));
      } catch (err) {
        throw invalidInput("ML-KEM-768 decapsulate", err);
      }
    },
  };
}

export interface LiboqsBackendOptions {
  /** Replaces `loadCheckedLiboqsContextMlDsa65` (tests inject failing or broken context paths). */
  contextFactory?: () => Promise<LiboqsContextMlDsa65>;
  /** Called with the reason when the context path is unusable and noble signs/verifies with contexts. */
  onContextFallback?: (reason: CryptoError) => void;
}

async function loadContextPath(opts: LiboqsBackendOptions): Promise<LiboqsContextMlDsa65 | null> {
  try {
    return await (opts.contextFactory ?? loadCheckedLiboqsContextMlDsa65)();
  } catch (err) {
    const reason =
      err instanceof CryptoError
        ? err
        : new CryptoError({code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "liboqs"}, String(err), err);
    opts.onContextFallback?.(reason);
    return null;
  }
}

/**
 * Instantiates the liboqs WebAssembly modules (ML-DSA-65 twice: the package's and the context
 * path's; ML-KEM-768), and runs the context path's known-answer test (~40 ms).
 * Throws CRYPTO_ERROR_BACKEND_UNAVAILABLE if the package or its WebAssembly cannot be loaded.
 * Does not run the whole-backend self-test: `loadPqBackend()` does that before handing it out.
 */
export async function createLiboqsBackend(opts: LiboqsBackendOptions = {}): Promise<PqBackend> {
  let sig: MLDSA65;
  let kem: MLKEM768;
  try {
    const oqs = await import("@oqs/liboqs-js");
    [sig, kem] = await Promise.all([oqs.createMLDSA65(), oqs.createMLKEM768()]);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CryptoError(
      {code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "liboqs"},
      `cannot load @oqs/liboqs-js: ${reason}`,
      err,
    );
  }
  const withContext = await loadContextPath(opts);
  return Object.freeze({name: "liboqs", mlDsa65: liboqsMlDsa65(sig, withContext), mlKem768: liboqsMlKem768(kem)});
}
