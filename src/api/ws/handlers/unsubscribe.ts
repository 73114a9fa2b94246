import {isHex} from "../../../protocol/index.js";
import {NAMESPACE_MAX, NAMESPACE_MIN} from "../../../protocol/index.js";
import type {WsConnection} from "../connection.js";
import type {WsContext} from "../context.js";
import {errorFrame, unsubscribeReply, type ClientFrame} from "../frames.js";

type UnsubscribeFrame = Extract<ClientFrame, {type: "unsubscribe"}>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNamespace = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= NAMESPACE_MIN && v <= NAMESPACE_MAX;

/**
 * `{"id", "type": "unsubscribe", "params": {"account": <66 hex>, "n"?: [ns…]}}`: removes the listed
 * namespaces (all when `n` is absent) from this connection's subscription. No signature: it only
 * changes what this connection receives.
 */
export function handleUnsubscribeFrame(ctx: WsContext, conn: WsConnection, frame: UnsubscribeFrame): void {
  const p = frame.params;
  const bad = (error: string): void => {
    conn.send(errorFrame({id: frame.id, code: "WS_ERROR_BAD_FRAME", error}));
  };
  if (!isObject(p) || typeof p.account !== "string" || p.account.length !== 66 || !isHex(p.account)) {
    return bad("unsubscribe: params.account must be the 66-hex account");
  }
  if (p.n !== undefined && !(Array.isArray(p.n) && p.n.every(isNamespace))) {
    return bad("unsubscribe: params.n must be a list of namespaces");
  }
  const removed = ctx.index.remove(conn, p.account.toLowerCase(), p.n);
  conn.send(unsubscribeReply(frame.id, removed));
}
