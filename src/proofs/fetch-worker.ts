/**
 * A helper thread that reads a large refresh's old records ahead of its merge (`RecordFetcher`).
 * A refresh after 100,000 changes at 10 M messages merges into ~83,000 records held on disk
 * (persisted.ts `DiskRecords`); reading them on the engine's thread (~170 MB, 256 rows a
 * statement) took ~2.5 s of a ~10 s refresh (docs/benchmarks.md, "Session 9: churn at 10 M").
 * Here a second connection reads them in the order the merge takes them while the engine merges
 * and hashes the ones before, so on a second core the read leaves the refresh's path.
 *
 * The job is split in batches (one statement each), each claimed once through a shared flag: the
 * engine claims them from the front as its merge reaches them and reads one itself if the helper
 * has not claimed it; the helper claims from the back and stops where it meets the engine. The
 * engine never waits: a batch the helper claimed but has not delivered yet (where they meet, or
 * the helper stalled: its connection busy, descheduled on a loaded machine) it reads itself, and
 * drops the helper's copy. So at most that one batch is read twice. (Claiming
 * from the front as well, the helper a few batches ahead, made the engine wait on the helper's
 * every batch under load: the engine's thread CPU fell but the wall time doubled at load 10.) The
 * batches read early are no extra memory at the refresh's end: every old record it reads stays
 * pinned while the published commitment holds its head (persisted.ts). A batch's rows travel as
 * one transferred buffer (records end to end, then their digests), taken synchronously inside a
 * refresh's step (`take`).
 * The rows are the same as the engine's own read would give: the helper changes when a row is
 * read, never which (persisted.ts checks each against its head as before).
 */
import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {MessageChannel, receiveMessageOnPort, Worker, isMainThread, workerData, type MessagePort} from "node:worker_threads";
import Database from "better-sqlite3";
import {CommitmentStore, type StoredBucket} from "../storage/index.js";

/** What the helper is started with. */
interface FetchWorkerData {
  readonly role: "fetch-records";
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly port: MessagePort;
}

/** A job: read `buckets` (in this order) `batch` at a time. */
interface FetchJob {
  readonly job: number;
  readonly buckets: Uint32Array;
  readonly batch: number;
  /** Int32 [cancelled, batches the helper posted, then per batch who claimed it: 0 nobody, ENGINE or HELPER]. */
  readonly shared: SharedArrayBuffer;
}

/** One batch's rows: `bytes` holds the records end to end, then a 32-byte digest each. */
interface FetchedBatch {
  readonly job: number;
  readonly index: number;
  readonly buckets: Uint32Array;
  readonly generations: Float64Array;
  readonly lengths: Uint32Array;
  readonly bytes: ArrayBuffer;
}

/**
 * Records a refresh must fetch for a helper to be started: ~1.5 s of reads at 10 M messages
 * (~20,000 records a second), against the ~50 ms a worker takes to start. A 1 % refresh
 * (~2,600 buckets) reads its few alone, and no helper stands beside the commitment otherwise.
 */
export const PREFETCH_MIN_RECORDS = 16_384;

const DIGEST_BYTES = 32;
const CANCELLED = 0;
const POSTED = 1;
/** Index of batch 0's claim flag. */
const FLAGS = 2;
const ENGINE = 1;
const HELPER = 2;

/** The current job on the engine's side. */
interface Job {
  readonly id: number;
  readonly buckets: Uint32Array;
  readonly batch: number;
  readonly shared: Int32Array;
  /** Batch index by bucket. */
  readonly batchOf: Map<number, number>;
  /** Rows of the batches taken (null: asked for, no row), until `take` hands them out. */
  readonly rows: Map<number, StoredBucket | null>;
  readonly received: Set<number>;
}

/**
 * The engine's side: `start` hands the helper the buckets a refresh will fetch, in the order it
 * fetches them; `take` gives the stored rows of some of them, synchronously.
 */
export class RecordFetcher {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  #job: Job | null = null;
  #jobs = 0;
  #dead = false;
  /** Batches the helper read, and the engine read itself, over this fetcher's life (tests, benchmarks). */
  readonly counts = {helper: 0, engine: 0};

  private constructor(worker: Worker, port: MessagePort) {
    this.#worker = worker;
    this.#port = port;
    worker.on("error", () => (this.#dead = true));
    worker.on("exit", () => (this.#dead = true));
    // The helper must not keep a process (or the engine's worker) alive on its own.
    worker.unref();
  }

  /** Starts the helper on its own read-only connection to the database at `path`. */
  static open(path: string, busyTimeoutMs: number): RecordFetcher {
    const {port1, port2} = new MessageChannel();
    const data: FetchWorkerData = {role: "fetch-records", path, busyTimeoutMs, port: port2};
    const worker = new Worker(fetchWorkerUrl(), {workerData: data, transferList: [port2], resourceLimits: {maxYoungGenerationSizeMb: 4}});
    return new RecordFetcher(worker, port1);
  }

  /** Drops any earlier job and has the helper read `buckets` in this order, `batch` a statement. */
  start(buckets: readonly number[], batch: number): void {
    this.end();
    if (this.#dead || buckets.length === 0) return;
    const shared = new SharedArrayBuffer(4 * (FLAGS + Math.ceil(buckets.length / batch)));
    const job: Job = {id: ++this.#jobs, buckets: Uint32Array.from(buckets), batch, shared: new Int32Array(shared), batchOf: new Map(), rows: new Map(), received: new Set()};
    buckets.forEach((b, i) => job.batchOf.set(b, Math.floor(i / batch)));
    this.#job = job;
    this.#port.postMessage({job: job.id, buckets: job.buckets, batch, shared} satisfies FetchJob);
  }

  /**
   * The stored rows of `buckets` (ascending, as `CommitmentPersistence.records` gives them): those
   * of the job from its batches, the helper's or read here with `read` when nobody claimed them
   * yet; any other with `read`.
   */
  take(buckets: readonly number[], read: (buckets: readonly number[]) => StoredBucket[]): StoredBucket[] {
    const out: StoredBucket[] = [];
    const rest: number[] = [];
    const job = this.#job;
    for (const b of buckets) {
      const index = job?.batchOf.get(b);
      if (job === null || index === undefined) {
        rest.push(b);
        continue;
      }
      if (!job.received.has(index)) this.#await(job, index, read);
      const row = job.rows.get(b);
      job.rows.delete(b);
      if (row === undefined) rest.push(b);
      else if (row !== null) out.push(row);
    }
    if (rest.length > 0) out.push(...read(rest));
    return out.sort((x, y) => x.bucket - y.bucket);
  }

  /** Batches the helper has posted for the current job (tests wait for its read-ahead). */
  get posted(): number {
    return this.#job === null ? 0 : Atomics.load(this.#job.shared, POSTED);
  }

  /** Drops the current job: the helper stops at its next batch, and what it read is let go. */
  end(): void {
    const job = this.#job;
    if (job === null) return;
    this.#job = null;
    Atomics.store(job.shared, CANCELLED, 1);
    // Batches already posted are taken off the port and dropped.
    while (receiveMessageOnPort(this.#port) !== undefined);
  }

  /** Stops the helper (the engine is done with it). */
  async close(): Promise<void> {
    this.end();
    this.#dead = true;
    this.#port.close();
    await this.#worker.terminate();
  }

  /** Makes batch `index` of `job` received: claimed here and read with `read`, or the helper's, waited for. */
  #await(job: Job, index: number, read: (buckets: readonly number[]) => StoredBucket[]): void {
    if (Atomics.compareExchange(job.shared, FLAGS + index, 0, ENGINE) !== 0) {
      // The helper's: taken if it has arrived (with any other batch waiting on the port).
      for (let msg = receiveMessageOnPort(this.#port); msg !== undefined; msg = receiveMessageOnPort(this.#port)) {
        // A batch of an ended job may still arrive: dropped.
        if ((msg.message as FetchedBatch).job === job.id) this.#add(job, msg.message as FetchedBatch);
      }
      if (job.received.has(index)) return;
    }
    // Nobody's, or the helper is still reading it (where they meet, or the helper stalled): read here
    // rather than wait (its copy, when it comes, is dropped).
    this.#readHere(job, index, read);
  }

  #readHere(job: Job, index: number, read: (buckets: readonly number[]) => StoredBucket[]): void {
    const asked = Array.from(job.buckets.subarray(index * job.batch, (index + 1) * job.batch)).sort((x, y) => x - y);
    for (const b of asked) job.rows.set(b, null);
    for (const row of read(asked)) job.rows.set(row.bucket, row);
    job.received.add(index);
    this.counts.engine++;
  }

  #add(job: Job, m: FetchedBatch): void {
    if (job.received.has(m.index)) return;
    const bytes = Buffer.from(m.bytes);
    for (const b of job.buckets.subarray(m.index * job.batch, (m.index + 1) * job.batch)) job.rows.set(b, null);
    let at = 0;
    let digests = 0;
    for (const length of m.lengths) digests += length;
    for (let i = 0; i < m.buckets.length; i++) {
      const length = m.lengths[i] as number;
      const digest = bytes.subarray(digests + i * DIGEST_BYTES, digests + (i + 1) * DIGEST_BYTES);
      job.rows.set(m.buckets[i] as number, {bucket: m.buckets[i] as number, generation: m.generations[i] as number, digest, record: bytes.subarray(at, at + length)});
      at += length;
    }
    job.received.add(m.index);
    this.counts.helper++;
  }
}

/** The helper: reads each job's batches from the last, as long as it claims them first, on a read-only connection. */
function serve(data: FetchWorkerData): void {
  const sqlite = new Database(data.path, {readonly: true, fileMustExist: true, timeout: data.busyTimeoutMs});
  const store = new CommitmentStore(sqlite, true);
  data.port.on("message", (job: FetchJob) => {
    const shared = new Int32Array(job.shared);
    for (let index = Math.ceil(job.buckets.length / job.batch) - 1; index >= 0 && Atomics.load(shared, CANCELLED) === 0; index--) {
      // Claimed by the engine: it has reached the helper, and read every batch before this one.
      if (Atomics.compareExchange(shared, FLAGS + index, 0, HELPER) !== 0) break;
      const asked = Array.from(job.buckets.subarray(index * job.batch, (index + 1) * job.batch)).sort((x, y) => x - y);
      const batch = packed(job.job, index, store.records(asked));
      data.port.postMessage(batch, [batch.bytes]);
      Atomics.add(shared, POSTED, 1);
      Atomics.notify(shared, POSTED);
    }
  });
}

/** `rows` as one buffer to transfer (a structured clone of ~256 Buffers would copy each apart). */
function packed(job: number, index: number, rows: readonly StoredBucket[]): FetchedBatch {
  let total = 0;
  for (const r of rows) total += r.record.length + DIGEST_BYTES;
  const bytes = new ArrayBuffer(total);
  const out = new Uint8Array(bytes);
  const lengths = new Uint32Array(rows.length);
  let at = 0;
  rows.forEach((r, i) => {
    out.set(r.record, at);
    at += r.record.length;
    lengths[i] = r.record.length;
  });
  for (const r of rows) {
    // A digest of another length would not check out anyway (persisted.ts): zeros keep the layout.
    if (r.digest.length === DIGEST_BYTES) out.set(r.digest, at);
    at += DIGEST_BYTES;
  }
  return {job, index, buckets: Uint32Array.from(rows, (r) => r.bucket), generations: Float64Array.from(rows, (r) => r.generation), lengths, bytes};
}

/** This module compiled (under the test runner, the build in dist/, as engine-host.ts `workerUrl`). */
function fetchWorkerUrl(): URL {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith(".ts")) return here;
  const built = new URL(here.href.replace(/\/src\/proofs\/fetch-worker\.ts$/, "/dist/src/proofs/fetch-worker.js"));
  if (!existsSync(fileURLToPath(built))) throw new Error(`${fileURLToPath(built)} is missing: run npm run build`);
  return built;
}

if (!isMainThread && (workerData as Partial<FetchWorkerData> | null)?.role === "fetch-records") serve(workerData as FetchWorkerData);
