/**
 * Where a single node's retrieve goes: the sibling of store-trace.ts for `node-retrieve`. Loaded
 * into the node with `BENCH_NODE_ARGS="--import <dist>/bench/retrieve-trace.js"` and
 * `BENCH_STAGE_DIR=<dir>`, it stamps each `POST /storage_rpc/v1` through the HTTP server, the
 * request pipeline, the signing worker's verifier and the message store of the node's own build,
 * and writes `<dir>/<pid>.json` at exit (count, p50, p90, p99, max, mean in ms). Stages of one
 * retrieve, in order:
 *
 * - `body`: the HTTP `request` event to the body's `end` (the body reader; a small body is one chunk);
 * - `to_dispatch`: body end to the pipeline's dispatch (fastify's content parser callback, hooks,
 *   routing, the route's admit: readiness and the rate limit);
 * - `to_verify`: dispatch to the signature check handed to the verifier (JSON parse, field checks,
 *   every auth rule on the main thread);
 * - `verify_wait`: handed over to the verifier's answer (the turn's flush by setImmediate, the
 *   worker's queue and its verify, the reply message);
 * - `to_read`: the answer to the page read's start (promise hops);
 * - `read`: the page read (`SqliteMessageStore.retrieve`, rows as objects);
 * - `to_dispatch_end`: read end to dispatch's promise settling (metrics, the `{status, body}`);
 * - `to_end`: dispatch settled to `res.end` being called (the route's `send`: the answer's JSON
 *   text, fastify's reply path, `Content-Length`, headers);
 * - `end_call`: `res.end` itself (the synchronous socket write of the ~100 KB answer);
 * - `drain`: `res.end` returned to `finish` (the rest of the write, when the socket was full);
 * - `http_total`: request event to `finish`.
 *
 * Per batch: `verify_batch` (checks per message to the worker) and `verify_round_trip` (the flush's
 * post to the reply). Per process: `event_loop_delay` (monitorEventLoopDelay, 1 ms), `main_busy`
 * (event-loop utilisation from the first retrieve to the last), `retrieves`, and `threads_cpu_s`:
 * CPU seconds per thread over the same span (`/proc/self/task`, by thread name and ID; Linux only),
 * with `threads_cpu_ms_per_retrieve` the same divided by the retrieves answered in it, and `gc`: the
 * main thread's GC pauses by kind over the span (count, ms, ms per retrieve).
 *
 * A retrieve that is not verified (public namespace) or fails has no `verify_*`, `read` or
 * `to_read` stage; the others are recorded when their marks exist. Measurement only.
 */
import {writeFileSync} from "node:fs";
import {IncomingMessage, Server, ServerResponse} from "node:http";
import {join} from "node:path";
import {monitorEventLoopDelay, performance, PerformanceObserver, type PerformanceEntry} from "node:perf_hooks";
import type {RequestPipeline} from "../src/rpc/index.js";
import type {WorkerSigner} from "../src/signer/index.js";
import type {SqliteMessageStore} from "../src/storage/index.js";
import {importTracedBuild, patch, StageSamples, threadTicks, ticksBetween, trackEndingRequest} from "./trace-common.js";

const samples = new StageSamples();
const record = (stage: string, value: number): void => samples.record(stage, value);

interface Trace {
  arrival: number;
  bodyEnd?: number;
  dispatch?: number;
  verifyAsk?: number;
  verified?: number;
  readStart?: number;
  readEnd?: number;
  dispatchEnd?: number;
  endCall?: number;
  endReturn?: number;
  /** The answer's length as given to `res.end` (bytes or UTF-16 units). */
  endLength?: number;
}


const TRACE = Symbol("trace");
/** perf_hooks' gc entry kinds (NODE_PERFORMANCE_GC_*). */
const GC_KINDS: Record<number, string> = {1: "minor", 2: "major", 4: "incremental", 8: "weakcb"};
type Stamped = {[TRACE]?: Trace};
/** The IncomingMessage whose `end` is being emitted (trackEndingRequest, set by install). */
let ending: () => IncomingMessage | null = () => null;
/** The trace of the dispatch running synchronously right now (parse and auth happen inside it). */
let active: Trace | null = null;
/**
 * Traces whose signature check passed, in the order their answers were delivered: each one's page
 * is read in the continuation its answer queued, and microtasks run in order, so the reads come in
 * this order too (a failed check reads nothing and is not queued).
 */
const verifiedQueue: Trace[] = [];

function finish(tr: Trace, finished: number): void {
  const span = (stage: string, from: number | undefined, to: number | undefined): void => {
    if (from !== undefined && to !== undefined) record(stage, to - from);
  };
  span("body", tr.arrival, tr.bodyEnd);
  span("to_dispatch", tr.bodyEnd, tr.dispatch);
  span("to_verify", tr.dispatch, tr.verifyAsk);
  span("verify_wait", tr.verifyAsk, tr.verified);
  span("to_read", tr.verified, tr.readStart);
  span("read", tr.readStart, tr.readEnd);
  span("to_dispatch_end", tr.readEnd, tr.dispatchEnd);
  span("to_end", tr.dispatchEnd, tr.endCall);
  span("end_call", tr.endCall, tr.endReturn);
  span("drain", tr.endReturn, finished);
  span("http_total", tr.arrival, finished);
}

interface NodeModules {
  RequestPipeline: typeof RequestPipeline;
  WorkerSigner: typeof WorkerSigner;
  SqliteMessageStore: typeof SqliteMessageStore;
}

/** The modules of the build whose CLI this process runs, or null for another script. */
async function nodeModules(): Promise<NodeModules | null> {
  const loaded = await importTracedBuild(["rpc/index.js", "signer/index.js", "storage/index.js"]);
  if (loaded === null) return null;
  const [rpc, signer, storage] = loaded as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  return {
    RequestPipeline: rpc.RequestPipeline as typeof RequestPipeline,
    WorkerSigner: signer.WorkerSigner as typeof WorkerSigner,
    SqliteMessageStore: storage.SqliteMessageStore as typeof SqliteMessageStore,
  };
}

/** Counts retrieves and snapshots the threads' CPU and the event loop from the first to the last. */
class Span {
  retrieves = 0;
  private first: {ticks: Map<string, number>; elu: ReturnType<typeof performance.eventLoopUtilization>; at: number} | null = null;
  private last: {ticks: Map<string, number>; elu: ReturnType<typeof performance.eventLoopUtilization>; at: number; retrieves: number} | null = null;

  onRetrieve(): void {
    this.retrieves++;
    if (this.first !== null) return;
    this.first = {ticks: threadTicks(), elu: performance.eventLoopUtilization(), at: performance.now()};
    // Snapshots every second: the last one before the node goes idle closes the span.
    setInterval(() => {
      if (this.last !== null && this.last.retrieves === this.retrieves) return;
      this.last = {ticks: threadTicks(), elu: performance.eventLoopUtilization(), at: performance.now(), retrieves: this.retrieves};
    }, 1000).unref();
  }

  report(out: Record<string, unknown>): void {
    const {first, last} = this;
    if (first === null || last === null) return;
    const elu = performance.eventLoopUtilization(last.elu, first.elu);
    out.main_busy = {utilization: Math.round(elu.utilization * 1000) / 1000, span_s: Math.round(last.at - first.at) / 1000};
    out.retrieves = last.retrieves;
    const cpu = ticksBetween(first.ticks, last.ticks);
    out.threads_cpu_s = cpu;
    const perRetrieve: Record<string, number> = {};
    let total = 0;
    for (const [name, s] of Object.entries(cpu)) {
      perRetrieve[name] = Math.round((s * 1e6) / Math.max(1, last.retrieves)) / 1000;
      total += s;
    }
    perRetrieve.all = Math.round((total * 1e6) / Math.max(1, last.retrieves)) / 1000;
    out.threads_cpu_ms_per_retrieve = perRetrieve;
  }
}

/**
 * `m` null: a process that is not a node (the raw SQLite baseline), where only the HTTP marks, the
 * threads' CPU and GC are taken, a retrieve being a reply over 10 KB.
 */
function install(dir: string, m: NodeModules | null): void {
  const delay = monitorEventLoopDelay({resolution: 1});
  delay.enable();
  const span = new Span();
  // The main thread's GC pauses by kind, from the first retrieve on.
  const gc = new Map<string, {count: number; ms: number}>();
  new PerformanceObserver((list) => {
    if (span.retrieves === 0) return;
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as PerformanceEntry & {detail?: {kind?: number}}).detail?.kind ?? 0] ?? "other";
      const g = gc.get(kind) ?? {count: 0, ms: 0};
      g.count++;
      g.ms += e.duration;
      gc.set(kind, g);
    }
  }).observe({entryTypes: ["gc"]});

  patch(Server.prototype, "emit", (original) =>
    function emit(this: unknown, event: unknown, ...args: unknown[]): unknown {
      if (event === "request") {
        const req = args[0] as IncomingMessage & Stamped;
        const res = args[1] as ServerResponse & Stamped;
        if (req.method === "POST" && req.url === "/storage_rpc/v1") {
          const tr: Trace = {arrival: performance.now()};
          req[TRACE] = tr;
          res[TRACE] = tr;
          res.once("finish", () => {
            // Only retrieves: the prefill's stores come through the same route.
            const retrieve = m === null ? (tr.endLength ?? 0) > 10_000 : tr.readStart !== undefined;
            if (!retrieve) return;
            if (m === null) span.onRetrieve();
            finish(tr, performance.now());
          });
        }
      }
      return original.call(this, event, ...args);
    },
  );
  ending = trackEndingRequest((req) => {
    const tr = (req as Stamped)[TRACE];
    if (tr !== undefined) tr.bodyEnd = performance.now();
  });
  patch(ServerResponse.prototype, "end", (original) =>
    function end(this: unknown, ...args: unknown[]): unknown {
      const tr = (this as Stamped)[TRACE];
      if (tr === undefined) return original.apply(this, args);
      tr.endCall = performance.now();
      const body = args[0];
      if (typeof body === "string" || Buffer.isBuffer(body)) tr.endLength = body.length;
      try {
        return original.apply(this, args);
      } finally {
        tr.endReturn = performance.now();
      }
    },
  );
  if (m !== null) patchNode(m, span);

  process.on("exit", () => {
    const out: Record<string, unknown> = {pid: process.pid, process: m === null ? "baseline" : "node"};
    Object.assign(out, samples.summaries(3));
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    out.event_loop_delay = {p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean)};
    span.report(out);
    const n = Math.max(1, span.retrieves);
    out.gc = Object.fromEntries([...gc].map(([k, g]) => [k, {count: g.count, ms: Math.round(g.ms), per_retrieve_ms: Math.round((g.ms * 1000) / n) / 1000}]));
    writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(out, null, 1)}\n`);
  });
}

/** The node's own stages: dispatch, the verifier, the page read. */
function patchNode(m: NodeModules, span: Span): void {
  patch(m.RequestPipeline.prototype, "dispatch", (original) =>
    function dispatch(this: unknown, ...args: unknown[]): unknown {
      // fastify runs the route from the body's `end` when the body came in one chunk; otherwise
      // from a later callback: then the request is found by its body Buffer's owner, not at all here.
      const req = ending();
      const tr = req === null ? undefined : (req as Stamped)[TRACE];
      if (tr === undefined) return original.apply(this, args);
      tr.dispatch = performance.now();
      const outer = active;
      active = tr;
      try {
        return (original.apply(this, args) as Promise<unknown>).finally(() => (tr.dispatchEnd = performance.now()));
      } finally {
        active = outer;
      }
    },
  );
  for (const name of ["ed25519", "mlDsa65"]) {
    patch(m.WorkerSigner.prototype, name, (original) =>
      function verify(this: unknown, ...args: unknown[]): unknown {
        const tr = active;
        const p = original.apply(this, args) as Promise<boolean>;
        if (tr === null) return p;
        tr.verifyAsk = performance.now();
        return p.then((ok) => {
          tr.verified = performance.now();
          if (ok) verifiedQueue.push(tr);
          return ok;
        });
      },
    );
  }
  patch(m.WorkerSigner.prototype, "flushVerifications", (original) =>
    function flushVerifications(this: unknown): unknown {
      const n = (this as {queued: unknown[]}).queued.length;
      if (n === 0) return original.call(this);
      record("verify_batch", n);
      const verifying = (this as {verifying: Map<number, unknown>}).verifying;
      const before = new Set(verifying.keys());
      const t0 = performance.now();
      const result = original.call(this);
      for (const id of verifying.keys()) if (!before.has(id)) roundTrips.set(id, t0);
      return result;
    },
  );
  const roundTrips = new Map<number, number>();
  patch(m.WorkerSigner.prototype, "onReply", (original) =>
    function onReply(this: unknown, reply: unknown): unknown {
      const id = (reply as {id?: number}).id;
      const t0 = id === undefined ? undefined : roundTrips.get(id);
      if (t0 !== undefined && id !== undefined) {
        roundTrips.delete(id);
        record("verify_round_trip", performance.now() - t0);
      }
      return original.call(this, reply);
    },
  );
  patch(m.SqliteMessageStore.prototype, "retrieve", (original) =>
    function retrieve(this: unknown, ...args: unknown[]): unknown {
      const tr = active ?? verifiedQueue.shift() ?? null;
      span.onRetrieve();
      if (tr === null) return original.apply(this, args);
      tr.readStart = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        tr.readEnd = performance.now();
      }
    },
  );

}

const dir = process.env.BENCH_STAGE_DIR;
if (dir !== undefined && dir !== "") {
  const modules = await nodeModules();
  if (modules !== null || (process.argv[1] ?? "").endsWith("/bench/baseline-server.js")) install(dir, modules);
}
