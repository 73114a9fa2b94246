import {CONFIG_DEFAULTS} from "../config/index.js";
import {CTX} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import type {ContextSigner} from "../signer/index.js";
import type {SignerMetrics} from "../metrics/index.js";
import {runSoon, type Clock} from "../util/index.js";
import {batchHeader} from "../protocol/index.js";

import {buildTree, leafHash, rootFromPath} from "./receipt-tree.js";

/**
 * Node-signed responses without one ML-DSA-65 signature per response.
 *
 * Each response entry Session would sign with Ed25519 (a "receipt": exactly Session's signed string
 * for that entry) becomes a leaf. Receipts that arrive within `maxBatchDelayMs` (or until
 * `maxBatchSize` are pending) are put in one RFC 6962 tree; the node signs the batch header
 *   nodeId (32 B) ‖ u64be timestamp ms ‖ u32be leaf count ‖ root (32 B)
 * once (FIPS 204 context "pars-storage/v1/response-batch", CTX.RESPONSE_BATCH), and every
 * response carries that signature
 * plus its own leaf index and audit path. See docs/PROTOCOL.md "Response signatures".
 */
export interface SignatureProof {
  /** Batch timestamp (ms). */
  t: number;
  /** Number of receipts in the batch. */
  n: number;
  /** This receipt's leaf index. */
  i: number;
  /** Audit path, leaf upwards, base64 SHA-256 hashes. */
  path: string[];
}

export interface SignedReceipt {
  /** Base64 ML-DSA-65 signature over the batch header. */
  signature: string;
  signature_proof: SignatureProof;
}

/** The JSON texts of a receipt's two fields: `"<base64>"` and `{"t":…,"n":…,"i":…,"path":[…]}`. */
export interface SignedReceiptJson {
  signature: string;
  proof: string;
}

const SIGNED_JSON = Symbol("signedJson");

/**
 * The JSON texts the signer made for `signed` (one signature text per batch, shared by all its
 * receipts), or undefined for a receipt that did not come from a ResponseSigner.
 */
export function signedReceiptJson(signed: SignedReceipt): SignedReceiptJson | undefined {
  return (signed as {[SIGNED_JSON]?: SignedReceiptJson})[SIGNED_JSON];
}

export interface ResponseSignerOptions {
  /**
   * How long the first pending receipt may wait for others. 0: until the job that handed it over
   * is done (its promise continuations included), so the receipts of one group commit, which
   * settles all its stores at once, are signed as one batch without waiting for another turn.
   */
  maxBatchDelayMs: number;
  /** Sign at once when this many receipts are pending. */
  maxBatchSize: number;
}

/** `maxBatchDelayMs` is the config setting `signing.maxBatchDelayMs` (its default is the schema's). */
export const defaultResponseSignerOptions: ResponseSignerOptions = {maxBatchDelayMs: CONFIG_DEFAULTS.signing.maxBatchDelayMs, maxBatchSize: 4096};

interface Pending {
  leaf: Buffer;
  resolve: (r: SignedReceipt) => void;
  reject: (e: unknown) => void;
}

export interface ResponseSignerModules {
  /** Signs batch headers (on a worker thread in the node; inline in tests). */
  signer: ContextSigner;
  nodeId: string;
  clock: Clock;
  /** Receipts per signed batch; null or absent when metrics are off. */
  metrics?: SignerMetrics | null;
}

/**
 * Batches receipts and signs one header per batch. At most one signature is in flight: receipts
 * that arrive while it is computed wait for the next batch, so under load batches grow by
 * themselves and the signing cost per response falls.
 */
export class ResponseSigner {
  private pending: Pending[] = [];
  /** Cancels the scheduled flush (runSoon; null: none scheduled). */
  private timer: (() => void) | null = null;
  private tickScheduled = false;
  private inFlight: Promise<void> | null = null;
  private closed = false;
  /** Batches signed and receipts covered, for metrics and the benchmark. */
  readonly stats = {batches: 0, receipts: 0};

  constructor(
    private readonly opts: ResponseSignerOptions,
    private readonly modules: ResponseSignerModules,
  ) {}

  /**
   * Signs `receipt` in the next batch. `promptly`: the batch is signed once the job that handed it
   * over is done (as with `maxBatchDelayMs` 0), without waiting out the window; receipts pending
   * in a window go with it. For receipts that arrive batched already, such as the stores of a
   * peer's `rpc_batch` frame, which share one group commit: the window would add its wait to the
   * entry node's answer and gather nothing more.
   */
  sign(receipt: Uint8Array, promptly = false): Promise<SignedReceipt> {
    if (this.closed) return Promise.reject(new Error("response signer is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({leaf: leafHash(receipt), resolve, reject});
      if (this.inFlight !== null) return;
      if (this.pending.length >= this.opts.maxBatchSize) this.flush();
      else if (promptly) this.schedulePrompt();
      else this.schedule(this.opts.maxBatchDelayMs);
    });
  }

  /** The end of this job, replacing a window's timer if one runs. */
  private schedulePrompt(): void {
    if (this.tickScheduled) return;
    this.clearTimer();
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null || this.tickScheduled) return;
    if (delayMs > 0) return this.flushIn(delayMs);
    // A tick queued from a promise continuation runs once the microtask queue is empty: after the
    // other stores of the same commit have handed over their receipts, before any I/O or timer.
    // (setImmediate waited for the next loop iteration, i.e. for the next requests to be parsed.)
    this.tickScheduled = true;
    process.nextTick(() => {
      if (!this.tickScheduled) return;
      this.tickScheduled = false;
      this.flush();
    });
  }

  /**
   * Receipts queued behind a signature have waited a whole one: they go in this loop iteration's
   * check phase. A group commit queued in the same iteration (also a setImmediate, queued when its
   * requests were parsed) runs before it and hands over its receipts, which then join this batch
   * instead of waiting for the next signature (a nextTick here made batches smaller).
   */
  private scheduleAfterSignature(): void {
    if (this.timer !== null || this.tickScheduled) return;
    this.flushIn(0);
  }

  /** A flush after `delayMs` (0: in this loop iteration's check phase). */
  private flushIn(delayMs: number): void {
    this.timer = runSoon(() => {
      this.timer = null;
      this.flush();
    }, delayMs);
  }

  private clearTimer(): void {
    this.tickScheduled = false;
    this.timer?.();
    this.timer = null;
  }

  private flush(): void {
    this.clearTimer();
    if (this.inFlight !== null || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.opts.maxBatchSize);
    this.inFlight = this.signBatch(batch).finally(() => {
      this.inFlight = null;
      if (this.pending.length > 0) this.scheduleAfterSignature();
    });
  }

  private async signBatch(batch: Pending[]): Promise<void> {
    try {
      const {root, paths} = buildTree(batch.map((p) => p.leaf));
      const t = this.modules.clock.now();
      const header = batchHeader(this.modules.nodeId, t, batch.length, root);
      const signature = Buffer.from(await this.modules.signer.sign(header, CTX.RESPONSE_BATCH)).toString("base64");
      this.stats.batches++;
      this.stats.receipts += batch.length;
      this.modules.metrics?.receiptBatch.observe(batch.length);
      // Base64 and integers need no escaping: these are JSON.stringify's bytes for the same values.
      const signatureJson = `"${signature}"`;
      const proofHead = `{"t":${t},"n":${batch.length},"i":`;
      batch.forEach((p, i) => {
        const path = (paths[i] as Buffer[]).map((h) => h.toString("base64"));
        const signed: SignedReceipt = {signature, signature_proof: {t, n: batch.length, i, path}};
        const json: SignedReceiptJson = {signature: signatureJson, proof: `${proofHead}${i},"path":[${path.map((h) => `"${h}"`).join(",")}]}`};
        // Not enumerable: invisible to JSON.stringify, spreads and structured clones.
        Object.defineProperty(signed, SIGNED_JSON, {value: json});
        p.resolve(signed);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** Signs whatever is pending, then refuses new receipts. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.length > 0 || this.inFlight !== null) {
      this.flush();
      await this.inFlight;
    }
  }
}

/**
 * Verifies a signed receipt: what a client does with a response entry. Needs only the node's
 * ML-DSA-65 public key (its node ID is derived from the published keys).
 */
export function verifySignedReceipt(
  pq: PqBackend,
  nodeId: string,
  nodeMlDsaPublicKey: Uint8Array,
  receipt: Uint8Array,
  signed: SignedReceipt,
): boolean {
  const {t, n, i, path} = signed.signature_proof;
  if (!Array.isArray(path) || !Number.isSafeInteger(t) || t < 0) return false;
  const root = rootFromPath(leafHash(receipt), i, n, path.map((p) => Buffer.from(p, "base64")));
  if (root === null) return false;
  const header = batchHeader(nodeId, t, n, root);
  return pq.mlDsa65.verify(nodeMlDsaPublicKey, header, Buffer.from(signed.signature, "base64"), CTX.RESPONSE_BATCH);
}
