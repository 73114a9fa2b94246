import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {Worker} from "node:worker_threads";
import {runSoon, type Clock} from "../util/index.js";
import type {StorageDbOptions} from "./db.js";
import {StorageError} from "./errors.js";
import type {StoredMessage} from "./interface.js";
import type {OwnerSweep, SweepBatches} from "./ttl-sweeper.js";
import type {WriteBatcherStats, WriteOutcome} from "./write-batcher.js";
import {fromWireError, postableOp, type WireError, type WriteOp} from "./write-ops.js";

/** What the writer thread is started with (its workerData). */
export interface WriterThreadData {
  db: StorageDbOptions;
  mailboxMaxMessages: number;
  maxBatchWrites: number;
  /** The main thread's wait for more writes before it posts a batch (WriteBatcherOptions.delayMs); the worker ignores it. */
  delayMs?: number;
}

export type ToWorker =
  | {type: "batch"; id: number; now: number; ops: WriteOp[]}
  | {type: "sweep"; id: number; kind: "expired" | "owners"; cutoff: number; limit: number}
  | {type: "crash"}
  | {type: "close"};

export type BatchResult = {ok: true; outcome: WriteOutcome<unknown>} | {ok: false; error: WireError};

export type FromWorker =
  | {type: "ready"}
  | {type: "fatal"; error: WireError}
  | {type: "batch"; id: number; results: BatchResult[]; commits: number[]}
  | {type: "sweep"; id: number; ok: true; value: unknown}
  | {type: "sweep"; id: number; ok: false; error: WireError}
  | {type: "closed"};

export interface ThreadWriterModules {
  clock: Clock;
  /** Turns what a write threw (rebuilt from the worker's report) into the error its promise rejects with. */
  mapError: (err: unknown) => Error;
  /** Once per answered batch, with the outcomes of its committed writes in order, before they resolve. */
  onCommit: (outcomes: Array<WriteOutcome<unknown>>, commits: number[]) => void;
  /** After each answered batch, with the bytes the stores in it had reserved (see enqueue). */
  onFlushed: (bytes: number) => void;
  /** The thread died: every write in flight or queued has been rejected, and later ones will be. */
  onFailed: (err: StorageError) => void;
}

/** Batches posted and not yet answered; writes queued meanwhile go in the next one. */
const MAX_BATCHES_IN_FLIGHT = 1;

interface Queued {
  op: WriteOp;
  bytes: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * The main thread's side of the storage writer thread: the write connection lives in a worker
 * (writer-worker.ts), which runs the group commit. Writes queued during one event-loop turn go to
 * it in ONE postMessage (at most `maxBatchWrites`), or, while the previous batch is still in
 * flight, when its answer arrives; each promise settles when the worker's answer says its
 * transaction committed (or failed), so a receipt still means COMMIT. The worker runs each batch
 * as the inline mode's flush.
 *
 * If the thread dies (a native fault, out of memory), the writes in flight reject (their outcome
 * is unknown: the COMMIT may have happened), and so do queued and later writes: the store stays
 * readable but refuses writes until the process restarts; `onFailed` says so once.
 */
export class ThreadWriter implements SweepBatches {
  readonly #modules: ThreadWriterModules;
  readonly #maxBatchWrites: number;
  readonly #delayMs: number;
  readonly #worker: Worker;
  readonly #inFlight = new Map<number, {writes: Queued[]; bytes: number}>();
  readonly #sweeps = new Map<number, Waiting>();
  readonly #stats: WriteBatcherStats = {commits: 0, committedWrites: 0, failedWrites: 0, maxWritesPerCommit: 0};
  #queue: Queued[] = [];
  /** Cancels the scheduled post (null: none scheduled). */
  #scheduled: (() => void) | null = null;
  #nextId = 1;
  #failed: StorageError | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;
  #whenIdle: (() => void) | null = null;
  #exited: Promise<void>;

  private constructor(worker: Worker, maxBatchWrites: number, delayMs: number, modules: ThreadWriterModules) {
    this.#worker = worker;
    this.#maxBatchWrites = maxBatchWrites;
    this.#delayMs = delayMs;
    this.#modules = modules;
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (m: FromWorker) => this.#onMessage(m));
    worker.on("error", (err) => this.#fail(`the storage writer thread failed: ${err.message}`));
    worker.on("exit", (code) => this.#fail(`the storage writer thread exited (code ${code})`));
    // Idle, it must not keep the process alive; it is referenced while an answer is awaited.
    worker.unref();
  }

  /** Starts the thread on an existing, migrated database file; resolves once it has opened it. */
  static start(data: WriterThreadData, modules: ThreadWriterModules): Promise<ThreadWriter> {
    const worker = new Worker(writerWorkerUrl(), {workerData: data});
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the storage writer thread exited at start (code ${code})`));
      worker.once("error", reject);
      worker.once("exit", onExit);
      worker.once("message", (m: FromWorker) => {
        worker.off("error", reject);
        worker.off("exit", onExit);
        if (m.type === "ready") resolve(new ThreadWriter(worker, data.maxBatchWrites, data.delayMs ?? 0, modules));
        else {
          void worker.terminate();
          reject(m.type === "fatal" ? fromWireError(m.error) : new Error(`unexpected first message from the storage writer thread: ${m.type}`));
        }
      });
    });
  }

  /** Queues a write; `bytes` are the message bytes it reserved, handed back to onFlushed once answered. */
  enqueue(op: WriteOp, bytes = 0): Promise<unknown> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({op, bytes, resolve, reject});
      if (this.#queue.length >= this.#maxBatchWrites) this.#post();
      else this.#scheduled ??= runSoon(() => this.#post(), this.#delayMs);
    });
  }

  get pending(): number {
    return this.#queue.length + [...this.#inFlight.values()].reduce((sum, b) => sum + b.writes.length, 0);
  }

  stats(): WriteBatcherStats {
    return {...this.#stats};
  }

  expired(cutoff: number, limit: number): Promise<string[]> {
    return this.#sweep("expired", cutoff, limit) as Promise<string[]>;
  }

  owners(limit: number): Promise<OwnerSweep> {
    return this.#sweep("owners", 0, limit) as Promise<OwnerSweep>;
  }

  /** Tests only: the thread exits at once, as a crash would, leaving what it holds unanswered. */
  crashForTest(): void {
    this.#worker.postMessage({type: "crash"} satisfies ToWorker);
  }

  /** Posts every queued write, waits for every answer, then closes the worker's connection and the thread. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#post();
    await new Promise<void>((resolve) => {
      if (this.#inFlight.size === 0 && this.#sweeps.size === 0) resolve();
      else this.#whenIdle = resolve;
    });
    this.#closing = true;
    if (this.#failed === null) {
      this.#worker.ref();
      this.#worker.postMessage({type: "close"} satisfies ToWorker);
    }
    await this.#exited;
  }

  #sweep(kind: "expired" | "owners", cutoff: number, limit: number): Promise<unknown> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#sweeps.set(id, {resolve, reject});
      this.#worker.ref();
      this.#worker.postMessage({type: "sweep", id, kind, cutoff, limit} satisfies ToWorker);
    });
  }

  /**
   * Posts the queue as one batch, unless a batch is still in flight: then the writes wait for its
   * answer and go together (fewer, larger messages and transactions while the worker is busy; each
   * post wakes the worker, which on a loaded machine is where the main thread loses the core).
   */
  #post(): void {
    this.#scheduled?.();
    this.#scheduled = null;
    if (this.#failed !== null) {
      for (const w of this.#queue.splice(0)) w.reject(this.#failed);
      return;
    }
    while (this.#queue.length > 0 && this.#inFlight.size < MAX_BATCHES_IN_FLIGHT) {
      const writes = this.#queue.splice(0, this.#maxBatchWrites);
      const id = this.#nextId++;
      const transfer: ArrayBuffer[] = [];
      const ops = writes.map((w) => postableOp(w.op, transfer));
      this.#inFlight.set(id, {writes, bytes: writes.reduce((sum, w) => sum + w.bytes, 0)});
      this.#worker.ref();
      this.#worker.postMessage({type: "batch", id, now: this.#modules.clock.now(), ops} satisfies ToWorker, transfer);
    }
  }

  #onMessage(m: FromWorker): void {
    if (m.type === "batch") {
      this.#onBatch(m.id, m.results, m.commits);
      this.#post();
    } else if (m.type === "sweep") {
      const waiting = this.#sweeps.get(m.id);
      this.#sweeps.delete(m.id);
      if (m.ok) waiting?.resolve(m.value);
      else waiting?.reject(fromWireError(m.error));
    }
    this.#checkIdle();
  }

  #onBatch(id: number, results: BatchResult[], commits: number[]): void {
    const batch = this.#inFlight.get(id);
    if (batch === undefined) return;
    this.#inFlight.delete(id);
    const committed: Array<WriteOutcome<unknown>> = [];
    const settle: Array<() => void> = [];
    batch.writes.forEach((w, i) => {
      const r = results[i];
      if (r?.ok === true) {
        const outcome = withBuffers(w.op, r.outcome);
        committed.push(outcome);
        settle.push(() => w.resolve(outcome.value));
      } else {
        const err = r === undefined ? new Error("the storage writer thread gave no answer for a write") : fromWireError(r.error);
        settle.push(() => w.reject(this.#modules.mapError(err)));
      }
    });
    this.#stats.commits += commits.length;
    this.#stats.committedWrites += committed.length;
    this.#stats.failedWrites += batch.writes.length - committed.length;
    this.#stats.maxWritesPerCommit = Math.max(this.#stats.maxWritesPerCommit, ...commits);
    try {
      this.#modules.onFlushed(batch.bytes);
      if (committed.length > 0) this.#modules.onCommit(committed, commits);
    } finally {
      for (const s of settle) s();
    }
  }

  #checkIdle(): void {
    if (this.#inFlight.size > 0 || this.#sweeps.size > 0) return;
    // Closing, it stays referenced until it has exited: close() awaits that.
    if (!this.#closing) this.#worker.unref();
    const idle = this.#whenIdle;
    this.#whenIdle = null;
    idle?.();
  }

  #fail(reason: string): void {
    if (this.#failed !== null || this.#closing) return;
    const failed = new StorageError({code: "STORAGE_ERROR_QUERY_FAILED", sqliteCode: null}, `${reason}; writes fail until the node restarts`);
    this.#failed = failed;
    const unknown = new StorageError(
      {code: "STORAGE_ERROR_QUERY_FAILED", sqliteCode: null},
      `${reason} before answering; this write may or may not have been committed`,
    );
    const inFlight = [...this.#inFlight.values()].flatMap((b) => b.writes);
    const sweeps = [...this.#sweeps.values()];
    this.#inFlight.clear();
    this.#sweeps.clear();
    for (const w of inFlight) w.reject(unknown);
    for (const s of sweeps) s.reject(unknown);
    this.#post();
    this.#checkIdle();
    this.#modules.onFailed(failed);
  }
}

/**
 * A store's `added` message is rebuilt from the op (the worker does not send the data back), and
 * the binary fields that came back as Uint8Array are Buffers again, as the listeners expect.
 */
function withBuffers(op: WriteOp, outcome: WriteOutcome<unknown>): WriteOutcome<unknown> {
  if (op.t === "store") {
    const value = outcome.value as {status: string};
    if (value.status !== "new") return outcome;
    const m = op.message;
    const added: StoredMessage = {account: m.account, hash: m.hash, namespace: m.namespace, timestamp: m.timestamp, expiry: m.expiry, data: asBuffer(m.data)};
    return {...outcome, added: [added]};
  }
  if (outcome.added !== undefined) for (const m of outcome.added) m.data = asBuffer(m.data);
  return outcome;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The compiled worker (under vitest too: `npm run build` first, as for the commitment worker). */
export function writerWorkerUrl(): URL {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith(".ts")) return new URL("./writer-worker.js", here);
  const built = new URL(here.href.replace(/\/src\/storage\/writer-thread\.ts$/, "/dist/src/storage/writer-worker.js"));
  if (!existsSync(fileURLToPath(built))) throw new Error(`${fileURLToPath(built)} is missing: run npm run build`);
  return built;
}
