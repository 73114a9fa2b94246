/**
 * Coalesces the forwards bound for one peer into `rpc_batch` frames (docs/PROTOCOL.md
 * (Replication) §3.2): one HTTP request, one seal and one open for many client writes, whose
 * stores then share the peer's group commit and signature batch. At most MAX_BATCHES_IN_FLIGHT
 * (the setting `replication.forwardBatchesInFlight`) batches per peer are unanswered at a time: calls made meanwhile wait and leave together when one
 * is answered, so under load batches grow by themselves (like the response signer's batches)
 * instead of each event-loop turn sending a frame of a few calls. Otherwise a batch is sent at the
 * end of the turn, or at once when it reaches MAX_RPC_BATCH calls or `maxBatchBytes`. A lone call
 * goes as a plain `rpc`. A failed exchange fails every call of the batch alike.
 */
import {ReplicationError} from "./errors.js";
import type {PeerTransport} from "./transport.js";
import {MAX_RPC_BATCH, encodeRpcBatch, expectReply, serializeRpcCall, type RpcCall, type RpcResult} from "./wire.js";

/**
 * Unanswered batches per peer, by default. One: a call made while a frame is out waits for its
 * answer and leaves with the others, so at a moderate rate frames carry more calls, and each frame
 * is a peer's group commit and, mostly, its signature. More keep a peer busier (it runs one while
 * the next travels) but make more, smaller frames. Quiet A/B at 500/s into 3 nodes (docs/
 * benchmarks.md, "Issue #15: quiet-machine run, session 9"): one against two, swarm CPU per store
 * 2.84 against 3.05 ms, p99 45 against 49 ms, closed-loop swarm throughput 1,678 against 1,411/s.
 */
export const MAX_BATCHES_IN_FLIGHT = 1;

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
  inFlight: number;
}

export interface RpcBatcherModules {
  readonly transport: Pick<PeerTransport, "request" | "requestRaw">;
}

export class RpcBatcher {
  readonly #maxBytes: number;
  readonly #maxInFlight: number;
  readonly #m: RpcBatcherModules;
  readonly #queues = new Map<string, Queue>();

  constructor(maxBytes: number, modules: RpcBatcherModules, maxInFlight = MAX_BATCHES_IN_FLIGHT) {
    this.#maxBytes = maxBytes;
    this.#maxInFlight = maxInFlight;
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
      if (q === undefined) {
        q = {calls: [], bytes: 0, timer: null, inFlight: 0};
        this.#queues.set(peer, q);
      }
      q.calls.push({call, json, resolve, reject});
      q.bytes += json.length;
      if (q.calls.length >= MAX_RPC_BATCH || q.bytes >= this.#maxBytes) this.#flush(peer, q);
      else q.timer ??= setImmediate(() => this.#flush(peer, q));
    });
  }

  /** Sends whole batches while fewer than the most in flight are unanswered. */
  #flush(peer: string, q: Queue): void {
    if (q.timer !== null) clearImmediate(q.timer);
    q.timer = null;
    while (q.calls.length > 0 && q.inFlight < this.#maxInFlight) {
      const batch = this.#take(q);
      q.inFlight++;
      void this.#send(peer, batch).finally(() => {
        q.inFlight--;
        if (q.calls.length > 0) this.#flush(peer, q);
        else if (q.inFlight === 0 && this.#queues.get(peer) === q) this.#queues.delete(peer);
      });
    }
  }

  /** The oldest calls that fit one batch (at least one). */
  #take(q: Queue): Pending[] {
    let n = 0;
    let bytes = 0;
    for (const c of q.calls) {
      if (n > 0 && (n >= MAX_RPC_BATCH || bytes + c.json.length > this.#maxBytes)) break;
      n++;
      bytes += c.json.length;
    }
    q.bytes -= bytes;
    return q.calls.splice(0, n);
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
