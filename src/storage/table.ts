import type {Statement} from "better-sqlite3";
import type {StorageDb} from "./db.js";
import {StorageError, toStorageError} from "./errors.js";

/**
 * Shared plumbing of the small table classes beside the message store (proofs, replication,
 * retries): prepare a class's SQL once, and run its calls only on an open database with SQLite
 * errors mapped to StorageError codes.
 */
export type PreparedAll<S extends Record<string, string>> = {[K in keyof S]: Statement};

export function prepareAll<S extends Record<string, string>>(db: StorageDb, sql: S): PreparedAll<S> {
  return Object.fromEntries(Object.entries(sql).map(([k, text]) => [k, db.sqlite.prepare(text)])) as PreparedAll<S>;
}

export function runOnOpen<T>(db: StorageDb, fn: () => T): T {
  if (!db.isOpen) throw new StorageError({code: "STORAGE_ERROR_CLOSED"}, "the message store is closed");
  try {
    return fn();
  } catch (err) {
    throw toStorageError(err, 0);
  }
}
