/**
 * The storage side of replication (src/replication/, migration 0004): reads for anti-entropy
 * (every hash, one hash-prefix bucket's messages and tombstones), pushes (messages by hash, an
 * account's messages by insertion order), relocation (every account) and the tombstone sweep.
 * Writes that touch messages go through SqliteMessageStore (`storeBulk`, `applyTombstones`,
 * `deleteMoved`) so they are group-committed and announced; the statements here run in autocommit
 * on the store's connection (the group-commit transaction never spans an event-loop turn).
 */
import type {Statement} from "better-sqlite3";
import type {StorageDb} from "./db.js";
import {prepareAll, runOnOpen} from "./table.js";
import type {StoredMessage, Tombstone} from "./interface.js";

/** A message hash and the account it belongs to. */
export interface AccountHash {
  hash: string;
  account: string;
}

interface RawMessage {
  hash: string;
  type: number;
  pubkey: Buffer;
  namespace: number;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

const MESSAGE_COLUMNS = "m.hash, o.type, o.pubkey, m.namespace, m.timestamp, m.expiry, m.data";
const FROM = "FROM messages m JOIN owners o ON o.id = m.owner";

const SQL = {
  allMessageHashes: "SELECT hash FROM messages",
  allTombstoneHashes: "SELECT hash FROM tombstones",
  bucketMessages: `SELECT m.hash, o.type, o.pubkey ${FROM} WHERE m.hash >= ? AND m.hash < ? AND m.expiry > ? ORDER BY m.hash`,
  bucketTombstones: "SELECT hash, account, cap, until FROM tombstones WHERE hash >= ? AND hash < ? AND until > ? ORDER BY hash",
  messageByHash: `SELECT ${MESSAGE_COLUMNS} ${FROM} WHERE m.hash = ? AND m.expiry > ?`,
  owners: "SELECT id, type, pubkey FROM owners WHERE id > ? ORDER BY id LIMIT ?",
  ownerMessages: `SELECT m.id, ${MESSAGE_COLUMNS} ${FROM} WHERE m.owner = ? AND m.id > ? AND m.expiry > ? ORDER BY m.id LIMIT ?`,
  accountTombstones: "SELECT hash, account, cap, until FROM tombstones WHERE account = ? AND until > ?",
  sweepTombstones: "DELETE FROM tombstones WHERE hash IN (SELECT hash FROM tombstones WHERE until <= ? LIMIT ?) RETURNING hash",
  deleteTombstone: "DELETE FROM tombstones WHERE hash = ? RETURNING hash",
  liveMessage: "SELECT 1 AS one FROM messages WHERE hash = ? AND expiry > ?",
  liveTombstone: "SELECT 1 AS one FROM tombstones WHERE hash = ? AND until > ?",
} as const;

type Prepared = {[K in keyof typeof SQL]: Statement};

/** Account hex (prefix ‖ key) from the owners table's split form. */
function accountHex(type: number, pubkey: Buffer): string {
  return type.toString(16).padStart(2, "0") + pubkey.toString("hex");
}

function toMessage(r: RawMessage): StoredMessage {
  return {account: accountHex(r.type, r.pubkey), hash: r.hash, namespace: r.namespace, timestamp: r.timestamp, expiry: r.expiry, data: r.data};
}

export class ReplicationTables {
  readonly #db: StorageDb;
  readonly #st: Prepared;

  constructor(db: StorageDb) {
    this.#db = db;
    this.#st = prepareAll(db, SQL) as Prepared;
  }

  /** Calls `onMessage` for the hash of every stored row (expired or not), then `onTombstone` likewise. */
  scanHashes(onMessage: (hash: string) => void, onTombstone: (hash: string) => void): void {
    this.#run(() => {
      for (const r of this.#st.allMessageHashes.iterate() as Iterable<{hash: string}>) onMessage(r.hash);
      for (const r of this.#st.allTombstoneHashes.iterate() as Iterable<{hash: string}>) onTombstone(r.hash);
    });
  }

  /** Messages with lo <= hash < hi expiring after `minExpiry`, ascii order. */
  bucketMessages(lo: string, hi: string, minExpiry: number): AccountHash[] {
    type Row = {hash: string; type: number; pubkey: Buffer};
    const rows = this.#run(() => this.#st.bucketMessages.all(lo, hi, minExpiry) as Row[]);
    return rows.map((r) => ({hash: r.hash, account: accountHex(r.type, r.pubkey)}));
  }

  /** Tombstones with lo <= hash < hi kept beyond `now`, ascii order. */
  bucketTombstones(lo: string, hi: string, now: number): Tombstone[] {
    return this.#run(() => this.#st.bucketTombstones.all(lo, hi, now) as Tombstone[]);
  }

  /** The unexpired messages among `hashes` (missing ones are left out), in the given order. */
  messagesByHash(hashes: readonly string[], now: number): StoredMessage[] {
    return this.#run(() =>
      hashes.flatMap((h) => {
        const row = this.#st.messageByHash.get(h, now) as RawMessage | undefined;
        return row === undefined ? [] : [toMessage(row)];
      }),
    );
  }

  /** A page of accounts that have an owner row: ids above `afterId`, ascending. */
  accounts(afterId: number, limit: number): Array<{id: number; account: string}> {
    type Row = {id: number; type: number; pubkey: Buffer};
    const rows = this.#run(() => this.#st.owners.all(afterId, limit) as Row[]);
    return rows.map((r) => ({id: r.id, account: accountHex(r.type, r.pubkey)}));
  }

  /** A page of an account's unexpired messages in insertion order, after message id `afterId`. */
  accountMessages(ownerId: number, afterId: number, now: number, limit: number): Array<{id: number; message: StoredMessage}> {
    const rows = this.#run(() => this.#st.ownerMessages.all(ownerId, afterId, now, limit) as Array<RawMessage & {id: number}>);
    return rows.map((r) => ({id: r.id, message: toMessage(r)}));
  }

  accountTombstones(account: string, now: number): Tombstone[] {
    return this.#run(() => this.#st.accountTombstones.all(account, now) as Tombstone[]);
  }

  /** Deletes up to `limit` tombstones kept until `now` or earlier; returns their hashes. */
  sweepTombstones(now: number, limit: number): string[] {
    return this.#run(() => (this.#st.sweepTombstones.all(now, limit) as Array<{hash: string}>).map((r) => r.hash));
  }

  /** Deletes the tombstones of `hashes` (after a relocation handed them over); returns those deleted. */
  deleteTombstones(hashes: readonly string[]): string[] {
    return this.#run(() =>
      this.#db.sqlite.transaction(() => hashes.filter((h) => this.#st.deleteTombstone.get(h) !== undefined))(),
    );
  }

  /** Of `hashes`, those held here: an unexpired message or a live tombstone (a push is settled for them). */
  settled(hashes: readonly string[], now: number): string[] {
    return this.#run(() => hashes.filter((h) => this.#st.liveMessage.get(h, now) !== undefined || this.#st.liveTombstone.get(h, now) !== undefined));
  }

  #run<T>(fn: () => T): T {
    return runOnOpen(this.#db, fn);
  }
}
