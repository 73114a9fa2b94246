/**
 * Where a replicated store waits: loaded into the node processes with
 * `BENCH_NODE_ARGS="--import <dist>/bench/stage-trace.js"` and `BENCH_STAGE_DIR=<dir>`, it times the
 * replication stages of every request through the public methods of the node's own modules
 * (the same dist/ files the node loads), plus the event loop's delay, and writes one JSON file per
 * process at exit (`<dir>/<pid>.json`: count, p50, p90, p99, max, mean in ms). Stages:
 *
 * - `forward`: the entry node's fan-out of one request, until every peer's entry (or timeout) is in;
 * - `peer_call`: one peer's part of it, from joining the peer's batch queue to its answer (the wait
 *   behind the batches in flight, plus the exchange);
 * - `exchange`: one frame to a peer and its reply (seal, HTTP, the peer's work, open, decode), and
 *   `exchange_calls`, the calls it carried (1 for a plain `rpc`);
 * - `peer_frame`: on a peer, one frame from open to sealed reply (its stores' validation, group
 *   commit and signature batch included);
 * - `rpc_entry` / `rpc_peer`: one client request in the RPC (`RpcHandler.handle`) on the node it
 *   reached, or a forwarded one on a peer (`origin.recurse` false): parse, checks, our own store
 *   and receipt, and on the entry node the wait for the fan-out;
 * - `store_commit`: one write through the message store until its group commit;
 * - `sign`: one receipt in the response signer until its batch signature is back;
 * - `sign_batch` / `sign_batch_size`: one batch of the response signer (tree, ML-DSA signature on
 *   the signing worker, answers) and its receipts: per-batch costs weigh on a store when batches
 *   are small (an open loop at a moderate rate);
 * - `commit_flush`: one run of the write batcher's group commit on the main thread (flushes that
 *   found nothing to do included);
 * - `event_loop_delay`: `monitorEventLoopDelay` (resolution 5 ms);
 * - `threads_cpu_s`: CPU seconds per thread (`/proc/self/task`, Linux only; `main`, then the others
 *   as `<name>/<tid>`, busiest first) from the first request this process handled to the last 1 s snapshot before
 *   exit: how much of a store's CPU is off the main thread (signing worker, proof worker, V8's GC
 *   helpers, libuv); `threads_cpu_per_second`: [main, all others] for each second from the
 *   first request on; `counts_per_second`: each stage's samples in the same seconds (stores,
 *   frames, commits, sign batches, `verify_post`: posts of signature checks to the signing worker),
 *   so that the window's rates can be told apart from the warm-up's; `window`: the totals from the
 *   first request after the last pause of ≥ `WINDOW_PAUSE_MS` without one (the bench's settle between
 *   warm-up and window, ≥ 1 s) to the last snapshot, per request; `window_by_seconds`: the same after
 *   the last whole second without a request (session 9's rule, which a settle shorter than two
 *   seconds can miss: then it spans the warm-up too).
 *
 * Measurement only: nothing here runs unless a bench run asks for it.
 */
import {writeFileSync} from "node:fs";
import {join} from "node:path";
import {constants as perfConstants, monitorEventLoopDelay, PerformanceObserver} from "node:perf_hooks";
import {Forwarder} from "../src/replication/forwarder.js";
import {PeerRequestHandler} from "../src/replication/peer-handler.js";
import {RpcBatcher} from "../src/replication/rpc-batcher.js";
import {PeerTransport} from "../src/replication/transport.js";
import {ResponseSigner} from "../src/receipts/response-signer.js";
import {RpcHandler} from "../src/rpc/handler.js";
import {SqliteMessageStore} from "../src/storage/sqlite-message-store.js";
import {WriteBatcher} from "../src/storage/write-batcher.js";
import {WorkerSigner} from "../src/signer/context-signer.js";
import {StageSamples, mainAndOthers, threadTicks, ticksBetween, windowTotals, type WindowTotals} from "./trace-common.js";

/** A request after a pause this long (no request reached the RPC) opens the window. */
export const WINDOW_PAUSE_MS = 900;

/** One moment of a traced process: its threads' CPU ticks and every stage's samples so far. */
export interface TraceMark {
  atMs: number;
  ticks: ReadonlyMap<string, number>;
  counts: ReadonlyMap<string, number>;
}

/**
 * What happened between two marks, per request (`rpc_entry` + `rpc_peer` samples between them):
 * the main thread's and the other threads' CPU, and every other stage's samples. Null without a request.
 */
export function windowBetween(from: TraceMark, to: TraceMark): WindowTotals | null {
  const delta = (k: string): number => (to.counts.get(k) ?? 0) - (from.counts.get(k) ?? 0);
  const requests = delta("rpc_entry") + delta("rpc_peer");
  if (requests <= 0) return null;
  const [main, others] = mainAndOthers(from.ticks, to.ticks);
  const per = (x: number): number => Math.round((x / requests) * 1e4) / 1e4;
  const perRequest: Record<string, number> = {};
  for (const k of to.counts.keys()) {
    if (!k.startsWith("rpc_") && delta(k) > 0) perRequest[k] = per(delta(k));
  }
  const seconds = Math.round((to.atMs - from.atMs) / 100) / 10;
  return {seconds, requests, mainMsPerRequest: per(main * 1000), othersMsPerRequest: per(others * 1000), perRequest};
}

const samples = new StageSamples();
/** Samples per stage since the last per-second snapshot: the window's counts apart from the warm-up's. */
let counts = new Map<string, number>();
/** Samples per stage since the start. */
const totals = new Map<string, number>();
const record = (stage: string, value: number): void => {
  samples.record(stage, value);
  counts.set(stage, (counts.get(stage) ?? 0) + 1);
  totals.set(stage, (totals.get(stage) ?? 0) + 1);
};


/** Wraps an async prototype method so that each call's duration lands in `stage`. */
function timeMethod<T extends object>(proto: T, name: keyof T & string, stage: string, extra?: (args: unknown[]) => void): void {
  timeMethodBy(proto, name, (args) => {
    extra?.(args);
    return stage;
  });
}

/** Like timeMethod, with the stage chosen per call from its arguments. */
function timeMethodBy<T extends object>(proto: T, name: keyof T & string, stageOf: (args: unknown[]) => string): void {
  const original = proto[name] as unknown as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function timed(this: unknown, ...args: unknown[]): Promise<unknown> {
      const t0 = performance.now();
      const stage = stageOf(args);
      return original.apply(this, args).finally(() => record(stage, performance.now() - t0));
    },
  });
}

/** Wraps a synchronous prototype method so that each call's duration lands in `stage`. */
function timeSync<T extends object>(proto: T, name: keyof T & string, stage: string): void {
  const original = proto[name] as unknown as (...args: unknown[]) => unknown;
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function timed(this: unknown, ...args: unknown[]): unknown {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        record(stage, performance.now() - t0);
      }
    },
  });
}

function install(dir: string): void {
  const delay = monitorEventLoopDelay({resolution: 5});
  delay.enable();
  observeGc();
  timeMethod(Forwarder.prototype, "forward", "forward");
  timeMethod(RpcBatcher.prototype, "call", "peer_call");
  timeMethod(PeerTransport.prototype, "requestRaw", "exchange", (args) => {
    // A batch is encoded by encodeRpcBatch; a lone call goes through request() as "rpc".
    const bytes = args[1] as Uint8Array;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 40)).toString("latin1");
    if (text.includes('"type":"rpc_batch"')) record("exchange_calls", countCalls(bytes));
    else if (text.includes('"type":"rpc"')) record("exchange_calls", 1);
  });
  timeMethod(PeerRequestHandler.prototype, "handleFrame", "peer_frame");
  // Snapshots every second from the first request on: a worker that ends before exit keeps its figure.
  let cpuAtFirst: Map<string, number> | undefined;
  let cpuLast = new Map<string, number>();
  const cpuSeries: Array<[number, number]> = [];
  const countSeries: Array<Record<string, number>> = [];
  let lastRequestAt = Number.NEGATIVE_INFINITY;
  let windowStart: TraceMark | undefined;
  let lastMark: TraceMark | undefined;
  timeMethodBy(RpcHandler.prototype, "handle", (args) => {
    const at = performance.now();
    if (at - lastRequestAt >= WINDOW_PAUSE_MS) windowStart = {atMs: at, ticks: threadTicks(), counts: new Map(totals)};
    lastRequestAt = at;
    if (cpuAtFirst === undefined) {
      cpuAtFirst = threadTicks();
      setInterval(() => {
        const now = threadTicks();
        cpuSeries.push(mainAndOthers(cpuLast.size === 0 ? (cpuAtFirst as Map<string, number>) : cpuLast, now));
        cpuLast = now;
        lastMark = {atMs: performance.now(), ticks: now, counts: new Map(totals)};
        countSeries.push(Object.fromEntries(counts));
        counts = new Map();
      }, 1000).unref();
    }
    return (args[2] as {recurse?: boolean} | undefined)?.recurse === false ? "rpc_peer" : "rpc_entry";
  });
  timeMethod(SqliteMessageStore.prototype, "store", "store_commit");
  timeMethod(ResponseSigner.prototype, "sign", "sign");
  // signBatch is TypeScript-private, so reached by name; its first argument is the batch.
  timeMethod(ResponseSigner.prototype as unknown as {signBatch: (b: unknown[]) => Promise<void>}, "signBatch", "sign_batch", (args) =>
    record("sign_batch_size", (args[0] as unknown[]).length),
  );
  timeSync(WriteBatcher.prototype, "flush", "commit_flush");
  // flushVerifications is TypeScript-private: one post to the signing worker per call.
  timeSync(WorkerSigner.prototype as unknown as {flushVerifications: () => void}, "flushVerifications", "verify_post");
  process.on("exit", () => {
    const out: Record<string, unknown> = {pid: process.pid};
    Object.assign(out, samples.summaries(2));
    const ns = (q: number): number => Math.round(delay.percentile(q) / 1e4) / 100;
    out.event_loop_delay = {p50: ns(50), p99: ns(99), max: Math.round(delay.max / 1e4) / 100, mean: Math.round(delay.mean / 1e4) / 100};
    if (cpuAtFirst !== undefined) out.threads_cpu_s = ticksBetween(cpuAtFirst, cpuLast);
    out.threads_cpu_per_second = cpuSeries;
    out.counts_per_second = countSeries;
    out.window = windowStart !== undefined && lastMark !== undefined ? windowBetween(windowStart, lastMark) : null;
    out.window_by_seconds = windowTotals(cpuSeries, countSeries);
    writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(out, null, 1)}\n`);
  });
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: "gc_minor",
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: "gc_major",
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: "gc_incremental",
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: "gc_weakcb",
};

/**
 * Each GC pause on the main thread by kind (`gc_minor`: scavenges, `gc_major`: mark-compact,
 * `gc_incremental`: incremental marking steps), and the major ones again by V8's GC flags
 * (`gc_major_flags_<n>`): the helper threads' CPU in `threads_cpu_s` follows these.
 */
function observeGc(): void {
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as unknown as {detail?: {kind?: number; flags?: number}}).detail;
      const kind = GC_KINDS[detail?.kind ?? -1] ?? "gc_other";
      record(kind, e.duration);
      if (kind === "gc_major") record(`gc_major_flags_${detail?.flags ?? 0}`, e.duration);
    }
  });
  obs.observe({entryTypes: ["gc"]});
}

/** Calls in an encoded rpc_batch: its `"method":` keys at the top level of each request. */
function countCalls(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  let n = 0;
  for (let i = text.indexOf('{"method":'); i >= 0; i = text.indexOf('{"method":', i + 1)) n++;
  return n;
}

const dir = process.env.BENCH_STAGE_DIR;
if (dir !== undefined && dir !== "") install(dir);
