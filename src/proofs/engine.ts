/**
 * The commitment engine: it owns the node's Merkle commitment (per-message leaves, bucket roots,
 * top tree) and all work that touches every message — full builds, epoch refreshes, inclusion
 * paths — so the proof service holds only summaries. `LocalEngine` runs in the calling thread;
 * `WorkerEngine` (engine-host.ts) runs a LocalEngine on a worker thread over its own read-only
 * connection, which keeps that work off the event loop (docs/PROTOCOL.md (Storage proofs) §2.4).
 *
 * Two commitments live here at most: the published one (its proof is signed and answers refer to
 * it) and the newest built, which becomes published once its proof is signed. They share every
 * bucket that did not change.
 */
import {BUCKET_COUNT} from "./constants.js";
import {committedLeaf, type CommittedLeaf, type LiveLeaf} from "./answerer.js";
import type {Commitment} from "./commitment.js";
import {FULL_PLAN, planRefresh, refreshCommitment, type CommitmentSource, type RefreshProgress, type RefreshStats} from "./refresh.js";

/** What the proof service learns of a commitment: enough to sign a StorageProof and pick candidates. */
export interface CommitmentSummary {
  readonly timestamp: number;
  readonly root: Buffer;
  readonly messageCount: number;
  readonly usedBytes: number;
  /** Messages per bucket: the weights for choosing a challenge candidate. */
  readonly bucketCounts: Uint32Array;
  readonly stats: RefreshStats;
}

export interface RefreshRequest {
  /** The proof timestamp T: the commitment holds the messages with expiry > T. */
  readonly timestamp: number;
  /** Messages added, removed or updated since the previous refresh; null rebuilds every bucket. */
  readonly changed: readonly string[] | null;
}

export interface CommitmentEngine {
  /**
   * Builds the commitment for `timestamp` from the newest one (one refresh at a time). Null when
   * abandoned (closing); a rejection leaves no base, so the next refresh must be a full one.
   */
  refresh(req: RefreshRequest): Promise<CommitmentSummary | null>;
  /** Makes the commitment built for `timestamp` the one `find` answers from; drops the older one. */
  publish(timestamp: number): Promise<void>;
  /** The committed leaf and inclusion path of a message in the published commitment for `timestamp`. */
  find(timestamp: number, messageHash: string, live: LiveLeaf): Promise<CommittedLeaf | null>;
  /** How far the running refresh got (null when none runs); a worker reports it about twice a second. */
  progress(): RefreshProgress | null;
  close(): Promise<void>;
}

export interface LocalEngineOptions {
  /** Longest synchronous stretch of a refresh before it yields (other requests are served then). */
  readonly sliceBudgetMs: number;
  /** Called after every slice of a refresh (the worker forwards it to the host). */
  readonly onProgress?: (p: RefreshProgress) => void;
}

/** The engine in this thread, reading `source` (the worker wraps one of these). */
export class LocalEngine implements CommitmentEngine {
  #base: Commitment | null = null;
  #published: Commitment | null = null;
  #progress: RefreshProgress | null = null;
  #closed = false;

  constructor(
    private readonly source: CommitmentSource,
    private readonly opts: LocalEngineOptions,
  ) {}

  async refresh({timestamp, changed}: RefreshRequest): Promise<CommitmentSummary | null> {
    const base = this.#base;
    this.#base = null;
    const plan = changed === null || base === null ? FULL_PLAN : planRefresh(changed, base, timestamp);
    const stats: RefreshStats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
    const onProgress = (p: RefreshProgress): void => {
      this.#progress = p;
      this.opts.onProgress?.(p);
    };
    const opts = {timestamp, sliceBudgetMs: this.opts.sliceBudgetMs, aborted: () => this.#closed, onProgress};
    const c = await refreshCommitment(this.source, base, plan, opts, stats).finally(() => (this.#progress = null));
    if (c === null) return null;
    this.#base = c;
    return summarize(c, stats);
  }

  publish(timestamp: number): Promise<void> {
    if (this.#base?.timestamp === timestamp) this.#published = this.#base;
    return Promise.resolve();
  }

  find(timestamp: number, messageHash: string, live: LiveLeaf): Promise<CommittedLeaf | null> {
    const c = this.#published;
    return Promise.resolve(c === null || c.timestamp !== timestamp ? null : committedLeaf(c, messageHash, live));
  }

  progress(): RefreshProgress | null {
    return this.#progress;
  }

  /** The published commitment (tests and benchmarks look inside). */
  get published(): Commitment | null {
    return this.#published;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

export function summarize(c: Commitment, stats: RefreshStats): CommitmentSummary {
  const bucketCounts = new Uint32Array(BUCKET_COUNT);
  c.buckets.forEach((b, i) => (bucketCounts[i] = b.count));
  const {timestamp, root, messageCount, usedBytes} = c;
  return {timestamp, root, messageCount, usedBytes, bucketCounts, stats};
}
