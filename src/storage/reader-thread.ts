import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {Worker} from "node:worker_threads";
import {silentLogger, type Logger} from "../util/index.js";

/** What the reader thread is started with (its workerData). */
export interface ReaderThreadData {
  path: string;
  busyTimeoutMs: number;
}

/** One retrieve page to read and answer: RetrieveQuery's fields, the request's `now`, and the answer's tail. */
export interface PageRequest {
  account: string;
  namespace: number;
  afterHash: string | null;
  maxCount: number;
  maxSize: number;
  /** The retrieve's time: rows with expiry <= now are not read, as on the main thread. */
  now: number;
  /** The answer's text after `"more":<bool>`, closing brace included (see reader-json.ts pageJson). */
  tail: string;
}

export type PageJob = PageRequest & {id: number};

/** A page read on the reader thread: the whole answer's JSON text and its `more`. */
export interface PageAnswer {
  text: string;
  more: boolean;
}

export type ReaderToWorker = {type: "pages"; jobs: PageJob[]} | {type: "crash"} | {type: "close"};

export type ReaderFromWorker =
  | {type: "ready"}
  | {type: "fatal"; message: string}
  | {type: "page"; id: number; ok: true; more: boolean; text: string}
  | {type: "page"; id: number; ok: false}
  | {type: "closed"};

export interface ReaderThreadOptions extends ReaderThreadData {
  /** Pages asked for and not yet answered; past it `full` is true and the caller refuses (503). */
  maxQueued: number;
  /** Times a dead thread is started again before pages stay on the main thread for good. */
  maxRestarts: number;
}

export interface ReaderThreadModules {
  logger?: Logger;
}

type Settle = (answer: PageAnswer | null) => void;

/**
 * The main thread's side of the retrieve reader thread (reader-worker.ts): it reads a checked
 * retrieve's page on a read-only connection of its own and makes the answer's JSON text, so the
 * page's rows and the text's ~400 parts are allocated (and collected) off the event loop; the main
 * thread gets one flat string per answer.
 *
 * `read` never fails and never hangs: it resolves null whenever the thread cannot answer (it is
 * starting again, it died with the page in flight, it is closed, or the read threw there), and the
 * caller then reads the page on the main thread, which also gives every error its usual answer.
 * Pages asked for in one event-loop turn go to the thread in one postMessage; each answer comes back
 * on its own, as soon as it is made. A thread that dies is started again, at most `maxRestarts`
 * times.
 */
export class ReaderThread {
  readonly #opts: ReaderThreadOptions;
  readonly #logger: Logger;
  #worker: Worker | null = null;
  readonly #inFlight = new Map<number, Settle>();
  #queue: PageJob[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  #nextId = 1;
  #restarts = 0;
  #starting: Promise<void> | null = null;
  #closed: Promise<void> | null = null;

  private constructor(opts: ReaderThreadOptions, modules: ReaderThreadModules) {
    this.#opts = opts;
    this.#logger = modules.logger ?? silentLogger;
  }

  /** Starts the thread on an existing database file; resolves once it has opened it. */
  static async start(opts: ReaderThreadOptions, modules: ReaderThreadModules = {}): Promise<ReaderThread> {
    const reader = new ReaderThread(opts, modules);
    reader.#worker = await spawn(opts);
    reader.#watch(reader.#worker);
    return reader;
  }

  /** True while the queue is at its bound: the caller answers 503 instead of asking. */
  get full(): boolean {
    return this.#inFlight.size >= this.#opts.maxQueued;
  }

  /** Pages asked for and not yet answered (queued for this turn's post, or posted). */
  get pending(): number {
    return this.#inFlight.size;
  }

  /** The page's answer, or null: read it on the main thread (see the class comment). */
  read(request: PageRequest): Promise<PageAnswer | null> {
    if (this.#worker === null || this.#closed !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#inFlight.set(id, resolve);
      this.#queue.push({...request, id});
      this.#scheduled ??= setImmediate(() => this.#post());
    });
  }

  /** Answers what is in flight with null, then closes the thread's connection and ends it. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  /** Tests only: the thread exits at once, as a crash would, leaving what it holds unanswered. */
  crashForTest(): void {
    this.#worker?.postMessage({type: "crash"} satisfies ReaderToWorker);
  }

  /** Tests only: resolves once a restarted thread is up (or the restart failed). */
  async restartedForTest(): Promise<void> {
    await this.#starting;
  }

  async #close(): Promise<void> {
    if (this.#scheduled !== null) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    this.#settleAll();
    await this.#starting;
    const worker = this.#worker;
    this.#worker = null;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage({type: "close"} satisfies ReaderToWorker);
    await exited;
  }

  #post(): void {
    this.#scheduled = null;
    const jobs = this.#queue;
    this.#queue = [];
    if (jobs.length === 0) return;
    if (this.#worker === null) {
      for (const job of jobs) this.#settle(job.id, null);
      return;
    }
    // Referenced while answers are awaited; idle, the thread must not keep the process alive.
    this.#worker.ref();
    this.#worker.postMessage({type: "pages", jobs} satisfies ReaderToWorker);
  }

  #watch(worker: Worker): void {
    worker.on("message", (m: ReaderFromWorker) => {
      if (m.type !== "page") return;
      this.#settle(m.id, m.ok ? {text: m.text, more: m.more} : null);
      if (this.#inFlight.size === 0) worker.unref();
    });
    worker.on("error", (err) => this.#logger.warn({err}, "the retrieve reader thread failed"));
    worker.once("exit", (code) => this.#onExit(worker, code));
    worker.unref();
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    // Every page it held is read on the main thread instead.
    this.#settleAll();
    if (this.#closed !== null) return;
    if (this.#restarts >= this.#opts.maxRestarts) {
      this.#logger.error({code}, "the retrieve reader thread exited; retrieves are read on the event loop from now on");
      return;
    }
    this.#restarts++;
    this.#logger.warn({code, restart: this.#restarts}, "the retrieve reader thread exited; starting it again");
    this.#starting = spawn(this.#opts).then(
      (next) => {
        this.#starting = null;
        if (this.#closed !== null) {
          void next.terminate();
          return;
        }
        this.#worker = next;
        this.#watch(next);
      },
      (err: unknown) => {
        this.#starting = null;
        this.#logger.error({err}, "the retrieve reader thread did not start again; retrieves are read on the event loop");
      },
    );
  }

  #settle(id: number, answer: PageAnswer | null): void {
    const settle = this.#inFlight.get(id);
    if (settle === undefined) return;
    this.#inFlight.delete(id);
    settle(answer);
  }

  #settleAll(): void {
    this.#queue = [];
    const waiting = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const settle of waiting) settle(null);
  }
}

function spawn(data: ReaderThreadData): Promise<Worker> {
  const worker = new Worker(readerWorkerUrl(), {workerData: {path: data.path, busyTimeoutMs: data.busyTimeoutMs} satisfies ReaderThreadData});
  return new Promise((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`the retrieve reader thread exited at start (code ${code})`));
    worker.once("error", reject);
    worker.once("exit", onExit);
    worker.once("message", (m: ReaderFromWorker) => {
      worker.off("error", reject);
      worker.off("exit", onExit);
      if (m.type === "ready") resolve(worker);
      else {
        void worker.terminate();
        reject(new Error(m.type === "fatal" ? m.message : `unexpected first message from the retrieve reader thread: ${m.type}`));
      }
    });
  });
}

/** The worker's module: beside this one when built; from dist/ when this file runs as TypeScript (tests). */
export function readerWorkerUrl(): URL {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith(".ts")) return new URL("./reader-worker.js", here);
  const built = new URL(here.href.replace(/\/src\/storage\/reader-thread\.ts$/, "/dist/src/storage/reader-worker.js"));
  if (!existsSync(fileURLToPath(built))) throw new Error(`${fileURLToPath(built)} is missing: run npm run build`);
  return built;
}
