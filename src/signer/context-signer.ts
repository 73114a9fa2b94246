import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {Worker} from "node:worker_threads";
import type {PqBackend} from "../crypto/index.js";
import {verifyEd25519} from "../crypto/index.js";

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

/**
 * Request signature checks, answered off the event loop where a worker can: `ed25519` is
 * crypto/ed25519.ts' `verifyEd25519` (libsodium's rules), `mlDsa65` the backend's ML-DSA-65 verify
 * with a FIPS 204 context. Both resolve to false for a bad signature; they reject only where the
 * backend itself throws (as `verifyRequest` would then throw).
 */
export interface SignatureVerifier {
  ed25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  mlDsa65(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): Promise<boolean>;
}

/**
 * The signing worker's young generation. A signature leaves little alive, so small semi-spaces only
 * mean more (cheap) scavenges: with 4 MB the worker took 17-20 MB at start and 25-29 MB after 2,000
 * signatures, with V8's default 24-29 and 33-43 MB, at the same CPU within the noise
 * (docs/benchmarks.md, "Session 9: memory at 1 M").
 */
const SIGNING_WORKER_YOUNG_GENERATION_MB = 4;

/** Verifies on the calling thread: what a node without the worker does, and the worker's fallback. */
export class InlineVerifier implements SignatureVerifier {
  constructor(private readonly pq: PqBackend) {}

  ed25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return Promise.resolve(verifyEd25519(publicKey, message, signature));
  }

  mlDsa65(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): Promise<boolean> {
    try {
      return Promise.resolve(this.pq.mlDsa65.verify(publicKey, message, signature, context));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
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
// Verification batches ({bytes, verify: offsets}, see packed()) are answered with one boolean per
// job, or null where the worker cannot answer it (no Ed25519 module, no liboqs context path, or a
// throw): the parent then verifies that job itself with the node's own backend.
const WORKER_SOURCE = `
const {parentPort, workerData} = require("node:worker_threads");
const ctxReady = workerData.oqsContextUrl
  ? import(workerData.oqsContextUrl).then((m) => m.loadCheckedLiboqsContextMlDsa65()).catch(() => null)
  : Promise.resolve(null);
// liboqs-js' own instance signs only the empty context, and only without the context path (which
// signs every context): not instantiated beside it (its WebAssembly memory and glue, ~2 MB).
const oqsReady = ctxReady.then((ctx) => (ctx === null && workerData.oqsUrl ? import(workerData.oqsUrl).then((m) => m.createMLDSA65()) : null));
const edReady = workerData.ed25519Url ? import(workerData.ed25519Url).then((m) => m.verifyEd25519).catch(() => null) : Promise.resolve(null);
Promise.all([import(workerData.nobleUrl), oqsReady, ctxReady, edReady]).then(([{ml_dsa65}, oqs, withContext, verifyEd25519]) => {
  const sk = workerData.secretKey;
  // A job is 4 (offset, length) pairs into the batch's bytes: key, message, signature, context (length -1: Ed25519).
  const verifyOne = (bytes, at, i) => {
    const part = (k) => bytes.subarray(at[i * 8 + k * 2], at[i * 8 + k * 2] + at[i * 8 + k * 2 + 1]);
    try {
      if (at[i * 8 + 7] < 0) return verifyEd25519 ? verifyEd25519(part(0), part(1), part(2)) === true : null;
      return withContext ? withContext.verify(part(0), part(1), part(2), part(3)) === true : null;
    } catch {
      return null;
    }
  };
  parentPort.on("message", (m) => {
    if (m.verify !== undefined) {
      const ok = [];
      for (let i = 0; i < m.verify.length / 8; i++) ok.push(verifyOne(m.bytes, m.verify, i));
      parentPort.postMessage({id: m.id, ok});
      return;
    }
    try {
      const sig = withContext ? withContext.sign(sk, m.message, m.context)
        : m.context.length === 0 && oqs ? oqs.sign(m.message, sk) : ml_dsa65.sign(m.message, sk, {context: m.context});
      parentPort.postMessage({id: m.id, sig});
    } catch (e) {
      parentPort.postMessage({id: m.id, error: String((e && e.message) || e)});
    }
  });
  parentPort.postMessage({ready: true, liboqs: oqs !== null, liboqsContext: withContext !== null, ed25519: verifyEd25519 !== null});
}, (e) => parentPort.postMessage({fatal: String((e && e.message) || e)}));
`;

interface WorkerReply {
  liboqs?: boolean;
  liboqsContext?: boolean;
  ed25519?: boolean;
  ok?: Array<boolean | null>;
  id?: number;
  sig?: Uint8Array;
  error?: string;
  ready?: boolean;
  fatal?: string;
}

type Pending = {message: Uint8Array; context: Uint8Array; resolve: (s: Uint8Array) => void; reject: (e: Error) => void};

/** One signature check; `context` only for ML-DSA-65. */
interface VerifyJob {
  key: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  context?: Uint8Array;
}
type PendingVerify = {job: VerifyJob; resolve: (ok: boolean) => void; reject: (e: Error) => void};

export interface WorkerSignerOptions {
  /** Sign with liboqs (WebAssembly, ~15x faster than noble): every context if its path passes its self-test. */
  useLiboqs: boolean;
  /** Module URL of crypto/pq/liboqs-context.js (default: `defaultLiboqsContextUrl()`). */
  liboqsContextUrl?: string;
  /** Module URL of crypto/ed25519.js (default: `defaultEd25519Url()`); null: Ed25519 is verified on the main thread. */
  ed25519Url?: string | null;
}

export interface WorkerSignerModules {
  /** Used if the worker cannot start or dies: signing continues on the main thread. */
  fallback: ContextSigner;
  /**
   * Verifies what the worker cannot (or after it died) on the main thread. Absent: the signer is
   * not used as a SignatureVerifier (its Ed25519 fallback is then `verifyEd25519`, and ML-DSA-65
   * checks the worker cannot answer reject).
   */
  fallbackVerifier?: SignatureVerifier;
  onWorkerFailure?: (err: Error) => void;
}

/**
 * The compiled liboqs context module beside this one. Under the test runner this file is the
 * TypeScript source, which a worker cannot import, so the build in dist/ is used when it exists:
 * without it the worker signs every context with noble (~10x slower), and response batches, which
 * have a context, would be signed slower under test than in a running node.
 */
export function defaultLiboqsContextUrl(): string {
  return builtModuleUrl("crypto/pq/liboqs-context.js");
}

/** The compiled crypto/ed25519.js, found as `defaultLiboqsContextUrl` finds its module. */
export function defaultEd25519Url(): string {
  return builtModuleUrl("crypto/ed25519.js");
}

function builtModuleUrl(underSrc: string): string {
  const here = new URL(import.meta.url);
  const beside = new URL(`../${underSrc}`, here).href;
  if (!here.pathname.endsWith(".ts")) return beside;
  const built = new URL(here.href.replace(/\/src\/signer\/context-signer\.ts$/, `/dist/src/${underSrc}`));
  return existsSync(fileURLToPath(built)) ? built.href : beside;
}

/**
 * Signs, and verifies request signatures, on one worker thread. Verifications asked for in one
 * event-loop turn go to the worker as one message at the end of the turn (setImmediate), so a
 * loaded node pays one postMessage for many requests.
 */
export class WorkerSigner implements ContextSigner, SignatureVerifier {
  private readonly pending = new Map<number, Pending>();
  private readonly verifying = new Map<number, PendingVerify[]>();
  private queued: PendingVerify[] = [];
  private nextId = 1;
  private failed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly modules: WorkerSignerModules,
    /** True when the worker signs contexts with liboqs (its known-answer test passed there). */
    readonly liboqsContext: boolean,
    /** True when the worker could load crypto/ed25519.js (not under the test runner without a build). */
    readonly workerEd25519: boolean,
    /** True when the worker instantiated liboqs-js' own ML-DSA-65 (asked for liboqs, and its context path did not load). */
    readonly liboqsPlain = false,
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
    const ed25519Url = opts.ed25519Url === undefined ? defaultEd25519Url() : opts.ed25519Url;
    const worker = new Worker(WORKER_SOURCE, {eval: true, workerData: {nobleUrl, oqsUrl, oqsContextUrl, ed25519Url, secretKey}, resourceLimits: {maxYoungGenerationSizeMb: SIGNING_WORKER_YOUNG_GENERATION_MB}});
    return new Promise((resolve, reject) => {
      const onFirst = (m: WorkerReply): void => {
        if (m.ready === true) resolve(new WorkerSigner(worker, modules, m.liboqsContext === true, m.ed25519 === true, m.liboqs === true));
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

  ed25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.failed || !this.workerEd25519) return this.fallbackVerifier.ed25519(publicKey, message, signature);
    return this.enqueue({key: publicKey, message, signature});
  }

  mlDsa65(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): Promise<boolean> {
    if (this.failed || !this.liboqsContext) return this.fallbackVerifier.mlDsa65(publicKey, message, signature, context);
    return this.enqueue({key: publicKey, message, signature, context});
  }

  private get fallbackVerifier(): SignatureVerifier {
    return this.modules.fallbackVerifier ?? NO_ML_DSA_FALLBACK;
  }

  private enqueue(job: VerifyJob): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flushVerifications());
      this.queued.push({job, resolve, reject});
    });
  }

  private flushVerifications(): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    if (this.failed) {
      for (const p of batch) this.verifyHere(p);
      return;
    }
    const id = this.nextId++;
    this.verifying.set(id, batch);
    this.worker.ref();
    const {bytes, at, buffers} = packed(batch.map((p) => p.job));
    this.worker.postMessage({id, bytes, verify: at}, buffers);
  }

  private verifyHere(p: PendingVerify): void {
    const {key, message, signature, context} = p.job;
    const fallback = this.fallbackVerifier;
    (context === undefined ? fallback.ed25519(key, message, signature) : fallback.mlDsa65(key, message, signature, context)).then(p.resolve, p.reject);
  }

  private onReply(m: WorkerReply): void {
    if (m.id === undefined) return;
    const batch = this.verifying.get(m.id);
    if (batch !== undefined) {
      this.verifying.delete(m.id);
      this.unrefWhenIdle();
      batch.forEach((p, i) => {
        const ok = m.ok?.[i];
        if (typeof ok === "boolean") p.resolve(ok);
        else this.verifyHere(p);
      });
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    this.unrefWhenIdle();
    if (m.sig !== undefined) p.resolve(m.sig);
    else p.reject(new Error(`ML-DSA-65 sign failed in worker: ${m.error ?? "unknown"}`));
  }

  /** Idle, the worker must not keep the process alive (the HTTP server does while the node runs). */
  private unrefWhenIdle(): void {
    if (this.pending.size === 0 && this.verifying.size === 0) this.worker.unref();
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
    // And whatever was being verified is verified here.
    this.verifyAllHere();
  }

  private verifyAllHere(): void {
    const batches = [...this.verifying.values()];
    this.verifying.clear();
    for (const batch of batches) for (const p of batch) this.verifyHere(p);
  }

  async close(): Promise<void> {
    this.failed = true;
    for (const p of this.pending.values()) p.reject(new Error("signing worker closed"));
    this.pending.clear();
    this.verifyAllHere();
    await this.worker.terminate();
  }
}

const NO_ML_DSA_FALLBACK: SignatureVerifier = {
  ed25519: (publicKey, message, signature) => Promise.resolve(verifyEd25519(publicKey, message, signature)),
  mlDsa65: () => Promise.reject(new Error("ML-DSA-65 verify: the signing worker cannot, and it has no fallback verifier")),
};

/**
 * A batch's bytes in one buffer, transferred to the worker (not cloned), with each job's parts as
 * (offset, length) pairs: one allocation per batch instead of one per part, and none of a request's
 * small Buffers is posted (they are views into Node's shared 8 KB pool, whose whole ArrayBuffer a
 * clone would copy).
 */
function packed(jobs: readonly VerifyJob[]): {bytes: Uint8Array; at: Int32Array; buffers: ArrayBuffer[]} {
  let size = 0;
  for (const j of jobs) size += j.key.length + j.message.length + j.signature.length + (j.context?.length ?? 0);
  const buffers = [new ArrayBuffer(size), new ArrayBuffer(jobs.length * 8 * 4)] as const;
  const bytes = new Uint8Array(buffers[0]);
  const at = new Int32Array(buffers[1]);
  let offset = 0;
  jobs.forEach((j, i) => {
    [j.key, j.message, j.signature, j.context].forEach((part, k) => {
      at[i * 8 + k * 2] = offset;
      at[i * 8 + k * 2 + 1] = part === undefined ? -1 : part.length;
      if (part !== undefined) {
        bytes.set(part, offset);
        offset += part.length;
      }
    });
  });
  return {bytes, at, buffers: [...buffers]};
}
