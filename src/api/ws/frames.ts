/**
 * The JSON frames of GET /ws, one object per text message (docs/PROTOCOL.md (WebSocket)).
 * Parsing never throws: a frame that cannot be used becomes an error description the caller
 * answers with an error frame; the connection stays open.
 */

import type {RpcResponse} from "../../protocol/index.js";
import type {StoredMessage} from "../../storage/index.js";
import type {WsErrorCode} from "./errors.js";

/** A client's request ID, echoed verbatim in the reply: a string of ≤ 128 chars or a safe integer. */
export type RequestId = string | number;

export const MAX_REQUEST_ID_CHARS = 128;

export type ClientFrame =
  | {type: "rpc"; id?: RequestId; method: unknown; params: unknown}
  | {type: "subscribe"; id?: RequestId; params: unknown}
  | {type: "unsubscribe"; id?: RequestId; params: unknown}
  | {type: "ping"; id?: RequestId};

export interface FrameProblem {
  id?: RequestId;
  code: WsErrorCode;
  error: string;
}

export type ParsedFrame = {ok: true; frame: ClientFrame} | ({ok: false} & FrameProblem);

const FRAME_TYPES = new Set(["rpc", "subscribe", "unsubscribe", "ping"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isRequestId(v: unknown): v is RequestId {
  return (typeof v === "string" && v.length <= MAX_REQUEST_ID_CHARS) || (typeof v === "number" && Number.isSafeInteger(v));
}

/** Parses one inbound text frame. */
export function parseClientFrame(text: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {ok: false, code: "WS_ERROR_BAD_JSON", error: "invalid json"};
  }
  if (!isObject(json)) return {ok: false, code: "WS_ERROR_BAD_FRAME", error: "a frame must be a JSON object"};
  const {id, type} = json;
  if (id !== undefined && !isRequestId(id)) {
    const error = `"id" must be a string of at most ${MAX_REQUEST_ID_CHARS} characters or an integer`;
    return {ok: false, code: "WS_ERROR_BAD_FRAME", error};
  }
  if (typeof type !== "string" || !FRAME_TYPES.has(type)) {
    return {ok: false, id, code: "WS_ERROR_BAD_FRAME", error: `unknown frame type ${JSON.stringify(type) ?? "undefined"}`};
  }
  switch (type) {
    case "rpc":
      return {ok: true, frame: {type, id, method: json.method, params: json.params}};
    case "ping":
      return {ok: true, frame: {type, id}};
    default:
      return {ok: true, frame: {type: type as "subscribe" | "unsubscribe", id, params: json.params}};
  }
}

export interface ErrorFrame {
  id?: RequestId;
  /** Stable machine-readable code (`WS_ERROR_…` or `MONITOR_ERROR_…`). */
  code: string;
  /** English description (Session's text for monitor errors). */
  error: string;
  /** Session's monitor errcode (1–6) or the Pars addition 7; only on subscription refusals. */
  errcode?: number;
  /** Only on the last frame before the node closes the connection: the close reason. */
  reason?: string;
}

export function errorFrame(e: ErrorFrame): string {
  return JSON.stringify({id: e.id, type: "error", code: e.code, errcode: e.errcode, error: e.error, reason: e.reason});
}

/** The answer to an RPC frame: exactly the status and body POST /storage_rpc/v1 would send. */
export function rpcReply(id: RequestId | undefined, res: RpcResponse): string {
  return JSON.stringify({id, type: "rpc", code: res.status, body: res.body});
}

export function subscribeReply(id: RequestId | undefined, expiresAt: number): string {
  return JSON.stringify({id, type: "subscribe", success: true, expires_at: expiresAt});
}

/** One entry per subscription of a list request, in request order (Session's list form). */
export type SubscribeResult = {success: true; expires_at: number} | {errcode?: number; code: string; error: string};

export function subscribeListReply(id: RequestId | undefined, results: SubscribeResult[]): string {
  return JSON.stringify({id, type: "subscribe", results});
}

export function unsubscribeReply(id: RequestId | undefined, removed: boolean): string {
  return JSON.stringify({id, type: "unsubscribe", success: true, removed});
}

export function pongReply(id: RequestId | undefined): string {
  return JSON.stringify({id, type: "pong"});
}

/** Session's notify dict `{@, h, n, t, z, ~}` with readable names. */
export function messageFrame(m: StoredMessage, withData: boolean): string {
  const frame: Record<string, unknown> = {
    type: "message",
    account: m.account,
    hash: m.hash,
    namespace: m.namespace,
    timestamp: m.timestamp,
    expiry: m.expiry,
  };
  if (withData) frame.data = m.data.toString("base64");
  return JSON.stringify(frame);
}

export type SubscriptionEndReason = "expired" | "revoked" | "wrong_swarm";

/** Sent when the node drops a subscription by itself (not on unsubscribe, not on close). */
export function subscriptionEndedFrame(account: string, reason: SubscriptionEndReason): string {
  return JSON.stringify({type: "subscription_ended", account, reason});
}
