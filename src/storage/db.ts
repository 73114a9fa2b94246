import {mkdirSync} from "node:fs";
import {dirname} from "node:path";
import Database from "better-sqlite3";
import {StorageError} from "./errors.js";
import {defaultMigrationsDir, loadMigrations, runMigrations, type MigrationReport} from "./migrations.js";

/** `PRAGMA wal_checkpoint`'s row: `log` frames in the WAL, `checkpointed` of them copied back. */
export interface WalCheckpoint {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * After a checkpoint resets the WAL, SQLite truncates a larger WAL file to this size: a WAL that
 * grew (long readers, a big transaction) gives its space back instead of keeping it for good.
 * Twice the default auto-checkpoint size (1,000 pages of 4 KiB).
 */
export const WAL_SIZE_LIMIT_BYTES = 8 * 1024 ** 2;

/** Values `state_kv` holds (a STRICT table with an ANY column keeps the type). */
export type StateValue = string | number | Buffer;

export interface StorageDbOptions {
  /** Database file (its parent directory is created), or ":memory:". */
  path: string;
  /** See StorageTuning.synchronous: normal survives kill -9, full also power loss. */
  synchronous: "normal" | "full";
  busyTimeoutMs: number;
  /** `max_page_count` backstop in bytes: writes past it fail with SQLITE_FULL. */
  hardLimitBytes: number;
  /** null → the package's `migrations/` directory. */
  migrationsDir: string | null;
}

/**
 * An open, migrated SQLite database: WAL journal, foreign keys on, a busy timeout, and a page
 * limit as the last line of defence behind the store's soft size limit. Storage-internal: code
 * outside src/storage/ only uses `getState`/`setState`.
 */
export class StorageDb {
  readonly sqlite: Database.Database;
  readonly pageSize: number;
  readonly migration: MigrationReport;
  readonly #usedBytes: Database.Statement<[], {used: number}>;
  readonly #checkpoint: Database.Statement<[], WalCheckpoint>;
  readonly #getState: Database.Statement<[string], {value: StateValue}>;
  readonly #setState: Database.Statement<[string, StateValue]>;

  private constructor(sqlite: Database.Database, migration: MigrationReport) {
    this.sqlite = sqlite;
    this.migration = migration;
    this.pageSize = sqlite.pragma("page_size", {simple: true}) as number;
    this.#usedBytes = sqlite.prepare(
      "SELECT (SELECT page_count FROM pragma_page_count()) - " +
        "(SELECT freelist_count FROM pragma_freelist_count()) AS used",
    );
    this.#checkpoint = sqlite.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    this.#getState = sqlite.prepare("SELECT value FROM state_kv WHERE key = ?");
    this.#setState = sqlite.prepare(
      "INSERT INTO state_kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
  }

  /** Opens (creating if needed), configures and migrates the database. Synchronous. */
  static open(opts: StorageDbOptions, nowMs: number): StorageDb {
    const sqlite = openConfigured(opts);
    try {
      const dir = opts.migrationsDir ?? defaultMigrationsDir();
      const migration = runMigrations(sqlite, loadMigrations(dir), nowMs);
      return new StorageDb(sqlite, migration);
    } catch (err) {
      sqlite.close();
      throw err;
    }
  }

  /** Bytes of the database in use: (page_count − freelist_count) × page_size. */
  usedBytes(): number {
    const row = this.#usedBytes.get();
    return (row?.used ?? 0) * this.pageSize;
  }

  /**
   * A passive WAL checkpoint (never waits for readers): once every frame is back in the database
   * file, the next write starts the WAL from its beginning again instead of growing it. Returns
   * the frames copied, or null for an in-memory database. Throws what SQLite throws.
   */
  checkpoint(): WalCheckpoint | null {
    return this.#checkpoint.get() ?? null;
  }

  /** The value stored under `key`, or null. */
  getState(key: string): StateValue | null {
    return this.#getState.get(key)?.value ?? null;
  }

  /** Autocommit write; meant for rare node metadata such as the network ID. */
  setState(key: string, value: StateValue): void {
    this.#setState.run(key, value);
  }

  get isOpen(): boolean {
    return this.sqlite.open;
  }

  /**
   * Runs `PRAGMA optimize` (as SQLite advises for long-lived connections), then closes. optimize
   * only refreshes planner statistics, so its failure (SQLITE_FULL on a full disk) does not stop
   * the close; closing itself checkpoints what it can and leaves the WAL for the next open.
   */
  close(): void {
    if (!this.sqlite.open) return;
    try {
      this.sqlite.pragma("optimize");
    } catch {
      // Nothing is lost: the statistics are refreshed at the next close.
    }
    this.sqlite.close();
  }
}

function openConfigured(opts: StorageDbOptions): Database.Database {
  let sqlite: Database.Database | null = null;
  try {
    if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), {recursive: true});
    sqlite = new Database(opts.path, {timeout: opts.busyTimeoutMs});
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma(`synchronous = ${opts.synchronous === "full" ? "FULL" : "NORMAL"}`);
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    const pageSize = sqlite.pragma("page_size", {simple: true}) as number;
    sqlite.pragma(`max_page_count = ${Math.ceil(opts.hardLimitBytes / pageSize)}`);
    return sqlite;
  } catch (err) {
    sqlite?.close();
    const message = err instanceof Error ? err.message : String(err);
    throw new StorageError({code: "STORAGE_ERROR_OPEN_FAILED", path: opts.path}, `cannot open ${opts.path}: ${message}`, err);
  }
}
