/**
 * The commitment worker (engine-host.ts starts it): a LocalEngine over its own read-only
 * connection. Requests are served in arrival order, and between the slices of a refresh, so an
 * answer's inclusion path never waits for a whole rebuild. Inclusion requests are also taken off
 * the port after every step of a refresh (`poll`) and answered at once: an answer then waits for
 * one step (a few ms), not for the rest of a 10 ms slice.
 */
import {getHeapStatistics} from "node:v8";
import {parentPort, receiveMessageOnPort, resourceLimits, workerData, type MessagePort} from "node:worker_threads";
import {CommitmentReader} from "../storage/commitment-reader.js";
import {CommitmentStore} from "../storage/commitment-store.js";
import {loadGc} from "../util/gc.js";
import {LocalEngine} from "./engine.js";
import {ProofError} from "./errors.js";
import type {EngineReply, EngineRequest, EngineWorkerData, WorkerMemory} from "./engine-protocol.js";

const data = workerData as EngineWorkerData;
if (parentPort === null) throw new Error("engine-worker.js runs as a worker thread");
const port: MessagePort = parentPort;

/** Least time between two progress reports (a slice ends every sliceBudgetMs). */
const PROGRESS_EVERY_MS = 500;

/**
 * A full build while no commitment is published runs a major GC after every eighth of the buckets
 * and once it is done. The rows it reads outlive the worker's 8 MB young generation and stayed as
 * old-generation garbage until V8 chose to collect: at 1 M the worker's heap held 111 MB after a
 * build against 31 MB live, and the process peaked at 354–383 MB against ~250 live
 * (docs/benchmarks.md, "Session 7: memory"). With nothing published no answer waits for the
 * pause (a find gets "not ready" either way); a rebuild beside a published commitment, whose
 * answers would wait, collects as V8 decides.
 */
const BUILD_COLLECTIONS = 8;
/**
 * Once such a build has collected, it also collects after any step that finds the heap grown by
 * this much since: writing its records to the database comes after the last eighth.
 */
const BUILD_HEAP_GROWTH_BYTES = 32 * 1024 * 1024;
let heapAfterGc = 0;
/** Collections made so far in the running refresh's full build. */
let buildCollections = 0;
/** V8's major GC, loaded on first use (null: V8 refused). */
let gc: (() => void) | null | undefined;
/** Major GCs run here, and how long the last one took. */
let gcs = 0;
let lastGcMs = 0;

const reader = CommitmentReader.openReadOnly(data.path, data.busyTimeoutMs);
// The persisted commitment is written on a connection of its own: the reader stays read-only.
const store = data.persist === true ? CommitmentStore.open(data.path, data.busyTimeoutMs) : undefined;
let reportedAt = Number.NEGATIVE_INFINITY;
const engine = new LocalEngine(reader, {
  sliceBudgetMs: data.sliceBudgetMs,
  store,
  poll,
  // A full write let go of every record (~66 MB at 1 M messages, in 64 KB chunks V8 frees only
  // with a major GC): collected at once, as the build's own garbage is, rather than left to stand
  // beside the next refreshes (the 1 M bench's peak rose from 267 to 338 MB). Full writes are
  // rare (a first start, a change-log overflow); a refresh's few records are left to V8.
  onRecordsReleased: (bytes, full) => {
    if (full && bytes >= BUILD_HEAP_GROWTH_BYTES) collect();
  },
  onPersistError: (err) => port.postMessage({id: -2, ok: false, error: err instanceof Error ? err.message : String(err)} satisfies EngineReply),
  onProgress: (p) => {
    if (p.full && p.phase === "read" && p.total > 0 && engine.published === null) {
      const due = Math.floor((p.done / p.total) * BUILD_COLLECTIONS);
      if (due > buildCollections) {
        buildCollections = due;
        collect();
      }
    }
    if (p.elapsedMs - reportedAt < PROGRESS_EVERY_MS && p.elapsedMs >= reportedAt) return;
    reportedAt = p.elapsedMs;
    port.postMessage({id: -1, ok: true, value: p} satisfies EngineReply);
  },
});

const u8 = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

async function serve(r: EngineRequest): Promise<unknown> {
  switch (r.op) {
    case "refresh": {
      buildCollections = 0;
      const summary = await engine.refresh(r.req);
      // Page caches by the node's size (~1.6 B a message, 2-16 MB: storage/commitment-store.ts).
      if (summary !== null) {
        reader.sizePageCache(summary.messageCount);
        store?.sizePageCache(summary.messageCount);
      }
      // Before the reply: nothing published waits for it (the refresh takes that much longer).
      if (buildCollections > 0 && engine.published === null) collect();
      return summary;
    }
    case "publish":
      return engine.publish(r.timestamp);
    case "find":
      return engine.find(r.timestamp, r.messageHash, {...r.live, dataDigest: u8(r.live.dataDigest)});
    case "memory":
      return memory(r.gc);
    case "flush":
      return engine.flushed();
    case "adopt":
      return engine.adopt(r.timestamp);
    case "close":
      await engine.close();
      reader.close();
      store?.close();
      return null;
  }
}

/** A major GC now, timed (finds queue behind it). */
function collect(): void {
  gc ??= loadGc();
  if (gc === null) return;
  const started = performance.now();
  gc();
  lastGcMs = performance.now() - started;
  gcs++;
  heapAfterGc = getHeapStatistics().used_heap_size;
}

function memory(collectFirst: boolean): WorkerMemory {
  if (collectFirst) collect();
  const {heapUsed, heapTotal, external, arrayBuffers} = process.memoryUsage();
  return {heapUsed, heapTotal, external, arrayBuffers, heapLimit: getHeapStatistics().heap_size_limit, youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb ?? 0, collected: collectFirst && typeof gc === "function", gcs, lastGcMs};
}

const failure = (id: number, err: unknown): EngineReply => ({
  id,
  ok: false,
  error: err instanceof Error ? err.message : String(err),
  ...(err instanceof ProofError && err.code === "PROOF_ERROR_NOT_READY" ? {notReady: true} : {}),
});

function handle(r: EngineRequest): void {
  serve(r).then(
    (value) => port.postMessage({id: r.id, ok: true, value} satisfies EngineReply),
    (err: unknown) => port.postMessage(failure(r.id, err)),
  );
}

/** Answers the finds waiting on the port now; anything else runs after the current slice. */
function poll(): void {
  if (buildCollections > 0 && engine.published === null && getHeapStatistics().used_heap_size - heapAfterGc >= BUILD_HEAP_GROWTH_BYTES) collect();
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const r = m.message as EngineRequest;
    if (r.op !== "find") {
      setImmediate(() => handle(r));
      continue;
    }
    try {
      const value = engine.findNow(r.timestamp, r.messageHash, {...r.live, dataDigest: u8(r.live.dataDigest)});
      port.postMessage({id: r.id, ok: true, value} satisfies EngineReply);
    } catch (err) {
      port.postMessage(failure(r.id, err));
    }
  }
}

port.on("message", handle);
port.postMessage({id: 0, ok: true, value: "ready"} satisfies EngineReply);
