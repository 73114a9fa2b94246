import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {Worker} from "node:worker_threads";
import type {PqBackend} from "../crypto/index.js";

/**
 * ML-DSA-65 signing off the event loop. With liboqs, every context is signed by liboqs' WebAssembly
 * (~0.5 ms, crypto/pq/liboqs-context.ts, after its known-answer test against noble); if that path
 * cannot load, noble signs with a context (~6-12 ms of CPU) and liboqs-js with the empty context.
 * `WorkerSigner` runs either on a worker thread so request handling never waits behind a signature.
 */
export interface ContextSigner {
  sign(message: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Signs on the calling thread (tests, one-off tools, and the fallback if the worker dies). */
export class InlineSigner implements ContextSigner {
  constructor(
    private readonly pq: PqBackend,
    private readonly secretKey: Uint8Array,
  ) {}

  sign(message: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.pq.mlDsa65.sign(this.secretKey, message, context));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

// The worker is CommonJS evaluated from this string (no separate file to ship or transpile); it
// imports noble, liboqs-js and our liboqs context path by file URLs resolved in the parent. The
// context path runs its own known-answer test in the worker; if it fails or cannot be imported
// (e.g. under vitest, where only the .ts source exists), the worker signs as before.
const WORKER_SOURCE = `
const {parentPort, workerData} = require("node:worker_threads");
const oqsReady = workerData.oqsUrl ? import(workerData.oqsUrl).then((m) => m.createMLDSA65()) : Promise.resolve(null);
const ctxReady = workerData.oqsContextUrl
  ? import(workerData.oqsContextUrl).then((m) => m.loadCheckedLiboqsContextMlDsa65()).catch(() => null)
  : Promise.resolve(null);
Promise.all([import(workerData.nobleUrl), oqsReady, ctxReady]).then(([{ml_dsa65}, oqs, withContext]) => {
  const sk = workerData.secretKey;
  parentPort.on("message", (m) => {
    try {
      const sig = withContext ? withContext.sign(sk, m.message, m.context)
        : m.context.length === 0 && oqs ? oqs.sign(m.message, sk) : ml_dsa65.sign(m.message, sk, {context: m.context});
      parentPort.postMessage({id: m.id, sig});
    } catch (e) {
      parentPort.postMessage({id: m.id, error: String((e && e.message) || e)});
    }
  });
  parentPort.postMessage({ready: true, liboqs: oqs !== null, liboqsContext: withContext !== null});
}, (e) => parentPort.postMessage({fatal: String((e && e.message) || e)}));
`;

interface WorkerReply {
  liboqs?: boolean;
  liboqsContext?: boolean;
  id?: number;
  sig?: Uint8Array;
  error?: string;
  ready?: boolean;
  fatal?: string;
}

type Pending = {message: Uint8Array; context: Uint8Array; resolve: (s: Uint8Array) => void; reject: (e: Error) => void};

export interface WorkerSignerOptions {
  /** Sign with liboqs (WebAssembly, ~15x faster than noble): every context if its path passes its self-test. */
  useLiboqs: boolean;
  /** Module URL of crypto/pq/liboqs-context.js (default: `defaultLiboqsContextUrl()`). */
  liboqsContextUrl?: string;
}

export interface WorkerSignerModules {
  /** Used if the worker cannot start or dies: signing continues on the main thread. */
  fallback: ContextSigner;
  onWorkerFailure?: (err: Error) => void;
}

/**
 * The compiled liboqs context module beside this one. Under the test runner this file is the
 * TypeScript source, which a worker cannot import, so the build in dist/ is used when it exists:
 * without it the worker signs every context with noble (~10x slower), and response batches, which
 * have a context, would be signed slower under test than in a running node.
 */
export function defaultLiboqsContextUrl(): string {
  const here = new URL(import.meta.url);
  const beside = new URL("../crypto/pq/liboqs-context.js", here).href;
  if (!here.pathname.endsWith(".ts")) return beside;
  const built = new URL(here.href.replace(/\/src\/signing\/context-signer\.ts$/, "/dist/src/crypto/pq/liboqs-context.js"));
  return existsSync(fileURLToPath(built)) ? built.href : beside;
}

export class WorkerSigner implements ContextSigner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly modules: WorkerSignerModules,
    /** True when the worker signs contexts with liboqs (its known-answer test passed there). */
    readonly liboqsContext: boolean,
  ) {
    worker.on("message", (m: WorkerReply) => this.onReply(m));
    worker.on("error", (err) => this.fail(err));
    worker.on("exit", (code) => {
      if (!this.failed && code !== 0) this.fail(new Error(`signing worker exited with code ${code}`));
    });
    worker.unref();
  }

  /** Starts the worker and waits until it has loaded ML-DSA. */
  static start(secretKey: Uint8Array, opts: WorkerSignerOptions, modules: WorkerSignerModules): Promise<WorkerSigner> {
    const nobleUrl = import.meta.resolve("@noble/post-quantum/ml-dsa.js");
    const oqsUrl = opts.useLiboqs ? import.meta.resolve("@oqs/liboqs-js") : null;
    const oqsContextUrl = opts.useLiboqs ? (opts.liboqsContextUrl ?? defaultLiboqsContextUrl()) : null;
    const worker = new Worker(WORKER_SOURCE, {eval: true, workerData: {nobleUrl, oqsUrl, oqsContextUrl, secretKey}});
    return new Promise((resolve, reject) => {
      const onFirst = (m: WorkerReply): void => {
        if (m.ready === true) resolve(new WorkerSigner(worker, modules, m.liboqsContext === true));
        else reject(new Error(`signing worker failed to start: ${m.fatal ?? "unknown"}`));
      };
      worker.once("message", onFirst);
      worker.once("error", reject);
    });
  }

  sign(message: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
    if (this.failed) return this.modules.fallback.sign(message, context);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {message, context, resolve, reject});
      // Referenced while a signature is awaited, so a process shutting down waits for it.
      this.worker.ref();
      this.worker.postMessage({id, message, context});
    });
  }

  private onReply(m: WorkerReply): void {
    if (m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    // Idle, it must not keep the process alive (the HTTP server does while the node runs).
    if (this.pending.size === 0) this.worker.unref();
    if (m.sig !== undefined) p.resolve(m.sig);
    else p.reject(new Error(`ML-DSA-65 sign failed in worker: ${m.error ?? "unknown"}`));
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.modules.onWorkerFailure?.(err);
    // Whatever was in flight is signed again on the main thread: no response is lost.
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.modules.fallback.sign(p.message, p.context).then(p.resolve, p.reject);
    }
  }

  async close(): Promise<void> {
    this.failed = true;
    for (const p of this.pending.values()) p.reject(new Error("signing worker closed"));
    this.pending.clear();
    await this.worker.terminate();
  }
}
