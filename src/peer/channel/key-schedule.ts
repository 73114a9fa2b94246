/**
 * Key schedule of the peer channel (docs/PROTOCOL.md (Peer channel) §4). Pure; node:crypto only.
 *
 *   ikm  = ssS ‖ ssE                      (static-KEM secret ‖ ephemeral-KEM secret, 64 bytes)
 *   salt = TH = SHA-256(Init ‖ Resp[0 .. CONFIRM))
 *   out  = HKDF-SHA256(ikm, salt, info = u8 len ‖ label ‖ version ‖ initiatorId ‖ responderId, L)
 */
import {NODE_ID_BYTES} from "../../protocol/index.js";
import {createHash, createHmac, hkdfSync, timingSafeEqual} from "node:crypto";
import {AEAD_KEY_BYTES, CHANNEL_ID_BYTES, CHANNEL_VERSION, CONFIRM_BYTES, KDF_LABEL, SIGNED_ROLE} from "./constants.js";

export interface ChannelKeys {
  /** 16 bytes; names the channel in every frame header. */
  readonly channelId: Uint8Array;
  /** Seals initiator → responder frames. */
  readonly keyI2R: Uint8Array;
  /** Seals responder → initiator frames. */
  readonly keyR2I: Uint8Array;
  /** MAC key of the responder's key confirmation (not used for frames). */
  readonly confirmKey: Uint8Array;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** HKDF info: u8 length ‖ ASCII label ‖ version ‖ initiatorId ‖ responderId. */
export function kdfInfo(label: string, initiatorId: Uint8Array, responderId: Uint8Array): Uint8Array {
  const text = Buffer.from(label, "ascii");
  const info = new Uint8Array(1 + text.length + 1 + 2 * NODE_ID_BYTES);
  info[0] = text.length;
  info.set(text, 1);
  info[1 + text.length] = CHANNEL_VERSION;
  info.set(initiatorId, 2 + text.length);
  info.set(responderId, 2 + text.length + NODE_ID_BYTES);
  return info;
}

function expand(ikm: Uint8Array, salt: Uint8Array, label: string, ids: [Uint8Array, Uint8Array], n: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, kdfInfo(label, ids[0], ids[1]), n));
}

/** All channel keys from the two KEM secrets and the transcript hash TH. */
export function deriveChannelKeys(
  ikm: Uint8Array,
  transcriptHash: Uint8Array,
  initiatorId: Uint8Array,
  responderId: Uint8Array,
): ChannelKeys {
  const ids: [Uint8Array, Uint8Array] = [initiatorId, responderId];
  return {
    channelId: expand(ikm, transcriptHash, KDF_LABEL.CHANNEL_ID, ids, CHANNEL_ID_BYTES),
    keyI2R: expand(ikm, transcriptHash, KDF_LABEL.KEY_I2R, ids, AEAD_KEY_BYTES),
    keyR2I: expand(ikm, transcriptHash, KDF_LABEL.KEY_R2I, ids, AEAD_KEY_BYTES),
    confirmKey: expand(ikm, transcriptHash, KDF_LABEL.CONFIRM, ids, CONFIRM_BYTES),
  };
}

/** confirm = HMAC-SHA256(confirmKey, TH): proves the responder derived the same keys. */
export function confirmTag(confirmKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", confirmKey).update(transcriptHash).digest());
}

export function confirmMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** The 33-byte message a handshake signature covers: role ‖ hash. */
export function signedMessage(role: (typeof SIGNED_ROLE)[keyof typeof SIGNED_ROLE], hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + hash.length);
  out[0] = role;
  out.set(hash, 1);
  return out;
}

/** Overwrites secret material (best effort: JS cannot erase copies the engine made). */
export function wipe(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}
