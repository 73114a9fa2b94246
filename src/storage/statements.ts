import type {Database, Statement} from "better-sqlite3";

export interface NamespacedRow {
  namespace: number;
  hash: string;
  expiry: number;
}
/** A retrievePage row in raw mode (an array, no per-row object): the message's columns, then its id. */
export type MessagePageRow = [hash: string, namespace: number, timestamp: number, expiry: number, data: Buffer, id: number];
interface HashExpiry {
  hash: string;
  expiry: number;
}
interface IdExpiry {
  id: number;
  expiry: number;
}
/** A statement over one namespace of an owner, and its twin over all of the owner's namespaces. */
export interface BySelector<P extends object, R> {
  one: Statement<[P & {owner: number; namespace: number}], R>;
  all: Statement<[P & {owner: number}], R>;
}

/** Every statement the store runs, prepared once per connection. */
export interface Statements {
  selectOwner: Statement<[Buffer, number], {id: number}>;
  insertOwner: Statement<[number, Buffer], {id: number}>;
  enqueueOwnerGc: Statement<[number]>;
  selectByHash: Statement<[string], IdExpiry>;
  insertMessage: Statement<[string, number, number, number, number, Buffer, Buffer]>;
  insertMessageIfNew: Statement<[string, number, number, number, number, Buffer, Buffer], {id: number}>;
  updateExpiryById: Statement<[number, number]>;
  deleteById: Statement<[number]>;
  deleteOutboxOthers: Statement<[number, number, string], HashExpiry>;
  mailboxCount: Statement<[number, number], {count: number}>;
  evictOldest: Statement<[number, number, number], HashExpiry>;
  selectIdInMailbox: Statement<[string, number, number], {id: number}>;
  /** Raw mode (see prepareStatements): rows are MessagePageRow arrays. */
  retrievePage: Statement<[number, number, number, number, number], MessagePageRow>;
  deleteOwnedByHash: Statement<[string, number], {hash: string; expiry: number}>;
  deleteAll: BySelector<object, NamespacedRow>;
  deleteBefore: BySelector<{before: number}, NamespacedRow>;
  expireAll: BySelector<{expiry: number; now: number}, NamespacedRow>;
  selectOwnedExpiry: Statement<[string, number, number], {expiry: number}>;
  updateOwnedExpiry: Statement<[number, string, number]>;
  countMailboxes: Statement<[], {messages: number; accounts: number}>;
  hashesInRange: Statement<[string, string, number, number], {hash: string}>;
  upsertRevocation: Statement<[number, Buffer, number]>;
  deleteRevocation: Statement<[number, Buffer]>;
  selectRevocation: Statement<[number, Buffer, Buffer], {one: number}>;
  deleteExpired: Statement<[number, number], {hash: string}>;
  deleteEmptyOwners: Statement<[number]>;
  dequeueOwnerGc: Statement<[number]>;
  raiseExpiry: Statement<[number, string, number]>;
  lowerExpiry: Statement<[number, string, number]>;
  deleteMessageByHash: Statement<[string], {hash: string}>;
  selectTombstone: Statement<[string], {cap: number; until: number}>;
  insertTombstone: Statement<[string, string, number, number]>;
  mergeTombstone: Statement<[number, number, string]>;
  deleteTombstone: Statement<[string], {hash: string}>;
}

const OWNER_GC_BATCH = "SELECT owner FROM owner_gc ORDER BY owner LIMIT ?";
const MESSAGE_COLUMNS = "(hash, owner, namespace, timestamp, expiry, data, data_digest) VALUES (?, ?, ?, ?, ?, ?, ?)";

/** A statement's SQL; BySelector statements get it per WHERE clause (one namespace, or all). */
type Sql = string | ((where: string) => string);

export const STATEMENT_SQL: {[K in keyof Statements]: Sql} = {
  selectOwner: "SELECT id FROM owners WHERE pubkey = ? AND type = ?",
  insertOwner: "INSERT INTO owners (type, pubkey) VALUES (?, ?) RETURNING id",
  enqueueOwnerGc: "INSERT OR IGNORE INTO owner_gc (owner) VALUES (?)",
  selectByHash: "SELECT id, expiry FROM messages WHERE hash = ?",
  insertMessage: `INSERT INTO messages ${MESSAGE_COLUMNS}`,
  insertMessageIfNew: `INSERT INTO messages ${MESSAGE_COLUMNS} ON CONFLICT (hash) DO NOTHING RETURNING id`,
  updateExpiryById: "UPDATE messages SET expiry = ? WHERE id = ?",
  deleteById: "DELETE FROM messages WHERE id = ?",
  deleteOutboxOthers: "DELETE FROM messages WHERE owner = ? AND namespace = ? AND hash != ? RETURNING hash, expiry",
  mailboxCount: "SELECT count FROM mailbox_counts WHERE owner = ? AND namespace = ?",
  evictOldest:
    "DELETE FROM messages WHERE id IN " +
    "(SELECT id FROM messages WHERE owner = ? AND namespace = ? ORDER BY id LIMIT ?) RETURNING hash, expiry",
  selectIdInMailbox: "SELECT id FROM messages WHERE hash = ? AND owner = ? AND namespace = ?",
  retrievePage:
    "SELECT hash, namespace, timestamp, expiry, data, id FROM messages " +
    "WHERE owner = ? AND namespace = ? AND id > ? AND expiry > ? ORDER BY id LIMIT ?",
  deleteOwnedByHash: "DELETE FROM messages WHERE hash = ? AND owner = ? RETURNING hash, expiry",
  deleteAll: (where) => `DELETE FROM messages WHERE ${where} RETURNING namespace, hash, expiry`,
  deleteBefore: (where) =>
    `DELETE FROM messages WHERE ${where} AND timestamp <= @before RETURNING namespace, hash, expiry`,
  expireAll: (where) =>
    `UPDATE messages SET expiry = @expiry WHERE ${where} AND expiry > @expiry AND expiry > @now ` +
    "RETURNING namespace, hash, expiry",
  selectOwnedExpiry: "SELECT expiry FROM messages WHERE hash = ? AND owner = ? AND expiry > ?",
  updateOwnedExpiry: "UPDATE messages SET expiry = ? WHERE hash = ? AND owner = ?",
  countMailboxes: "SELECT messages, accounts FROM store_totals WHERE id = 1",
  hashesInRange: "SELECT hash FROM messages WHERE hash >= ? AND hash < ? AND expiry > ? ORDER BY hash LIMIT ?",
  upsertRevocation:
    "INSERT INTO revoked_subaccounts (owner, token, timestamp) VALUES (?, ?, ?) " +
    "ON CONFLICT (owner, token) DO UPDATE SET timestamp = excluded.timestamp",
  deleteRevocation: "DELETE FROM revoked_subaccounts WHERE owner = ? AND token = ?",
  selectRevocation:
    "SELECT 1 AS one FROM revoked_subaccounts r JOIN owners o ON o.id = r.owner " +
    "WHERE o.type = ? AND o.pubkey = ? AND r.token = ?",
  deleteExpired:
    "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE expiry <= ? ORDER BY expiry LIMIT ?) " +
    "RETURNING hash",
  deleteEmptyOwners:
    `DELETE FROM owners WHERE id IN (${OWNER_GC_BATCH}) ` +
    "AND NOT EXISTS (SELECT 1 FROM mailbox_counts m WHERE m.owner = owners.id) " +
    "AND NOT EXISTS (SELECT 1 FROM revoked_subaccounts r WHERE r.owner = owners.id) " +
    "AND NOT EXISTS (SELECT 1 FROM unrevoked_subaccounts u WHERE u.owner = owners.id)",
  dequeueOwnerGc: `DELETE FROM owner_gc WHERE owner IN (${OWNER_GC_BATCH})`,
  // Replication (migration 0004): expiry merges and tombstones.
  raiseExpiry: "UPDATE messages SET expiry = ? WHERE hash = ? AND expiry < ?",
  lowerExpiry: "UPDATE messages SET expiry = ? WHERE hash = ? AND expiry > ?",
  deleteMessageByHash: "DELETE FROM messages WHERE hash = ? RETURNING hash",
  selectTombstone: "SELECT cap, until FROM tombstones WHERE hash = ?",
  insertTombstone: "INSERT INTO tombstones (hash, account, cap, until) VALUES (?, ?, ?, ?)",
  mergeTombstone: "UPDATE tombstones SET cap = min(cap, ?), until = max(until, ?) WHERE hash = ?",
  deleteTombstone: "DELETE FROM tombstones WHERE hash = ? RETURNING hash",
};

const ONE_NAMESPACE = "owner = @owner AND namespace = @namespace";
const ALL_NAMESPACES = "owner = @owner";

/** Statements that return rows as arrays: read in bulk on hot paths, where a per-row object costs. */
const RAW_STATEMENTS: ReadonlyArray<keyof Statements> = ["retrievePage"];

/** Prepares every statement once; the Statements interface gives each its parameter and row types. */
export function prepareStatements(db: Database): Statements {
  const prepared: Record<string, unknown> = {};
  for (const [name, sql] of Object.entries(STATEMENT_SQL)) {
    prepared[name] =
      typeof sql === "string"
        ? db.prepare(sql)
        : {one: db.prepare(sql(ONE_NAMESPACE)), all: db.prepare(sql(ALL_NAMESPACES))};
  }
  for (const name of RAW_STATEMENTS) (prepared[name] as Statement).raw(true);
  return prepared as unknown as Statements;
}
