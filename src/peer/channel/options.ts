import {InvalidArgumentError} from "../../util/index.js";
import {CHANNEL_MAX_AGE_MS, CHANNEL_MAX_FRAMES, FRAME_MAX_PLAINTEXT_BYTES} from "./constants.js";

/** Local policy of the ChannelManager; the protocol maxima (constants.ts) bound every value. */
export interface ChannelManagerOptions {
  /** A sending channel this old starts a background rekey (new handshake). Default 1 h. */
  readonly rekeyAgeMs: number;
  /** … or after this many frames sent on it. Default 2^20. */
  readonly rekeyFrames: number;
  /** … or after this many plaintext bytes sent on it. Default 2^32 (4 GiB). */
  readonly rekeyBytes: number;
  /**
   * A channel stops being used for sending at rekeyAgeMs + this (then seal() waits for the new
   * handshake); it is deleted at CHANNEL_MAX_AGE_MS. Default 10 min.
   */
  readonly rekeyGraceMs: number;
  /** A replaced channel still accepts frames for this long (in-flight and retried frames). Default 60 s. */
  readonly retireGraceMs: number;
  /** Init timestamps must be within ± this of our clock. Default 60 s (Session's signature window). */
  readonly handshakeWindowMs: number;
  /** Accepted handshakes from one peer are at least this far apart. Default 1 s. */
  readonly minHandshakeIntervalMs: number;
  /** Capacity of the seen-nonce cache (see nonce-cache.ts). Default 65,536. */
  readonly maxSeenNonces: number;
  /** Live channels kept per peer and role; the oldest beyond it are deleted. Default 4. */
  readonly maxChannelsPerPeer: number;
  /** Largest plaintext seal() accepts and open() expects. Default FRAME_MAX_PLAINTEXT_BYTES. */
  readonly maxFrameBytes: number;
}

export const defaultChannelManagerOptions: ChannelManagerOptions = Object.freeze({
  rekeyAgeMs: 60 * 60 * 1000,
  rekeyFrames: 2 ** 20,
  rekeyBytes: 2 ** 32,
  rekeyGraceMs: 10 * 60 * 1000,
  retireGraceMs: 60_000,
  handshakeWindowMs: 60_000,
  minHandshakeIntervalMs: 1_000,
  maxSeenNonces: 65_536,
  maxChannelsPerPeer: 4,
  maxFrameBytes: FRAME_MAX_PLAINTEXT_BYTES,
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new InvalidArgumentError(`ChannelManager: ${message}`);
}

const isCount = (n: number, min: number, max: number): boolean => Number.isSafeInteger(n) && n >= min && n <= max;

/** Merges with the defaults and throws INVALID_ARGUMENT on values outside the protocol bounds. */
export function resolveChannelOptions(opts: Partial<ChannelManagerOptions>): ChannelManagerOptions {
  const o: ChannelManagerOptions = {...defaultChannelManagerOptions, ...opts};
  check(isCount(o.rekeyAgeMs, 1, CHANNEL_MAX_AGE_MS), `rekeyAgeMs must be 1..${CHANNEL_MAX_AGE_MS}`);
  check(isCount(o.rekeyGraceMs, 0, CHANNEL_MAX_AGE_MS), "rekeyGraceMs must be >= 0");
  check(o.rekeyAgeMs + o.rekeyGraceMs <= CHANNEL_MAX_AGE_MS, `rekeyAgeMs + rekeyGraceMs must be <= ${CHANNEL_MAX_AGE_MS}`);
  check(isCount(o.rekeyFrames, 1, CHANNEL_MAX_FRAMES / 2), `rekeyFrames must be 1..${CHANNEL_MAX_FRAMES / 2}`);
  check(isCount(o.rekeyBytes, 1, Number.MAX_SAFE_INTEGER), "rekeyBytes must be a positive integer");
  check(isCount(o.retireGraceMs, 0, CHANNEL_MAX_AGE_MS), "retireGraceMs must be >= 0");
  check(isCount(o.handshakeWindowMs, 1, 10 * 60_000), "handshakeWindowMs must be 1..600000");
  check(isCount(o.minHandshakeIntervalMs, 0, 60 * 60_000), "minHandshakeIntervalMs must be >= 0");
  check(isCount(o.maxSeenNonces, 1, 10_000_000), "maxSeenNonces must be >= 1");
  check(isCount(o.maxChannelsPerPeer, 1, 64), "maxChannelsPerPeer must be 1..64");
  check(isCount(o.maxFrameBytes, 0, FRAME_MAX_PLAINTEXT_BYTES), `maxFrameBytes must be 0..${FRAME_MAX_PLAINTEXT_BYTES}`);
  return Object.freeze(o);
}
