import {ParsError} from "../../util/index.js";

/**
 * Session's monitor reply codes (oxenss/server/mqbase.h `MonitorResponse`), plus one Pars addition.
 * A subscribe that fails answers `{"type": "error", "errcode": n, "error": text, "code": …}`.
 */
export const MONITOR_ERRCODE = {
  BAD_ARGS: 1,
  BAD_PUBKEY: 2,
  BAD_NS: 3,
  BAD_TS: 4,
  BAD_SIG: 5,
  WRONG_SWARM: 6,
  /** Pars: the connection already holds `maxSubscriptionsPerConnection` accounts. */
  TOO_MANY_SUBSCRIPTIONS: 7,
} as const;

export type MonitorErrcode = (typeof MONITOR_ERRCODE)[keyof typeof MONITOR_ERRCODE];

const MONITOR_CODES = {
  1: "MONITOR_ERROR_BAD_ARGS",
  2: "MONITOR_ERROR_BAD_PUBKEY",
  3: "MONITOR_ERROR_BAD_NAMESPACE",
  4: "MONITOR_ERROR_BAD_TIMESTAMP",
  5: "MONITOR_ERROR_BAD_SIGNATURE",
  6: "MONITOR_ERROR_WRONG_SWARM",
  7: "MONITOR_ERROR_TOO_MANY_SUBSCRIPTIONS",
} as const satisfies Record<MonitorErrcode, string>;

export type MonitorErrorCode = (typeof MONITOR_CODES)[MonitorErrcode];

/** A subscription refused; `message` is the client-visible text (Session's where Session has one). */
export class MonitorError extends ParsError<{code: MonitorErrorCode; errcode: MonitorErrcode}> {
  constructor(errcode: MonitorErrcode, message: string) {
    super({code: MONITOR_CODES[errcode], errcode}, message);
    this.name = "MonitorError";
  }

  get errcode(): MonitorErrcode {
    return this.type.errcode;
  }
}

/** Frame-level error codes (the `code` of an error frame that is not a subscription refusal). */
export type WsErrorCode =
  | "WS_ERROR_BAD_JSON"
  | "WS_ERROR_BAD_FRAME"
  | "WS_ERROR_RATE_LIMITED"
  | "WS_ERROR_INTERNAL"
  | "WS_ERROR_TOO_MANY_CONNECTIONS"
  | "WS_ERROR_SERVER_FULL"
  | "WS_ERROR_SLOW_CONSUMER"
  | "WS_ERROR_NODE_OVERLOADED"
  | "WS_ERROR_PING_TIMEOUT"
  | "WS_ERROR_SHUTTING_DOWN";

/** Why the node closed a connection: the error frame's `code`, or the `ws` layer's own reason. */
export type WsDropReason = WsErrorCode | "WS_ERROR_PROTOCOL";

/** WebSocket close codes the node sends (RFC 6455 §7.4.1). */
export const WS_CLOSE = {
  /** Node shutting down. */
  GOING_AWAY: 1001,
  /** Slow consumer, ping timeout. */
  POLICY_VIOLATION: 1008,
  /** Inbound frame over `maxInboundFrameBytes` (sent by `ws` itself, without a reason). */
  MESSAGE_TOO_BIG: 1009,
  /** Too many connections from this IP or on the node, or the node-wide outbound budget is full. */
  TRY_AGAIN_LATER: 1013,
} as const;

export type WsCloseCode = (typeof WS_CLOSE)[keyof typeof WS_CLOSE];
