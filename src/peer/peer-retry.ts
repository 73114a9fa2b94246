/**
 * The peer client's retry policy (docs/PROTOCOL.md (Peer channel) §7), as pure functions.
 *
 * A request is retried only when a new attempt cannot do harm:
 * - nothing reached the peer (connection refused or unreachable, connect timeout, DNS "try again"):
 *   always retried;
 * - the peer refused before processing (429, 503): always retried, after Retry-After if it asks
 *   for no more than `maxRetryAfterMs` (a longer wait is the caller's business: no retry);
 * - the request may have been processed (socket reset or closed after sending, headers/body
 *   timeout, 502, 504 from a proxy): retried only if the caller marked it `idempotent`;
 * - anything else (other statuses, oversized or unparsable responses, caller abort, client
 *   closed): never retried.
 * Delays: d = min(maxDelayMs, baseDelayMs × factor^(retry-1)), then "equal jitter" d/2 + U(0, d/2),
 * so peers that failed together do not retry in lockstep.
 */
import {ParsError} from "../util/index.js";

export interface PeerRetryPolicy {
  /** Attempts in total, first included. Default 3. */
  readonly maxAttempts: number;
  /** Delay before the first retry (before jitter). Default 200 ms. */
  readonly baseDelayMs: number;
  /** Multiplier per further retry. Default 2. */
  readonly factor: number;
  /** Cap of one delay (before jitter). Default 2 s. */
  readonly maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one ends the retries. Default 5 s. */
  readonly maxRetryAfterMs: number;
}

export const defaultPeerRetryPolicy: PeerRetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 200,
  factor: 2,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 5_000,
});

/**
 * Failures of a peer request. Match on `err.code`:
 * - `PEER_CLIENT_ERROR_UNKNOWN_PEER`: the node ID is not in the membership; nothing was sent.
 * - `PEER_CLIENT_ERROR_CONNECT`: no connection (refused, unreachable, DNS, connect timeout); nothing was sent.
 * - `PEER_CLIENT_ERROR_TIMEOUT`: no response headers, or a body stalled, within the timeouts.
 * - `PEER_CLIENT_ERROR_SOCKET`: the connection broke after the request may have been sent.
 * - `PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE`: the response exceeded the size cap.
 * - `PEER_CLIENT_ERROR_PROTOCOL`: the peer's answer is not valid HTTP, or another request error.
 * - `PEER_CLIENT_ERROR_ABORTED`: the caller's signal aborted the request.
 * - `PEER_CLIENT_ERROR_CLOSED`: the client (or the peer's pool) was closed.
 * - `PEER_CLIENT_ERROR_STATUS`: the peer answered, with an HTTP status its route does not succeed
 *   with (the channel transport's frames and handshakes; `peerCode` is the channel error code the
 *   route reported, if any). The peer is reachable: this is never a timeout.
 * All but UNKNOWN_PEER and STATUS are what the retry policy gave up on.
 */
export type PeerFailureCode =
  | "PEER_CLIENT_ERROR_CONNECT"
  | "PEER_CLIENT_ERROR_TIMEOUT"
  | "PEER_CLIENT_ERROR_SOCKET"
  | "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE"
  | "PEER_CLIENT_ERROR_PROTOCOL"
  | "PEER_CLIENT_ERROR_ABORTED"
  | "PEER_CLIENT_ERROR_CLOSED";

export type PeerClientErrorCode = PeerFailureCode | "PEER_CLIENT_ERROR_UNKNOWN_PEER" | "PEER_CLIENT_ERROR_STATUS";

export type PeerClientErrorType =
  | {code: PeerFailureCode | "PEER_CLIENT_ERROR_UNKNOWN_PEER"; peer: string; attempts: number; cause: string | null}
  | {code: "PEER_CLIENT_ERROR_STATUS"; peer: string; attempts: number; cause: null; status: number; peerCode: string | null};

export class PeerClientError extends ParsError<PeerClientErrorType> {
  constructor(type: PeerClientErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "PeerClientError";
    if (cause !== undefined) this.cause = cause;
  }
}

/** How an attempt failed: the error code, and whether the peer may have processed the request. */
export interface FailureClass {
  readonly code: PeerFailureCode;
  /** True when the request may have reached the peer's handler. */
  readonly maybeProcessed: boolean;
  /** False for failures a new attempt cannot fix. */
  readonly transient: boolean;
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EADDRNOTAVAIL"]);
const SOCKET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH"]);
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const CLOSED_CODES = new Set(["UND_ERR_CLOSED", "UND_ERR_DESTROYED"]);

/** The `code` of an error, looking into AggregateError (happy-eyeballs connects) and `cause`. */
export function errorCode(err: unknown): string | null {
  if (typeof err !== "object" || err === null) return null;
  if ("code" in err && typeof err.code === "string") return err.code;
  if (err instanceof AggregateError && err.errors.length > 0) return errorCode(err.errors[0]);
  return "cause" in err ? errorCode(err.cause) : null;
}

export function classifyFailure(err: unknown, aborted: boolean): FailureClass {
  const code = errorCode(err) ?? "";
  if (aborted) return {code: "PEER_CLIENT_ERROR_ABORTED", maybeProcessed: true, transient: false};
  if (CONNECT_CODES.has(code)) return {code: "PEER_CLIENT_ERROR_CONNECT", maybeProcessed: false, transient: true};
  if (code === "ENOTFOUND") return {code: "PEER_CLIENT_ERROR_CONNECT", maybeProcessed: false, transient: false};
  if (TIMEOUT_CODES.has(code)) return {code: "PEER_CLIENT_ERROR_TIMEOUT", maybeProcessed: true, transient: true};
  if (SOCKET_CODES.has(code)) return {code: "PEER_CLIENT_ERROR_SOCKET", maybeProcessed: true, transient: true};
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    return {code: "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE", maybeProcessed: true, transient: false};
  }
  if (CLOSED_CODES.has(code)) return {code: "PEER_CLIENT_ERROR_CLOSED", maybeProcessed: true, transient: false};
  return {code: "PEER_CLIENT_ERROR_PROTOCOL", maybeProcessed: true, transient: false};
}

export function shouldRetryFailure(f: FailureClass, idempotent: boolean): boolean {
  return f.transient && (idempotent || !f.maybeProcessed);
}

/** 429 and 503: refused before processing; 502 and 504: a proxy may have forwarded it. */
export function shouldRetryStatus(status: number, idempotent: boolean): boolean {
  if (status === 429 || status === 503) return true;
  return (status === 502 || status === 504) && idempotent;
}

/** Retry-After (delta-seconds or HTTP date) in ms, or null if absent or unparsable. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Delay before retry number `retry` (1 = first retry), with equal jitter from `random()` ∈ [0, 1). */
export function retryDelayMs(policy: PeerRetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
