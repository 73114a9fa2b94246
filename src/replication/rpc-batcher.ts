/**
 * Coalesces the forwards bound for one peer within an event-loop turn into one `rpc_batch` frame
 * (docs/PROTOCOL.md (Replication) §3.2): one HTTP request, one seal and one open for many
 * client writes, whose stores then share the peer's group commit and signature batch. A batch is
 * sent at the end of the turn, or at once when it reaches MAX_RPC_BATCH calls or `maxBatchBytes`.
 * A lone call goes as a plain `rpc`. A failed exchange fails every call of the batch alike.
 */
import {ReplicationError} from "./errors.js";
import type {PeerTransport} from "./transport.js";
import {MAX_RPC_BATCH, encodeRpcBatch, expectReply, serializeRpcCall, type RpcCall, type RpcResult} from "./wire.js";

interface Pending {
  call: RpcCall;
  json: string;
  resolve: (r: RpcResult) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  calls: Pending[];
  bytes: number;
  timer: NodeJS.Immediate | null;
}

export interface RpcBatcherModules {
  readonly transport: Pick<PeerTransport, "request" | "requestRaw">;
}

export class RpcBatcher {
  readonly #maxBytes: number;
  readonly #m: RpcBatcherModules;
  readonly #queues = new Map<string, Queue>();

  constructor(maxBytes: number, modules: RpcBatcherModules) {
    this.#maxBytes = maxBytes;
    this.#m = modules;
  }

  /**
   * The peer's answer to one forwarded request; rejects like PeerTransport.request. `json` is the
   * call serialised by serializeRpcCall, when the caller has it already (a fan-out sends the same
   * call to every peer).
   */
  call(peer: string, call: RpcCall, json?: string): Promise<RpcResult> {
    return new Promise((resolve, reject) => {
      json ??= serializeRpcCall(call);
      let q = this.#queues.get(peer);
      if (q !== undefined && (q.calls.length >= MAX_RPC_BATCH || q.bytes + json.length > this.#maxBytes)) {
        this.#flush(peer);
        q = undefined;
      }
      if (q === undefined) {
        q = {calls: [], bytes: 0, timer: setImmediate(() => this.#flush(peer))};
        this.#queues.set(peer, q);
      }
      q.calls.push({call, json, resolve, reject});
      q.bytes += json.length;
    });
  }

  #flush(peer: string): void {
    const q = this.#queues.get(peer);
    if (q === undefined) return;
    this.#queues.delete(peer);
    if (q.timer !== null) clearImmediate(q.timer);
    void this.#send(peer, q.calls);
  }

  async #send(peer: string, calls: Pending[]): Promise<void> {
    try {
      const results = await this.#exchange(peer, calls);
      calls.forEach((c, i) => c.resolve(results[i] as RpcResult));
    } catch (err) {
      for (const c of calls) c.reject(err);
    }
  }

  async #exchange(peer: string, calls: Pending[]): Promise<RpcResult[]> {
    const first = calls[0];
    if (calls.length === 1 && first !== undefined) {
      const reply = expectReply(peer, await this.#m.transport.request(peer, {type: "rpc", ...first.call}), "rpc_ok");
      return [{status: reply.status, body: reply.body}];
    }
    const reply = expectReply(peer, await this.#m.transport.requestRaw(peer, encodeRpcBatch(calls.map((c) => c.json))), "rpc_batch_ok");
    if (reply.results.length !== calls.length) {
      throw new ReplicationError({code: "REPLICATION_ERROR_BAD_MESSAGE", detail: `${reply.results.length} results for ${calls.length} calls`});
    }
    return reply.results;
  }
}
