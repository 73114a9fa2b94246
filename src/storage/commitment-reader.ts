/**
 * The reads of the storage-proof commitment (src/proofs/refresh.ts) on any connection: the node's
 * own, or a read-only one the commitment worker opens (src/proofs/engine-worker.ts). WAL lets that
 * reader run beside the writer; each statement sees one committed snapshot.
 *
 * A row carries the SHA-256 of its data stored at write time (migration 0006), not the data, so a
 * bucket read costs ~100 bytes per message. Rows written before 0006 have no digest: for them, and
 * only them, the data comes along and the commitment hashes it.
 */
import Database from "better-sqlite3";
import type {Statement} from "better-sqlite3";
import {pageCacheKiB, persistedMessageCount, sizeProofPageCache} from "./commitment-store.js";
import {toStorageError} from "./errors.js";

/** One message as the commitment reads it. */
export interface CommitmentRow {
  hash: string;
  /** The account as 33 raw bytes (prefix byte ‖ 32-byte key). */
  account: Buffer;
  namespace: number;
  expiry: number;
  size: number;
  /** SHA-256(data), or null for a row written before migration 0006 (then `data` is set). */
  digest: Buffer | null;
  data?: Buffer;
}

type RawRow = [hash: string, type: number, pubkey: Buffer, namespace: number, expiry: number, size: number, digest: Buffer | null, data: Buffer | null];

const COLUMNS =
  "m.hash, o.type, o.pubkey, m.namespace, m.expiry, length(m.data), m.data_digest, " +
  "CASE WHEN m.data_digest IS NULL THEN m.data END";
const FROM = "FROM messages m JOIN owners o ON o.id = m.owner";

const SQL = {
  rows: `SELECT ${COLUMNS} ${FROM} WHERE m.hash >= ? AND m.hash < ? AND m.expiry > ?`,
  // "+m.expiry" keeps the planner off the expiry index whatever the statistics say: a page must
  // walk the hash index (a seek, then LIMIT rows in order), never sort the table.
  rowsAfter: `SELECT ${COLUMNS} ${FROM} WHERE m.hash > ? AND +m.expiry > ? ORDER BY m.hash LIMIT ?`,
  rowByHash: `SELECT ${COLUMNS} ${FROM} WHERE m.hash = ? AND m.expiry > ?`,
  // A JSON array of hashes: one statement for a batch of seeks (SQLite walks them in order).
  rowsByHashes: `SELECT ${COLUMNS} ${FROM} WHERE m.hash IN (SELECT value FROM json_each(?)) AND m.expiry > ?`,
  dataByHash: "SELECT data FROM messages WHERE hash = ?",
  // The change log (migrations 0008, 0011) in id order; owners are looked up once each.
  logged: "SELECT hash, state, owner, namespace, expiry, size, digest FROM proof_change_log WHERE id <= ? ORDER BY id",
  owner: "SELECT type, pubkey FROM owners WHERE id = ?",
} as const;

/** A changed message as the change log has it: its row, "gone", or "unknown" (read the message). */
export type LoggedState = CommitmentRow | "gone" | "unknown";

type LoggedRow = [hash: string, state: number | null, owner: number | null, namespace: number, expiry: number, size: number, digest: Buffer | null];

export class CommitmentReader {
  readonly #sqlite: Database.Database;
  readonly #rows: Statement;
  readonly #rowsAfter: Statement;
  readonly #rowByHash: Statement;
  readonly #rowsByHashes: Statement;
  readonly #dataByHash: Statement;
  readonly #logged: Statement;
  readonly #owner: Statement;

  constructor(sqlite: Database.Database) {
    this.#sqlite = sqlite;
    this.#rows = sqlite.prepare(SQL.rows).raw();
    this.#rowsAfter = sqlite.prepare(SQL.rowsAfter).raw();
    this.#rowByHash = sqlite.prepare(SQL.rowByHash).raw();
    this.#rowsByHashes = sqlite.prepare(SQL.rowsByHashes).raw();
    this.#dataByHash = sqlite.prepare(SQL.dataByHash).pluck();
    this.#logged = sqlite.prepare(SQL.logged).raw();
    this.#owner = sqlite.prepare(SQL.owner).raw();
  }

  /** A reader on its own read-only connection to the database file at `path`. */
  static openReadOnly(path: string, busyTimeoutMs: number): CommitmentReader {
    try {
      const sqlite = new Database(path, {readonly: true, fileMustExist: true, timeout: busyTimeoutMs});
      sizeProofPageCache(sqlite, persistedMessageCount(sqlite));
      return new CommitmentReader(sqlite);
    } catch (err) {
      throw toStorageError(err, 0);
    }
  }

  /**
   * How many messages the database file at `path` holds (store_totals, kept by triggers: one row
   * read on a connection opened and closed for it); 0 if it cannot be read. The commitment
   * worker's host sizes the worker's young generation by it (engine-host.ts).
   */
  static storedMessages(path: string, busyTimeoutMs: number): number {
    try {
      const sqlite = new Database(path, {readonly: true, fileMustExist: true, timeout: busyTimeoutMs});
      try {
        return (sqlite.prepare("SELECT messages FROM store_totals WHERE id = 1").pluck().get() as number | undefined) ?? 0;
      } finally {
        sqlite.close();
      }
    } catch {
      return 0;
    }
  }

  /** Messages with lo <= hash < hi and expiry > minExpiryExclusive, in no particular order. */
  rowsInRange(lo: string, hi: string, minExpiryExclusive: number): CommitmentRow[] {
    return this.#run(() => (this.#rows.all(lo, hi, minExpiryExclusive) as RawRow[]).map(toRow));
  }

  /** Up to `limit` messages with hash > after and expiry > minExpiryExclusive, by hash (a full build's pages). */
  rowsAfter(after: string, minExpiryExclusive: number, limit: number): CommitmentRow[] {
    return this.#run(() => (this.#rowsAfter.all(after, minExpiryExclusive, limit) as RawRow[]).map(toRow));
  }

  /** One message if it exists with expiry > minExpiryExclusive. */
  rowByHash(hash: string, minExpiryExclusive: number): CommitmentRow | null {
    const row = this.#run(() => this.#rowByHash.get(hash, minExpiryExclusive) as RawRow | undefined);
    return row === undefined ? null : toRow(row);
  }

  /** The messages among `hashes` that exist with expiry > minExpiryExclusive, in no particular order. */
  rowsByHashes(hashes: readonly string[], minExpiryExclusive: number): CommitmentRow[] {
    return this.#run(() => (this.#rowsByHashes.all(JSON.stringify(hashes), minExpiryExclusive) as RawRow[]).map(toRow));
  }

  /**
   * Every message the change log names up to `watermark`, as its last logged change left it: one
   * read of the log in id order (appended rows, mostly in cache) instead of a random row of
   * `messages` per change.
   */
  loggedRows(watermark: number): Map<string, LoggedState> {
    return this.#run(() => {
      const out = new Map<string, LoggedState>();
      // One account buffer per owner (a node has far fewer accounts than changes an epoch).
      const accounts = new Map<number, Buffer | null>();
      for (const r of this.#logged.all(watermark) as LoggedRow[]) {
        const account = r[1] === 1 && r[2] !== null && r[6] !== null ? this.#account(r[2], accounts) : null;
        if (r[1] === 0) out.set(r[0], "gone");
        else if (account === null) out.set(r[0], "unknown");
        else out.set(r[0], {hash: r[0], account, namespace: r[3], expiry: r[4], size: r[5], digest: r[6]});
      }
      return out;
    });
  }

  /** The 33-byte account of owner `id` (null: no such owner any more), cached in `seen`. */
  #account(id: number, seen: Map<number, Buffer | null>): Buffer | null {
    let account = seen.get(id);
    if (account === undefined) {
      const r = this.#owner.get(id) as [number, Buffer] | undefined;
      account = r === undefined ? null : toRow(["", r[0], r[1], 0, 0, 0, null, null]).account;
      seen.set(id, account);
    }
    return account;
  }

  /** A message's data whatever its expiry (null if the row is gone). */
  dataByHash(hash: string): Buffer | null {
    return this.#run(() => (this.#dataByHash.get(hash) as Buffer | undefined) ?? null);
  }

  /** Sizes the page cache for a node of `messages` messages (a connection `openReadOnly` made: after each refresh). */
  sizePageCache(messages: number): void {
    if (this.#sqlite.readonly) sizeProofPageCache(this.#sqlite, messages);
  }

  /** The connection's page cache limit, KiB (proofPageCacheKiB of the node's size on a connection `openReadOnly` made). */
  pageCacheKiB(): number {
    return pageCacheKiB(this.#sqlite);
  }

  /** Closes the connection if this reader opened it (openReadOnly). */
  close(): void {
    if (this.#sqlite.open && this.#sqlite.readonly) this.#sqlite.close();
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStorageError(err, 0);
    }
  }
}

function toRow(r: RawRow): CommitmentRow {
  const account = Buffer.allocUnsafe(33);
  account[0] = r[1];
  r[2].copy(account, 1);
  const row: CommitmentRow = {hash: r[0], account, namespace: r[3], expiry: r[4], size: r[5], digest: r[6]};
  if (r[7] !== null) row.data = r[7];
  return row;
}
