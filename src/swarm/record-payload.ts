/**
 * Canonical signing payload of a node record (docs/PROTOCOL.md (Swarms) "Signing payload"), v1, or
 * v2 when the record has an X25519 onion key (version byte 0x02 and the 32 key bytes right after
 * the ML-KEM-768 key; nothing else changes), or v3 when it also has a TLS pin (version byte 0x03
 * and the 32 pin bytes right after the X25519 key); v4 (v2) or v5 (v3) add the BLS public key and
 * its proof of possession after those.
 * All integers big-endian; strings are ASCII with a u8 length prefix; fixed-size fields have no
 * prefix because their lengths are checked before encoding and fixed by the layout version.
 *
 *   u8        payload version = 0x01
 *   u32       network ID
 *   32 B      node ID (raw BLAKE2b-256 bytes)
 *   1952 B    ML-DSA-65 public key
 *   1184 B    ML-KEM-768 public key
 *   32 B      X25519 public key (v2 and v3)
 *   32 B      TLS pin: SHA-256(certificate SPKI DER) (v3 and v5)
 *   48 B      BLS12-381 public key, compressed G1 (v4 and v5)
 *   96 B      its proof of possession, compressed G2 (v4 and v5)
 *   u8 ‖ N B  host
 *   u16       port
 *   u16 ×3    version major, minor, patch
 *   u64       timestamp (unix ms)
 *   u8 ‖ N B  operator address, then 32 B operator amount (u256)
 *   u8        contributor count, then per contributor: u8 ‖ N B address, 32 B amount (u256)
 *
 * The ML-DSA-65 signature is computed over these bytes with FIPS 204 context CTX.NODE_RECORD
 * ("pars-storage/v1/node-record"), so it cannot be replayed as any other Pars signature.
 */
import {NODE_ID_BYTES} from "../protocol/index.js";
import {InvalidArgumentError} from "../util/index.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../crypto/index.js";
import {fromHexStrict} from "./encoding.js";

import {
  NODE_RECORD_BLS_POP_BYTES,
  NODE_RECORD_BLS_PUBLIC_KEY_BYTES,
  NODE_RECORD_MAX_AMOUNT,
  NODE_RECORD_PAYLOAD_VERSION,
  NODE_RECORD_PAYLOAD_VERSION_BLS,
  NODE_RECORD_PAYLOAD_VERSION_TLS_BLS,
  NODE_RECORD_PAYLOAD_VERSION_TLS,
  NODE_RECORD_PAYLOAD_VERSION_X25519,
  NODE_RECORD_TLS_PIN_BYTES,
  NODE_RECORD_X25519_BYTES,
  type NodeRecordFields,
  type StakeShare,
} from "./record-types.js";

const AMOUNT_BYTES = 32;

/** Encodes the signed content. Throws INVALID_ARGUMENT on out-of-layout values (a caller bug). */
export function encodeNodeRecordPayload(fields: NodeRecordFields, nodeId: string): Uint8Array {
  const nodeIdBytes = fromHexStrict(nodeId);
  expectLength("nodeId", nodeIdBytes, NODE_ID_BYTES);
  expectLength("mlDsaPublicKey", fields.mlDsaPublicKey, ML_DSA65_PUBLIC_KEY_BYTES);
  expectLength("mlKemPublicKey", fields.mlKemPublicKey, ML_KEM768_PUBLIC_KEY_BYTES);
  const x25519 = fields.x25519PublicKey;
  if (x25519 !== undefined) expectLength("x25519PublicKey", x25519, NODE_RECORD_X25519_BYTES);
  const pin = fields.tlsSpkiSha256;
  if (pin !== undefined) {
    if (x25519 === undefined) throw new InvalidArgumentError("a TLS pin needs x25519PublicKey (payload v3)");
    expectLength("tlsSpkiSha256", pin, NODE_RECORD_TLS_PIN_BYTES);
  }
  const bls = blsFields(fields);
  const w = new ByteWriter();
  // The version byte is signed: a v2 record stripped of its key no longer verifies as v1, and a v3
  // record stripped of its pin (an HTTPS node downgraded to plain HTTP) no longer verifies as v2.
  w.uint(payloadVersion(x25519 !== undefined, pin !== undefined, bls !== null), 1);
  w.uint(fields.networkId, 4);
  w.bytes(nodeIdBytes as Uint8Array);
  w.bytes(fields.mlDsaPublicKey);
  w.bytes(fields.mlKemPublicKey);
  if (x25519 !== undefined) w.bytes(x25519);
  if (pin !== undefined) w.bytes(pin);
  if (bls !== null) {
    w.bytes(bls.publicKey);
    w.bytes(bls.proof);
  }
  w.shortString(fields.host);
  w.uint(fields.port, 2);
  for (const part of fields.version) w.uint(part, 2);
  w.uint(fields.timestamp, 8);
  writeShare(w, fields.stake.operator);
  w.uint(fields.stake.contributors.length, 1);
  for (const share of fields.stake.contributors) writeShare(w, share);
  return w.finish();
}

/** The BLS key and proof (both or neither, lengths checked); null without them. */
function blsFields(fields: NodeRecordFields): {publicKey: Uint8Array; proof: Uint8Array} | null {
  const {blsPublicKey: publicKey, blsProofOfPossession: proof} = fields;
  if (publicKey === undefined && proof === undefined) return null;
  if (publicKey === undefined || proof === undefined) throw new InvalidArgumentError("blsPublicKey and blsProofOfPossession go together");
  if (fields.x25519PublicKey === undefined) throw new InvalidArgumentError("a BLS key needs x25519PublicKey (payload v4/v5)");
  expectLength("blsPublicKey", publicKey, NODE_RECORD_BLS_PUBLIC_KEY_BYTES);
  expectLength("blsProofOfPossession", proof, NODE_RECORD_BLS_POP_BYTES);
  return {publicKey, proof};
}

function payloadVersion(hasX25519: boolean, hasPin: boolean, hasBls: boolean): number {
  // The version byte is signed: stripping the BLS key from a v4/v5 record breaks the signature.
  if (hasBls) return hasPin ? NODE_RECORD_PAYLOAD_VERSION_TLS_BLS : NODE_RECORD_PAYLOAD_VERSION_BLS;
  if (hasPin) return NODE_RECORD_PAYLOAD_VERSION_TLS;
  return hasX25519 ? NODE_RECORD_PAYLOAD_VERSION_X25519 : NODE_RECORD_PAYLOAD_VERSION;
}

function writeShare(w: ByteWriter, share: StakeShare): void {
  w.shortString(share.address);
  if (share.amount < 0n || share.amount > NODE_RECORD_MAX_AMOUNT) {
    throw new InvalidArgumentError(`stake amount out of u256 range: ${share.amount}`);
  }
  w.bigUint(share.amount, AMOUNT_BYTES);
}

function expectLength(name: string, bytes: Uint8Array | null, length: number): void {
  if (bytes === null || bytes.length !== length) {
    throw new InvalidArgumentError(`${name} must be ${length} bytes`);
  }
}

class ByteWriter {
  readonly #chunks: Uint8Array[] = [];

  bytes(b: Uint8Array): void {
    this.#chunks.push(b);
  }

  uint(value: number, width: 1 | 2 | 4 | 8): void {
    if (!Number.isSafeInteger(value) || value < 0 || BigInt(value) >= 1n << BigInt(8 * width)) {
      throw new InvalidArgumentError(`value ${value} does not fit in ${width} bytes`);
    }
    this.bigUint(BigInt(value), width);
  }

  bigUint(value: bigint, width: number): void {
    const out = new Uint8Array(width);
    let rest = value;
    for (let i = width - 1; i >= 0; i--) {
      out[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    this.#chunks.push(out);
  }

  /** u8 length prefix + ASCII bytes (callers validate the character set). */
  shortString(text: string): void {
    const bytes = new TextEncoder().encode(text);
    if (bytes.length > 255 || bytes.length !== text.length) {
      throw new InvalidArgumentError("short strings must be ASCII of at most 255 bytes");
    }
    this.uint(bytes.length, 1);
    this.bytes(bytes);
  }

  finish(): Uint8Array {
    const total = this.#chunks.reduce((sum, c) => sum + c.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}
