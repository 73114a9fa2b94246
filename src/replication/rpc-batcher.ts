/**
 * Coalesces the forwards bound for one peer into `rpc_batch` frames (docs/PROTOCOL.md
 * (Replication) §3.2): one HTTP request, one seal and one open for many client writes, whose
 * stores then share the peer's group commit and signature batch. At most MAX_BATCHES_IN_FLIGHT
 * (the setting `replication.forwardBatchesInFlight`) batches per peer are unanswered at a time: calls made meanwhile wait and leave together when one
 * is answered, so under load batches grow by themselves (like the response signer's batches)
 * instead of each event-loop turn sending a frame of a few calls. Otherwise a batch is sent at the
 * end of the turn, or at once when it reaches MAX_RPC_BATCH calls or `maxBatchBytes`. A lone call
 * goes as a plain `rpc`. A failed exchange fails every call of the batch alike.
 *
 * With a hold (`replication.forwardBatchHoldMs`), a batch answered while calls wait for the next
 * one keeps its place for that long, so the calls arriving meanwhile leave with them in one larger
 * frame: each frame costs the peer an HTTP request, a group commit and a signature whatever its
 * size, and the entry node a seal, an open and a request of its own. Only under load, then: a
 * batch answered with no call waiting frees its place at once (a forward at a low rate does not
 * wait), and a hold ends early once a whole batch (MAX_RPC_BATCH calls or `maxBatchBytes`) waits.
 */
import {runSoon} from "../util/index.js";
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
  /** Cancels the end-of-turn flush (null: none scheduled). */
  timer: (() => void) | null;
  /** Batches unanswered, plus answered ones whose hold has not ended. */
  inFlight: number;
  /** Cancels the holds running, oldest first. */
  holds: Array<() => void>;
}

export interface RpcBatcherOptions {
  /** Most serialised call bytes per batch (`replication.maxBatchBytes`). */
  readonly maxBatchBytes: number;
  /** Most unanswered batches per peer (`replication.forwardBatchesInFlight`; MAX_BATCHES_IN_FLIGHT). */
  readonly batchesInFlight?: number;
  /** How long an answered batch keeps its place (`replication.forwardBatchHoldMs`; 0: none). */
  readonly holdMs?: number;
}

export interface RpcBatcherModules {
  readonly transport: Pick<PeerTransport, "request" | "requestRaw">;
  /** Calls per frame are observed here; null or absent when metrics are off. */
  readonly metrics?: {readonly forwardFrameCalls: {observe(calls: number): void}} | null;
}

export class RpcBatcher {
  readonly #maxBytes: number;
  readonly #maxInFlight: number;
  readonly #holdMs: number;
  readonly #m: RpcBatcherModules;
  readonly #queues = new Map<string, Queue>();

  constructor(opts: RpcBatcherOptions, modules: RpcBatcherModules) {
    this.#maxBytes = opts.maxBatchBytes;
    this.#maxInFlight = opts.batchesInFlight ?? MAX_BATCHES_IN_FLIGHT;
    this.#holdMs = opts.holdMs ?? 0;
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
        q = {calls: [], bytes: 0, timer: null, inFlight: 0, holds: []};
        this.#queues.set(peer, q);
      }
      q.calls.push({call, json, resolve, reject});
      q.bytes += json.length;
      if (this.#wholeBatchWaits(q)) {
        // A hold has nothing more to gather for it: its place goes to this batch now.
        const cancelHold = q.inFlight >= this.#maxInFlight ? q.holds.shift() : undefined;
        cancelHold?.();
        if (cancelHold !== undefined) this.#release(peer, q);
        else this.#flush(peer, q);
      } else q.timer ??= runSoon(() => this.#flush(peer, q), 0);
    });
  }

  /** Sends whole batches while fewer than the most in flight are unanswered. */
  #flush(peer: string, q: Queue): void {
    q.timer?.();
    q.timer = null;
    while (q.calls.length > 0 && q.inFlight < this.#maxInFlight) {
      const batch = this.#take(q);
      q.inFlight++;
      void this.#send(peer, q, batch);
    }
  }

  /**
   * A batch's exchange ended: its place is free now, or, if it was answered and calls wait for less
   * than a whole batch, once its hold ends (a failed exchange gathers nothing worth waiting for).
   */
  #ended(peer: string, q: Queue, answered: boolean): void {
    if (!answered || this.#holdMs === 0 || q.calls.length === 0 || this.#wholeBatchWaits(q)) return this.#release(peer, q);
    const cancel = runSoon(() => {
      q.holds.splice(q.holds.indexOf(cancel), 1);
      this.#release(peer, q);
    }, this.#holdMs);
    q.holds.push(cancel);
  }

  #wholeBatchWaits(q: Queue): boolean {
    return q.calls.length >= MAX_RPC_BATCH || q.bytes >= this.#maxBytes;
  }

  #release(peer: string, q: Queue): void {
    q.inFlight--;
    if (q.calls.length > 0) this.#flush(peer, q);
    else if (q.inFlight === 0 && this.#queues.get(peer) === q) this.#queues.delete(peer);
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

  /** Never rejects. The place is freed (or held) before the calls settle, so what their callers do next finds it so. */
  async #send(peer: string, q: Queue, calls: Pending[]): Promise<void> {
    let outcome: {results: RpcResult[]} | {err: unknown};
    this.#m.metrics?.forwardFrameCalls.observe(calls.length);
    try {
      outcome = {results: await this.#exchange(peer, calls)};
    } catch (err) {
      outcome = {err};
    }
    this.#ended(peer, q, !("err" in outcome));
    if ("err" in outcome) for (const c of calls) c.reject(outcome.err);
    else calls.forEach((c, i) => c.resolve(outcome.results[i] as RpcResult));
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
