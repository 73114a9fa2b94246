
import type {RpcResponse} from "../../../protocol/index.js";
import {HTTP} from "../../../rpc/index.js";
import type {WsConnection} from "../connection.js";
import type {WsContext} from "../context.js";
import {rpcReply, type ClientFrame} from "../frames.js";

type RpcFrame = Extract<ClientFrame, {type: "rpc"}>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `{"id", "type": "rpc", "method", "params"}`: the answer is exactly what POST /storage_rpc/v1
 * would send (readiness 503 first, then the JSON shape checks, then the dispatcher).
 */
export function handleRpcFrame(ctx: WsContext, conn: WsConnection, frame: RpcFrame): void {
  conn.runRpc(async () => {
    const res = await answer(ctx, frame);
    ctx.counters.rpcRequests += 1;
    let reply: string;
    try {
      reply = rpcReply(frame.id, res);
    } catch (err) {
      // An answer that cannot be serialised (a bug) must cost this request, not the process:
      // runRpc does not await the task, so a throw here would be an unhandled rejection.
      ctx.modules.logger.error({err: err instanceof Error ? err.message : String(err)}, "ws rpc answer could not be serialised");
      reply = rpcReply(frame.id, {status: HTTP.INTERNAL_SERVER_ERROR, body: "request failed"});
    }
    conn.send(reply);
  });
}

async function answer(ctx: WsContext, frame: RpcFrame): Promise<RpcResponse> {
  const reasons = ctx.modules.router.notReadyReasons();
  if (reasons.length > 0) return {status: HTTP.SERVICE_UNAVAILABLE, body: `Service node is not ready: ${reasons.join("; ")}\n`};
  if (typeof frame.method !== "string") return {status: HTTP.BAD_REQUEST, body: "invalid json: no `method` field"};
  if (!isObject(frame.params)) return {status: HTTP.BAD_REQUEST, body: "invalid json: no `params` field"};
  try {
    return await ctx.modules.rpc.handle(frame.method, frame.params);
  } catch (err) {
    // RpcHandler answers its own failures; this only guards against a broken stub or bug.
    ctx.modules.logger.error({err: err instanceof Error ? err.message : String(err)}, "ws rpc frame raised an exception");
    return {status: HTTP.INTERNAL_SERVER_ERROR, body: "request failed"};
  }
}
