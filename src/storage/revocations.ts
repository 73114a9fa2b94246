/**
 * Subaccount revocation state (migrations 0001 and 0007) with a last-writer-wins rule, so that
 * replicas converge whatever order revokes and unrevokes reach them in (client requests, persisted
 * retries, anti-entropy, relocation; docs/PROTOCOL.md (Replication) §5.5). A token is revoked
 * (`revoked_subaccounts`) or unrevoked (`unrevoked_subaccounts`) at the timestamp of the account's
 * signed request, never both: a record replaces the other state only if its timestamp is later;
 * on a tie the unrevoke wins (a fixed rule, so arrival order cannot matter; both requests are the
 * account owner's, so the choice carries no security weight). Both tables keep the newest 50 per
 * owner (their triggers), so merging can never exceed Session's limit.
 */
import type {StorageDb} from "./db.js";
import {invalidInput} from "./errors.js";
import type {RevocationRecord} from "./interface.js";
import {ownerIdOf, ownerIdOrCreate} from "./message-writes.js";
import type {Statements} from "./statements.js";
import {prepareAll, type PreparedAll} from "./table.js";
import {checkInteger, parseOwnerKey, toBuffer} from "./validation.js";
import type {WriteOutcome} from "./write-batcher.js";

/** Subaccount tokens are 36 bytes (prefix, flags, 2 zero bytes, Ed25519 subkey). */
export const REVOCATION_TOKEN_BYTES = 36;

const SQL = {
  revokedAt: "SELECT timestamp FROM revoked_subaccounts WHERE owner = ? AND token = ?",
  unrevokedAt: "SELECT timestamp FROM unrevoked_subaccounts WHERE owner = ? AND token = ?",
  upsertUnrevoke:
    "INSERT INTO unrevoked_subaccounts (owner, token, timestamp) VALUES (?, ?, ?) " +
    "ON CONFLICT (owner, token) DO UPDATE SET timestamp = excluded.timestamp",
  deleteUnrevoke: "DELETE FROM unrevoked_subaccounts WHERE owner = ? AND token = ?",
  // Oldest first, revokes of one timestamp in insertion order: a receiver inserting them in this
  // order trims a batch of more than 50 exactly as the sender's trigger did.
  ofOwner:
    "SELECT token, 1 AS revoked, timestamp, rowid AS seq FROM revoked_subaccounts WHERE owner = @owner " +
    "UNION ALL SELECT token, 0, timestamp, rowid FROM unrevoked_subaccounts WHERE owner = @owner " +
    "ORDER BY timestamp, revoked, seq",
  all:
    "SELECT o.type, o.pubkey, r.token, 1 AS revoked, r.timestamp FROM revoked_subaccounts r JOIN owners o ON o.id = r.owner " +
    "UNION ALL SELECT o.type, o.pubkey, u.token, 0, u.timestamp FROM unrevoked_subaccounts u JOIN owners o ON o.id = u.owner",
  deleteRevoked: "DELETE FROM revoked_subaccounts WHERE owner = ?",
  deleteUnrevoked: "DELETE FROM unrevoked_subaccounts WHERE owner = ?",
} as const;

/** The revocation tables' statements (the message statements hold the revoke upsert and delete). */
export type RevocationStatements = PreparedAll<typeof SQL>;

export function prepareRevocations(db: StorageDb): RevocationStatements {
  return prepareAll(db, SQL);
}

/** The revocation writes as data (part of write-ops.ts' WriteOp). */
export type RevocationOp = {t: "revocations"; records: RevocationRecord[]} | {t: "deleteRevocations"; accounts: string[]};

/**
 * How the store runs revocation work: group-committed writes (an op, built after `check` passed,
 * run by applyRevocations/deleteRevocations on whichever thread writes) and guarded reads.
 */
export interface RevocationIo {
  write<T>(op: () => RevocationOp, check: () => void): Promise<T>;
  read<T>(fn: () => T): T;
}

export interface Merged {
  /** Accounts whose records changed. */
  changed: string[];
  /** Revocations an unrevoke removed. */
  unrevoked: number;
}

export class SqliteRevocations {
  readonly #st: Statements;
  readonly #rst: RevocationStatements;
  readonly #io: RevocationIo;

  constructor(st: Statements, rst: RevocationStatements, io: RevocationIo) {
    this.#st = st;
    this.#rst = rst;
    this.#io = io;
  }

  /** A client's revoke of `tokens` signed at `timestamp`. */
  async revoke(account: string, tokens: Uint8Array[], timestamp: number): Promise<void> {
    await this.#merge(() => tokens.map((t) => ({account, token: toBuffer("token", t), revoked: true, timestamp})));
  }

  /** A client's unrevoke; returns how many revocations it removed. */
  async unrevoke(account: string, tokens: Uint8Array[], timestamp: number): Promise<number> {
    return (await this.#merge(() => tokens.map((t) => ({account, token: toBuffer("token", t), revoked: false, timestamp})))).unrevoked;
  }

  /** Replication: merges peers' records (last writer wins); returns the accounts that changed. */
  async merge(records: RevocationRecord[]): Promise<string[]> {
    return (await this.#merge(() => records)).changed;
  }

  /** An account's records, oldest first (the order a receiver should apply them in). */
  ofAccount(account: string): RevocationRecord[] {
    return this.#io.read(() => {
      const owner = ownerIdOf(this.#st, parseOwnerKey(account));
      if (owner === null) return [];
      type Row = {token: Buffer; revoked: number; timestamp: number};
      return (this.#rst.ofOwner.all({owner}) as Row[]).map((r) => ({account, token: r.token, revoked: r.revoked === 1, timestamp: r.timestamp}));
    });
  }

  /** Calls `onRecord` for every record (building replication's digest index at startup). */
  scan(onRecord: (r: RevocationRecord) => void): void {
    type Row = {type: number; pubkey: Buffer; token: Buffer; revoked: number; timestamp: number};
    this.#io.read(() => {
      for (const r of this.#rst.all.iterate() as Iterable<Row>) {
        const account = r.type.toString(16).padStart(2, "0") + r.pubkey.toString("hex");
        onRecord({account, token: r.token, revoked: r.revoked === 1, timestamp: r.timestamp});
      }
    });
  }

  /** Relocation: forgets the accounts' records (another swarm holds them now); returns those that had any. */
  deleteAccounts(accounts: string[]): Promise<string[]> {
    return this.#io.write(
      () => ({t: "deleteRevocations", accounts}),
      () => accounts.forEach(parseOwnerKey),
    );
  }

  #merge(build: () => RevocationRecord[]): Promise<Merged> {
    let records: RevocationRecord[] = [];
    return this.#io.write(
      () => ({t: "revocations", records}),
      () => {
        records = build();
        checkRecords(records);
      },
    );
  }
}

/** Relocation's delete of the accounts' records; runs inside the group-commit transaction. */
export function deleteRevocations(st: Statements, rst: RevocationStatements, accounts: string[]): WriteOutcome<string[]> {
  const deleted = accounts.filter((account) => {
    const owner = ownerIdOf(st, parseOwnerKey(account));
    return owner !== null && rst.deleteRevoked.run(owner).changes + rst.deleteUnrevoked.run(owner).changes > 0;
  });
  return {value: deleted, revocations: deleted};
}

/** Applies records in order; runs inside the group-commit transaction. */
export function applyRevocations(st: Statements, rst: RevocationStatements, records: RevocationRecord[]): WriteOutcome<Merged> {
  const changed = new Set<string>();
  let unrevoked = 0;
  for (const r of records) {
    const key = parseOwnerKey(r.account);
    const token = toBuffer("token", r.token);
    const existing = ownerIdOf(st, key);
    const revokedAt = existing === null ? undefined : (rst.revokedAt.get(existing, token) as {timestamp: number} | undefined)?.timestamp;
    const unrevokedAt = existing === null ? undefined : (rst.unrevokedAt.get(existing, token) as {timestamp: number} | undefined)?.timestamp;
    // Last writer wins; on a tie an unrevoke beats a revoke, and equal records change nothing.
    const wins = r.revoked
      ? (revokedAt === undefined || r.timestamp > revokedAt) && (unrevokedAt === undefined || r.timestamp > unrevokedAt)
      : (revokedAt === undefined || r.timestamp >= revokedAt) && (unrevokedAt === undefined || r.timestamp > unrevokedAt);
    if (!wins) continue;
    const owner = existing ?? ownerIdOrCreate(st, key);
    if (r.revoked) {
      if (unrevokedAt !== undefined) rst.deleteUnrevoke.run(owner, token);
      st.upsertRevocation.run(owner, token, r.timestamp);
    } else {
      if (revokedAt !== undefined) unrevoked += st.deleteRevocation.run(owner, token).changes;
      rst.upsertUnrevoke.run(owner, token, r.timestamp);
    }
    changed.add(r.account);
  }
  const merged = {changed: [...changed], unrevoked};
  return {value: merged, revocations: merged.changed};
}

function checkRecords(records: RevocationRecord[]): void {
  if (!Array.isArray(records)) throw invalidInput("revocations", "revocations must be an array");
  for (const r of records) {
    parseOwnerKey(r.account);
    if (toBuffer("token", r.token).length !== REVOCATION_TOKEN_BYTES) throw invalidInput("token", `a token must be ${REVOCATION_TOKEN_BYTES} bytes`);
    if (typeof r.revoked !== "boolean") throw invalidInput("revoked", "revoked must be a boolean");
    checkInteger("timestamp", r.timestamp);
    if (r.timestamp < 0) throw invalidInput("timestamp", "timestamp must be >= 0");
  }
}
