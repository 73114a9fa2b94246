import {CONFIG_DEFAULTS} from "../config/index.js";
import {InvalidArgumentError} from "../util/index.js";
import {backoffDelayMs} from "../util/index.js";
import {PEER_MAX_FRAME_BYTES} from "../peer/index.js";

/** Replication policy (config section `replication`; docs/configuration.md). */
export interface ReplicationOptions {
  /** The entry node waits this long for its peers' entries (Session: 5 s). */
  readonly forwardTimeoutMs: number;
  /** First delay of a persisted retry (Session 2.11: 1 s). */
  readonly retryInitialMs: number;
  /** Each further retry waits this much longer (Session 2.11: 1.75). */
  readonly retryFactor: number;
  /** Longest delay between two retries (Session 2.11: 60 s). */
  readonly retryMaxMs: number;
  /** Period of anti-entropy rounds (±10 % jitter); rounds also run at startup and on swarm changes. */
  readonly antiEntropyIntervalMs: number;
  /** Most messages per push or fetch batch. */
  readonly maxBatchMessages: number;
  /** Most message bytes (data plus ~200 bytes of fields each) per push or fetch batch. */
  readonly maxBatchBytes: number;
  /**
   * Most unanswered batches of forwarded requests per peer (rpc-batcher.ts): forwards made while
   * that many are out wait and leave together when one is answered.
   */
  readonly forwardBatchesInFlight: number;
  /**
   * When forwarded requests wait for the next batch to a peer as it answers one, how long that
   * batch's place is held so that more join them (rpc-batcher.ts): larger, fewer frames for up to
   * this much more latency. 0: none.
   */
  readonly forwardBatchHoldMs: number;
}

/** Every replication option is a config setting: the defaults are the schema's (config/schema.ts). */
export const defaultReplicationOptions: ReplicationOptions = CONFIG_DEFAULTS.replication;

/** Longest `forwardBatchHoldMs`: a hold is a batching wait, well inside `forwardTimeoutMs`. */
export const MAX_FORWARD_BATCH_HOLD_MS = 100;

/** A peer that failed is not tried by forwards again for this long (its retries probe it meanwhile). */
export const PEER_DOWN_PROBE_MS = 5_000;
/** Messages expiring sooner than this are not worth repairing (anti-entropy skips them). */
export const SYNC_EXPIRY_MARGIN_MS = 10_000;
/** Fixed per-message overhead of a batch estimate (fields and JSON around the base64 data). */
export const MESSAGE_OVERHEAD_BYTES = 200;

export function resolveReplicationOptions(opts: Partial<ReplicationOptions>): ReplicationOptions {
  const o = {...defaultReplicationOptions, ...opts};
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`replication: ${what}`);
  };
  const positive = (n: number): boolean => Number.isSafeInteger(n) && n > 0;
  for (const k of ["forwardTimeoutMs", "retryInitialMs", "retryMaxMs", "antiEntropyIntervalMs", "maxBatchMessages", "maxBatchBytes", "forwardBatchesInFlight"] as const) {
    if (!positive(o[k])) bad(`${k} must be a positive integer`);
  }
  if (!(o.retryFactor >= 1)) bad("retryFactor must be >= 1");
  if (o.retryMaxMs < o.retryInitialMs) bad("retryMaxMs must be >= retryInitialMs");
  if (o.maxBatchMessages > 1_000) bad("maxBatchMessages must be at most 1000");
  if (o.forwardBatchesInFlight > 16) bad("forwardBatchesInFlight must be at most 16");
  if (!Number.isSafeInteger(o.forwardBatchHoldMs) || o.forwardBatchHoldMs < 0 || o.forwardBatchHoldMs > MAX_FORWARD_BATCH_HOLD_MS) {
    bad(`forwardBatchHoldMs must be an integer from 0 to ${MAX_FORWARD_BATCH_HOLD_MS}`);
  }
  if (o.maxBatchBytes > PEER_MAX_FRAME_BYTES / 2) bad(`maxBatchBytes must be at most ${PEER_MAX_FRAME_BYTES / 2}`);
  return Object.freeze(o);
}

/** Delay before retry number `attempt` (1 = first retry): initial × factor^(attempt-1), capped. */
export function retryDelayMs(o: ReplicationOptions, attempt: number): number {
  return backoffDelayMs({initialMs: o.retryInitialMs, factor: o.retryFactor, maxMs: o.retryMaxMs}, attempt);
}

/** Estimated encoded size of a message in a batch. */
export function batchBytesOf(dataBytes: number): number {
  return Math.ceil(dataBytes / 3) * 4 + MESSAGE_OVERHEAD_BYTES;
}
