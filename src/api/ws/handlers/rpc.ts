import {HTTP} from "../../../rpc/index.js";
import type {WsConnection} from "../connection.js";
import type {WsContext} from "../context.js";
import {rpcReply, type ClientFrame} from "../frames.js";

type RpcFrame = Extract<ClientFrame, {type: "rpc"}>;

/**
 * `{"id", "type": "rpc", "method", "params"}`: the answer is exactly what POST /storage_rpc/v1
 * would send, from the same request pipeline. The frame paid its rate-limit token on arrival
 * (WsServer), so it enters the pipeline uncharged (`ip: null`).
 */
export function handleRpcFrame(ctx: WsContext, conn: WsConnection, frame: RpcFrame): void {
  conn.runRpc(async () => {
    const res = await ctx.modules.pipeline.handle({method: frame.method, params: frame.params}, {transport: "ws", ip: null});
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
