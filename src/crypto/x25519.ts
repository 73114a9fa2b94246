/**
 * X25519 (RFC 7748) on node:crypto: the node's static onion-hop key and the client's ephemeral keys.
 *
 * Keys travel as the raw 32-byte strings of RFC 7748 (the secret unclamped, as libsodium,
 * OpenSSL and pyca/cryptography store it). OpenSSL wants KeyObjects: a secret is wrapped in its
 * fixed RFC 8410 DER header, a peer's public key goes in as a JWK (measured ~5× faster to import
 * than DER, and it is imported once per request). A static secret is used for every request a node answers,
 * so its KeyObject and public key are cached per secret array (a WeakMap: nothing is kept once
 * the caller drops the array).
 */
import {createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject} from "node:crypto";
import {InvalidArgumentError} from "../util/index.js";
import {isBytes} from "./bytes.js";
import {X25519_PUBLIC_KEY_BYTES} from "./ed25519.js";
import type {KeyPair} from "./interface.js";

export const X25519_SECRET_KEY_BYTES = 32;
export const X25519_SHARED_SECRET_BYTES = 32;

/** DER PKCS#8 header of an X25519 private key (RFC 8410); the 32 raw bytes follow. */
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
function jwkBytes(key: KeyObject, part: "d" | "x"): Uint8Array {
  const value = key.export({format: "jwk"})[part];
  if (value === undefined) throw new Error(`X25519 JWK without "${part}"`);
  return new Uint8Array(Buffer.from(value, "base64url"));
}

interface PreparedSecret {
  key: KeyObject;
  publicKey: Uint8Array;
}

const prepared = new WeakMap<Uint8Array, PreparedSecret>();

function prepareSecret(secretKey: Uint8Array): PreparedSecret {
  const cached = prepared.get(secretKey);
  if (cached !== undefined) return cached;
  if (!isBytes(secretKey, X25519_SECRET_KEY_BYTES)) {
    throw new InvalidArgumentError(`X25519 secret key must be ${X25519_SECRET_KEY_BYTES} bytes`);
  }
  const key = createPrivateKey({key: Buffer.concat([X25519_PKCS8_PREFIX, secretKey]), format: "der", type: "pkcs8"});
  const entry = {key, publicKey: jwkBytes(createPublicKey(key), "x")};
  prepared.set(secretKey, entry);
  return entry;
}

/** A new key pair; from `secretKey` (32 bytes, test vectors) when given. */
export function x25519KeyPair(secretKey?: Uint8Array): KeyPair {
  if (secretKey !== undefined) {
    const secret = Uint8Array.from(secretKey);
    return {publicKey: x25519PublicKey(secret), secretKey: secret};
  }
  // Generating in OpenSSL skips the costly DER import of a random secret; its KeyObject is kept.
  const {privateKey, publicKey} = generateKeyPairSync("x25519");
  const secret = jwkBytes(privateKey, "d");
  const entry = {key: privateKey, publicKey: jwkBytes(publicKey, "x")};
  prepared.set(secret, entry);
  return {publicKey: Uint8Array.from(entry.publicKey), secretKey: secret};
}

/** The public key of a 32-byte secret key. Throws InvalidArgumentError on a wrong length. */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return Uint8Array.from(prepareSecret(secretKey).publicKey);
}

/**
 * X25519(secret, peer), or null when the peer's key is not 32 bytes or the result is all zero
 * (a small-order peer key: libsodium's `crypto_scalarmult` refuses it the same way). Never throws
 * on a peer key, which is attacker-chosen.
 */
export function x25519SharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null {
  const {key} = prepareSecret(secretKey);
  if (!isBytes(peerPublicKey, X25519_PUBLIC_KEY_BYTES)) return null;
  let shared: Buffer;
  try {
    const x = Buffer.from(peerPublicKey.buffer, peerPublicKey.byteOffset, peerPublicKey.byteLength).toString("base64url");
    const publicKey = createPublicKey({key: {kty: "OKP", crv: "X25519", x}, format: "jwk"});
    shared = diffieHellman({privateKey: key, publicKey});
  } catch {
    return null; // OpenSSL refuses an all-zero result itself
  }
  if (shared.every((b) => b === 0)) return null;
  return Uint8Array.from(shared);
}
