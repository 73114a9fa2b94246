/**
 * The persisted storage-proof commitment (migration 0008, src/proofs/persisted.ts): a header row
 * and one row per bucket record (and its head apart, 0013), written by the commitment engine after each refresh and read
 * back at start, so a restart refreshes from it instead of rebuilding every bucket.
 *
 * The top tree's pages (0012) and the bucket rows are written in short transactions stamped with the
 * new generation, then the header
 * moves to that generation in a last one that also trims the change log; a crash between them
 * leaves rows newer than the header, which a loader rebuilds from the messages. The write lock is
 * never held across the engine's yields, so the store's writer waits at most one short batch.
 */
import Database from "better-sqlite3";
import type {Statement} from "better-sqlite3";
import {toStorageError} from "./errors.js";

export interface CommitmentHeader {
  readonly generation: number;
  readonly timestamp: number;
  readonly root: Buffer;
  readonly messageCount: number;
  /** Change-log rows with id <= this are in the commitment. */
  readonly logWatermark: number;
  /**
   * The top tree's kept levels (src/proofs/top-tree.ts `serialize`) as written before migration
   * 0012; empty when the tree is in `proof_top_pages` under this header's generation.
   */
  readonly top: Buffer;
  /** SHA-256 over every bucket root in bucket order. */
  readonly rootsDigest: Buffer;
}

/** One page of the top tree's bytes (migration 0012), stamped with the generation it was written for. */
export interface StoredTopPage {
  readonly page: number;
  readonly generation: number;
  readonly bytes: Buffer;
}

/** A stored bucket's head: the first 48 bytes of its record, and the record's length. */
export interface StoredHead {
  readonly bucket: number;
  readonly generation: number;
  readonly length: number;
  readonly head: Buffer;
}

/** One stored bucket: its record (empty for an empty bucket), SHA-256 of it, and its generation. */
export interface StoredBucket {
  readonly bucket: number;
  readonly generation: number;
  readonly digest: Buffer;
  readonly record: Buffer;
}

/** Bytes of a record's head (root, smallest expiry, byte total), stored apart for a restart (0013). */
const HEAD_BYTES = 48;

/**
 * Page cache of each of the commitment worker's connections (its reader's and its store's), KiB,
 * for a node of `messages` messages: ~1.6 bytes a message, from 2 MB up to SQLite's 16 MB.
 * better-sqlite3 builds SQLite with a 16 MB default, and a full build and the refreshes fill it
 * (every page read once, in key order): ~40 MB of the 1 M bench's peak RSS for the two connections
 * (docs/benchmarks.md, "Session 10: memory at 1 M"). What the reads use again are the B-trees'
 * inner pages, ~12 MB at 10 M messages: there 2 MB showed no cost the loaded runs could separate
 * from their noise, but a large node, which has the memory, keeps the default.
 */
export function proofPageCacheKiB(messages: number): number {
  return Math.min(MAX_PROOF_CACHE_KIB, Math.max(MIN_PROOF_CACHE_KIB, Math.ceil(messages / 640)));
}
export const MIN_PROOF_CACHE_KIB = 2048;
const MAX_PROOF_CACHE_KIB = 16_000;

/** Sets `sqlite`'s page cache for a node of `messages` messages (proofPageCacheKiB). */
export function sizeProofPageCache(sqlite: Database.Database, messages: number): void {
  sqlite.pragma(`cache_size = -${proofPageCacheKiB(messages)}`);
}

/** `sqlite`'s page cache limit, KiB (cache_size is negative in KiB, or positive in pages). */
export function pageCacheKiB(sqlite: Database.Database): number {
  const pages = sqlite.pragma("cache_size", {simple: true}) as number;
  return pages < 0 ? -pages : (pages * (sqlite.pragma("page_size", {simple: true}) as number)) / 1024;
}

/** The message count of the persisted commitment (0 if none yet, or no such table). */
export function persistedMessageCount(sqlite: Database.Database): number {
  try {
    return (sqlite.prepare("SELECT message_count FROM proof_commitment WHERE id = 1").pluck().get() as number | undefined) ?? 0;
  } catch {
    return 0;
  }
}

const SQL = {
  header: "SELECT generation, timestamp, root, message_count, log_watermark, top, roots_digest FROM proof_commitment WHERE id = 1",
  maxGeneration: "SELECT max(generation) FROM proof_buckets",
  buckets: "SELECT bucket, generation, digest, record FROM proof_buckets WHERE bucket >= ? AND bucket < ? ORDER BY bucket",
  // Migration 0013: each record's first 48 bytes (root, smallest expiry, byte total: src/proofs/bucket.ts) and length.
  heads: "SELECT bucket, generation, length, head FROM proof_bucket_heads WHERE bucket >= ? AND bucket < ? ORDER BY bucket",
  // A JSON array of bucket numbers, ascending: one statement walks their rows in key order.
  records: "SELECT bucket, generation, digest, record FROM proof_buckets WHERE bucket IN (SELECT value FROM json_each(?)) ORDER BY bucket",
  putBucket: "INSERT OR REPLACE INTO proof_buckets (bucket, generation, digest, record) VALUES (?, ?, ?, ?)",
  putHead: "INSERT OR REPLACE INTO proof_bucket_heads (bucket, generation, length, head) VALUES (?, ?, ?, ?)",
  putHeader:
    "INSERT OR REPLACE INTO proof_commitment (id, generation, timestamp, root, message_count, log_watermark, top, roots_digest) " +
    "VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
  dropOlder: "DELETE FROM proof_buckets WHERE generation < ?",
  dropOlderHeads: "DELETE FROM proof_bucket_heads WHERE generation < ?",
  topPages: "SELECT page, generation, bytes FROM proof_top_pages ORDER BY page",
  putTopPage: "INSERT OR REPLACE INTO proof_top_pages (page, generation, bytes) VALUES (?, ?, ?)",
  trimLog: "DELETE FROM proof_change_log WHERE id <= ?",
} as const;

export class CommitmentStore {
  readonly #sqlite: Database.Database;
  readonly #st: {[K in keyof typeof SQL]: Statement};
  readonly #putBuckets: (generation: number, rows: ReadonlyArray<{bucket: number; digest: Buffer; record: Buffer}>) => void;
  readonly #commit: (h: CommitmentHeader, full: boolean) => void;
  readonly #owned: boolean;

  /** @param owned close `sqlite` with the store (a connection `open` made) */
  constructor(sqlite: Database.Database, owned = false) {
    this.#sqlite = sqlite;
    this.#owned = owned;
    this.#st = Object.fromEntries(Object.entries(SQL).map(([k, text]) => [k, sqlite.prepare(text)])) as {[K in keyof typeof SQL]: Statement};
    this.#putBuckets = sqlite.transaction((generation: number, rows: ReadonlyArray<{bucket: number; digest: Buffer; record: Buffer}>) => {
      for (const r of rows) {
        this.#st.putBucket.run(r.bucket, generation, r.digest, r.record);
        this.#st.putHead.run(r.bucket, generation, r.record.length, r.record.subarray(0, HEAD_BYTES));
      }
    });
    this.#commit = sqlite.transaction((h: CommitmentHeader, full: boolean) => {
      this.#st.putHeader.run(h.generation, h.timestamp, h.root, h.messageCount, h.logWatermark, h.top, h.rootsDigest);
      if (full) {
        this.#st.dropOlder.run(h.generation);
        this.#st.dropOlderHeads.run(h.generation);
      }
      this.#st.trimLog.run(h.logWatermark);
    });
  }

  /** A store on its own connection to the database file at `path` (the commitment worker's). */
  static open(path: string, busyTimeoutMs: number): CommitmentStore {
    try {
      const sqlite = new Database(path, {fileMustExist: true, timeout: busyTimeoutMs});
      sizeProofPageCache(sqlite, persistedMessageCount(sqlite));
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = NORMAL");
      return new CommitmentStore(sqlite, true);
    } catch (err) {
      throw toStorageError(err, 0);
    }
  }

  /** Sizes the page cache for a node of `messages` messages (a connection `open` made: after each refresh). */
  sizePageCache(messages: number): void {
    if (this.#owned) sizeProofPageCache(this.#sqlite, messages);
  }

  /** The connection's page cache limit, KiB (proofPageCacheKiB of the node's size on a connection `open` made). */
  pageCacheKiB(): number {
    return pageCacheKiB(this.#sqlite);
  }

  header(): CommitmentHeader | null {
    type Row = [number, number, Buffer, number, number, Buffer, Buffer];
    const r = this.#run(() => this.#st.header.raw().get() as Row | undefined);
    if (r === undefined) return null;
    return {generation: r[0], timestamp: r[1], root: r[2], messageCount: r[3], logWatermark: r[4], top: r[5], rootsDigest: r[6]};
  }

  /** The highest generation any bucket row carries (0 if none): the next write must exceed it. */
  maxGeneration(): number {
    return this.#run(() => (this.#st.maxGeneration.pluck().get() as number | null) ?? 0);
  }

  /** Stored buckets with lo <= bucket < hi, ascending (a loader pages through them). */
  buckets(lo: number, hi: number): StoredBucket[] {
    type Row = [number, number, Buffer, Buffer];
    return this.#run(() => (this.#st.buckets.raw().all(lo, hi) as Row[]).map((r) => ({bucket: r[0], generation: r[1], digest: r[2], record: r[3]})));
  }

  /** The heads of the stored buckets with lo <= bucket < hi, ascending (a restart loads only these). */
  heads(lo: number, hi: number): StoredHead[] {
    type Row = [number, number, number, Buffer | null];
    return this.#run(() => (this.#st.heads.raw().all(lo, hi) as Row[]).map((r) => ({bucket: r[0], generation: r[1], length: r[2], head: r[3] ?? Buffer.alloc(0)})));
  }

  /** The stored rows of `buckets` (ascending numbers), ascending; a bucket without a row is left out. */
  records(buckets: readonly number[]): StoredBucket[] {
    type Row = [number, number, Buffer, Buffer];
    return this.#run(() => (this.#st.records.raw().all(JSON.stringify(buckets)) as Row[]).map((r) => ({bucket: r[0], generation: r[1], digest: r[2], record: r[3]})));
  }

  /** Every stored page of the top tree, ascending. */
  topPages(): StoredTopPage[] {
    type Row = [number, number, Buffer];
    return this.#run(() => (this.#st.topPages.raw().all() as Row[]).map((r) => ({page: r[0], generation: r[1], bytes: r[2]})));
  }

  /** Writes one page of the top tree stamped with `generation` (its own short transaction). */
  putTopPage(page: number, generation: number, bytes: Buffer): void {
    this.#run(() => this.#st.putTopPage.run(page, generation, bytes));
  }

  /** Writes bucket rows stamped with `generation` in one transaction. */
  putBuckets(generation: number, rows: ReadonlyArray<{bucket: number; digest: Buffer; record: Buffer}>): void {
    this.#run(() => this.#putBuckets(generation, rows));
  }

  /**
   * Makes `header` the persisted commitment and trims the change log up to its watermark, in one
   * transaction; `full` also drops the rows of older generations (buckets now empty).
   */
  commit(header: CommitmentHeader, full: boolean): void {
    this.#run(() => this.#commit(header, full));
  }

  /** Closes the connection if this store opened it (`open`). */
  close(): void {
    if (this.#owned && this.#sqlite.open) this.#sqlite.close();
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStorageError(err, 0);
    }
  }
}
