import Database from "better-sqlite3";
import {StorageError, type StorageErrorType} from "./errors.js";
import type {ExpireRequest, NamespaceSelector, NewMessage, StoredMessage, Tombstone} from "./interface.js";
import * as writes from "./message-writes.js";
import {applyRevocations, deleteRevocations, type RevocationOp, type RevocationStatements} from "./revocations.js";
import {applyTombstones} from "./tombstones.js";
import type {WriteOutcome} from "./write-batcher.js";

/**
 * Every write of the message store as data, not a closure: the same op runs inline on the main
 * thread's connection or is posted to the writer thread (writer-thread.ts), so both modes run the
 * very same functions of message-writes.ts, tombstones.ts and revocations.ts.
 */
export type WriteOp =
  | {t: "store"; message: NewMessage}
  | {t: "storeBulk"; messages: StoredMessage[]; mergeExpiry: boolean}
  | {t: "tombstones"; tombstones: Tombstone[]}
  | {t: "deleteMoved"; hashes: string[]}
  | {t: "deleteByHashes"; account: string; hashes: string[]}
  | {t: "deleteAll"; account: string; namespace: NamespaceSelector}
  | {t: "deleteBefore"; account: string; namespace: NamespaceSelector; before: number}
  | {t: "expireAll"; account: string; namespace: NamespaceSelector; expiry: number}
  | {t: "expire"; request: ExpireRequest}
  | RevocationOp;

export interface WriteOpContext extends writes.WriteContext {
  rst: RevocationStatements;
}

/** Runs one op inside the caller's transaction (a group-commit savepoint). */
export function runWriteOp(ctx: WriteOpContext, op: WriteOp): WriteOutcome<unknown> {
  switch (op.t) {
    case "store":
      return writes.storeMessage(ctx, op.message);
    case "storeBulk":
      return writes.storeBulk(ctx, op.messages, op.mergeExpiry);
    case "tombstones":
      return applyTombstones(ctx.st, op.tombstones, ctx.clock.now());
    case "deleteMoved":
      return writes.deleteMoved(ctx, op.hashes);
    case "deleteByHashes":
      return writes.deleteByHashes(ctx, op.account, op.hashes);
    case "deleteAll":
      return writes.deleteAll(ctx, op.account, op.namespace);
    case "deleteBefore":
      return writes.deleteBefore(ctx, op.account, op.namespace, op.before);
    case "expireAll":
      return writes.expireAll(ctx, op.account, op.namespace, op.expiry);
    case "expire":
      return writes.expire(ctx, op.request);
    case "revocations":
      return applyRevocations(ctx.st, ctx.rst, op.records);
    case "deleteRevocations":
      return deleteRevocations(ctx.st, ctx.rst, op.accounts);
  }
}

/**
 * The op as posted to the writer thread. Binary fields are copied into buffers of their own and
 * listed in `transfer`: a small Buffer is a view into Node's shared 8 KiB pool, and posting the
 * view would clone the whole pool.
 */
export function postableOp(op: WriteOp, transfer: ArrayBuffer[]): WriteOp {
  switch (op.t) {
    case "store":
      return {t: "store", message: {...op.message, data: own(op.message.data, transfer)}};
    case "storeBulk":
      return {...op, messages: op.messages.map((m) => ({...m, data: own(m.data, transfer)}))};
    case "revocations":
      return {t: "revocations", records: op.records.map((r) => ({...r, token: own(r.token, transfer)}))};
    default:
      return op;
  }
}

function own(bytes: Uint8Array, transfer: ArrayBuffer[]): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  copy.set(bytes);
  transfer.push(copy.buffer);
  return copy;
}

/** An error as it crosses the thread boundary (a structured clone keeps no `code`). */
export interface WireError {
  name: string;
  message: string;
  code: string | null;
  /** A StorageError's type (its code and fields). */
  storage: StorageErrorType | null;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof StorageError) return {name: err.name, message: err.message, code: err.code, storage: {...err.type}};
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as {code?: unknown}).code;
  return {name: e.name, message: e.message, code: typeof code === "string" ? code : null, storage: null};
}

/** The error again, as the store's error mapping expects it: a StorageError, a SqliteError, or an Error. */
export function fromWireError(w: WireError): Error {
  if (w.storage !== null) return new StorageError(w.storage, w.message);
  if (w.code?.startsWith("SQLITE_") === true) return new Database.SqliteError(w.message, w.code);
  return new Error(w.message);
}
