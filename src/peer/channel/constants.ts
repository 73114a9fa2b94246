/**
 * Wire constants of the peer channel, protocol version 1 (docs/PROTOCOL.md (Peer channel)).
 * Offsets and sizes are normative; never change one in place, add a version.
 */
import {NODE_ID_BYTES} from "../../protocol/index.js";
import {ML_DSA65_SIGNATURE_BYTES, ML_KEM768_CIPHERTEXT_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../../crypto/index.js";

export const CHANNEL_VERSION = 0x01;

/** Byte 1 of every channel message. */
export const MessageType = {
  INIT: 0x01,
  RESP: 0x02,
  /** Data frame sealed by the initiator for the responder. */
  FRAME_I2R: 0x10,
  /** Data frame sealed by the responder for the initiator. */
  FRAME_R2I: 0x11,
} as const;

export const NONCE_BYTES = 32;
export const CHANNEL_ID_BYTES = 16;
export const CONFIRM_BYTES = 32;
export const TIMESTAMP_BYTES = 8;
export const SEQUENCE_BYTES = 8;
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
export const HASH_BYTES = 32;

/** Init: version ‖ type ‖ initiatorId ‖ responderId ‖ timestamp ‖ nonceI ‖ ctS ‖ ekE ‖ sigI. */
export const INIT = {
  INITIATOR_ID: 2,
  RESPONDER_ID: 2 + NODE_ID_BYTES,
  TIMESTAMP: 2 + 2 * NODE_ID_BYTES,
  NONCE: 2 + 2 * NODE_ID_BYTES + TIMESTAMP_BYTES,
  KEM_CIPHERTEXT: 106,
  EPHEMERAL_KEY: 106 + ML_KEM768_CIPHERTEXT_BYTES,
  SIGNATURE: 106 + ML_KEM768_CIPHERTEXT_BYTES + ML_KEM768_PUBLIC_KEY_BYTES,
  BYTES: 106 + ML_KEM768_CIPHERTEXT_BYTES + ML_KEM768_PUBLIC_KEY_BYTES + ML_DSA65_SIGNATURE_BYTES,
} as const;

/** Resp: version ‖ type ‖ nonceR ‖ ctE ‖ confirm ‖ sigR. */
export const RESP = {
  NONCE: 2,
  EPHEMERAL_CIPHERTEXT: 2 + NONCE_BYTES,
  CONFIRM: 2 + NONCE_BYTES + ML_KEM768_CIPHERTEXT_BYTES,
  SIGNATURE: 2 + NONCE_BYTES + ML_KEM768_CIPHERTEXT_BYTES + CONFIRM_BYTES,
  BYTES: 2 + NONCE_BYTES + ML_KEM768_CIPHERTEXT_BYTES + CONFIRM_BYTES + ML_DSA65_SIGNATURE_BYTES,
} as const;

/** Frame: version ‖ type ‖ channelId ‖ sequence ‖ ciphertext ‖ tag; the header is the AAD. */
export const FRAME = {
  CHANNEL_ID: 2,
  SEQUENCE: 2 + CHANNEL_ID_BYTES,
  HEADER_BYTES: 2 + CHANNEL_ID_BYTES + SEQUENCE_BYTES,
  OVERHEAD_BYTES: 2 + CHANNEL_ID_BYTES + SEQUENCE_BYTES + AEAD_TAG_BYTES,
} as const;

/** Role bytes that start the two signed messages (role ‖ transcript hash). */
export const SIGNED_ROLE = {INITIATOR: 0x01, RESPONDER: 0x02} as const;

/** HKDF-SHA256 labels (info = u8 length ‖ label ‖ version ‖ initiatorId ‖ responderId). */
export const KDF_LABEL = {
  KEY_I2R: "pars-storage/v1/channel key i2r",
  KEY_R2I: "pars-storage/v1/channel key r2i",
  CHANNEL_ID: "pars-storage/v1/channel id",
  CONFIRM: "pars-storage/v1/channel confirm",
} as const;

/** The AEAD: RFC 8439 ChaCha20-Poly1305 from node:crypto (OpenSSL). */
export const AEAD_ALGORITHM = "chacha20-poly1305";

/**
 * Protocol maxima every receiver enforces, whatever the sender's local rekey policy. A sender
 * configured past them would have its frames refused.
 */
/** A channel older than this is deleted by both ends. */
export const CHANNEL_MAX_AGE_MS = 2 * 60 * 60 * 1000;
/** Sequence numbers are < this (per direction, per channel). */
export const CHANNEL_MAX_FRAMES = 2 ** 24;
/** Largest plaintext of one frame (Session relocation batches are ~9 MB). */
export const FRAME_MAX_PLAINTEXT_BYTES = 16 * 1024 * 1024;
/** Receiver replay window, in sequence numbers (RFC 6479-style bitmap). */
export const REPLAY_WINDOW_FRAMES = 1024;
