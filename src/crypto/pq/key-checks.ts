/**
 * Structural checks that a FIPS 204 / FIPS 203 secret key belongs to a public key, used when a key
 * file is loaded. Pure functions over public algorithms (no backend needed); each returns null when
 * the pair is consistent, or what is wrong.
 *
 * ML-DSA-65 (FIPS 204 §7.2 skEncode/pkEncode): pk = ρ ‖ t1; sk = ρ ‖ K ‖ tr ‖ s1 ‖ s2 ‖ t0 with
 * tr = SHAKE256(pk, 64). Checking ρ and tr only proves the sk was *labelled* for this pk; a flipped
 * bit in s2 or t0 still yields signatures that mostly verify. So we also check the key equation
 * t1·2^d + t0 = A·s1 + s2 (mod q), in the NTT domain. The 32-byte K (signing nonce seed) carries no
 * redundancy: damage to it is undetectable and harmless (signatures stay valid).
 *
 * ML-KEM-768 (FIPS 203 §7.1): dk = dk_PKE ‖ ek ‖ H(ek) ‖ z. We check H(ek), that the embedded ek is
 * the public key, and the 12-bit encodings are < q. dk_PKE is verified by an encapsulate/decapsulate
 * round trip in the identity loader (needs a backend); z (implicit-rejection seed) carries no
 * redundancy and only affects the answer to invalid ciphertexts.
 */
import {sha3_256, shake128, shake256} from "@noble/hashes/sha3.js";
import {equalBytes} from "../bytes.js";
import {
  ML_DSA65_PUBLIC_KEY_BYTES,
  ML_DSA65_SECRET_KEY_BYTES,
  ML_KEM768_PUBLIC_KEY_BYTES,
  ML_KEM768_SECRET_KEY_BYTES,
} from "../interface.js";

export interface KeyCheckFailure {
  /** `mismatch`: the secret key belongs to another public key; `corrupt`: not a valid encoding. */
  kind: "mismatch" | "corrupt";
  detail: string;
}

const N = 256;
const DSA_Q = 8_380_417;
const DSA_K = 6;
const DSA_L = 5;
const DSA_ETA = 4;
const DSA_D = 13;
const DSA_ZETA = 1753;
const ETA_POLY_BYTES = 128; // 256 coefficients × 4 bits
const T0_POLY_BYTES = 416; // × 13 bits
const T1_POLY_BYTES = 320; // × 10 bits
const SK_S1_OFFSET = 128;
const SK_S2_OFFSET = SK_S1_OFFSET + DSA_L * ETA_POLY_BYTES;
const SK_T0_OFFSET = SK_S2_OFFSET + DSA_K * ETA_POLY_BYTES;
const KEM_Q = 3329;
const KEM_DK_PKE_BYTES = 1152;

/** Bit-reversal of an 8-bit index. */
function brv8(i: number): number {
  let r = 0;
  for (let b = 0; b < 8; b++) r |= ((i >> b) & 1) << (7 - b);
  return r;
}

/** Products of two values < q < 2²³ stay below 2⁴⁶, exact in a double. */
function mulModQ(a: number, b: number): number {
  return (a * b) % DSA_Q;
}

/** FIPS 204 zetas[m] = ζ^brv8(m) mod q. */
const ZETAS: Int32Array = (() => {
  const powers = new Int32Array(N);
  powers[0] = 1;
  for (let i = 1; i < N; i++) powers[i] = mulModQ(powers[i - 1] ?? 0, DSA_ZETA);
  return Int32Array.from({length: N}, (_, m) => powers[brv8(m)] ?? 0);
})();

/** FIPS 204 Algorithm 41 (NTT), in place, coefficients in [0, q). */
function ntt(w: Int32Array): Int32Array {
  let m = 0;
  for (let len = 128; len >= 1; len >>= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[++m] ?? 0;
      for (let j = start; j < start + len; j++) {
        const t = mulModQ(zeta, w[j + len] ?? 0);
        const a = w[j] ?? 0;
        const diff = a - t;
        const sum = a + t;
        w[j + len] = diff < 0 ? diff + DSA_Q : diff;
        w[j] = sum >= DSA_Q ? sum - DSA_Q : sum;
      }
    }
  }
  return w;
}

/** FIPS 204 Algorithm 30 (RejNTTPoly) on seed ρ ‖ IntegerToBytes(s, 1) ‖ IntegerToBytes(r, 1). */
function rejNttPoly(rho: Uint8Array, s: number, r: number): Int32Array {
  const xof = shake128.create().update(rho).update(Uint8Array.of(s, r));
  const out = new Int32Array(N);
  let j = 0;
  while (j < N) {
    const block = xof.xof(168);
    for (let i = 0; i < block.length && j < N; i += 3) {
      const c = (block[i] ?? 0) | ((block[i + 1] ?? 0) << 8) | (((block[i + 2] ?? 0) & 0x7f) << 16);
      if (c < DSA_Q) out[j++] = c;
    }
  }
  return out;
}

/** Little-endian bit unpacking of 256 `bits`-wide values (FIPS 204/203 BitUnpack without offset). */
function unpack(src: Uint8Array, bits: number): Int32Array {
  const out = new Int32Array(N);
  const mask = (1 << bits) - 1;
  let acc = 0;
  let accBits = 0;
  let k = 0;
  for (const byte of src) {
    acc |= byte << accBits;
    accBits += 8;
    while (accBits >= bits && k < N) {
      out[k++] = acc & mask;
      acc >>>= bits;
      accBits -= bits;
    }
  }
  return out;
}

/** s1/s2 polynomials: stored as η − c in 4 bits; null if a value is outside [0, 2η]. */
function decodeEtaPolys(sk: Uint8Array, offset: number, count: number): Int32Array[] | null {
  const polys: Int32Array[] = [];
  for (let p = 0; p < count; p++) {
    const start = offset + p * ETA_POLY_BYTES;
    const raw = unpack(sk.subarray(start, start + ETA_POLY_BYTES), 4);
    if (raw.some((v) => v > 2 * DSA_ETA)) return null;
    polys.push(raw.map((v) => DSA_ETA - v));
  }
  return polys;
}

const modQ = (x: number): number => ((x % DSA_Q) + DSA_Q) % DSA_Q;

/** Checks t1·2^d + t0 − s2 = A·s1 (mod q) row by row in the NTT domain. */
function keyEquationHolds(pk: Uint8Array, sk: Uint8Array, s1: Int32Array[], s2: Int32Array[]): boolean {
  const rho = pk.subarray(0, 32);
  const s1Hat = s1.map((poly) => ntt(poly.map(modQ)));
  for (let i = 0; i < DSA_K; i++) {
    const t1 = unpack(pk.subarray(32 + i * T1_POLY_BYTES, 32 + (i + 1) * T1_POLY_BYTES), 10);
    const t0Start = SK_T0_OFFSET + i * T0_POLY_BYTES;
    const t0 = unpack(sk.subarray(t0Start, t0Start + T0_POLY_BYTES), DSA_D);
    const s2i = s2[i] ?? new Int32Array(N);
    const rhs = ntt(t1.map((v, c) => modQ(v * (1 << DSA_D) + (1 << (DSA_D - 1)) - (t0[c] ?? 0) - (s2i[c] ?? 0))));
    const lhs = new Int32Array(N);
    for (let j = 0; j < DSA_L; j++) {
      const a = rejNttPoly(rho, j, i);
      const s = s1Hat[j] ?? new Int32Array(N);
      for (let c = 0; c < N; c++) {
        const sum = (lhs[c] ?? 0) + mulModQ(a[c] ?? 0, s[c] ?? 0);
        lhs[c] = sum >= DSA_Q ? sum - DSA_Q : sum;
      }
    }
    if (!equalBytes(new Uint8Array(lhs.buffer), new Uint8Array(rhs.buffer))) return false;
  }
  return true;
}

/**
 * FIPS 204 skDecode range check: every s1/s2 value (4 bits, stored as η − c) is at most 2η. noble
 * refuses to sign with a key that fails it; liboqs would sign garbage, so its wrapper calls this.
 */
export function mlDsa65SecretKeyInRange(secretKey: Uint8Array): boolean {
  for (let i = SK_S1_OFFSET; i < SK_T0_OFFSET; i++) {
    const byte = secretKey[i] ?? 0;
    if ((byte & 0x0f) > 2 * DSA_ETA || byte >> 4 > 2 * DSA_ETA) return false;
  }
  return true;
}

/** Does the 4,032-byte ML-DSA-65 secret key belong to the 1,952-byte public key? */
export function checkMlDsa65KeyPair(publicKey: Uint8Array, secretKey: Uint8Array): KeyCheckFailure | null {
  if (publicKey.length !== ML_DSA65_PUBLIC_KEY_BYTES || secretKey.length !== ML_DSA65_SECRET_KEY_BYTES) {
    return {kind: "corrupt", detail: "wrong key length"};
  }
  if (!equalBytes(secretKey.subarray(0, 32), publicKey.subarray(0, 32))) {
    return {kind: "mismatch", detail: "ρ (secret key bytes 0–31) differs from the public key's ρ"};
  }
  if (!equalBytes(secretKey.subarray(64, 128), shake256(publicKey, {dkLen: 64}))) {
    return {kind: "mismatch", detail: "tr (secret key bytes 64–127) is not SHAKE256(public key, 64 bytes)"};
  }
  const s1 = decodeEtaPolys(secretKey, SK_S1_OFFSET, DSA_L);
  const s2 = decodeEtaPolys(secretKey, SK_S2_OFFSET, DSA_K);
  if (s1 === null || s2 === null) {
    return {kind: "corrupt", detail: "s1 or s2 (secret key bytes 128–1535) has a coefficient outside [−4, 4]"};
  }
  if (!keyEquationHolds(publicKey, secretKey, s1, s2)) {
    return {kind: "mismatch", detail: "t1·2¹³ + t0 ≠ A·s1 + s2: s1, s2 or t0 (secret key bytes 128–4031) is damaged"};
  }
  return null;
}

/** Every 12-bit value of a ByteEncode12 string is < q (FIPS 203 §7.2 modulus check). */
function allBelowKemQ(encoded: Uint8Array): boolean {
  for (let i = 0; i + 3 <= encoded.length; i += 3) {
    const b0 = encoded[i] ?? 0;
    const b1 = encoded[i + 1] ?? 0;
    const b2 = encoded[i + 2] ?? 0;
    if ((b0 | ((b1 & 0x0f) << 8)) >= KEM_Q || ((b1 >> 4) | (b2 << 4)) >= KEM_Q) return false;
  }
  return true;
}

/** Does the 2,400-byte ML-KEM-768 decapsulation key embed this 1,184-byte encapsulation key? */
export function checkMlKem768KeyPair(publicKey: Uint8Array, secretKey: Uint8Array): KeyCheckFailure | null {
  if (publicKey.length !== ML_KEM768_PUBLIC_KEY_BYTES || secretKey.length !== ML_KEM768_SECRET_KEY_BYTES) {
    return {kind: "corrupt", detail: "wrong key length"};
  }
  const embedded = secretKey.subarray(KEM_DK_PKE_BYTES, KEM_DK_PKE_BYTES + ML_KEM768_PUBLIC_KEY_BYTES);
  const hashStart = KEM_DK_PKE_BYTES + ML_KEM768_PUBLIC_KEY_BYTES;
  if (!equalBytes(sha3_256(embedded), secretKey.subarray(hashStart, hashStart + 32))) {
    return {kind: "corrupt", detail: "H(ek) (secret key bytes 2336–2367) is not SHA3-256 of the embedded ek (bytes 1152–2335)"};
  }
  if (!equalBytes(embedded, publicKey)) {
    return {kind: "mismatch", detail: "the ek embedded in the secret key (bytes 1152–2335) is not this public key"};
  }
  if (!allBelowKemQ(publicKey.subarray(0, KEM_DK_PKE_BYTES))) {
    return {kind: "corrupt", detail: "the public key has a coefficient ≥ q (FIPS 203 modulus check)"};
  }
  if (!allBelowKemQ(secretKey.subarray(0, KEM_DK_PKE_BYTES))) {
    return {kind: "corrupt", detail: "dk_PKE (secret key bytes 0–1151) has a coefficient ≥ q"};
  }
  return null;
}
