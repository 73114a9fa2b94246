/**
 * Ed25519 for Session-compatible client authentication (05/03/other accounts, subaccount tokens).
 *
 * Verification runs on node:crypto (OpenSSL, ~12× faster than noble) with libsodium's extra
 * rejections in front, because Session's server uses `crypto_sign_verify_detached` and OpenSSL
 * alone accepts some signatures libsodium refuses:
 *   - a public key that is a non-canonical encoding (y ≥ p) or a small-order point;
 *   - a signature whose R is a small-order point.
 * (With the identity point as key, R = identity and S = 0 "verify" under OpenSSL for every message.)
 * S ≥ ℓ is rejected by OpenSSL itself.
 *
 * Turning a raw key into a KeyObject costs about as much as a verify, so KeyObjects (and the
 * negative result for unusable keys) are cached per key in a bounded LRU.
 */
import {toHex} from "../protocol/index.js";
import {createPublicKey, verify, type KeyObject} from "node:crypto";
import {ed25519} from "@noble/curves/ed25519.js";
import {equalBytes, isBytes} from "./bytes.js";
import {LruCache} from "./lru-cache.js";

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const X25519_PUBLIC_KEY_BYTES = 32;
/** Entries in each per-key cache (KeyObjects; Ed25519→X25519 results). */
export const ED25519_KEY_CACHE_ENTRIES = 10_000;

/** DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410); the 32 raw bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * libsodium `ge25519_has_small_order` blocklist: encodings of the 8-torsion points with the sign
 * bit cleared (y = 1, 0, p−1 and the two order-8 y values) plus the non-canonical y = p and p+1.
 */
const SMALL_ORDER_ENCODINGS: readonly Buffer[] = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((hex) => Buffer.from(hex, "hex"));

const keyObjects = new LruCache<string, KeyObject | null>(ED25519_KEY_CACHE_ENTRIES);
const montgomery = new LruCache<string, Uint8Array | null>(ED25519_KEY_CACHE_ENTRIES);

/** libsodium `ge25519_has_small_order`: the 32-byte encoding (sign bit ignored) is blocklisted. */
export function hasSmallOrderEncoding(point32: Uint8Array): boolean {
  return SMALL_ORDER_ENCODINGS.some((bad) => {
    for (let i = 0; i < 31; i++) if (point32[i] !== bad[i]) return false;
    return ((point32[31] ?? 0) & 0x7f) === bad[31];
  });
}

/** libsodium `ge25519_is_canonical`: the y coordinate (sign bit cleared) is < p = 2²⁵⁵ − 19. */
export function isCanonicalEncoding(point32: Uint8Array): boolean {
  if (((point32[31] ?? 0) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (point32[i] !== 0xff) return true;
  return (point32[0] ?? 0) < 0xed;
}

function keyObjectFor(publicKey: Uint8Array): KeyObject | null {
  const id = toHex(publicKey);
  const cached = keyObjects.get(id);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  if (isCanonicalEncoding(publicKey) && !hasSmallOrderEncoding(publicKey)) {
    try {
      key = createPublicKey({key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: "der", type: "spki"});
    } catch {
      key = null;
    }
  }
  keyObjects.set(id, key);
  return key;
}

/**
 * Plain Ed25519 verification with libsodium semantics. Never throws: wrong lengths, non-bytes,
 * invalid or small-order keys and malformed signatures all return false.
 */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!isBytes(publicKey, ED25519_PUBLIC_KEY_BYTES) || !isBytes(signature, ED25519_SIGNATURE_BYTES)) return false;
  if (!isBytes(message)) return false;
  if (hasSmallOrderEncoding(signature.subarray(0, 32))) return false;
  const key = keyObjectFor(publicKey);
  if (key === null) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

function computeX25519(publicKey: Uint8Array): Uint8Array | null {
  if (!isCanonicalEncoding(publicKey) || hasSmallOrderEncoding(publicKey)) return null;
  try {
    const point = ed25519.Point.fromBytes(publicKey);
    if (!point.isTorsionFree()) return null;
    return Uint8Array.from(ed25519.utils.toMontgomery(publicKey));
  } catch {
    return null;
  }
}

/**
 * libsodium `crypto_sign_ed25519_pk_to_curve25519`: the X25519 public key u = (1 + y) / (1 − y)
 * mod p of an Ed25519 public key. Returns null (where libsodium returns −1) for points not on the
 * curve, small-order points and points outside the prime-order subgroup, and also for non-canonical
 * encodings (y ≥ p), which libsodium would reduce mod p: no honest key is encoded that way.
 * The returned array is a fresh copy.
 */
export function ed25519PkToX25519(publicKey: Uint8Array): Uint8Array | null {
  if (!isBytes(publicKey, ED25519_PUBLIC_KEY_BYTES)) return null;
  const id = toHex(publicKey);
  let result = montgomery.get(id);
  if (result === undefined) {
    result = computeX25519(publicKey);
    montgomery.set(id, result);
  }
  return result === null ? null : result.slice();
}

/**
 * Only the birational map u = (1 + y) / (1 − y) of the encoded y, without the point checks: one
 * field inversion (tens of µs) instead of ~2.5 ms for decode + subgroup check in noble.
 */
function mapYToU(publicKey: Uint8Array): Uint8Array | null {
  if (!isCanonicalEncoding(publicKey)) return null;
  const Fp = ed25519.Point.Fp;
  const yBytes = publicKey.slice();
  yBytes[31] = (yBytes[31] ?? 0) & 0x7f;
  const y = Fp.fromBytes(yBytes);
  if (Fp.eql(y, Fp.ONE)) return null;
  return Fp.toBytes(Fp.div(Fp.add(Fp.ONE, y), Fp.sub(Fp.ONE, y)));
}

/**
 * Session's check for `05` accounts: the client-supplied `pubkey_ed25519` converts to exactly the
 * account's 32 X25519 bytes. Cheap map first, so keys that cannot match (e.g. an attacker's fresh
 * random keys) never pay for the full libsodium-equivalent point validation.
 */
export function ed25519MatchesX25519(ed25519PublicKey: Uint8Array, x25519PublicKey: Uint8Array): boolean {
  if (!isBytes(x25519PublicKey, X25519_PUBLIC_KEY_BYTES) || !isBytes(ed25519PublicKey, ED25519_PUBLIC_KEY_BYTES)) {
    return false;
  }
  const u = mapYToU(ed25519PublicKey);
  if (u === null || !equalBytes(u, x25519PublicKey)) return false;
  const converted = ed25519PkToX25519(ed25519PublicKey);
  return converted !== null && equalBytes(converted, x25519PublicKey);
}
