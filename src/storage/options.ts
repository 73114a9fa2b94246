import {CONFIG_DEFAULTS} from "../config/index.js";
import {InvalidArgumentError} from "../util/index.js";

/** Session uses 15 s; a single-connection process only waits on other processes (backups, CLI). */
export const DEFAULT_BUSY_TIMEOUT_MS = 15_000;
/** Writes per group-commit transaction before the batcher flushes without waiting for the turn. */
export const DEFAULT_MAX_BATCH_WRITES = 1_000;
/** Minimum headroom between the soft size limit and the SQLite `max_page_count` backstop. */
export const MIN_HARD_LIMIT_MARGIN_BYTES = 128 * 1024 ** 2;

/** Every storage setting but the path; `defaultStorageOptions` has a value for each. */
export interface StorageTuning {
  /**
   * `isFull()` once the pages in use reach this many bytes, or what the filesystem can hold (the
   * effective limit, see diskHeadroomBytes) if that is less; stores then fail.
   */
  sizeLimitBytes: number;
  /** Size of the disk reserve file (`storage.reserve` beside the database); 0 = none. */
  diskReserveBytes: number;
  /**
   * Free space kept on the filesystem beyond the reserve: the effective size limit is
   * min(sizeLimitBytes, database file + free space − reserve − headroom).
   */
  diskHeadroomBytes: number;
  /**
   * SQLite `max_page_count` backstop in bytes; null → sizeLimitBytes + max(1/16 of it, 128 MiB).
   * Must leave room for what one flush can add past the soft limit (maxBatchWrites × 76.8 KB).
   */
  hardLimitBytes: number | null;
  /** Rolling buffer per (account, namespace): the oldest messages are evicted beyond this. */
  mailboxMaxMessages: number;
  /**
   * SQLite `synchronous` in WAL mode. normal: a committed write survives the process being killed
   * (kill -9, crash) but the last commits may be lost on power loss or an OS crash. full: the WAL
   * is fsynced at every commit, so commits also survive power loss, at a large write-rate cost.
   */
  synchronous: "normal" | "full";
  /** Period of the TTL sweeper; 0 disables the timer (tests call `sweepExpired()`). */
  sweepIntervalMs: number;
  /** Expired rows deleted per sweeper transaction. */
  sweepBatchSize: number;
  busyTimeoutMs: number;
  /** Group-commit cap: a flush happens as soon as this many writes are queued. */
  maxBatchWrites: number;
  /**
   * How long the first write of a group commit waits for others, in ms; 0: until the end of the
   * event-loop turn. With `signing.maxBatchDelayMs` 0 the receipts of one commit are then signed
   * together at once, so the batching wait comes before the commit instead of after it.
   */
  commitDelayMs: number;
  /**
   * Run every message-store write (the group commit) on a worker thread with its own connection;
   * reads stay on the main thread's connection. Ignored for ":memory:" (one connection only).
   */
  writerThread: boolean;
}

/** What `SqliteMessageStore.open` takes: a path, and any settings to override (undefined = default). */
export interface StorageOptions extends Partial<StorageTuning> {
  /** Database file (its parent directory is created), or ":memory:". */
  path: string;
}

export interface ResolvedStorageOptions extends StorageTuning {
  path: string;
}

/**
 * The settings that are config settings (`storage.*`: size limit, disk reserve and headroom,
 * mailbox size, synchronous, sweep period and batch) default to the schema's values
 * (config/schema.ts); the others are tuning for tests and tools.
 */
export const defaultStorageOptions: Readonly<StorageTuning> = {
  ...CONFIG_DEFAULTS.storage,
  hardLimitBytes: null,
  busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS,
  maxBatchWrites: DEFAULT_MAX_BATCH_WRITES,
};

/** Fills unset (or undefined) settings from the defaults, then validates (INVALID_ARGUMENT). */
export function resolveStorageOptions(opts: StorageOptions): ResolvedStorageOptions {
  const resolved: ResolvedStorageOptions = {...defaultStorageOptions, path: opts.path};
  for (const key of Object.keys(defaultStorageOptions) as Array<keyof StorageTuning>) {
    if (opts[key] !== undefined) Object.assign(resolved, {[key]: opts[key]});
  }
  validateStorageOptions(resolved);
  return resolved;
}

/** The SQLite page-count backstop in bytes. */
export function hardLimitBytesOf(opts: ResolvedStorageOptions): number {
  if (opts.hardLimitBytes !== null) return opts.hardLimitBytes;
  return opts.sizeLimitBytes + Math.max(Math.floor(opts.sizeLimitBytes / 16), MIN_HARD_LIMIT_MARGIN_BYTES);
}

/** Throws INVALID_ARGUMENT on the first bad option. */
export function validateStorageOptions(opts: ResolvedStorageOptions): void {
  if (typeof opts.path !== "string" || opts.path === "") {
    throw new InvalidArgumentError("storage.path must be a non-empty string");
  }
  positiveInteger("storage.sizeLimitBytes", opts.sizeLimitBytes);
  nonNegativeInteger("storage.diskReserveBytes", opts.diskReserveBytes);
  nonNegativeInteger("storage.diskHeadroomBytes", opts.diskHeadroomBytes);
  if (opts.hardLimitBytes !== null) positiveInteger("storage.hardLimitBytes", opts.hardLimitBytes);
  positiveInteger("storage.mailboxMaxMessages", opts.mailboxMaxMessages);
  if (opts.synchronous !== "normal" && opts.synchronous !== "full") {
    throw new InvalidArgumentError('storage.synchronous must be "normal" or "full"');
  }
  if (!Number.isSafeInteger(opts.sweepIntervalMs) || opts.sweepIntervalMs < 0) {
    throw new InvalidArgumentError("storage.sweepIntervalMs must be a non-negative integer (0 disables)");
  }
  positiveInteger("storage.sweepBatchSize", opts.sweepBatchSize);
  if (!Number.isSafeInteger(opts.busyTimeoutMs) || opts.busyTimeoutMs < 0) {
    throw new InvalidArgumentError("storage.busyTimeoutMs must be a non-negative integer");
  }
  positiveInteger("storage.maxBatchWrites", opts.maxBatchWrites);
  if (!Number.isFinite(opts.commitDelayMs) || opts.commitDelayMs < 0 || opts.commitDelayMs > 2_147_483_647) {
    throw new InvalidArgumentError("storage.commitDelayMs must be a number of milliseconds from 0 to 2147483647");
  }
}

function nonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  }
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer`);
  }
}
