import type {Clock} from "../util/clock.js";
import {StorageDb, type StateValue} from "./db.js";
import {StorageError, toStorageError} from "./errors.js";
import type {ExpireRequest, ExpireResult, MessageStore, NamespacedHash, NamespaceSelector} from "./interface.js";
import type {NewMessage, RetrieveQuery, RetrieveResult, StoreEvents, StoreResult, StoreStats} from "./interface.js";
import type {StoredMessage, Tombstone} from "./interface.js";
import {silentLogger, type StorageLogger} from "./logger.js";
import * as reads from "./message-reads.js";
import * as writes from "./message-writes.js";
import {hardLimitBytesOf, resolveStorageOptions, type ResolvedStorageOptions, type StorageOptions} from "./options.js";
import {SqliteRevocations} from "./revocations.js";
import {prepareStatements, type Statements} from "./statements.js";
import {TtlSweeper, type SweepResult} from "./ttl-sweeper.js";
import {StoreEventHub} from "./store-events.js";
import {applyTombstones, checkTombstones, type AppliedTombstones} from "./tombstones.js";
import {checkExpireRequest, checkHashes, checkInteger, checkMessage, checkMessages} from "./validation.js";
import {checkNamespaceSelector} from "./validation.js";
import {WriteBatcher, type WriteBatcherStats, type WriteFn} from "./write-batcher.js";

export interface SqliteMessageStoreModules {
  clock: Clock;
  logger?: StorageLogger;
}

/** Log a refused store once per this many while the store is full (as Session does). */
const FULL_LOG_EVERY = 100;
const DEFAULT_RANGE_LIMIT = 10_000;

/**
 * The MessageStore on SQLite: group-committed writes (WriteBatcher), synchronous reads that never
 * see expired rows, a soft size limit checked against pages in use, and a TTL sweeper.
 */
export class SqliteMessageStore implements MessageStore {
  readonly db: StorageDb;
  /** Subaccount revocation state, with the merge and reads replication uses. */
  readonly revocations: SqliteRevocations;
  readonly #opts: ResolvedStorageOptions;
  readonly #clock: Clock;
  readonly #logger: StorageLogger;
  readonly #st: Statements;
  readonly #ctx: writes.WriteContext;
  readonly #batcher: WriteBatcher;
  readonly #sweeper: TtlSweeper;
  readonly #events: StoreEventHub;
  #usedBytes = 0;
  #refusedWhileFull = 0;
  #closing: Promise<void> | null = null;

  private constructor(opts: ResolvedStorageOptions, db: StorageDb, modules: SqliteMessageStoreModules) {
    this.db = db;
    this.#opts = opts;
    this.#clock = modules.clock;
    this.#logger = modules.logger ?? silentLogger;
    this.#events = new StoreEventHub(this.#logger);
    this.#st = prepareStatements(db.sqlite);
    this.#ctx = {st: this.#st, clock: this.#clock, mailboxMaxMessages: opts.mailboxMaxMessages};
    this.revocations = new SqliteRevocations(db, this.#st, {write: (run, check) => this.#write(run, check), read: (fn) => this.#read(fn)});
    this.#batcher = new WriteBatcher(
      {maxBatchWrites: opts.maxBatchWrites},
      {
        db: db.sqlite,
        mapError: (err) => this.#mapError(err),
        onCommit: (outcomes) => this.#events.emitOutcomes(outcomes),
        onFlushed: () => this.#refreshUsedBytes(),
      },
    );
    this.#sweeper = new TtlSweeper(
      {intervalMs: opts.sweepIntervalMs, batchSize: opts.sweepBatchSize},
      {
        db: db.sqlite,
        st: this.#st,
        clock: this.#clock,
        logger: this.#logger,
        onRemoved: (hashes) => this.#events.emit("removed", hashes),
        onSwept: () => this.#refreshUsedBytes(),
      },
    );
    this.#refreshUsedBytes();
  }

  /** Opens (creating and migrating) the database and starts the TTL sweeper. */
  static open(opts: StorageOptions, modules: SqliteMessageStoreModules): Promise<SqliteMessageStore> {
    // better-sqlite3 is synchronous; the executor turns a throw into a rejection.
    return new Promise((resolve) => resolve(SqliteMessageStore.#openNow(opts, modules)));
  }

  static #openNow(opts: StorageOptions, modules: SqliteMessageStoreModules): SqliteMessageStore {
    const resolved = resolveStorageOptions(opts);
    const db = StorageDb.open(
      {
        path: resolved.path,
        synchronous: resolved.synchronous,
        busyTimeoutMs: resolved.busyTimeoutMs,
        hardLimitBytes: hardLimitBytesOf(resolved),
        migrationsDir: null,
      },
      modules.clock.now(),
    );
    const store = new SqliteMessageStore(resolved, db, modules);
    store.#sweeper.start();
    store.#logger.info({path: resolved.path, usedBytes: store.#usedBytes, ...db.migration}, "message store opened");
    return store;
  }

  store(message: NewMessage): Promise<StoreResult> {
    return this.#write(
      () => writes.storeMessage(this.#ctx, message),
      () => {
        checkMessage(message);
        this.#checkNotFull();
      },
    );
  }

  /**
   * Replication bulk insert: new messages are inserted (no outbox rule, the rolling buffer applies,
   * tombstoned hashes are skipped or capped) and announced as `added`; returns those that were new.
   * Known messages keep their expiry unless `mergeExpiry` (then a later pushed expiry wins).
   */
  storeBulk(messages: StoredMessage[], opts: {mergeExpiry?: boolean} = {}): Promise<StoredMessage[]> {
    return this.#write(
      () => writes.storeBulk(this.#ctx, messages, opts.mergeExpiry === true),
      () => {
        checkMessages(messages);
        this.#checkNotFull();
      },
    );
  }

  /** Replication: merges peers' tombstones and deletes (or caps) the messages they cover. */
  applyTombstones(tombstones: Tombstone[]): Promise<AppliedTombstones> {
    return this.#write(() => applyTombstones(this.#st, tombstones, this.#clock.now()), () => checkTombstones(tombstones));
  }

  /** Relocation: deletes messages another swarm has acknowledged; returns the deleted hashes. */
  deleteMoved(hashes: string[]): Promise<string[]> {
    return this.#write(() => writes.deleteMoved(this.#ctx, hashes), () => checkHashes(hashes));
  }

  retrieve(query: RetrieveQuery): RetrieveResult {
    return this.#read(() => reads.retrieve(this.#st, this.#clock.now(), query));
  }

  deleteByHashes(account: string, hashes: string[]): Promise<string[]> {
    return this.#write(() => writes.deleteByHashes(this.#ctx, account, hashes), () => checkHashes(hashes));
  }

  deleteAll(account: string, namespace: NamespaceSelector): Promise<NamespacedHash[]> {
    return this.#write(
      () => writes.deleteAll(this.#ctx, account, namespace),
      () => checkNamespaceSelector(namespace),
    );
  }

  deleteBefore(account: string, namespace: NamespaceSelector, before: number): Promise<NamespacedHash[]> {
    return this.#write(
      () => writes.deleteBefore(this.#ctx, account, namespace, before),
      () => {
        checkNamespaceSelector(namespace);
        checkInteger("before", before);
      },
    );
  }

  expireAll(account: string, namespace: NamespaceSelector, expiry: number): Promise<NamespacedHash[]> {
    return this.#write(
      () => writes.expireAll(this.#ctx, account, namespace, expiry),
      () => {
        checkNamespaceSelector(namespace);
        checkInteger("expiry", expiry);
      },
    );
  }

  expire(request: ExpireRequest): Promise<ExpireResult> {
    return this.#write(() => writes.expire(this.#ctx, request), () => checkExpireRequest(request));
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
    return this.#usedBytes >= this.#opts.sizeLimitBytes;
  }

  /** messageCount and accountCount include expired messages the sweeper has not removed yet. */
  /**
   * Used bytes as of the last commit or sweep (refreshed there), with no query: cheap enough for the
   * per-store fee quote. stats() re-reads the database instead.
   */
  usage(): {usedBytes: number; sizeLimitBytes: number} {
    return {usedBytes: this.#usedBytes, sizeLimitBytes: this.#opts.sizeLimitBytes};
  }

  stats(): StoreStats {
    return this.#read(() => {
      this.#refreshUsedBytes();
      const counts = this.#st.countMailboxes.get() ?? {messages: 0, accounts: 0};
      return {
        messageCount: counts.messages,
        accountCount: counts.accounts,
        usedBytes: this.#usedBytes,
        sizeLimitBytes: this.#opts.sizeLimitBytes,
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
    return this.#batcher.stats();
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
      this.db.close();
      this.#logger.info({path: this.#opts.path}, "message store closed");
    })();
    return this.#closing;
  }

  #write<T>(run: WriteFn<T>, check: () => void): Promise<T> {
    if (this.#closing !== null) return Promise.reject(closedError());
    try {
      check();
    } catch (err) {
      return Promise.reject(this.#mapError(err));
    }
    return this.#batcher.enqueue(run);
  }

  #read<T>(fn: () => T): T {
    if (!this.db.isOpen) throw closedError();
    try {
      return fn();
    } catch (err) {
      throw this.#mapError(err);
    }
  }

  #checkNotFull(): void {
    if (!this.isFull()) return;
    if (this.#refusedWhileFull++ % FULL_LOG_EVERY === 0) {
      this.#logger.warn(
        {usedBytes: this.#usedBytes, sizeLimitBytes: this.#opts.sizeLimitBytes, refused: this.#refusedWhileFull},
        "storage full: refusing new messages",
      );
    }
    throw new StorageError(
      {code: "STORAGE_ERROR_FULL", sizeLimitBytes: this.#opts.sizeLimitBytes},
      `storage full: ${this.#usedBytes} of ${this.#opts.sizeLimitBytes} bytes used`,
    );
  }

  #mapError(err: unknown): StorageError {
    const mapped = toStorageError(err, this.#opts.sizeLimitBytes);
    if (mapped.code === "STORAGE_ERROR_QUERY_FAILED") this.#logger.error({err}, "storage query failed");
    return mapped;
  }

  #refreshUsedBytes(): void {
    if (this.db.isOpen) this.#usedBytes = this.db.usedBytes();
  }
}

function closedError(): StorageError {
  return new StorageError({code: "STORAGE_ERROR_CLOSED"}, "the message store is closed");
}
