import type {StoreMetrics} from "../metrics/index.js";
import type {Clock} from "../util/index.js";
import {silentLogger, type Logger} from "../util/index.js";
import {StorageDb, type StateValue} from "./db.js";
import {DiskSpace, type DiskSpaceModules} from "./disk-space.js";
import {StorageError, sqliteCodeOf, toStorageError} from "./errors.js";
import type {ExpireRequest, ExpireResult, MessageStore, NamespacedHash, NamespaceSelector} from "./interface.js";
import type {NewMessage, RetrieveQuery, RetrieveResult, StoreEvents, StoreResult, StoreStats} from "./interface.js";
import type {StoredMessage, Tombstone} from "./interface.js";
import * as reads from "./message-reads.js";
import {hardLimitBytesOf, resolveStorageOptions, type ResolvedStorageOptions, type StorageOptions} from "./options.js";
import {prepareRevocations, SqliteRevocations} from "./revocations.js";
import {prepareStatements, type Statements} from "./statements.js";
import {sqliteSweepBatches, TtlSweeper, type SweepBatches, type SweepResult} from "./ttl-sweeper.js";
import {StoreEventHub} from "./store-events.js";
import {checkTombstones, type AppliedTombstones} from "./tombstones.js";
import {checkExpireRequest, checkHashes, checkInteger, checkMessage, checkMessages} from "./validation.js";
import {checkNamespaceSelector} from "./validation.js";
import {WriteBatcher, type WriteBatcherStats, type WriteOutcome} from "./write-batcher.js";
import {runWriteOp, type WriteOp, type WriteOpContext} from "./write-ops.js";
import {ThreadWriter} from "./writer-thread.js";

export interface SqliteMessageStoreModules {
  clock: Clock;
  logger?: Logger;
  /** Free bytes on the filesystem holding a directory (tests fake a small disk); default statfs. */
  freeBytes?: DiskSpaceModules["freeBytes"];
  /** Group-commit batch sizes and TTL sweeps; null or absent when metrics are off. */
  metrics?: StoreMetrics | null;
  /**
   * With `writerThread`: the writer thread died (writes now fail). Default: once the rejected writes'
   * handlers have run, the error is thrown, so the process's crash handler ends the node loudly
   * (cli: logged at fatal, exit 1).
   */
  onWriterFailed?: (err: StorageError) => void;
}

/** Log a refused store once per this many while the store is full (as Session does). */
const FULL_LOG_EVERY = 100;
const DEFAULT_RANGE_LIMIT = 10_000;

/** Which writes retry once after a SQLITE_FULL freed the disk reserve: those that free space. */
type OnFull = "retry" | "fail";

/**
 * The MessageStore on SQLite: group-committed writes (WriteBatcher), synchronous reads that never
 * see expired rows, a soft size limit checked against pages in use, and a TTL sweeper.
 *
 * Full disks: the soft limit is min(sizeLimitBytes, what the filesystem can hold) (DiskSpace),
 * re-measured after every commit and sweep, so stores stop before the disk is full. Should SQLite
 * still report SQLITE_FULL (another process filled the disk, a burst overshot), the disk reserve is
 * released and deletes and expiry changes retry once; the sweeper retries in smaller batches. The
 * pages they free are reused by later stores without growing the file.
 */
export class SqliteMessageStore implements MessageStore {
  readonly db: StorageDb;
  /** Subaccount revocation state, with the merge and reads replication uses. */
  readonly revocations: SqliteRevocations;
  readonly #opts: ResolvedStorageOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #st: Statements;
  readonly #ctx: WriteOpContext;
  readonly #batcher: WriteBatcher;
  /** The writer thread, when `writerThread` is on (and the database is a file): it runs every write. */
  #thread: ThreadWriter | null = null;
  readonly #sweeper: TtlSweeper;
  readonly #events: StoreEventHub;
  readonly #modules: SqliteMessageStoreModules;
  readonly #disk: DiskSpace | null;
  #usedBytes = 0;
  /**
   * Data bytes of stores accepted since the last flush, not yet in #usedBytes: a burst of stores
   * queued in one turn is held to the limit together, not each against the last commit's figure.
   */
  #pendingBytes = 0;
  /** min(sizeLimitBytes, the disk's capacity), as of the last refresh. */
  #effectiveLimit: number;
  #limitedByDisk = false;
  #refusedWhileFull = 0;
  #closing: Promise<void> | null = null;

  private constructor(opts: ResolvedStorageOptions, db: StorageDb, disk: DiskSpace | null, modules: SqliteMessageStoreModules) {
    this.db = db;
    this.#disk = disk;
    this.#opts = opts;
    this.#effectiveLimit = opts.sizeLimitBytes;
    this.#clock = modules.clock;
    this.#modules = modules;
    this.#logger = modules.logger ?? silentLogger;
    this.#events = new StoreEventHub(this.#logger);
    this.#st = prepareStatements(db.sqlite);
    const rst = prepareRevocations(db);
    this.#ctx = {st: this.#st, rst, clock: this.#clock, mailboxMaxMessages: opts.mailboxMaxMessages};
    this.revocations = new SqliteRevocations(this.#st, rst, {write: (op, check) => this.#write(op, check), read: (fn) => this.#read(fn)});
    this.#batcher = new WriteBatcher(
      {maxBatchWrites: opts.maxBatchWrites, delayMs: opts.commitDelayMs},
      {
        db: db.sqlite,
        mapError: (err) => this.#mapError(err),
        onCommit: (outcomes) => this.#onCommit(outcomes, [outcomes.length]),
        onFlushed: () => {
          this.#pendingBytes = 0;
          this.#refreshUsedBytes();
        },
      },
    );
    const inlineSweeps = sqliteSweepBatches(db.sqlite, this.#st);
    const sweeps: SweepBatches = {
      expired: (cutoff, limit) => (this.#thread ?? inlineSweeps).expired(cutoff, limit),
      owners: (limit) => (this.#thread ?? inlineSweeps).owners(limit),
    };
    this.#sweeper = new TtlSweeper(
      {intervalMs: opts.sweepIntervalMs, batchSize: opts.sweepBatchSize},
      {
        batches: sweeps,
        clock: this.#clock,
        logger: this.#logger,
        onRemoved: (hashes) => {
          modules.metrics?.sweptMessages.inc(hashes.length);
          this.#events.emit("removed", hashes);
        },
        onSwept: () => {
          modules.metrics?.sweeps.inc();
          this.#afterSweep();
        },
        relieveFull: () => this.#relieveFull(),
      },
    );
  }

  /**
   * Opens (creating and migrating) the database, starts the writer thread (`writerThread`, on a
   * database file: an in-memory database has one connection, so it writes inline) and the TTL sweeper.
   */
  static async open(opts: StorageOptions, modules: SqliteMessageStoreModules): Promise<SqliteMessageStore> {
    const store = SqliteMessageStore.#openNow(opts, modules);
    if (store.#opts.writerThread && store.#opts.path !== ":memory:") {
      try {
        store.#thread = await store.#startThread();
      } catch (err) {
        store.db.close();
        throw err;
      }
    }
    store.#sweeper.start();
    return store;
  }

  static #openNow(opts: StorageOptions, modules: SqliteMessageStoreModules): SqliteMessageStore {
    const resolved = resolveStorageOptions(opts);
    const logger = modules.logger ?? silentLogger;
    const disk =
      resolved.path === ":memory:"
        ? null
        : new DiskSpace(
            {dbPath: resolved.path, reserveBytes: resolved.diskReserveBytes, headroomBytes: resolved.diskHeadroomBytes},
            {logger, ...(modules.freeBytes === undefined ? {} : {freeBytes: modules.freeBytes})},
          );
    const db = openDb(resolved, disk, modules.clock.now());
    const store = new SqliteMessageStore(resolved, db, disk, modules);
    if (disk !== null && !disk.holdReserve()) {
      logger.warn({path: disk.reservePath, bytes: resolved.diskReserveBytes, ...disk.facts}, "no room for the disk reserve");
    }
    store.#refreshUsedBytes();
    logger.info(
      {
        path: resolved.path,
        usedBytes: store.#usedBytes,
        sizeLimitBytes: resolved.sizeLimitBytes,
        effectiveSizeLimitBytes: store.#effectiveLimit,
        ...(disk === null ? {} : {diskFreeBytes: disk.facts.freeBytes, diskReserveBytes: disk.facts.reserveHeldBytes}),
        writerThread: resolved.writerThread && resolved.path !== ":memory:",
        ...db.migration,
      },
      "message store opened",
    );
    return store;
  }

  store(message: NewMessage): Promise<StoreResult> {
    return this.#write(
      () => ({t: "store", message}),
      () => {
        checkMessage(message);
        this.#checkNotFull(message.data.length);
      },
      "fail",
      () => message.data.length,
    );
  }

  /**
   * Replication bulk insert: new messages are inserted (no outbox rule, the rolling buffer applies,
   * tombstoned hashes are skipped or capped) and announced as `added`; returns those that were new.
   * Known messages keep their expiry unless `mergeExpiry` (then a later pushed expiry wins).
   */
  storeBulk(messages: StoredMessage[], opts: {mergeExpiry?: boolean} = {}): Promise<StoredMessage[]> {
    let bytes = 0;
    return this.#write(
      () => ({t: "storeBulk", messages, mergeExpiry: opts.mergeExpiry === true}),
      () => {
        checkMessages(messages);
        bytes = messages.reduce((sum, m) => sum + m.data.length, 0);
        this.#checkNotFull(bytes);
      },
      "fail",
      () => bytes,
    );
  }

  /** Replication: merges peers' tombstones and deletes (or caps) the messages they cover. */
  applyTombstones(tombstones: Tombstone[]): Promise<AppliedTombstones> {
    return this.#write(() => ({t: "tombstones", tombstones}), () => checkTombstones(tombstones));
  }

  /** Relocation: deletes messages another swarm has acknowledged; returns the deleted hashes. */
  deleteMoved(hashes: string[]): Promise<string[]> {
    return this.#write(() => ({t: "deleteMoved", hashes}), () => checkHashes(hashes));
  }

  retrieve(query: RetrieveQuery): RetrieveResult {
    return this.#read(() => reads.retrieve(this.#st, this.#clock.now(), query));
  }

  deleteByHashes(account: string, hashes: string[]): Promise<string[]> {
    return this.#write(() => ({t: "deleteByHashes", account, hashes}), () => checkHashes(hashes));
  }

  deleteAll(account: string, namespace: NamespaceSelector): Promise<NamespacedHash[]> {
    return this.#write(
      () => ({t: "deleteAll", account, namespace}),
      () => checkNamespaceSelector(namespace),
    );
  }

  deleteBefore(account: string, namespace: NamespaceSelector, before: number): Promise<NamespacedHash[]> {
    return this.#write(
      () => ({t: "deleteBefore", account, namespace, before}),
      () => {
        checkNamespaceSelector(namespace);
        checkInteger("before", before);
      },
    );
  }

  expireAll(account: string, namespace: NamespaceSelector, expiry: number): Promise<NamespacedHash[]> {
    return this.#write(
      () => ({t: "expireAll", account, namespace, expiry}),
      () => {
        checkNamespaceSelector(namespace);
        checkInteger("expiry", expiry);
      },
    );
  }

  expire(request: ExpireRequest): Promise<ExpireResult> {
    return this.#write(() => ({t: "expire", request}), () => checkExpireRequest(request));
  }

  getExpiries(account: string, hashes: string[]): Map<string, number> {
    return this.#read(() => reads.getExpiries(this.#st, this.#clock.now(), account, hashes));
  }

  revokeSubaccounts(account: string, tokens: Uint8Array[], timestamp = this.#clock.now()): Promise<void> {
    return this.revocations.revoke(account, tokens, timestamp);
  }

  unrevokeSubaccounts(account: string, tokens: Uint8Array[], timestamp = this.#clock.now()): Promise<number> {
    return this.revocations.unrevoke(account, tokens, timestamp);
  }

  isRevoked(account: string, token: Uint8Array): boolean {
    return this.#read(() => reads.isRevoked(this.#st, account, token));
  }

  /** Unexpired hashes with lo <= hash < hi, ascii-sorted, at most `limit` (Merkle buckets). */
  hashesInRange(lo: string, hi: string, limit: number = DEFAULT_RANGE_LIMIT): string[] {
    return this.#read(() => reads.hashesInRange(this.#st, this.#clock.now(), lo, hi, limit));
  }

  isFull(): boolean {
    return this.#usedBytes >= this.#effectiveLimit;
  }

  /**
   * Used bytes and the effective size limit as of the last commit or sweep (refreshed there), with
   * no query: cheap enough for the per-store fee quote. stats() re-reads the database instead.
   */
  usage(): {usedBytes: number; sizeLimitBytes: number} {
    return {usedBytes: this.#usedBytes, sizeLimitBytes: this.#effectiveLimit};
  }

  /** messageCount and accountCount include expired messages the sweeper has not removed yet. */
  stats(): StoreStats {
    return this.#read(() => {
      this.#refreshUsedBytes();
      const counts = this.#st.countMailboxes.get() ?? {messages: 0, accounts: 0};
      const disk = this.#disk?.facts;
      return {
        messageCount: counts.messages,
        accountCount: counts.accounts,
        usedBytes: this.#usedBytes,
        sizeLimitBytes: this.#opts.sizeLimitBytes,
        effectiveSizeLimitBytes: this.#effectiveLimit,
        ...(disk === undefined ? {} : {diskFreeBytes: disk.freeBytes, diskReserveBytes: disk.reserveHeldBytes}),
      };
    });
  }

  /** Runs a TTL sweep now (the timer also does, every sweepIntervalMs). */
  sweepExpired(): Promise<SweepResult> {
    if (this.#closing !== null) return Promise.reject(closedError());
    return this.#sweeper.sweep();
  }

  /** Group-commit counters (transactions committed, writes per transaction). */
  writeStats(): WriteBatcherStats {
    return this.#thread?.stats() ?? this.#batcher.stats();
  }

  /** Whether writes run on the writer thread (`writerThread` on a database file). */
  get writerThread(): boolean {
    return this.#thread !== null;
  }

  /** Tests only: the writer thread dies as a crash would (see ThreadWriter). */
  crashWriterForTest(): void {
    this.#thread?.crashForTest();
  }

  getState(key: string): StateValue | null {
    return this.#read(() => this.db.getState(key));
  }

  setState(key: string, value: StateValue): void {
    this.#read(() => this.db.setState(key, value));
  }

  on<E extends keyof StoreEvents>(event: E, listener: StoreEvents[E]): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof StoreEvents>(event: E, listener: StoreEvents[E]): void {
    this.#events.off(event, listener);
  }

  /** Stops the sweeper, commits every queued write, then closes the database. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#sweeper.stop();
      this.#batcher.drain();
      await this.#thread?.close();
      this.db.close();
      this.#logger.info({path: this.#opts.path}, "message store closed");
    })();
    return this.#closing;
  }

  /**
   * Checks, then queues a write (`op` is built after `check` passed). A SQLITE_FULL from SQLite (the
   * disk, or the page-count backstop) releases the disk reserve; writes that free space (`onFull`
   * "retry": deletes, expiry, tombstones) then run once more, in a later transaction. Stores fail
   * (STORAGE_ERROR_FULL). `bytes`: what `check` reserved in #pendingBytes, for the writer thread.
   */
  #write<T>(op: () => WriteOp, check: () => void, onFull: OnFull = "retry", bytes?: () => number): Promise<T> {
    if (this.#closing !== null) return Promise.reject(closedError());
    let built: WriteOp;
    try {
      check();
      built = op();
    } catch (err) {
      return Promise.reject(this.#mapError(err));
    }
    return (this.#enqueue(built, bytes?.() ?? 0) as Promise<T>).catch((err: unknown) => {
      if ((err as {code?: unknown}).code !== "STORAGE_ERROR_FULL") throw err;
      this.#relieveFull();
      if (onFull === "fail" || this.#closing !== null) throw err;
      return this.#enqueue(built, 0) as Promise<T>;
    });
  }

  #enqueue(op: WriteOp, bytes: number): Promise<unknown> {
    if (this.#thread !== null) return this.#thread.enqueue(op, bytes);
    return this.#batcher.enqueue(() => runWriteOp(this.#ctx, op));
  }

  #startThread(): Promise<ThreadWriter> {
    const o = this.#opts;
    const db = {path: o.path, synchronous: o.synchronous, busyTimeoutMs: o.busyTimeoutMs, hardLimitBytes: hardLimitBytesOf(o), migrationsDir: null};
    return ThreadWriter.start(
      {db, mailboxMaxMessages: o.mailboxMaxMessages, maxBatchWrites: o.maxBatchWrites, delayMs: o.commitDelayMs},
      {
        clock: this.#clock,
        mapError: (err) => this.#mapError(err),
        onCommit: (outcomes, commits) => this.#onCommit(outcomes, commits),
        onFlushed: (reserved) => {
          this.#pendingBytes = Math.max(0, this.#pendingBytes - reserved);
          this.#refreshUsedBytes();
        },
        onFailed: (err) => {
          this.#logger.error({err}, "the storage writer thread died: writes fail until the node restarts");
          const report = this.#modules.onWriterFailed ?? ((e: StorageError) => setImmediate(() => { throw e; }));
          report(err);
        },
      },
    );
  }

  #onCommit(outcomes: Array<WriteOutcome<unknown>>, commits: number[]): void {
    for (const n of commits) this.#modules.metrics?.commitWrites.observe(n);
    this.#events.emitOutcomes(outcomes);
  }

  #read<T>(fn: () => T): T {
    if (!this.db.isOpen) throw closedError();
    try {
      return fn();
    } catch (err) {
      throw this.#mapError(err);
    }
  }

  /** Refuses a store of `bytes` once the used bytes plus those of stores still queued reach the limit. */
  #checkNotFull(bytes: number): void {
    const limit = this.#effectiveLimit;
    if (this.#usedBytes + this.#pendingBytes < limit) {
      this.#pendingBytes += bytes;
      return;
    }
    if (this.#refusedWhileFull++ % FULL_LOG_EVERY === 0) {
      this.#logger.warn(
        {usedBytes: this.#usedBytes, sizeLimitBytes: limit, limitedByDisk: this.#limitedByDisk, refused: this.#refusedWhileFull},
        "storage full: refusing new messages",
      );
    }
    const byDisk = this.#limitedByDisk ? " (limited by the free disk space)" : "";
    throw new StorageError(
      {code: "STORAGE_ERROR_FULL", sizeLimitBytes: limit},
      `storage full: ${this.#usedBytes + this.#pendingBytes} of ${limit} bytes used${byDisk}`,
    );
  }

  #mapError(err: unknown): StorageError {
    const mapped = toStorageError(err, this.#effectiveLimit);
    if (mapped.code === "STORAGE_ERROR_QUERY_FAILED") this.#logger.error({err}, "storage query failed");
    return mapped;
  }

  #refreshUsedBytes(): void {
    if (!this.db.isOpen) return;
    this.#usedBytes = this.db.usedBytes();
    this.#refreshLimit();
  }

  /** effective limit = min(sizeLimitBytes, the disk's capacity); logs when the disk starts or stops setting it. */
  #refreshLimit(): void {
    if (this.#disk === null) return;
    let capacity: number;
    try {
      capacity = this.#disk.measure().capacityBytes;
    } catch (err) {
      // statfs failing (the directory vanished?) leaves the last figure in place.
      this.#logger.warn({err: String(err)}, "cannot measure the free disk space");
      return;
    }
    const limitedByDisk = capacity < this.#opts.sizeLimitBytes;
    this.#effectiveLimit = Math.min(this.#opts.sizeLimitBytes, capacity);
    if (limitedByDisk === this.#limitedByDisk) return;
    this.#limitedByDisk = limitedByDisk;
    const facts = {sizeLimitBytes: this.#opts.sizeLimitBytes, effectiveSizeLimitBytes: this.#effectiveLimit, ...this.#disk.facts};
    if (limitedByDisk) this.#logger.warn(facts, "the free disk space now limits the message store below storage.sizeLimitBytes");
    else this.#logger.info(facts, "the message store is limited by storage.sizeLimitBytes again");
  }

  /**
   * After SQLITE_FULL: releases the disk reserve and checkpoints the WAL (so the next write can
   * reuse it from its start instead of growing it). Returns whether either freed anything.
   */
  #relieveFull(): boolean {
    if (!this.db.isOpen) return false;
    const released = this.#disk?.releaseReserve() ?? 0;
    let walReset = false;
    if (!this.db.sqlite.inTransaction) {
      try {
        const c = this.db.checkpoint();
        walReset = c !== null && c.log > 0 && c.checkpointed === c.log;
      } catch (err) {
        this.#logger.warn({err: String(err)}, "WAL checkpoint failed on a full disk");
      }
    }
    this.#refreshUsedBytes();
    return released > 0 || walReset;
  }

  /** After each sweep: refresh the size figures, and take the disk reserve back once there is room. */
  #afterSweep(): void {
    this.#refreshUsedBytes();
    if (this.#disk !== null && this.db.isOpen && this.#disk.facts.reserveHeldBytes < this.#opts.diskReserveBytes) {
      if (this.#disk.holdReserve()) this.#refreshLimit();
    }
  }
}

/**
 * Opens the database. On a disk so full that opening fails (the WAL and its index need room), a
 * reserve left by an earlier run is released and the open is tried once more.
 */
function openDb(opts: ResolvedStorageOptions, disk: DiskSpace | null, nowMs: number): StorageDb {
  const dbOpts = {
    path: opts.path,
    synchronous: opts.synchronous,
    busyTimeoutMs: opts.busyTimeoutMs,
    hardLimitBytes: hardLimitBytesOf(opts),
    migrationsDir: null,
  };
  try {
    return StorageDb.open(dbOpts, nowMs);
  } catch (err) {
    if (disk === null || !causedByFullDisk(err) || disk.releaseReserve() === 0) throw err;
    return StorageDb.open(dbOpts, nowMs);
  }
}

function causedByFullDisk(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (sqliteCodeOf(e) === "SQLITE_FULL" || (e as {code?: unknown}).code === "ENOSPC") return true;
  }
  return false;
}

function closedError(): StorageError {
  return new StorageError({code: "STORAGE_ERROR_CLOSED"}, "the message store is closed");
}
