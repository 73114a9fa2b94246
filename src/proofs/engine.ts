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
import type {Bucket} from "./bucket.js";
import {committedLeaf, type CommittedLeaf, type LiveLeaf} from "./answerer.js";
import type {Commitment} from "./commitment.js";
import {DiskRecords, keepHeads, loadCommitment, nextGeneration, saveCommitment, type CommitmentPersistence, type LoadedCommitment} from "./persisted.js";
import {FULL_PLAN, planSteps, refreshCommitment, runSteps, sliced, type CommitmentSource, type Progress, type RefreshOptions, type RefreshPlan, type RefreshProgress, type RefreshStats} from "./refresh.js";

/** What the proof service learns of a commitment: enough to sign a StorageProof and pick candidates. */
export interface CommitmentSummary {
  readonly timestamp: number;
  readonly root: Buffer;
  readonly messageCount: number;
  readonly usedBytes: number;
  /** Messages per bucket: the weights for choosing a challenge candidate. */
  readonly bucketCounts: Uint32Array;
  readonly stats: RefreshStats;
  /**
   * The engine writes it to disk and trims the change log then (persisted.ts), after returning this
   * summary (`LocalEngine.flushed`); false: the caller trims the log.
   */
  readonly persisted: boolean;
  /** Milliseconds spent loading the persisted commitment this refresh started from (0: none loaded). */
  readonly loadedMs: number;
}

export interface RefreshRequest {
  /** The proof timestamp T: the commitment holds the messages with expiry > T. */
  readonly timestamp: number;
  /** Messages added, removed or updated since the previous refresh; null rebuilds every bucket. */
  readonly changed: readonly string[] | null;
  /**
   * The change log's watermark these changes go up to: a persisting engine trims the log to it in
   * the transaction that writes the commitment. Without it nothing is persisted.
   */
  readonly logWatermark?: number;
  /**
   * The change log's rows up to this watermark went to earlier refreshes (whose writes may not have
   * landed yet, so they are still logged), and `changed` leaves them out: an engine refreshing
   * from its own newest commitment has them already. One that loads the persisted commitment
   * instead adds those the log holds after its header's watermark (`CommitmentSource.loggedRows`).
   * 0 or absent: `changed` is every logged change.
   */
  readonly logFrom?: number;
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
  /** Whether refreshes are persisted (and trim the change log themselves). */
  readonly persistent: boolean;
  /** How far the running refresh got (null when none runs); a worker reports it about twice a second. */
  progress(): RefreshProgress | null;
  close(): Promise<void>;
}

export interface LocalEngineOptions {
  /** Longest synchronous stretch of a refresh before it yields (other requests are served then). */
  readonly sliceBudgetMs: number;
  /** Called after every slice of a refresh (the worker forwards it to the host). */
  readonly onProgress?: (p: RefreshProgress) => void;
  /**
   * Where the commitment is persisted: without a base, a refresh loads it, and every refresh
   * writes what it rebuilt (persisted.ts). Absent: every start is a full build.
   */
  readonly store?: CommitmentPersistence;
  /** Told when writing the commitment failed (the refresh still succeeds; the next write retries). */
  readonly onPersistError?: (err: unknown) => void;
  /**
   * Told, after a write landed, how many bytes of records the commitment let go (they are on disk
   * now), and whether the write was a full one (every record: the worker collects then).
   */
  readonly onRecordsReleased?: (bytes: number, full: boolean) => void;
  /** Called after every step of a refresh (RefreshOptions.poll: the worker serves finds there). */
  readonly poll?: () => void;
}

/** The engine in this thread, reading `source` (the worker wraps one of these). */
export class LocalEngine implements CommitmentEngine {
  #base: Commitment | null = null;
  #published: Commitment | null = null;
  #progress: RefreshProgress | null = null;
  #closed = false;
  /** The generation the next persisted write stamps (read from the store on first use). */
  #generation: number | undefined;
  /**
   * Records of buckets held as heads only (persisted.ts): once a write lands, a commitment keeps
   * only its buckets' heads, and answers and refreshes read records from disk through this.
   */
  readonly #records: DiskRecords | null;
  /**
   * The write of the last refresh's commitment, running after that refresh returned: its proof is
   * signed and published without waiting for ~170 MB of records at 10 M messages. The next refresh
   * (and close) waits for it. Resolves true if the header moved.
   */
  #writing: Promise<boolean> = Promise.resolve(true);
  /** Whether `#writing` has settled: a refresh then starts its first slice at once, not a turn later. */
  #written = true;
  /**
   * Buckets rebuilt since the persisted header whose rows a failed or abandoned write may not have
   * put on disk ("all": a full build's); the next write includes them.
   */
  #unwritten: Set<number> | "all" = new Set();
  /**
   * The change log's watermark of a commitment taken over from disk by `adopt` (null: none): the
   * next refresh adds the log's rows after it that earlier requests carried, as after a load.
   */
  #adoptedWatermark: number | null = null;

  constructor(
    private readonly source: CommitmentSource,
    private readonly opts: LocalEngineOptions,
  ) {
    this.#records = opts.store === undefined ? null : new DiskRecords(opts.store, source);
  }

  async refresh({timestamp, changed: requested, logWatermark, logFrom = 0}: RefreshRequest): Promise<CommitmentSummary | null> {
    let changed = requested;
    // One write at a time, and in order: this refresh's rows must land after the previous one's.
    if (!this.#written) await this.#writing;
    let base = this.#base;
    this.#base = null;
    const stats: RefreshStats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
    const onProgress = (p: RefreshProgress): void => {
      this.#progress = p;
      this.opts.onProgress?.(p);
    };
    const records = this.#records;
    const fetch = records === null ? undefined : (list: readonly number[], heads: readonly Bucket[]) => records.fetch(list, heads);
    const opts: SliceOptions = {timestamp, logWatermark, sliceBudgetMs: this.opts.sliceBudgetMs, aborted: () => this.#closed, onProgress, poll: this.opts.poll, records: fetch};
    let reread: readonly number[] = [];
    let loadedMs = 0;
    if (base !== null && changed !== null && this.#adoptedWatermark !== null) changed = this.#withEarlierChanges(changed, this.#adoptedWatermark, logFrom);
    this.#adoptedWatermark = null;
    if (base === null && changed !== null && this.opts.store !== undefined) {
      const started = performance.now();
      const loaded = await this.#load(this.opts.store, opts).finally(() => (this.#progress = null));
      if (loaded !== null) {
        ({commitment: base, reread} = loaded);
        this.#attach(base);
        loadedMs = performance.now() - started;
        changed = this.#withEarlierChanges(changed, loaded.logWatermark, logFrom);
      }
    }
    // Buckets whose stored record was found unusable are read again from the messages.
    const damaged = records === null ? [] : [...records.damaged];
    const plan = changed === null || base === null ? FULL_PLAN : await this.#plan(changed, base, [...new Set([...reread, ...damaged])].sort((x, y) => x - y), opts);
    if (plan === null) return null;
    const c = await refreshCommitment(this.source, base, plan, opts, stats).finally(() => (this.#progress = null));
    if (c === null) return null;
    this.#attach(c);
    this.#base = c;
    if (plan.full) records?.damaged.clear();
    else for (const b of plan.buckets) records?.damaged.delete(b);
    const persisted = logWatermark !== undefined && this.opts.store !== undefined;
    let summary: CommitmentSummary | null = null;
    const steps = (function* (): Generator<void> {
      summary = yield* summarySteps(c, stats);
    })();
    if (!(await sliced(steps, {...opts, onProgress: undefined}, newStats(), idleProgress(false)))) return null;
    if (persisted) {
      this.#written = false;
      this.#writing = this.#writeAfter(c, plan.full ? "all" : plan.buckets, logWatermark, opts).finally(() => (this.#written = true));
    }
    return summary === null ? null : {...(summary as CommitmentSummary), persisted, loadedMs};
  }

  /**
   * Takes over the persisted commitment as the published one, if it is the commitment for
   * `timestamp` and loads whole (no bucket to read again): a new worker replacing one of another
   * size (engine-host.ts) answers from it at once, and its next refresh starts from it. False, and
   * nothing changed, otherwise (or if this engine holds a commitment already).
   */
  async adopt(timestamp: number): Promise<boolean> {
    const store = this.opts.store;
    if (store === undefined || this.#base !== null || this.#published !== null) return false;
    const opts: SliceOptions = {timestamp, sliceBudgetMs: this.opts.sliceBudgetMs, aborted: () => this.#closed, poll: this.opts.poll};
    const loaded = await this.#load(store, opts).finally(() => (this.#progress = null));
    if (loaded === null || loaded.reread.length > 0 || loaded.commitment.timestamp !== timestamp || this.#base !== null) return false;
    this.#attach(loaded.commitment);
    this.#base = loaded.commitment;
    this.#published = loaded.commitment;
    this.#adoptedWatermark = loaded.logWatermark;
    return true;
  }

  /** Lets `c` fetch the records of the buckets it holds as heads only (answers). */
  #attach(c: Commitment): void {
    const records = this.#records;
    if (records !== null) c.resolve = (b, head) => records.resolve(b, head, c.timestamp);
  }

  /**
   * `changed` with the change log's rows after the loaded header's `watermark` up to `logFrom`,
   * which earlier requests carried (RefreshRequest.logFrom); null (a full build) if the source
   * cannot read the log.
   */
  #withEarlierChanges(changed: readonly string[], watermark: number, logFrom: number): readonly string[] | null {
    if (logFrom <= watermark) return changed;
    const earlier = this.source.loggedRows?.(logFrom);
    return earlier === undefined ? null : [...new Set([...earlier.keys(), ...changed])];
  }

  /** The plan of an incremental refresh, made in steps (planSteps); null if the engine closed. */
  async #plan(changed: readonly string[], base: Commitment, reread: readonly number[], opts: SliceOptions): Promise<RefreshPlan | null> {
    let plan: RefreshPlan | null = null;
    const steps = (function* (): Generator<void> {
      plan = yield* planSteps(changed, base, opts.timestamp, reread);
    })();
    return (await sliced(steps, {...opts, onProgress: undefined}, newStats(), idleProgress(false))) ? plan : null;
  }

  /** The persisted commitment, or null (none, unusable, or closing). */
  async #load(store: CommitmentPersistence, opts: SliceOptions): Promise<LoadedCommitment | null> {
    const progress: Progress = {full: false, phase: "load", done: 0, total: 0, messages: 0, elapsedMs: 0};
    let loaded: LoadedCommitment | null = null;
    const steps = (function* (): Generator<void> {
      loaded = yield* loadCommitment(store, progress);
    })();
    if (!(await sliced(steps, opts, newStats(), progress))) return null;
    return loaded;
  }

  /**
   * Writes `c` once the caller has its summary (a turn of the loop later), with the buckets earlier
   * writes left out. Until the header moves a restart loads the previous commitment, with this
   * write's rows (newer than its header) read again and the change log (not trimmed yet) applied.
   */
  async #writeAfter(c: Commitment, rebuilt: readonly number[] | "all", logWatermark: number, opts: SliceOptions): Promise<boolean> {
    const pending = this.#unwritten;
    // `rebuilt` is ascending (RefreshPlan); merged with a failed write's only when there was one.
    const changed = rebuilt === "all" || pending === "all" ? "all" : pending.size === 0 ? rebuilt : Array.from(Uint32Array.from(new Set([...pending, ...rebuilt])).sort());
    this.#unwritten = changed === "all" ? "all" : new Set(changed);
    await new Promise((resolve) => setImmediate(resolve));
    // Not abandoned on close: a shutdown waits for it rather than leave rows to read again at start.
    const written = await this.#save(c, changed, logWatermark, {...opts, aborted: undefined});
    if (written) {
      this.#unwritten = new Set();
      // Its rows and header are on disk: from now on `c` holds their heads only and reads records there.
      let freed = 0;
      const steps = (function* (): Generator<void> {
        freed = yield* keepHeads(c, changed);
      })();
      await sliced(steps, {...opts, aborted: undefined, onProgress: undefined}, newStats(), idleProgress(false));
      this.opts.onRecordsReleased?.(freed, changed === "all");
    }
    return written;
  }

  /** Writes `c` (the buckets `changed` rebuilt); false if it failed or the engine closed. */
  async #save(c: Commitment, changed: readonly number[] | "all", logWatermark: number, opts: SliceOptions): Promise<boolean> {
    const store = this.opts.store;
    if (store === undefined) return false;
    try {
      this.#generation ??= nextGeneration(store);
      const generation = this.#generation;
      // Whatever happens next, rows of this generation may be on disk: the next write takes a newer one.
      this.#generation = generation + 1;
      const progress: Progress = {full: changed === "all", phase: "tree", done: 0, total: 0, messages: 0, elapsedMs: 0};
      // Rows the published commitment still reads are about to be overwritten: their records are pinned first.
      const pin = (list: readonly number[]): void => {
        const held = this.#published;
        if (held !== null && held !== c) this.#records?.pin(held, c, list);
      };
      return await sliced(saveCommitment(store, c, changed, generation, logWatermark, pin), {...opts, onProgress: undefined}, newStats(), progress);
    } catch (err) {
      this.opts.onPersistError?.(err);
      return false;
    }
  }

  /** Resolves once the last refresh's commitment is written (true), or its write failed or was abandoned (false). */
  flushed(): Promise<boolean> {
    return this.#writing;
  }

  publish(timestamp: number): Promise<void> {
    if (this.#base?.timestamp === timestamp) this.#published = this.#base;
    return Promise.resolve();
  }

  find(timestamp: number, messageHash: string, live: LiveLeaf): Promise<CommittedLeaf | null> {
    return Promise.resolve(this.findNow(timestamp, messageHash, live));
  }

  /** `find` synchronously (the worker answers from inside a refresh's step, see `poll`). */
  findNow(timestamp: number, messageHash: string, live: LiveLeaf): CommittedLeaf | null {
    const c = this.#published;
    if (c === null || c.timestamp !== timestamp) return null;
    return committedLeaf(c, messageHash, live);
  }

  progress(): RefreshProgress | null {
    return this.#progress;
  }

  get persistent(): boolean {
    return this.opts.store !== undefined;
  }

  /** The published commitment (tests and benchmarks look inside). */
  get published(): Commitment | null {
    return this.#published;
  }

  /** Stops a running refresh at its next step, and waits for the last refresh's write to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#writing;
  }
}

export function summarize(c: Commitment, stats: RefreshStats): CommitmentSummary {
  return runSteps(summarySteps(c, stats));
}

/** Buckets counted per step of a summary. */
const SUMMARY_STEP = 32_768;

/** `summarize` in steps of SUMMARY_STEP buckets (the worker answers finds between them). */
function* summarySteps(c: Commitment, stats: RefreshStats): Generator<void, CommitmentSummary> {
  const bucketCounts = new Uint32Array(BUCKET_COUNT);
  for (let i = 0; i < BUCKET_COUNT; i++) {
    bucketCounts[i] = (c.buckets[i] as Bucket).count;
    if ((i + 1) % SUMMARY_STEP === 0) yield;
  }
  const {timestamp, root, messageCount, usedBytes} = c;
  return {timestamp, root, messageCount, usedBytes, bucketCounts, stats, persisted: false, loadedMs: 0};
}

/** Progress for steps that report none (planning, summing up). */
const idleProgress = (full: boolean): Progress => ({full, phase: "read", done: 0, total: 0, messages: 0, elapsedMs: 0});

type SliceOptions = Omit<RefreshOptions, "onProgress"> & {readonly onProgress?: (p: RefreshProgress) => void};

function newStats(): RefreshStats {
  return {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
}
