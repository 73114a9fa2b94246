/**
 * Byte layouts of the three channel messages (docs/PROTOCOL.md (Peer channel) §2-§3). Parsers take
 * anything from the network and either return a typed view or throw a ChannelError
 * (MALFORMED / UNSUPPORTED_VERSION); they check structure only, never signatures or keys.
 */
import {NODE_ID_BYTES} from "../../protocol/index.js";
import {ML_DSA65_SIGNATURE_BYTES, ML_KEM768_CIPHERTEXT_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../../crypto/index.js";
import {CHANNEL_ID_BYTES, CHANNEL_VERSION, CONFIRM_BYTES, FRAME, INIT, MessageType, NONCE_BYTES, RESP} from "./constants.js";
import {ChannelError, malformed} from "./errors.js";

export interface InitFields {
  readonly initiatorId: Uint8Array;
  readonly responderId: Uint8Array;
  readonly timestampMs: number;
  readonly nonce: Uint8Array;
  readonly kemCiphertext: Uint8Array;
  readonly ephemeralKey: Uint8Array;
}

export interface InitMessage extends InitFields {
  readonly signature: Uint8Array;
  /** The whole message (the transcript includes the signature). */
  readonly bytes: Uint8Array;
  /** Bytes 0 .. SIGNATURE: what the initiator's signature covers (hashed). */
  readonly unsigned: Uint8Array;
}

export interface RespFields {
  readonly nonce: Uint8Array;
  readonly ephemeralCiphertext: Uint8Array;
}

export interface RespMessage extends RespFields {
  readonly confirm: Uint8Array;
  readonly signature: Uint8Array;
  /** Bytes 0 .. CONFIRM: the part of Resp inside the transcript hash. */
  readonly prefix: Uint8Array;
}

export interface FrameHeader {
  readonly type: typeof MessageType.FRAME_I2R | typeof MessageType.FRAME_R2I;
  readonly channelId: Uint8Array;
  /** The u64 as a bigint: the receiver range-checks it before use. */
  readonly sequence: bigint;
  /** Bytes 0 .. HEADER_BYTES: the AEAD associated data. */
  readonly header: Uint8Array;
  /** Ciphertext ‖ 16-byte tag. */
  readonly sealed: Uint8Array;
}

function put(out: Uint8Array, offset: number, part: Uint8Array, length: number, what: string): void {
  if (!(part instanceof Uint8Array) || part.length !== length) throw malformed(`${what} must be ${length} bytes`);
  out.set(part, offset);
}

/** Init bytes 0 .. SIGNATURE (everything the initiator signs). */
export function encodeInitUnsigned(f: InitFields): Uint8Array {
  const out = new Uint8Array(INIT.SIGNATURE);
  out[0] = CHANNEL_VERSION;
  out[1] = MessageType.INIT;
  put(out, INIT.INITIATOR_ID, f.initiatorId, NODE_ID_BYTES, "initiator id");
  put(out, INIT.RESPONDER_ID, f.responderId, NODE_ID_BYTES, "responder id");
  Buffer.from(out.buffer).writeBigUInt64BE(BigInt(f.timestampMs), INIT.TIMESTAMP);
  put(out, INIT.NONCE, f.nonce, NONCE_BYTES, "initiator nonce");
  put(out, INIT.KEM_CIPHERTEXT, f.kemCiphertext, ML_KEM768_CIPHERTEXT_BYTES, "KEM ciphertext");
  put(out, INIT.EPHEMERAL_KEY, f.ephemeralKey, ML_KEM768_PUBLIC_KEY_BYTES, "ephemeral key");
  return out;
}

export function appendBytes(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** Resp bytes 0 .. CONFIRM (inside the transcript hash). */
export function encodeRespPrefix(f: RespFields): Uint8Array {
  const out = new Uint8Array(RESP.CONFIRM);
  out[0] = CHANNEL_VERSION;
  out[1] = MessageType.RESP;
  put(out, RESP.NONCE, f.nonce, NONCE_BYTES, "responder nonce");
  put(out, RESP.EPHEMERAL_CIPHERTEXT, f.ephemeralCiphertext, ML_KEM768_CIPHERTEXT_BYTES, "ephemeral ciphertext");
  return out;
}

export function encodeResp(prefix: Uint8Array, confirm: Uint8Array, signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(RESP.BYTES);
  put(out, 0, prefix, RESP.CONFIRM, "Resp prefix");
  put(out, RESP.CONFIRM, confirm, CONFIRM_BYTES, "confirm");
  put(out, RESP.SIGNATURE, signature, ML_DSA65_SIGNATURE_BYTES, "signature");
  return out;
}

/** Version, then type, then exact length: the first failing check names the error. */
function checkEnvelope(bytes: unknown, type: number, length: number, what: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw malformed(`${what}: not a channel message`);
  if (bytes[0] !== CHANNEL_VERSION) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_UNSUPPORTED_VERSION", version: bytes[0] ?? 0},
      `${what}: unsupported channel version ${bytes[0]}`,
    );
  }
  if (bytes[1] !== type) throw malformed(`${what}: message type 0x${(bytes[1] ?? 0).toString(16)}`);
  if (bytes.length !== length) throw malformed(`${what}: ${bytes.length} bytes instead of ${length}`);
}

/** A plain Uint8Array copy (Buffer#slice would return a view into the caller's buffer). */
const copy = (b: Uint8Array, from: number, length: number): Uint8Array => new Uint8Array(b.subarray(from, from + length));

export function parseInit(bytes: unknown): InitMessage {
  checkEnvelope(bytes, MessageType.INIT, INIT.BYTES, "Init");
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    initiatorId: copy(bytes, INIT.INITIATOR_ID, NODE_ID_BYTES),
    responderId: copy(bytes, INIT.RESPONDER_ID, NODE_ID_BYTES),
    timestampMs: Number(view.readBigUInt64BE(INIT.TIMESTAMP)),
    nonce: copy(bytes, INIT.NONCE, NONCE_BYTES),
    kemCiphertext: copy(bytes, INIT.KEM_CIPHERTEXT, ML_KEM768_CIPHERTEXT_BYTES),
    ephemeralKey: copy(bytes, INIT.EPHEMERAL_KEY, ML_KEM768_PUBLIC_KEY_BYTES),
    signature: copy(bytes, INIT.SIGNATURE, ML_DSA65_SIGNATURE_BYTES),
    bytes: copy(bytes, 0, bytes.length),
    unsigned: copy(bytes, 0, INIT.SIGNATURE),
  };
}

export function parseResp(bytes: unknown): RespMessage {
  checkEnvelope(bytes, MessageType.RESP, RESP.BYTES, "Resp");
  return {
    nonce: copy(bytes, RESP.NONCE, NONCE_BYTES),
    ephemeralCiphertext: copy(bytes, RESP.EPHEMERAL_CIPHERTEXT, ML_KEM768_CIPHERTEXT_BYTES),
    confirm: copy(bytes, RESP.CONFIRM, CONFIRM_BYTES),
    signature: copy(bytes, RESP.SIGNATURE, ML_DSA65_SIGNATURE_BYTES),
    prefix: copy(bytes, 0, RESP.CONFIRM),
  };
}

/** Frame header (the AEAD's associated data). */
export function encodeFrameHeader(type: FrameHeader["type"], channelId: Uint8Array, sequence: number): Uint8Array {
  const out = new Uint8Array(FRAME.HEADER_BYTES);
  out[0] = CHANNEL_VERSION;
  out[1] = type;
  put(out, FRAME.CHANNEL_ID, channelId, CHANNEL_ID_BYTES, "channel id");
  Buffer.from(out.buffer).writeBigUInt64BE(BigInt(sequence), FRAME.SEQUENCE);
  return out;
}

/** Splits a frame; views into `bytes` (no copy: frames are the hot path). */
export function parseFrame(bytes: unknown, maxSealedBytes: number): FrameHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw malformed("frame: not a channel message");
  if (bytes[0] !== CHANNEL_VERSION) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_UNSUPPORTED_VERSION", version: bytes[0] ?? 0},
      `frame: unsupported channel version ${bytes[0]}`,
    );
  }
  const type = bytes[1];
  if (type !== MessageType.FRAME_I2R && type !== MessageType.FRAME_R2I) {
    throw malformed(`frame: message type 0x${(type ?? 0).toString(16)}`);
  }
  if (bytes.length < FRAME.OVERHEAD_BYTES) throw malformed(`frame: ${bytes.length} bytes, shorter than header and tag`);
  if (bytes.length - FRAME.HEADER_BYTES > maxSealedBytes) throw malformed(`frame: ${bytes.length} bytes, too long`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    type,
    channelId: bytes.subarray(FRAME.CHANNEL_ID, FRAME.CHANNEL_ID + CHANNEL_ID_BYTES),
    sequence: view.readBigUInt64BE(FRAME.SEQUENCE),
    header: bytes.subarray(0, FRAME.HEADER_BYTES),
    sealed: bytes.subarray(FRAME.HEADER_BYTES),
  };
}
