/**
 * The per-hop key agreement and AEAD ("xwing-chacha20poly1305", docs/PROTOCOL.md, Onion requests):
 *
 *   ss   = SHA3-256(ss_M ‖ ss_X ‖ e_pk ‖ hop_x25519_pk ‖ "\.//^\")      (the X-Wing combiner)
 *   keys = HKDF-SHA256(ss, salt = "", info = "pars-onion/v1" ‖ node ID ‖ SHA3-256(hop ML-KEM pk)
 *                      ‖ SHA3-256(ct_M), 64)  → request key ‖ response key
 *   wire = nonce(12) ‖ ChaCha20-Poly1305(key, nonce, plaintext) ‖ tag(16), no AAD
 *
 * X-Wing's combiner already binds both X25519 public values; the HKDF info adds what X-Wing leaves
 * to ML-KEM's own binding (its public key and ciphertext) plus the hop's node ID and a protocol
 * label, so a layer's keys belong to exactly one hop, one encapsulation and this protocol. Two keys
 * (one per direction) mean a response can never be replayed to a hop as a request layer.
 */
import {createCipheriv, createDecipheriv, createHash, hkdfSync} from "node:crypto";
import {ML_KEM768_PUBLIC_KEY_BYTES, ML_KEM768_SECRET_KEY_BYTES} from "../crypto/index.js";

export const ONION_ENC_TYPE = "xwing-chacha20poly1305";
/** draft-connolly-cfrg-xwing-kem XWingLabel, the 6 ASCII bytes `\.//^\`. */
export const XWING_LABEL = Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c);
export const ONION_KDF_LABEL = "pars-onion/v1";
export const ONION_KEY_BYTES = 32;
export const ONION_NONCE_BYTES = 12;
export const ONION_TAG_BYTES = 16;
/** Bytes a layer's AEAD adds to its plaintext. */
export const ONION_AEAD_OVERHEAD_BYTES = ONION_NONCE_BYTES + ONION_TAG_BYTES;

/** Where the encapsulation key ek sits inside a FIPS 203 ML-KEM-768 decapsulation key (dk_PKE ‖ ek ‖ H(ek) ‖ z). */
const MLKEM_DK_EK_OFFSET = 1152;

export interface LayerKeys {
  request: Uint8Array;
  response: Uint8Array;
}

export function sha3(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha3-256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** The X-Wing combiner over component shared secrets (ss_M first) and the X25519 public values. */
export function xwingCombine(ssM: Uint8Array, ssX: Uint8Array, ephemeralPk: Uint8Array, hopX25519Pk: Uint8Array): Uint8Array {
  return sha3(ssM, ssX, ephemeralPk, hopX25519Pk, XWING_LABEL);
}

/** The encapsulation key stored inside a 2400-byte ML-KEM-768 decapsulation key. */
export function mlKemPublicFromSecret(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== ML_KEM768_SECRET_KEY_BYTES) throw new RangeError("ML-KEM-768 secret key must be 2400 bytes");
  return secretKey.subarray(MLKEM_DK_EK_OFFSET, MLKEM_DK_EK_OFFSET + ML_KEM768_PUBLIC_KEY_BYTES);
}

/** HKDF info of a layer; `mlKemPkHash` = SHA3-256(hop ML-KEM pk), `kemCt` = ct_M. */
export function layerInfo(nodeId: Uint8Array, mlKemPkHash: Uint8Array, kemCt: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(ONION_KDF_LABEL, "latin1"), nodeId, mlKemPkHash, sha3(kemCt)]);
}

export function deriveLayerKeys(sharedSecret: Uint8Array, info: Uint8Array): LayerKeys {
  const okm = new Uint8Array(hkdfSync("sha256", sharedSecret, new Uint8Array(0), info, 2 * ONION_KEY_BYTES));
  return {request: okm.slice(0, ONION_KEY_BYTES), response: okm.slice(ONION_KEY_BYTES)};
}

export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, {authTagLength: ONION_TAG_BYTES});
  const body = cipher.update(plaintext);
  cipher.final();
  return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
}

/** The plaintext, or null when `wire` is too short or does not authenticate under `key`. */
export function open(key: Uint8Array, wire: Uint8Array): Uint8Array | null {
  if (wire.length < ONION_AEAD_OVERHEAD_BYTES) return null;
  const nonce = wire.subarray(0, ONION_NONCE_BYTES);
  const tag = wire.subarray(wire.length - ONION_TAG_BYTES);
  try {
    const decipher = createDecipheriv("chacha20-poly1305", key, nonce, {authTagLength: ONION_TAG_BYTES});
    decipher.setAuthTag(tag);
    const body = decipher.update(wire.subarray(ONION_NONCE_BYTES, wire.length - ONION_TAG_BYTES));
    decipher.final();
    return new Uint8Array(body);
  } catch {
    return null;
  }
}
