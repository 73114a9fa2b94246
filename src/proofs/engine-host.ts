/**
 * `WorkerEngine`: the commitment engine on a worker thread (engine-worker.ts) with its own
 * read-only SQLite connection, so builds, refreshes and inclusion paths never block the event
 * loop, and the per-message commitment (~52 bytes a message) lives outside the main heap.
 *
 * If the worker dies, every pending call fails; the next call starts a new worker, whose first
 * refresh loads the persisted commitment (`persist`) or is a full build. One that ran out of heap is
 * replaced by one with twice the old generation's limit, so a refresh larger than the limit allows
 * is retried with room instead of failing the same way every epoch.
 */
import {existsSync} from "node:fs";
import type {Logger} from "../util/index.js";
import {fileURLToPath} from "node:url";
import {Worker} from "node:worker_threads";
import type {CommittedLeaf, LiveLeaf} from "./answerer.js";
import type {CommitmentEngine, CommitmentSummary, RefreshRequest} from "./engine.js";
import type {EngineReply, EngineRequest, EngineWorkerData, WorkerMemory} from "./engine-protocol.js";
import {ProofError} from "./errors.js";
import type {RefreshProgress} from "./refresh.js";

/**
 * The worker's young generation (V8's default lets it grow to 48 MB). A build allocates rows that
 * die within a page, so small semi-spaces cost a few more scavenges and keep ~30 MB out of the
 * resident set (docs/PROTOCOL.md (Storage proofs) §11.2). 4 MB rather than 8 since the old
 * generation's limit below: the 1 M bench's peak 306-310 → 294-297 MB, build and answers no slower
 * (docs/benchmarks.md, "Session 9: memory at 1 M").
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/**
 * The worker's old generation limit. V8 lets a heap grow to up to 4× what survived its last major
 * GC before the next one when the limit is 2 GB or more (the default here), and only ~1.4× with
 * 512 MB: at 1 M messages the worker's heap (~45 MB live: the bucket heads) rose to ~145 MB of
 * refresh garbage before V8 collected, which set the process's peak (docs/benchmarks.md,
 * "Session 9: memory at 1 M"). The records are outside it (array buffers): a refresh after
 * 100,000 changes at 10 M keeps its heap under a third of this. It bounds how the heap grows, not
 * what a refresh may use: a worker that runs out is replaced by one with twice the limit, up to
 * WORKER_OLD_GENERATION_MAX_MB.
 */
const WORKER_OLD_GENERATION_MB = 512;
const WORKER_OLD_GENERATION_MAX_MB = 8192;

/** Host-side settings of the worker (tests set a small heap to make it run out). */
export interface WorkerEngineLimits {
  /** The old generation's first limit, in MB (default WORKER_OLD_GENERATION_MB). */
  readonly oldGenerationMb?: number;
}

type Call = EngineRequest extends infer R ? (R extends EngineRequest ? Omit<R, "id"> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class WorkerEngine implements CommitmentEngine {
  readonly #data: EngineWorkerData;
  readonly #logger: Pick<Logger, "warn">;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #ready: Promise<void> | null = null;
  #nextId = 1;
  #closed = false;
  #progress: RefreshProgress | null = null;
  #oldGenerationMb: number;

  constructor(data: EngineWorkerData, logger: Pick<Logger, "warn">, limits: WorkerEngineLimits = {}) {
    this.#data = data;
    this.#logger = logger;
    this.#oldGenerationMb = limits.oldGenerationMb ?? WORKER_OLD_GENERATION_MB;
  }

  async refresh(req: RefreshRequest): Promise<CommitmentSummary | null> {
    const s = (await this.#call({op: "refresh", req}).finally(() => (this.#progress = null))) as CommitmentSummary | null;
    return s === null ? null : {...s, root: Buffer.from(s.root)};
  }

  get persistent(): boolean {
    return this.#data.persist === true;
  }

  /** The last progress the worker reported for the running refresh. */
  progress(): RefreshProgress | null {
    return this.#progress;
  }

  async publish(timestamp: number): Promise<void> {
    await this.#call({op: "publish", timestamp});
  }

  async find(timestamp: number, messageHash: string, live: LiveLeaf): Promise<CommittedLeaf | null> {
    const f = (await this.#call({op: "find", timestamp, messageHash, live})) as CommittedLeaf | null;
    if (f === null) return null;
    // Structured clone turns Buffers into plain Uint8Arrays: give callers Buffers again.
    const {leaf, inclusion} = f;
    const bucketPath = inclusion.bucketPath.map(toBuffer);
    return {leaf: {...leaf, dataDigest: toBuffer(leaf.dataDigest)}, inclusion: {...inclusion, bucketPath, topPath: inclusion.topPath.map(toBuffer)}};
  }

  /** The worker isolate's memory, after a major GC if asked and the process exposes one. */
  async memory(gc = false): Promise<WorkerMemory> {
    return (await this.#call({op: "memory", gc})) as WorkerMemory;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (worker === null) return;
    await this.#send(worker, {op: "close"}).catch(() => undefined);
    await worker.terminate();
  }

  async #call(call: Call): Promise<unknown> {
    if (this.#closed) throw new Error("the commitment engine is closed");
    const worker = this.#worker ?? this.#spawn();
    await this.#ready;
    if (this.#worker !== worker) throw new Error("the commitment worker stopped");
    return this.#send(worker, call);
  }

  #send(worker: Worker, call: Call): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, {resolve, reject});
      // Referenced while a reply is awaited, so a process shutting down waits for it.
      worker.ref();
      worker.postMessage({...call, id});
    });
  }

  #spawn(): Worker {
    const worker = new Worker(workerUrl(), {workerData: this.#data, resourceLimits: {maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: this.#oldGenerationMb}});
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => this.#pending.set(0, {resolve: () => resolve(), reject}));
    worker.on("message", (m: EngineReply) => this.#onReply(m));
    worker.on("error", (err) => this.#onDeath(worker, err));
    worker.on("exit", (code) => this.#onDeath(worker, new Error(`the commitment worker exited (code ${code})`)));
    return worker;
  }

  #onReply(m: EngineReply): void {
    if (m.id === -1) {
      if (m.ok) this.#progress = m.value as RefreshProgress;
      return;
    }
    if (m.id === -2) {
      if (!m.ok) this.#logger.warn({err: m.error}, "could not persist the storage-proof commitment; a restart rebuilds more");
      return;
    }
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    // Idle, it must not keep the process alive (the HTTP server does while the node runs).
    if (this.#pending.size === 0) this.#worker?.unref();
    if (m.ok) p.resolve(m.value);
    else p.reject(m.notReady === true ? new ProofError({code: "PROOF_ERROR_NOT_READY"}, m.error) : new Error(`commitment worker: ${m.error}`));
  }

  #onDeath(worker: Worker, err: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    if ((err as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY" && this.#oldGenerationMb < WORKER_OLD_GENERATION_MAX_MB) {
      this.#oldGenerationMb = Math.min(2 * this.#oldGenerationMb, WORKER_OLD_GENERATION_MAX_MB);
      if (!this.#closed) this.#logger.warn({heapLimitMb: this.#oldGenerationMb}, "commitment worker ran out of heap; the next one gets twice the limit");
    }
    if (!this.#closed) this.#logger.warn({err: err.message}, "commitment worker stopped; the next refresh starts from the persisted commitment, or rebuilds in full");
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * The compiled worker module beside this one. Under the test runner this file is the TypeScript
 * source, and the worker runs the build in dist/ instead (`npm test` builds first).
 */
export function workerUrl(): URL {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith(".ts")) return new URL("./engine-worker.js", here);
  const built = new URL(here.href.replace(/\/src\/proofs\/engine-host\.ts$/, "/dist/src/proofs/engine-worker.js"));
  if (!existsSync(fileURLToPath(built))) throw new Error(`${fileURLToPath(built)} is missing: run npm run build`);
  return built;
}
