/**
 * The reference backend: @noble/post-quantum (pure JS, audited, FIPS 203/204 final). Every
 * operation is supported, including seeded key generation and seeded encapsulation.
 */
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import {ml_kem768} from "@noble/post-quantum/ml-kem.js";
import type {KeyPair, MlDsa65, MlKem768, PqBackend} from "../interface.js";
import {
  ML_DSA65_SEED_BYTES,
  ML_KEM768_SEED_BYTES,
  assertDecapsInput,
  assertEncapsInput,
  assertOptionalSeed,
  assertSignInput,
  invalidInput,
  isVerifyInput,
} from "./checks.js";

export const nobleMlDsa65: MlDsa65 = {
  keygen(seed?: Uint8Array): KeyPair {
    assertOptionalSeed(seed, ML_DSA65_SEED_BYTES, "ML-DSA-65 key generation seed");
    const {publicKey, secretKey} = ml_dsa65.keygen(seed);
    return {publicKey, secretKey};
  },
  sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array {
    assertSignInput(secretKey, message, context);
    try {
      return ml_dsa65.sign(message, secretKey, {context});
    } catch (err) {
      throw invalidInput("ML-DSA-65 sign", err);
    }
  },
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean {
    if (!isVerifyInput(publicKey, message, signature, context)) return false;
    try {
      return ml_dsa65.verify(signature, message, publicKey, {context});
    } catch {
      return false;
    }
  },
};

export const nobleMlKem768: MlKem768 = {
  keygen(seed?: Uint8Array): KeyPair {
    assertOptionalSeed(seed, ML_KEM768_SEED_BYTES, "ML-KEM-768 key generation seed (d ‖ z)");
    const {publicKey, secretKey} = ml_kem768.keygen(seed);
    return {publicKey, secretKey};
  },
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): {cipherText: Uint8Array; sharedSecret: Uint8Array} {
    assertEncapsInput(publicKey, seed);
    try {
      const {cipherText, sharedSecret} = ml_kem768.encapsulate(publicKey, seed);
      return {cipherText, sharedSecret: sharedSecret.slice()};
    } catch (err) {
      throw invalidInput("ML-KEM-768 encapsulate (FIPS 203 public key check)", err);
    }
  },
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    assertDecapsInput(cipherText, secretKey);
    try {
      return ml_kem768.decapsulate(cipherText, secretKey).slice();
    } catch (err) {
      throw invalidInput("ML-KEM-768 decapsulate (FIPS 203 secret key check)", err);
    }
  },
};

export const nobleBackend: PqBackend = Object.freeze({
  name: "noble",
  mlDsa65: nobleMlDsa65,
  mlKem768: nobleMlKem768,
});
