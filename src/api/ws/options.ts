import {InvalidArgumentError} from "../../util/index.js";

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MIB = 1024 * 1024;

/**
 * Every limit of the WebSocket endpoint. Each default is a named constant with the reason for its
 * value; docs/PROTOCOL.md (WebSocket) lists them for operators and client authors.
 */
export interface WsOptions {
  /** Open connections on the whole node. */
  maxConnections: number;
  /** Open connections from one client IP address. */
  maxConnectionsPerIp: number;
  /** Distinct accounts one connection may be subscribed to. */
  maxSubscriptionsPerConnection: number;
  /** Namespaces one subscription may cover (after merging re-subscriptions). */
  maxNamespacesPerSubscription: number;
  /** Outbound bytes waiting on the socket (`ws.bufferedAmount`) above which a send closes the connection. */
  maxQueuedBytes: number;
  /** Outbound frames not yet handed to the kernel above which a send closes the connection. */
  maxQueuedFrames: number;
  /**
   * Outbound bytes not yet handed to the kernel, summed over all connections; a frame that would
   * exceed it closes the connection with the largest queue (1013) instead (outbound-budget.ts).
   */
  queueBudgetBytes: number;
  /** Largest inbound frame; a bigger one closes the connection with 1009 (enforced by `ws` while receiving). */
  maxInboundFrameBytes: number;
  /** RPC frames of one connection running at once; at the cap the node stops reading from it. */
  maxInflightRpc: number;
  /** How often the node pings every connection. */
  pingIntervalMs: number;
  /** How long a ping may go unanswered before the connection is closed. */
  pongTimeoutMs: number;
  /** After a close frame, how long the peer has to complete the close handshake before the socket is destroyed. */
  closeGraceMs: number;
  /** Lifetime of a subscription; re-subscribing resets it. */
  subscriptionTtlMs: number;
  /** How often expired subscriptions (and accounts that left our swarm) are dropped. */
  sweepIntervalMs: number;
  /** Oldest accepted subscription signature timestamp, relative to now. */
  timestampMaxAgeMs: number;
  /** Furthest accepted subscription signature timestamp in the future. */
  timestampMaxFutureMs: number;
}

/** ~50 KB of kernel and `ws` state per idle connection: 10,000 is ~0.5 GB, within a node's budget. */
export const MAX_CONNECTIONS = 10_000;
/** One client needs one connection; 32 leaves room for several devices behind one NAT. */
export const MAX_CONNECTIONS_PER_IP = 32;
/** A Session client monitors its own ID plus one account per closed group it is in. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 256;
/** Session clients monitor fewer than ten namespaces per account (0, 2–5; groups 11–13, 5). */
export const MAX_NAMESPACES_PER_SUBSCRIPTION = 64;
/** Twice the largest RPC answer (a retrieve is capped at 7.8 MB), so only a client that stops reading hits it. */
export const MAX_QUEUED_BYTES = 16 * MIB;
/** Thousands of unflushed frames means the client stopped reading long ago (a push is ~300 bytes). */
export const MAX_QUEUED_FRAMES = 4096;
/**
 * Four connections at `MAX_QUEUED_BYTES`: a few slow readers of large RPC answers fit, while
 * thousands of stalled subscribers cannot make the node hold more than this for them.
 */
export const QUEUE_BUDGET_BYTES = 64 * MIB;
/** A batch of 20 maximal stores from a 07 account is ≈2.3 MB of JSON; HTTP's 10 MiB is too much to hold per socket. */
export const MAX_INBOUND_FRAME_BYTES = 4 * MIB;
/** An HTTP client keeps ~6 requests in flight over its connections; one socket carries them all here. */
export const MAX_INFLIGHT_RPC = 16;
/** Below the 60 s idle timeout common in NATs and load balancers. */
export const PING_INTERVAL_MS = 30 * SECOND_MS;
/** A live peer answers a ping in well under a second even on a mobile link. */
export const PONG_TIMEOUT_MS = 15 * SECOND_MS;
/** A peer reading normally completes the close handshake within a round trip. */
export const CLOSE_GRACE_MS = 2 * SECOND_MS;
/** Session's MONITOR_EXPIRY_TIME (oxenss/server/mqbase.h): clients renew at most every hour. */
export const SUBSCRIPTION_TTL_MS = 65 * MINUTE_MS;
/** Pushes check expiry themselves; the sweep only frees memory and ends subscriptions that moved swarm. */
export const SWEEP_INTERVAL_MS = MINUTE_MS;
/** Session's monitor accepts `t` from the last 14 days (mqbase.cpp). */
export const TIMESTAMP_MAX_AGE_MS = 14 * DAY_MS;
/** …and up to one day ahead. */
export const TIMESTAMP_MAX_FUTURE_MS = DAY_MS;

export const defaultWsOptions: Readonly<WsOptions> = Object.freeze({
  maxConnections: MAX_CONNECTIONS,
  maxConnectionsPerIp: MAX_CONNECTIONS_PER_IP,
  maxSubscriptionsPerConnection: MAX_SUBSCRIPTIONS_PER_CONNECTION,
  maxNamespacesPerSubscription: MAX_NAMESPACES_PER_SUBSCRIPTION,
  maxQueuedBytes: MAX_QUEUED_BYTES,
  maxQueuedFrames: MAX_QUEUED_FRAMES,
  queueBudgetBytes: QUEUE_BUDGET_BYTES,
  maxInboundFrameBytes: MAX_INBOUND_FRAME_BYTES,
  maxInflightRpc: MAX_INFLIGHT_RPC,
  pingIntervalMs: PING_INTERVAL_MS,
  pongTimeoutMs: PONG_TIMEOUT_MS,
  closeGraceMs: CLOSE_GRACE_MS,
  subscriptionTtlMs: SUBSCRIPTION_TTL_MS,
  sweepIntervalMs: SWEEP_INTERVAL_MS,
  timestampMaxAgeMs: TIMESTAMP_MAX_AGE_MS,
  timestampMaxFutureMs: TIMESTAMP_MAX_FUTURE_MS,
});

const POSITIVE_INTEGERS = [
  "maxConnections",
  "maxConnectionsPerIp",
  "maxSubscriptionsPerConnection",
  "maxNamespacesPerSubscription",
  "maxQueuedBytes",
  "maxQueuedFrames",
  "queueBudgetBytes",
  "maxInboundFrameBytes",
  "maxInflightRpc",
  "pingIntervalMs",
  "pongTimeoutMs",
  "closeGraceMs",
  "subscriptionTtlMs",
  "sweepIntervalMs",
  "timestampMaxAgeMs",
  "timestampMaxFutureMs",
] as const satisfies ReadonlyArray<keyof WsOptions>;

/** Throws `INVALID_ARGUMENT` naming the first option that is not a positive integer. */
export function validateWsOptions(opts: WsOptions): void {
  for (const name of POSITIVE_INTEGERS) {
    const v = opts[name];
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new InvalidArgumentError(`ws option ${name} must be a positive integer, got ${String(v)}`);
    }
  }
}
