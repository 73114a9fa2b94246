/**
 * The fast backend: @oqs/liboqs-js 0.15.1 (liboqs compiled to WebAssembly, synchronous calls).
 *
 * What its WebAssembly build can NOT do, and what we do instead (each verified in
 * node_modules/@oqs/liboqs-js/dist/*.min.js, whose only exports are OQS_SIG_{new,keypair,sign,
 * verify,free} and OQS_KEM_{new,keypair,encaps,decaps,free}):
 *   1. ML-DSA with a non-empty FIPS 204 context string. `OQS_SIG_sign_with_ctx_str` /
 *      `OQS_SIG_verify_with_ctx_str` are not exported and the function table is private, and the
 *      exported `OQS_SIG_sign` always formats M' = 0x00 ‖ 0x00 ‖ M (empty context), which no
 *      choice of M turns into 0x00 ‖ len ‖ ctx ‖ M. So sign/verify with a non-empty context are
 *      DELEGATED TO NOBLE. Every Pars protocol signature uses a context (crypto/contexts.ts), so
 *      in practice only empty-context ML-DSA (Pars Go clients' `Sign(sk, msg)`) runs in liboqs.
 *   2. Seeded ML-DSA / ML-KEM key generation and seeded encapsulation (`*_derand` are not
 *      exported; randomness comes from node:crypto inside the module). Delegated to noble; the
 *      results are the same FIPS byte strings, so keys work with either backend.
 * Everything else (random keygen, empty-context sign/verify, encapsulate, decapsulate) is liboqs.
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
import {nobleMlDsa65, nobleMlKem768} from "./noble.js";

/** Operations the liboqs backend hands to noble (see the file comment for why). */
export const LIBOQS_DELEGATED_TO_NOBLE: readonly string[] = Object.freeze([
  "ML-DSA-65 sign with a non-empty context",
  "ML-DSA-65 verify with a non-empty context",
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

function liboqsMlDsa65(sig: MLDSA65): MlDsa65 {
  const checkedKeys = new WeakSet<Uint8Array>();
  return {
    keygen(seed?: Uint8Array): KeyPair {
      if (seed !== undefined) return nobleMlDsa65.keygen(seed); // delegated: no seeded keygen export
      return sig.generateKeyPair();
    },
    sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array {
      assertSignInput(secretKey, message, context);
      if (context.length > 0) return nobleMlDsa65.sign(secretKey, message, context); // delegated
      assertSecretKeyInRange(secretKey, checkedKeys);
      try {
        return sig.sign(toPlainBytes(message), toPlainBytes(secretKey));
      } catch (err) {
        throw invalidInput("ML-DSA-65 sign", err);
      }
    },
    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean {
      if (!isVerifyInput(publicKey, message, signature, context)) return false;
      if (context.length > 0) return nobleMlDsa65.verify(publicKey, message, signature, context); // delegated
      try {
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

/**
 * Instantiates the liboqs WebAssembly modules (ML-DSA-65 and ML-KEM-768, about 120 KB of JS each).
 * Throws CRYPTO_ERROR_BACKEND_UNAVAILABLE if the package or its WebAssembly cannot be loaded.
 * Does not self-test: `loadPqBackend()` does that before handing the backend out.
 */
export async function createLiboqsBackend(): Promise<PqBackend> {
  try {
    const oqs = await import("@oqs/liboqs-js");
    const [sig, kem] = await Promise.all([oqs.createMLDSA65(), oqs.createMLKEM768()]);
    return Object.freeze({name: "liboqs", mlDsa65: liboqsMlDsa65(sig), mlKem768: liboqsMlKem768(kem)});
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CryptoError(
      {code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "liboqs"},
      `cannot load @oqs/liboqs-js: ${reason}`,
      err,
    );
  }
}
