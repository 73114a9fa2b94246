/**
 * `WorkerEngine`: the commitment engine on a worker thread (engine-worker.ts) with its own
 * read-only SQLite connection, so builds, refreshes and inclusion paths never block the event
 * loop, and the per-message commitment (~52 bytes a message) lives outside the main heap.
 *
 * If the worker dies, every pending call fails; the next call starts a new worker, whose first
 * refresh loads the persisted commitment (`persist`) or is a full build. One that ran out of heap is
 * replaced by one with twice the old generation's limit, so a refresh larger than the limit allows
 * is retried with room instead of failing the same way every epoch. The worker's young generation
 * is chosen by the node's size; a node that grows past the line (or falls well below it) moves to a
 * worker of the other size before a refresh, without a pause in its answers (`#resize`).
 */
import {existsSync} from "node:fs";
import type {Logger} from "../util/index.js";
import {CommitmentReader} from "../storage/commitment-reader.js";
import {fileURLToPath} from "node:url";
import {Worker} from "node:worker_threads";
import type {CommittedLeaf, LiveLeaf} from "./answerer.js";
import type {CommitmentEngine, CommitmentSummary, RefreshRequest} from "./engine.js";
import type {EngineReply, EngineRequest, EngineWorkerData, WorkerMemory} from "./engine-protocol.js";
import {ProofError} from "./errors.js";
import type {RefreshProgress} from "./refresh.js";

/**
 * The worker's young generation (V8's default lets it grow to 48 MB), chosen by the node's size
 * when a worker starts (`youngGenerationMb`). A build allocates rows that die within a page, so
 * small semi-spaces cost a few more scavenges and keep ~30 MB out of the resident set
 * (docs/PROTOCOL.md (Storage proofs) §11.2): 4 MB where memory is the constraint (the 1 M bench's
 * peak 306-310 → 294-297 MB, docs/benchmarks.md "Session 9: memory at 1 M"). A large node's
 * refreshes allocate more between scavenges than 4 MB holds, so more of it is copied and promoted:
 * at 10 M (memory target 1 GB, peak ~800 MB) a fixture run's worker scavenged 706-715 times (2.2-3.2 s
 * of GC pauses in all, at load 5-8) with 4 MB, 175-178 times (2.0 s) with 16 MB and 86-91 times
 * (1.0-1.1 s) with 32 MB (48 MB: as 32), its 100,000-change refresh's thread CPU 5.9-6.1, 6.2 and
 * 5.2 s, peak RSS ~20 MB higher (docs/benchmarks.md, "Session 10: churn at 10 M").
 */
const SMALL_YOUNG_GENERATION_MB = 4;
const LARGE_YOUNG_GENERATION_MB = 32;
/** Messages from which a node is large (its worker gets the larger young generation). */
const LARGE_NODE_MESSAGES = 2_000_000;
/** A large node's worker keeps its size until the node falls below this share of the line (no swaps back and forth). */
const LARGE_NODE_KEEP = 0.75;

/**
 * The young generation (MB) of a commitment worker for a node of `messages` messages, whose
 * current worker has `current` MB (none: a worker being started).
 */
export function youngGenerationMb(messages: number, current?: number, largeNodeMessages = LARGE_NODE_MESSAGES): number {
  if (messages >= largeNodeMessages) return LARGE_YOUNG_GENERATION_MB;
  if (current === LARGE_YOUNG_GENERATION_MB && messages >= LARGE_NODE_KEEP * largeNodeMessages) return LARGE_YOUNG_GENERATION_MB;
  return SMALL_YOUNG_GENERATION_MB;
}

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
  /** A fixed young generation (MB) instead of one chosen by the node's size (benchmarks' A/B). */
  readonly youngGenerationMb?: number;
  /** Where a node counts as large (LARGE_NODE_MESSAGES; tests use a small line). */
  readonly largeNodeMessages?: number;
}

type Call = EngineRequest extends infer R ? (R extends EngineRequest ? Omit<R, "id"> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** The worker the call went to. */
  worker: Worker;
}

/** A worker being started: `ready` once its connection is open. */
interface Started {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly youngMb: number;
}

export class WorkerEngine implements CommitmentEngine {
  readonly #data: EngineWorkerData;
  readonly #logger: Pick<Logger, "warn">;
  readonly #limits: WorkerEngineLimits;
  readonly #pending = new Map<number, Pending>();
  /** Workers started and not yet ready, with how to settle their `ready`. */
  readonly #starting = new Map<Worker, {resolve(): void; reject(err: Error): void}>();
  /** The worker calls go to (null: none running; the next call starts one). */
  #current: Started | null = null;
  #nextId = 1;
  #closed = false;
  #progress: RefreshProgress | null = null;
  #oldGenerationMb: number;
  /** Messages in the last commitment a refresh returned (null: none yet). */
  #messages: number | null = null;
  /** The timestamp last published (null: none since the current worker started). */
  #publishedAt: number | null = null;

  constructor(data: EngineWorkerData, logger: Pick<Logger, "warn">, limits: WorkerEngineLimits = {}) {
    this.#data = data;
    this.#logger = logger;
    this.#limits = limits;
    this.#oldGenerationMb = limits.oldGenerationMb ?? WORKER_OLD_GENERATION_MB;
  }

  async refresh(req: RefreshRequest): Promise<CommitmentSummary | null> {
    await this.#resize();
    const s = (await this.#call({op: "refresh", req}).finally(() => (this.#progress = null))) as CommitmentSummary | null;
    if (s !== null) this.#messages = s.messageCount;
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
    this.#publishedAt = timestamp;
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
    const worker = this.#current?.worker;
    if (worker === undefined) return;
    await this.#send(worker, {op: "close"}).catch(() => undefined);
    await worker.terminate();
  }

  async #call(call: Call): Promise<unknown> {
    if (this.#closed) throw new Error("the commitment engine is closed");
    const current = this.#current ?? this.#spawn();
    await current.ready;
    if (this.#current !== current) throw new Error("the commitment worker stopped");
    return this.#send(current.worker, call);
  }

  #send(worker: Worker, call: Call): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, {resolve, reject, worker});
      // Referenced while a reply is awaited, so a process shutting down waits for it.
      worker.ref();
      worker.postMessage({...call, id});
    });
  }

  #spawn(): Started {
    // The database is opened for its message count only when the size is not fixed.
    const youngMb = this.#limits.youngGenerationMb ?? youngGenerationMb(CommitmentReader.storedMessages(this.#data.path, this.#data.busyTimeoutMs), undefined, this.#limits.largeNodeMessages);
    this.#current = this.#start(youngMb);
    this.#publishedAt = null;
    return this.#current;
  }

  /** A new worker with a young generation of `youngMb` (not made the current one). */
  #start(youngMb: number): Started {
    const worker = new Worker(workerUrl(), {workerData: this.#data, resourceLimits: {maxYoungGenerationSizeMb: youngMb, maxOldGenerationSizeMb: this.#oldGenerationMb}});
    const ready = new Promise<void>((resolve, reject) => this.#starting.set(worker, {resolve, reject}));
    // Settled through #call or #resize; a worker that never starts must not be an unhandled rejection.
    ready.catch(() => undefined);
    worker.on("message", (m: EngineReply) => this.#onReply(worker, m));
    worker.on("error", (err) => this.#onDeath(worker, err));
    worker.on("exit", (code) => this.#onDeath(worker, new Error(`the commitment worker exited (code ${code})`)));
    return {worker, ready, youngMb};
  }

  /**
   * Before a refresh: if the node's size (the last commitment's messages) now wants another young
   * generation than the running worker's, a worker of that size takes over. The old one's last write
   * is waited for, the new one loads it as its published commitment (LocalEngine.adopt) while the
   * old one still answers, and only then is the old one closed: no answer waits or fails for the
   * swap. Persisting engines only (another would rebuild in full); if the persisted commitment is
   * not the published one (its write failed), the old worker stays and the next refresh tries again.
   */
  async #resize(): Promise<void> {
    const old = this.#current;
    const publishedAt = this.#publishedAt;
    if (old === null || publishedAt === null || this.#messages === null || !this.persistent || this.#limits.youngGenerationMb !== undefined) return;
    const youngMb = youngGenerationMb(this.#messages, old.youngMb, this.#limits.largeNodeMessages);
    if (youngMb === old.youngMb) return;
    let next: Started | null = null;
    try {
      await old.ready;
      if ((await this.#send(old.worker, {op: "flush"})) !== true) return;
      next = this.#start(youngMb);
      await next.ready;
      if (this.#closed || this.#current !== old) throw new Error("the engine moved on meanwhile");
      if ((await this.#send(next.worker, {op: "adopt", timestamp: publishedAt})) !== true) throw new Error("the persisted commitment is not the published one");
    } catch (err) {
      if (next !== null) void next.worker.terminate();
      if (!this.#closed) this.#logger.warn({err: err instanceof Error ? err.message : String(err), youngGenerationMb: youngMb}, "could not move the commitment to a worker sized for the node; the next refresh tries again");
      return;
    }
    this.#current = next;
    this.#send(old.worker, {op: "close"})
      .catch(() => undefined)
      .finally(() => void old.worker.terminate());
  }

  #onReply(worker: Worker, m: EngineReply): void {
    if (m.id === 0) {
      this.#starting.get(worker)?.resolve();
      this.#starting.delete(worker);
      return;
    }
    if (m.id === -1) {
      if (m.ok && worker === this.#current?.worker) this.#progress = m.value as RefreshProgress;
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
    if (![...this.#pending.values()].some((q) => q.worker === worker)) worker.unref();
    if (m.ok) p.resolve(m.value);
    else p.reject(m.notReady === true ? new ProofError({code: "PROOF_ERROR_NOT_READY"}, m.error) : new Error(`commitment worker: ${m.error}`));
  }

  #onDeath(worker: Worker, err: Error): void {
    this.#starting.get(worker)?.reject(err);
    this.#starting.delete(worker);
    const pending = [...this.#pending].filter(([, p]) => p.worker === worker);
    for (const [id] of pending) this.#pending.delete(id);
    if (this.#current?.worker === worker) {
      this.#current = null;
      if ((err as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY" && this.#oldGenerationMb < WORKER_OLD_GENERATION_MAX_MB) {
        this.#oldGenerationMb = Math.min(2 * this.#oldGenerationMb, WORKER_OLD_GENERATION_MAX_MB);
        if (!this.#closed) this.#logger.warn({heapLimitMb: this.#oldGenerationMb}, "commitment worker ran out of heap; the next one gets twice the limit");
      }
      if (!this.#closed) this.#logger.warn({err: err.message}, "commitment worker stopped; the next refresh starts from the persisted commitment, or rebuilds in full");
    }
    for (const [, p] of pending) p.reject(err);
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
