/**
 * Where a single node's store waits: the sibling of stage-trace.ts for `node-store`. Loaded into the
 * node with `BENCH_NODE_ARGS="--import <dist>/bench/store-trace.js"` and `BENCH_STAGE_DIR=<dir>`, it
 * times each store request through the public (and, in JavaScript, reachable private) methods of
 * the node's own modules and writes `<dir>/<pid>.json` at exit (count, p50, p90, p99, max, mean in
 * ms; batch sizes as counts). Stages of one store, in order:
 *
 * - `arrival_to_dispatch`: from the HTTP `request` event to the pipeline's dispatch (headers, body
 *   read, fastify routing and hooks; also any wait for the event loop);
 * - `validate`: dispatch to the store call (JSON parse, field checks, base64, BLAKE2b);
 * - `commit_wait`: store call to the start of the group commit that ran it (the setImmediate);
 * - `commit`: that group commit's start to the store's promise settling (its savepoints, the
 *   other writes of the batch, COMMIT, the commit listeners);
 * - `to_sign`: store settled to the receipt handed to the ResponseSigner (fee quote, receipt);
 * - `sign_wait`: receipt handed over to the start of the batch that signs it (the batch window and
 *   the signature in flight before it);
 * - `signing`: that batch's tree and signature, to the receipt's promise (the round trip to the
 *   signing worker), and `worker_sign`, the worker round trip alone;
 * - `answer`: signed receipt to the end of dispatch (the response body);
 * - `reply`: end of dispatch to the response's `finish` (fastify's reply path, the write).
 *
 * Per batch: `commit_batch` (writes per group commit), `commit_run` (the flush's own time),
 * `sign_batch` (receipts per signature). Per process: `event_loop_delay` (monitorEventLoopDelay,
 * resolution 1 ms) and `main_busy` (event-loop utilisation over the stores' span).
 *
 * The node's modules are loaded from the dist/ of the script being run (`<dist>/src/cli/bin.js`), so
 * a `-base` scenario's node (BENCH_BASE_DIST) is traced through its own build; processes that are
 * not a node CLI (the baselines) are left alone.
 *
 * Receipts are matched to their stores by the message hash that starts them; a store that fails
 * before signing leaves its trace unfinished (not counted). Measurement only.
 */
import {writeFileSync} from "node:fs";
import {IncomingMessage, Server} from "node:http";
import {join} from "node:path";
import {monitorEventLoopDelay, performance} from "node:perf_hooks";
import type {ResponseSigner} from "../src/receipts/index.js";
import type {RequestPipeline} from "../src/rpc/index.js";
import type {WorkerSigner} from "../src/signer/index.js";
import type {SqliteMessageStore} from "../src/storage/index.js";
import type {WriteBatcher} from "../src/storage/write-batcher.js";
import {importTracedBuild, patch, StageSamples, trackEndingRequest} from "./trace-common.js";

const samples = new StageSamples();
const record = (stage: string, value: number): void => samples.record(stage, value);

interface Trace {
  arrival?: number;
  dispatch: number;
  store?: number;
  flushStart?: number;
  committed?: number;
  signCall?: number;
  batchStart?: number;
  signed?: number;
  end?: number;
}


/** The trace of the dispatch running synchronously right now (the store call happens inside it). */
let active: Trace | null = null;
/** The IncomingMessage whose `end` is being emitted (trackEndingRequest, set by install). */
let ending: () => IncomingMessage | null = () => null;
/** The start of the group commit running now. */
let flushStart = 0;
const byHash = new Map<string, Trace>();
/** Receipts handed to the signer, in order: a batch takes the oldest n (pending.splice(0, n)). */
const signQueue: Array<Trace | null> = [];
const ARRIVAL = Symbol("arrival");
const TRACE = Symbol("trace");
type Stamped = IncomingMessage & {[ARRIVAL]?: number; [TRACE]?: Trace};
let firstStore = 0;
let lastStore = 0;
let eluAtFirst: ReturnType<typeof performance.eventLoopUtilization> | null = null;
let eluAtLast: ReturnType<typeof performance.eventLoopUtilization> | null = null;

function finish(tr: Trace): void {
  const {arrival, dispatch, store, flushStart: fs, committed, signCall, batchStart, signed, end} = tr;
  if (store === undefined || fs === undefined || committed === undefined || signCall === undefined) return;
  if (batchStart === undefined || signed === undefined || end === undefined) return;
  if (arrival !== undefined) record("arrival_to_dispatch", dispatch - arrival);
  record("validate", store - dispatch);
  record("commit_wait", fs - store);
  record("commit", committed - fs);
  record("to_sign", signCall - committed);
  record("sign_wait", batchStart - signCall);
  record("signing", signed - batchStart);
  record("answer", end - signed);
  record("dispatch_total", end - dispatch);
}

interface NodeModules {
  ResponseSigner: typeof ResponseSigner;
  RequestPipeline: typeof RequestPipeline;
  WorkerSigner: typeof WorkerSigner;
  SqliteMessageStore: typeof SqliteMessageStore;
  WriteBatcher: typeof WriteBatcher;
}

/** The modules of the build whose CLI this process runs, or null for another script. */
async function nodeModules(): Promise<NodeModules | null> {
  const loaded = await importTracedBuild(["receipts/index.js", "rpc/index.js", "signer/index.js", "storage/index.js", "storage/write-batcher.js"]);
  if (loaded === null) return null;
  const [receipts, rpc, signer, storage, batcher] = loaded as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  return {
    ResponseSigner: receipts.ResponseSigner as typeof ResponseSigner,
    RequestPipeline: rpc.RequestPipeline as typeof RequestPipeline,
    WorkerSigner: signer.WorkerSigner as typeof WorkerSigner,
    SqliteMessageStore: storage.SqliteMessageStore as typeof SqliteMessageStore,
    WriteBatcher: batcher.WriteBatcher as typeof WriteBatcher,
  };
}

function install(dir: string, m: NodeModules): void {
  const {ResponseSigner, RequestPipeline, WorkerSigner, SqliteMessageStore, WriteBatcher} = m;
  const delay = monitorEventLoopDelay({resolution: 1});
  delay.enable();

  patch(Server.prototype, "emit", (original) =>
    function emit(this: unknown, event: unknown, ...args: unknown[]): unknown {
      if (event === "request") {
        const req = args[0] as Stamped;
        req[ARRIVAL] = performance.now();
        const res = args[1] as NodeJS.EventEmitter;
        res.once("finish", () => {
          const tr = req[TRACE];
          if (tr?.end !== undefined) record("reply", performance.now() - tr.end);
          if (tr !== undefined && req[ARRIVAL] !== undefined) record("http_total", performance.now() - req[ARRIVAL]);
        });
      }
      return original.call(this, event, ...args);
    },
  );
  ending = trackEndingRequest();
  patch(RequestPipeline.prototype, "dispatch", (original) =>
    function dispatch(this: unknown, ...args: unknown[]): unknown {
      const tr: Trace = {dispatch: performance.now()};
      const req = ending() as Stamped | null;
      if (req !== null) {
        tr.arrival = req[ARRIVAL];
        req[TRACE] = tr;
      }
      const outer = active;
      active = tr;
      try {
        const p = original.apply(this, args) as Promise<unknown>;
        return p.finally(() => {
          tr.end = performance.now();
          finish(tr);
        });
      } finally {
        active = outer;
      }
    },
  );
  patch(SqliteMessageStore.prototype, "store", (original) =>
    function store(this: unknown, ...args: unknown[]): unknown {
      const tr = active;
      if (tr === null) return original.apply(this, args);
      tr.store = performance.now();
      if (firstStore === 0) {
        firstStore = tr.store;
        eluAtFirst = performance.eventLoopUtilization();
      }
      byHash.set((args[0] as {hash: string}).hash, tr);
      return (original.apply(this, args) as Promise<unknown>).finally(() => {
        tr.committed = performance.now();
        lastStore = tr.committed;
        eluAtLast = performance.eventLoopUtilization();
      });
    },
  );
  patch(WriteBatcher.prototype, "enqueue", (original) =>
    function enqueue(this: unknown, run: unknown): unknown {
      const tr = active;
      if (tr === null) return original.call(this, run);
      const inner = run as () => unknown;
      return original.call(this, () => {
        tr.flushStart = flushStart;
        return inner();
      });
    },
  );
  patch(WriteBatcher.prototype, "flush", (original) =>
    function flush(this: unknown): unknown {
      const n = (this as InstanceType<typeof WriteBatcher>).pending;
      flushStart = performance.now();
      try {
        return original.call(this);
      } finally {
        if (n > 0) {
          record("commit_batch", n);
          record("commit_run", performance.now() - flushStart);
        }
      }
    },
  );
  patch(ResponseSigner.prototype, "sign", (original) =>
    function sign(this: unknown, receipt: unknown): unknown {
      const bytes = receipt as Buffer;
      const space = bytes.indexOf(0x20);
      const tr = byHash.get(bytes.toString("latin1", 0, space < 0 ? 0 : space)) ?? null;
      if (tr !== null) {
        byHash.delete(bytes.toString("latin1", 0, space));
        tr.signCall = performance.now();
      }
      signQueue.push(tr);
      return (original.call(this, receipt) as Promise<unknown>).finally(() => {
        if (tr !== null) tr.signed = performance.now();
      });
    },
  );
  patch(ResponseSigner.prototype, "signBatch", (original) =>
    function signBatch(this: unknown, batch: unknown): unknown {
      const now = performance.now();
      const n = (batch as unknown[]).length;
      record("sign_batch", n);
      for (const tr of signQueue.splice(0, n)) if (tr !== null) tr.batchStart = now;
      return original.call(this, batch);
    },
  );
  patch(WorkerSigner.prototype, "sign", (original) =>
    function sign(this: unknown, ...args: unknown[]): unknown {
      const t0 = performance.now();
      return (original.apply(this, args) as Promise<unknown>).finally(() => record("worker_sign", performance.now() - t0));
    },
  );

  process.on("exit", () => {
    const out: Record<string, unknown> = {pid: process.pid};
    Object.assign(out, samples.summaries(2));
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    out.event_loop_delay = {p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean)};
    if (eluAtFirst !== null && eluAtLast !== null) {
      const elu = performance.eventLoopUtilization(eluAtLast, eluAtFirst);
      out.main_busy = {utilization: Math.round(elu.utilization * 1000) / 1000, span_s: Math.round(lastStore - firstStore) / 1000};
    }
    writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(out, null, 1)}\n`);
  });
}

const dir = process.env.BENCH_STAGE_DIR;
if (dir !== undefined && dir !== "") {
  const modules = await nodeModules();
  if (modules !== null) install(dir, modules);
}
