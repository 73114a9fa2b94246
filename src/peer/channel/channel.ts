/**
 * One established channel: the keys of both directions, the send counter and the receive replay
 * window. Owned by the ChannelManager; it never sees the network directly.
 */
import type {KeyObject} from "node:crypto";
import {CHANNEL_MAX_FRAMES, MessageType, REPLAY_WINDOW_FRAMES} from "./constants.js";
import {ChannelError} from "./errors.js";
import {type FrameType, aeadKey, openFrame, sealFrame} from "./frame.js";
import {type ChannelKeys, wipe} from "./key-schedule.js";
import type {FrameHeader} from "./messages.js";
import {ReplayWindow} from "./replay-window.js";

export type ChannelRole = "initiator" | "responder";

/** Public facts about a channel (no keys). */
export interface ChannelInfo {
  /** 32 lowercase hex characters. */
  readonly channelId: string;
  readonly peer: string;
  /** Our role in the handshake that created it. */
  readonly role: ChannelRole;
  readonly createdAtMs: number;
}

export class Channel implements ChannelInfo {
  readonly id: Uint8Array;
  readonly channelId: string;
  readonly peer: string;
  readonly role: ChannelRole;
  readonly createdAtMs: number;
  /** Set when a newer channel with the same peer and role replaced this one. */
  retiredAtMs: number | null = null;
  readonly #rawKeys: Uint8Array[];
  readonly #sendKey: KeyObject;
  readonly #recvKey: KeyObject;
  readonly #sendType: FrameType;
  readonly #recvType: FrameType;
  readonly #window = new ReplayWindow(REPLAY_WINDOW_FRAMES);
  #nextSequence = 0;
  #bytesSent = 0;
  #confirmed: boolean;

  constructor(peer: string, role: ChannelRole, keys: ChannelKeys, createdAtMs: number) {
    this.id = keys.channelId;
    this.channelId = Buffer.from(keys.channelId).toString("hex");
    this.peer = peer;
    this.role = role;
    this.createdAtMs = createdAtMs;
    const initiator = role === "initiator";
    this.#sendKey = aeadKey(initiator ? keys.keyI2R : keys.keyR2I);
    this.#recvKey = aeadKey(initiator ? keys.keyR2I : keys.keyI2R);
    this.#sendType = initiator ? MessageType.FRAME_I2R : MessageType.FRAME_R2I;
    this.#recvType = initiator ? MessageType.FRAME_R2I : MessageType.FRAME_I2R;
    this.#rawKeys = [keys.keyI2R, keys.keyR2I, keys.confirmKey];
    // The initiator knows the responder holds the keys (key confirmation). The responder learns
    // that the initiator finished only from its first authenticated frame.
    this.#confirmed = initiator;
  }

  get framesSent(): number {
    return this.#nextSequence;
  }

  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** True once both ends are known to hold the keys (see constructor). */
  get confirmed(): boolean {
    return this.#confirmed;
  }

  get info(): ChannelInfo {
    return {channelId: this.channelId, peer: this.peer, role: this.role, createdAtMs: this.createdAtMs};
  }

  seal(plaintext: Uint8Array): Uint8Array {
    const sequence = this.#nextSequence;
    if (sequence >= CHANNEL_MAX_FRAMES) {
      throw new ChannelError(
        {code: "CHANNEL_ERROR_SEQUENCE_LIMIT", channelId: this.channelId, peer: this.peer, sequence: String(sequence)},
        `channel ${this.channelId}: send sequence exhausted; a new handshake is needed`,
      );
    }
    this.#nextSequence = sequence + 1;
    this.#bytesSent += plaintext.length;
    return sealFrame(this.#sendKey, this.#sendType, this.id, sequence, plaintext);
  }

  /** Checks direction, sequence range, the replay window, then authenticates; commits on success. */
  open(frame: FrameHeader): {plaintext: Uint8Array; sequence: number} {
    if (frame.type !== this.#recvType) {
      throw new ChannelError(
        {code: "CHANNEL_ERROR_WRONG_DIRECTION", channelId: this.channelId, peer: this.peer},
        `channel ${this.channelId}: frame in our own sending direction (reflected)`,
      );
    }
    const sequence = this.#checkSequence(frame.sequence);
    const plaintext = openFrame(this.#recvKey, frame);
    if (plaintext === null) {
      throw new ChannelError(
        {code: "CHANNEL_ERROR_AUTH", channelId: this.channelId, peer: this.peer},
        `channel ${this.channelId}: frame failed authentication`,
      );
    }
    this.#window.commit(sequence);
    this.#confirmed = true;
    return {plaintext, sequence};
  }

  /** Best-effort erasure of the raw key bytes (the KeyObjects are dropped with the channel). */
  destroy(): void {
    wipe(...this.#rawKeys);
  }

  #checkSequence(raw: bigint): number {
    const {channelId, peer} = this;
    if (raw >= BigInt(CHANNEL_MAX_FRAMES)) {
      throw new ChannelError(
        {code: "CHANNEL_ERROR_SEQUENCE_LIMIT", channelId, peer, sequence: raw.toString()},
        `channel ${channelId}: sequence ${raw} beyond the per-key maximum`,
      );
    }
    const sequence = Number(raw);
    const verdict = this.#window.check(sequence);
    if (verdict === "replay") {
      throw new ChannelError({code: "CHANNEL_ERROR_REPLAY", channelId, peer, sequence}, `channel ${channelId}: replayed frame ${sequence}`);
    }
    if (verdict === "too-old") {
      const highest = this.#window.highest;
      throw new ChannelError(
        {code: "CHANNEL_ERROR_TOO_OLD", channelId, peer, sequence, highest},
        `channel ${channelId}: frame ${sequence} is older than the replay window (highest ${highest})`,
      );
    }
    return sequence;
  }
}
