/**
 * Frame sealing (docs/PROTOCOL.md (Peer channel) §3): ChaCha20-Poly1305 (RFC 8439, node:crypto)
 * with nonce = 0x00000000 ‖ u64 BE sequence and AAD = the 26-byte frame header. Every direction of
 * every channel has its own key and its own strictly increasing sequence, so a (key, nonce) pair is
 * never used twice.
 */
import {type KeyObject, createCipheriv, createDecipheriv, createSecretKey} from "node:crypto";
import {AEAD_ALGORITHM, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, FRAME} from "./constants.js";
import {type FrameHeader, encodeFrameHeader} from "./messages.js";

export type FrameType = FrameHeader["type"];

export function aeadKey(raw: Uint8Array): KeyObject {
  return createSecretKey(raw);
}

/** 12-byte AEAD nonce: four zero bytes, then the sequence number big-endian. */
export function frameNonce(sequence: number | bigint): Buffer {
  const nonce = Buffer.alloc(AEAD_NONCE_BYTES);
  nonce.writeBigUInt64BE(BigInt(sequence), AEAD_NONCE_BYTES - 8);
  return nonce;
}

/** header ‖ ChaCha20-Poly1305(key, nonce(seq), aad = header, plaintext) ‖ tag. */
export function sealFrame(
  key: KeyObject,
  type: FrameType,
  channelId: Uint8Array,
  sequence: number,
  plaintext: Uint8Array,
): Uint8Array {
  const header = encodeFrameHeader(type, channelId, sequence);
  const cipher = createCipheriv(AEAD_ALGORITHM, key, frameNonce(sequence), {authTagLength: AEAD_TAG_BYTES});
  cipher.setAAD(header, {plaintextLength: plaintext.length});
  const out = Buffer.allocUnsafe(FRAME.OVERHEAD_BYTES + plaintext.length);
  out.set(header, 0);
  const body = cipher.update(plaintext);
  out.set(body, FRAME.HEADER_BYTES);
  cipher.final();
  out.set(cipher.getAuthTag(), FRAME.HEADER_BYTES + body.length);
  return out;
}

/** The plaintext, or null if authentication fails (tampered header, ciphertext or tag, or wrong key). */
export function openFrame(key: KeyObject, frame: FrameHeader): Uint8Array | null {
  const ctLength = frame.sealed.length - AEAD_TAG_BYTES;
  const decipher = createDecipheriv(AEAD_ALGORITHM, key, frameNonce(frame.sequence), {authTagLength: AEAD_TAG_BYTES});
  decipher.setAAD(frame.header, {plaintextLength: ctLength});
  decipher.setAuthTag(frame.sealed.subarray(ctLength));
  const plaintext = decipher.update(frame.sealed.subarray(0, ctLength));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return null;
  }
  return plaintext;
}
