import {ParsError} from "../util/index.js";

/**
 * Failures of the storage module. Match on `err.code`:
 * - `STORAGE_ERROR_FULL`: the effective size limit (the configured one, or less on a smaller disk)
 *   is reached, or SQLite found no room (SQLITE_FULL: the disk, or the page-count backstop); stores
 *   fail, reads, deletes and expiry changes still work. `sizeLimitBytes` is the effective limit.
 * - `STORAGE_ERROR_QUERY_FAILED`: any other SQLite failure; `sqliteCode` is SQLite's code if any.
 * - `STORAGE_ERROR_INVALID_INPUT`: a caller passed a malformed account, hash, token or number.
 * - `STORAGE_ERROR_CLOSED`: a write arrived after `close()` began.
 * - `STORAGE_ERROR_OPEN_FAILED`: the database could not be opened or configured.
 * - `STORAGE_ERROR_SCHEMA_TOO_NEW`: the database was written by a newer version of the node.
 * - `STORAGE_ERROR_MIGRATION_FAILED`: a migration file is malformed or failed to apply.
 */
export type StorageErrorType =
  | {code: "STORAGE_ERROR_FULL"; sizeLimitBytes: number}
  | {code: "STORAGE_ERROR_QUERY_FAILED"; sqliteCode: string | null}
  | {code: "STORAGE_ERROR_INVALID_INPUT"; field: string}
  | {code: "STORAGE_ERROR_CLOSED"}
  | {code: "STORAGE_ERROR_OPEN_FAILED"; path: string}
  | {code: "STORAGE_ERROR_SCHEMA_TOO_NEW"; dbVersion: number; knownVersion: number}
  | {code: "STORAGE_ERROR_MIGRATION_FAILED"; version: number | null; file: string | null};

export type StorageErrorCode = StorageErrorType["code"];

export class StorageError extends ParsError<StorageErrorType> {
  constructor(type: StorageErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "StorageError";
    if (cause !== undefined) this.cause = cause;
  }
}

/** The SQLite result code of a better-sqlite3 error (`SQLITE_FULL`, …), or null. */
export function sqliteCodeOf(err: unknown): string | null {
  if (err instanceof Error && "code" in err && typeof err.code === "string" && err.code.startsWith("SQLITE_")) {
    return err.code;
  }
  return null;
}

/**
 * Maps anything thrown by a query to a StorageError: StorageErrors pass through, SQLITE_FULL (the
 * `max_page_count` backstop or a full disk) becomes STORAGE_ERROR_FULL, the rest QUERY_FAILED.
 */
export function toStorageError(err: unknown, sizeLimitBytes: number): StorageError {
  if (err instanceof StorageError) return err;
  const sqliteCode = sqliteCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (sqliteCode === "SQLITE_FULL") {
    return new StorageError({code: "STORAGE_ERROR_FULL", sizeLimitBytes}, `storage full: ${message}`, err);
  }
  return new StorageError({code: "STORAGE_ERROR_QUERY_FAILED", sqliteCode}, `query failed: ${message}`, err);
}

export function invalidInput(field: string, message: string): StorageError {
  return new StorageError({code: "STORAGE_ERROR_INVALID_INPUT", field}, message);
}
