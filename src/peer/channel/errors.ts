import {ParsError} from "../../util/index.js";

/**
 * What to do with the transport-level sender of a rejected message (lodestar's gossip actions):
 * - `IGNORE`: drop it; not evidence of misbehaviour (stale, duplicate, a channel we forgot, …).
 * - `REJECT`: drop it and lower the sender's score; an honest implementation never sends it.
 * The action is about the connection the bytes came from, never about a node ID claimed inside an
 * unauthenticated message (anyone can write someone else's ID into a forged handshake).
 */
export type ChannelAction = "IGNORE" | "REJECT";

/**
 * Every way the peer channel refuses bytes or fails an operation. Match on `err.code`.
 * Handshake (docs/PROTOCOL.md (Peer channel) §2, checks in that order):
 * - `CHANNEL_ERROR_MALFORMED`: wrong length, type byte or an unusable ephemeral key.
 * - `CHANNEL_ERROR_UNSUPPORTED_VERSION`: a protocol version this node does not speak.
 * - `CHANNEL_ERROR_WRONG_RESPONDER`: an Init addressed to another node, or from this node itself.
 * - `CHANNEL_ERROR_STALE`: Init timestamp outside the freshness window.
 * - `CHANNEL_ERROR_UNKNOWN_PEER`: node ID not in the membership (or its keys do not hash to it).
 * - `CHANNEL_ERROR_RATE_LIMITED`: a new handshake from a peer too soon after its last one.
 * - `CHANNEL_ERROR_HANDSHAKE_REPLAY`: an Init whose nonce was already accepted.
 * - `CHANNEL_ERROR_BUSY`: the cache of seen Init nonces is full.
 * - `CHANNEL_ERROR_BAD_SIGNATURE`: an ML-DSA-65 handshake signature does not verify.
 * - `CHANNEL_ERROR_KEY_CONFIRMATION`: the responder did not derive our keys (it could not
 *   decapsulate: the ML-KEM key in the membership is not its key, or the Resp was altered).
 * - `CHANNEL_ERROR_TRANSPORT`: `sendHandshake` failed (the cause is attached).
 * Frames (§3):
 * - `CHANNEL_ERROR_UNKNOWN_CHANNEL`: no live channel with that ID (expired, forgotten, restarted).
 * - `CHANNEL_ERROR_WRONG_DIRECTION`: a frame sealed by this node sent back to it.
 * - `CHANNEL_ERROR_SEQUENCE_LIMIT`: sequence number at or beyond the per-key maximum.
 * - `CHANNEL_ERROR_REPLAY`: a sequence number already received.
 * - `CHANNEL_ERROR_TOO_OLD`: a sequence number older than the replay window.
 * - `CHANNEL_ERROR_AUTH`: AEAD authentication failed (tampered header, ciphertext or tag).
 * Local:
 * - `CHANNEL_ERROR_CLOSED`: the manager was closed.
 */
export type ChannelErrorType =
  | {code: "CHANNEL_ERROR_MALFORMED"; detail: string}
  | {code: "CHANNEL_ERROR_UNSUPPORTED_VERSION"; version: number}
  | {code: "CHANNEL_ERROR_WRONG_RESPONDER"; responderId: string}
  | {code: "CHANNEL_ERROR_STALE"; timestampMs: number; nowMs: number}
  | {code: "CHANNEL_ERROR_UNKNOWN_PEER"; peer: string; detail: string}
  | {code: "CHANNEL_ERROR_RATE_LIMITED"; peer: string; retryAfterMs: number}
  | {code: "CHANNEL_ERROR_HANDSHAKE_REPLAY"; peer: string}
  | {code: "CHANNEL_ERROR_BUSY"; peer: string}
  | {code: "CHANNEL_ERROR_BAD_SIGNATURE"; peer: string; role: "initiator" | "responder"}
  | {code: "CHANNEL_ERROR_KEY_CONFIRMATION"; peer: string}
  | {code: "CHANNEL_ERROR_TRANSPORT"; peer: string}
  | {code: "CHANNEL_ERROR_UNKNOWN_CHANNEL"; channelId: string}
  | {code: "CHANNEL_ERROR_WRONG_DIRECTION"; channelId: string; peer: string}
  | {code: "CHANNEL_ERROR_SEQUENCE_LIMIT"; channelId: string; peer: string; sequence: string}
  | {code: "CHANNEL_ERROR_REPLAY"; channelId: string; peer: string; sequence: number}
  | {code: "CHANNEL_ERROR_TOO_OLD"; channelId: string; peer: string; sequence: number; highest: number}
  | {code: "CHANNEL_ERROR_AUTH"; channelId: string; peer: string}
  | {code: "CHANNEL_ERROR_CLOSED"};

export type ChannelErrorCode = ChannelErrorType["code"];

/** The fixed action of each code (the table in docs/PROTOCOL.md (Peer channel) §6). */
export const CHANNEL_ERROR_ACTIONS: Readonly<Record<ChannelErrorCode, ChannelAction>> = Object.freeze({
  CHANNEL_ERROR_MALFORMED: "REJECT",
  CHANNEL_ERROR_UNSUPPORTED_VERSION: "IGNORE", // an older or newer peer, not a hostile one
  CHANNEL_ERROR_WRONG_RESPONDER: "REJECT",
  CHANNEL_ERROR_STALE: "IGNORE", // clock skew or a delayed request
  CHANNEL_ERROR_UNKNOWN_PEER: "IGNORE", // may be membership lag on our side
  CHANNEL_ERROR_RATE_LIMITED: "IGNORE",
  CHANNEL_ERROR_HANDSHAKE_REPLAY: "IGNORE", // a transport retry or a third party; not the claimed peer's fault
  CHANNEL_ERROR_BUSY: "IGNORE",
  CHANNEL_ERROR_BAD_SIGNATURE: "REJECT",
  CHANNEL_ERROR_KEY_CONFIRMATION: "REJECT",
  CHANNEL_ERROR_TRANSPORT: "IGNORE",
  CHANNEL_ERROR_UNKNOWN_CHANNEL: "IGNORE", // we may have restarted or expired it; the sender re-handshakes
  CHANNEL_ERROR_WRONG_DIRECTION: "REJECT",
  CHANNEL_ERROR_SEQUENCE_LIMIT: "REJECT",
  CHANNEL_ERROR_REPLAY: "IGNORE", // a transport retry of a delivered frame looks exactly like this
  CHANNEL_ERROR_TOO_OLD: "IGNORE",
  CHANNEL_ERROR_AUTH: "REJECT",
  CHANNEL_ERROR_CLOSED: "IGNORE",
});

export class ChannelError extends ParsError<ChannelErrorType> {
  readonly action: ChannelAction;

  constructor(type: ChannelErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "ChannelError";
    this.action = CHANNEL_ERROR_ACTIONS[type.code];
    if (cause !== undefined) this.cause = cause;
  }
}

export function isChannelError(err: unknown): err is ChannelError {
  return err instanceof ChannelError;
}

export function malformed(detail: string): ChannelError {
  return new ChannelError({code: "CHANNEL_ERROR_MALFORMED", detail}, `malformed channel message: ${detail}`);
}
