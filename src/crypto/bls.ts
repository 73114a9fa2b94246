/**
 * BLS12-381 signatures as luxd signs with its `staking/signer.key` (issue #18, PIP-0008 §7), on
 * @noble/curves. "Minimal public key" variant: public keys are compressed G1 points (48 bytes),
 * signatures compressed G2 points (96 bytes), both in the ZCash/IETF encoding blst uses.
 *
 * Ciphersuites (RFC 9380 hash_to_curve, expand_message_xmd with SHA-256, SSWU, random oracle),
 * the ones luxfi/crypto `bls` (what luxfi/node's utils/crypto/bls delegates to) hashes with:
 * - signatures: `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_` (luxfi/crypto `dstSignature`;
 *   upstream avalanchego used `..._RO_POP_` here, luxd changed it),
 * - proofs of possession: `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` over the 48-byte
 *   compressed public key (luxfi/crypto `dstPoP`, avalanchego `SignProofOfPossession(pkBytes)`).
 * Aggregating signatures over one message is only sound for public keys whose proof of possession
 * was checked (rogue-key attacks); callers must check it when they admit a key.
 *
 * Secret keys are luxd's signer.key bytes: the 32-byte big-endian scalar (blst `Serialize`), in
 * [1, r-1]. New keys come from the IETF KeyGen (HKDF-SHA-256, salt "BLS-SIG-KEYGEN-SALT-"), the
 * algorithm of blst `KeyGen` that luxd uses, so a test seed yields luxd's key for that seed.
 *
 * Decoding is strict: a public key or signature that is not canonical, not on the curve, not in
 * the prime-order subgroup, or the point at infinity is rejected. Verification never throws on
 * malformed input; it returns false. See docs/PROTOCOL.md (BLS keys and signatures).
 */
import {randomBytes} from "node:crypto";
import {bls12_381} from "@noble/curves/bls12-381.js";
import {hkdf} from "@noble/hashes/hkdf.js";
import {sha256} from "@noble/hashes/sha2.js";
import {assertBytes, isBytes} from "./bytes.js";
import {CryptoError} from "./errors.js";

export const BLS_SECRET_KEY_BYTES = 32;
export const BLS_PUBLIC_KEY_BYTES = 48;
export const BLS_SIGNATURE_BYTES = 96;
/** Domain separation tag of ordinary signatures (luxd `bls.Sign`). */
export const BLS_SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";
/** Domain separation tag of proofs of possession (luxd `bls.SignProofOfPossession`). */
export const BLS_POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

const scheme = bls12_381.longSignatures;
const G1 = bls12_381.G1.Point;
type G1Point = InstanceType<typeof G1>;
type G2Point = InstanceType<typeof bls12_381.G2.Point>;
/** Order r of G1/G2. */
const ORDER = bls12_381.fields.Fr.ORDER;
const KEYGEN_SALT = new TextEncoder().encode("BLS-SIG-KEYGEN-SALT-");
/** KeyGen's L = ceil(3 * ceil(log2(r)) / 16). */
const KEYGEN_OKM_BYTES = 48;

export interface BlsKeyPair {
  /** 32-byte big-endian scalar: the bytes of luxd's signer.key. */
  secretKey: Uint8Array;
  /** 48-byte compressed G1 point. */
  publicKey: Uint8Array;
}

function invalid(what: string, detail: string): CryptoError {
  return new CryptoError({code: "CRYPTO_ERROR_INVALID_INPUT", what}, `${what}: ${detail}`);
}

function scalarOf(secretKey: Uint8Array): bigint {
  assertBytes(secretKey, BLS_SECRET_KEY_BYTES, "BLS secret key");
  const scalar = BigInt("0x" + Buffer.from(secretKey).toString("hex"));
  // noble's Fr.fromBytes reduces mod r; blst (and so luxd) rejects 0 and anything >= r.
  if (scalar === 0n || scalar >= ORDER) throw invalid("BLS secret key", "not a scalar in [1, r-1]");
  return scalar;
}

/** Checks luxd signer.key bytes (32 bytes, big-endian, in [1, r-1]); returns a copy. */
export function blsSecretKeyFromBytes(bytes: Uint8Array): Uint8Array {
  scalarOf(bytes);
  return Uint8Array.from(bytes);
}

/** True when `bytes` is a usable BLS secret key (luxd signer.key contents). */
export function isBlsSecretKey(bytes: unknown): bytes is Uint8Array {
  if (!isBytes(bytes, BLS_SECRET_KEY_BYTES)) return false;
  try {
    scalarOf(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * IETF KeyGen (draft-irtf-cfrg-bls-signature-05 §2.3, blst `KeyGen`): HKDF-SHA-256 of ikm ‖ 0x00
 * with salt SHA-256("BLS-SIG-KEYGEN-SALT-"), re-salted until the key is non-zero. `ikm` must be at
 * least 32 bytes; without it, 32 random bytes are used (what luxd does for a new signer.key).
 */
export function generateBlsSecretKey(ikm?: Uint8Array, keyInfo: Uint8Array = new Uint8Array(0)): Uint8Array {
  const material = ikm ?? randomBytes(32);
  if (!(material instanceof Uint8Array) || material.length < 32) throw invalid("BLS key material", "must be at least 32 bytes");
  const info = new Uint8Array(keyInfo.length + 2);
  info.set(keyInfo);
  info[keyInfo.length + 1] = KEYGEN_OKM_BYTES;
  const input = new Uint8Array(material.length + 1);
  input.set(material);
  let salt: Uint8Array = KEYGEN_SALT;
  for (;;) {
    salt = sha256(salt);
    const okm = hkdf(sha256, input, salt, info, KEYGEN_OKM_BYTES);
    const scalar = BigInt("0x" + Buffer.from(okm).toString("hex")) % ORDER;
    if (scalar !== 0n) return Uint8Array.from(Buffer.from(scalar.toString(16).padStart(64, "0"), "hex"));
  }
}

function publicPoint(secretKey: Uint8Array): G1Point {
  return G1.BASE.multiply(scalarOf(secretKey));
}

/** The 48-byte compressed public key of a secret key. */
export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  return publicPoint(secretKey).toBytes(true);
}

/** A new key pair (random, or from `ikm` by KeyGen). */
export function generateBlsKeyPair(ikm?: Uint8Array): BlsKeyPair {
  const secretKey = generateBlsSecretKey(ikm);
  return {secretKey, publicKey: blsPublicKey(secretKey)};
}

/** Decodes a compressed public key; throws unless it is a valid, non-identity G1 subgroup point. */
function decodePublicKey(bytes: Uint8Array): G1Point {
  assertBytes(bytes, BLS_PUBLIC_KEY_BYTES, "BLS public key");
  if (((bytes[0] ?? 0) & 0x80) === 0) throw invalid("BLS public key", "not a compressed point");
  let point: G1Point;
  try {
    point = G1.fromBytes(bytes);
    point.assertValidity();
  } catch (err) {
    throw invalid("BLS public key", err instanceof Error ? err.message : String(err));
  }
  if (point.is0()) throw invalid("BLS public key", "the point at infinity");
  if (!point.isTorsionFree()) throw invalid("BLS public key", "not in the prime-order subgroup");
  return point;
}

/** Decodes a compressed signature; throws unless it is a valid, non-identity G2 subgroup point. */
function decodeSignature(bytes: Uint8Array): G2Point {
  assertBytes(bytes, BLS_SIGNATURE_BYTES, "BLS signature");
  let point: G2Point;
  try {
    point = scheme.Signature.fromBytes(bytes);
  } catch (err) {
    throw invalid("BLS signature", err instanceof Error ? err.message : String(err));
  }
  if (point.is0()) throw invalid("BLS signature", "the point at infinity");
  if (!point.isTorsionFree()) throw invalid("BLS signature", "not in the prime-order subgroup");
  return point;
}

/** True when `bytes` decodes to a valid public key (compressed, on the curve, in G1, not infinity). */
export function isBlsPublicKey(bytes: unknown): bytes is Uint8Array {
  if (!isBytes(bytes, BLS_PUBLIC_KEY_BYTES)) return false;
  try {
    decodePublicKey(bytes);
    return true;
  } catch {
    return false;
  }
}

/** True when `bytes` decodes to a valid signature (compressed, on the curve, in G2, not infinity). */
export function isBlsSignature(bytes: unknown): bytes is Uint8Array {
  if (!isBytes(bytes, BLS_SIGNATURE_BYTES)) return false;
  try {
    decodeSignature(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Signs `message` (any bytes) under `dst`; the default is luxd's signature ciphersuite. */
export function blsSign(secretKey: Uint8Array, message: Uint8Array, dst: string = BLS_SIGNATURE_DST): Uint8Array {
  const scalar = scalarOf(secretKey);
  return scheme.Signature.toBytes(scheme.hash(message, dst).multiply(scalar));
}

function pairingHolds(publicKey: G1Point, message: Uint8Array, signature: G2Point, dst: string): boolean {
  // e(pk, H(m)) == e(G1, sig), as one product of pairings equal to 1.
  const {pairingBatch, fields} = bls12_381;
  const product = pairingBatch([
    {g1: publicKey, g2: scheme.hash(message, dst)},
    {g1: G1.BASE.negate(), g2: signature},
  ]);
  return fields.Fp12.eql(product, fields.Fp12.ONE);
}

/** Verifies one signature; false (never a throw) for a malformed key or signature. */
export function blsVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  dst: string = BLS_SIGNATURE_DST,
): boolean {
  try {
    return pairingHolds(decodePublicKey(publicKey), message, decodeSignature(signature), dst);
  } catch {
    return false;
  }
}

/** Proof of possession: the public key's 48 compressed bytes signed under BLS_POP_DST. */
export function blsProofOfPossession(secretKey: Uint8Array): Uint8Array {
  return blsSign(secretKey, blsPublicKey(secretKey), BLS_POP_DST);
}

/** Checks a proof of possession; false for a malformed key or proof. */
export function blsVerifyProofOfPossession(publicKey: Uint8Array, proof: Uint8Array): boolean {
  return blsVerify(publicKey, publicKey, proof, BLS_POP_DST);
}

/** Sums signatures (each checked); throws on an empty list or a malformed signature. */
export function blsAggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw invalid("BLS signatures", "nothing to aggregate");
  const sum = signatures.map(decodeSignature).reduce((acc, point) => acc.add(point));
  if (sum.is0()) throw invalid("BLS signatures", "they sum to the point at infinity");
  return scheme.Signature.toBytes(sum);
}

function sumPublicKeys(publicKeys: readonly Uint8Array[]): G1Point {
  if (publicKeys.length === 0) throw invalid("BLS public keys", "nothing to aggregate");
  const sum = publicKeys.map(decodePublicKey).reduce((acc, point) => acc.add(point));
  if (sum.is0()) throw invalid("BLS public keys", "they sum to the point at infinity");
  return sum;
}

/** Sums public keys (each checked); throws on an empty list, a malformed key, or an identity sum. */
export function blsAggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array {
  return sumPublicKeys(publicKeys).toBytes(true);
}

/**
 * FastAggregateVerify: `signature` is the aggregate of signatures by every key of `publicKeys`
 * over the one `message`. Sound only for keys whose proofs of possession were verified. False
 * (never a throw) for an empty list or any malformed key or signature.
 */
export function blsVerifyAggregate(
  publicKeys: readonly Uint8Array[],
  message: Uint8Array,
  signature: Uint8Array,
  dst: string = BLS_SIGNATURE_DST,
): boolean {
  try {
    return pairingHolds(sumPublicKeys(publicKeys), message, decodeSignature(signature), dst);
  } catch {
    return false;
  }
}

/**
 * AggregateVerify: `signature` is the sum of one signature per item, each by `publicKey` over its
 * own `message` (n + 1 pairings). Used where signers sign different messages (penalty reports name
 * each signer's own evidence). Keys must have proven possession, as for blsVerifyAggregate. False
 * (never a throw) for an empty list or any malformed key or signature.
 */
export function blsVerifyAggregateDistinct(
  items: readonly {publicKey: Uint8Array; message: Uint8Array}[],
  signature: Uint8Array,
  dst: string = BLS_SIGNATURE_DST,
): boolean {
  try {
    if (items.length === 0) return false;
    const pairs = items.map((item) => ({g1: decodePublicKey(item.publicKey), g2: scheme.hash(item.message, dst)}));
    pairs.push({g1: G1.BASE.negate(), g2: decodeSignature(signature)});
    const {pairingBatch, fields} = bls12_381;
    return fields.Fp12.eql(pairingBatch(pairs), fields.Fp12.ONE);
  } catch {
    return false;
  }
}
