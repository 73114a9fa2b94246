import type {Clock} from "../util/clock.js";
import type {
  ExpireRequest,
  ExpireResult,
  NamespacedHash,
  NamespaceSelector,
  NewMessage,
  StoreResult,
  StoredMessage,
} from "./interface.js";
import type {NamespacedRow, Statements} from "./statements.js";
import {compareAscii, parseAccount, toBuffer, type OwnerKey} from "./validation.js";
import type {WriteOutcome} from "./write-batcher.js";

/**
 * The write operations, each run synchronously inside a group-commit savepoint. Inputs are
 * validated by the caller before queueing.
 */
export interface WriteContext {
  st: Statements;
  clock: Clock;
  mailboxMaxMessages: number;
}

export function ownerIdOf(st: Statements, key: OwnerKey): number | null {
  return st.selectOwner.get(key.pubkey, key.type)?.id ?? null;
}

/** Get-or-create; new owners are queued for the sweeper's GC in case nothing ever references them. */
function ownerIdOrCreate(st: Statements, key: OwnerKey): number {
  const existing = ownerIdOf(st, key);
  if (existing !== null) return existing;
  const created = st.insertOwner.get(key.type, key.pubkey);
  if (created === undefined) throw new Error("INSERT INTO owners returned no id");
  st.enqueueOwnerGc.run(created.id);
  return created.id;
}

/**
 * Session `Database::store`: outbox replacement, dedupe by hash (a later expiry extends), insert,
 * then rolling-buffer eviction. A row that is expired but not yet swept counts as absent: it is
 * replaced by the new copy (status "new", stored at the end of the mailbox), never resurrected.
 */
export function storeMessage(ctx: WriteContext, m: NewMessage): WriteOutcome<StoreResult> {
  const {st} = ctx;
  const owner = ownerIdOrCreate(st, parseAccount(m.account));
  const removed: string[] = [];
  if (m.replaceNamespace) {
    for (const row of st.deleteOutboxOthers.all(owner, m.namespace, m.hash)) removed.push(row.hash);
  }
  const existing = st.selectByHash.get(m.hash);
  if (existing !== undefined && existing.expiry > ctx.clock.now()) {
    if (m.expiry > existing.expiry) {
      st.updateExpiryById.run(m.expiry, existing.id);
      return {value: {status: "extended", expiry: m.expiry}, removed};
    }
    return {value: {status: "exists", expiry: existing.expiry}, removed};
  }
  if (existing !== undefined) {
    st.deleteById.run(existing.id);
    removed.push(m.hash);
  }
  const data = toBuffer("data", m.data);
  st.insertMessage.run(m.hash, owner, m.namespace, m.timestamp, m.expiry, data);
  removed.push(...evictOverflow(ctx, owner, m.namespace));
  const added: StoredMessage = {
    account: m.account,
    hash: m.hash,
    namespace: m.namespace,
    timestamp: m.timestamp,
    expiry: m.expiry,
    data,
  };
  return {value: {status: "new", expiry: m.expiry}, added: [added], removed};
}

/**
 * Replication bulk insert (Session `sn.data`): `INSERT … ON CONFLICT DO NOTHING`; no expiry
 * extension, no outbox rule; expired messages are skipped; the rolling buffer still applies.
 * Returns the messages that were new.
 */
export function storeBulk(ctx: WriteContext, messages: StoredMessage[]): WriteOutcome<StoredMessage[]> {
  const {st} = ctx;
  const now = ctx.clock.now();
  const owners = new Map<string, number>();
  const touched = new Map<string, {owner: number; namespace: number}>();
  const added: StoredMessage[] = [];
  for (const m of messages) {
    if (m.expiry <= now) continue;
    let owner = owners.get(m.account);
    if (owner === undefined) {
      owner = ownerIdOrCreate(st, parseAccount(m.account));
      owners.set(m.account, owner);
    }
    const data = toBuffer("data", m.data);
    if (st.insertMessageIfNew.get(m.hash, owner, m.namespace, m.timestamp, m.expiry, data) === undefined) continue;
    added.push({...m, data});
    touched.set(`${owner}/${m.namespace}`, {owner, namespace: m.namespace});
  }
  // Messages evicted by the same bulk insert were never announced: report neither add nor removal.
  const evicted = [...touched.values()].flatMap((t) => evictOverflow(ctx, t.owner, t.namespace));
  const evictedSet = new Set(evicted);
  const kept = added.filter((m) => !evictedSet.has(m.hash));
  const addedSet = new Set(added.map((m) => m.hash));
  return {value: kept, added: kept, removed: evicted.filter((h) => !addedSet.has(h))};
}

/** Rolling buffer: deletes the oldest messages of the mailbox beyond mailboxMaxMessages. */
function evictOverflow(ctx: WriteContext, owner: number, namespace: number): string[] {
  const count = ctx.st.mailboxCount.get(owner, namespace)?.count ?? 0;
  const excess = count - ctx.mailboxMaxMessages;
  if (excess <= 0) return [];
  return ctx.st.evictOldest.all(owner, namespace, excess).map((r) => r.hash);
}

export function deleteByHashes(ctx: WriteContext, account: string, hashes: string[]): WriteOutcome<string[]> {
  const owner = ownerIdOf(ctx.st, parseAccount(account));
  if (owner === null) return {value: []};
  const now = ctx.clock.now();
  const deleted: string[] = [];
  const removed: string[] = [];
  for (const hash of new Set(hashes)) {
    const row = ctx.st.deleteOwnedByHash.get(hash, owner);
    if (row === undefined) continue;
    removed.push(hash);
    if (row.expiry > now) deleted.push(hash);
  }
  return {value: deleted.sort(compareAscii), removed};
}

export function deleteAll(ctx: WriteContext, account: string, ns: NamespaceSelector): WriteOutcome<NamespacedHash[]> {
  const owner = ownerIdOf(ctx.st, parseAccount(account));
  if (owner === null) return {value: []};
  const {deleteAll: stmt} = ctx.st;
  const rows = ns === "all" ? stmt.all.all({owner}) : stmt.one.all({owner, namespace: ns});
  return deletedOutcome(rows, ctx.clock.now());
}

export function deleteBefore(
  ctx: WriteContext,
  account: string,
  ns: NamespaceSelector,
  before: number,
): WriteOutcome<NamespacedHash[]> {
  const owner = ownerIdOf(ctx.st, parseAccount(account));
  if (owner === null) return {value: []};
  const {deleteBefore: stmt} = ctx.st;
  const rows = ns === "all" ? stmt.all.all({owner, before}) : stmt.one.all({owner, namespace: ns, before});
  return deletedOutcome(rows, ctx.clock.now());
}

/** Every deleted row is `removed`; only those that were still visible are reported as deleted. */
function deletedOutcome(rows: NamespacedRow[], now: number): WriteOutcome<NamespacedHash[]> {
  const visible = rows.filter((r) => r.expiry > now).map((r) => ({namespace: r.namespace, hash: r.hash}));
  return {value: visible.sort((a, b) => compareAscii(a.hash, b.hash)), removed: rows.map((r) => r.hash)};
}

export function expireAll(
  ctx: WriteContext,
  account: string,
  ns: NamespaceSelector,
  expiry: number,
): WriteOutcome<NamespacedHash[]> {
  const owner = ownerIdOf(ctx.st, parseAccount(account));
  if (owner === null) return {value: []};
  const now = ctx.clock.now();
  const {expireAll: stmt} = ctx.st;
  const rows = ns === "all" ? stmt.all.all({owner, expiry, now}) : stmt.one.all({owner, namespace: ns, expiry, now});
  const updated = rows.map((r) => ({namespace: r.namespace, hash: r.hash}));
  return {value: updated.sort((a, b) => compareAscii(a.hash, b.hash))};
}

/** Session `expire`: set, or only raise (extend), or only lower (shorten) unexpired messages. */
export function expire(ctx: WriteContext, req: ExpireRequest): WriteOutcome<ExpireResult> {
  const owner = ownerIdOf(ctx.st, parseAccount(req.account));
  if (owner === null) return {value: {updated: [], unchanged: []}};
  const now = ctx.clock.now();
  const results = new Map<string, {expiry: number; changed: boolean}>();
  req.hashes.forEach((hash, i) => {
    const expiry = req.expiries[i] as number;
    const current = ctx.st.selectOwnedExpiry.get(hash, owner, now)?.expiry;
    if (current === undefined) return;
    const change = req.mode === "set" || (req.mode === "extend" ? current < expiry : current > expiry);
    if (change) {
      ctx.st.updateOwnedExpiry.run(expiry, hash, owner);
      results.set(hash, {expiry, changed: true});
    } else if (results.get(hash)?.changed !== true) {
      results.set(hash, {expiry: current, changed: false});
    }
  });
  const pick = (changed: boolean): Array<{hash: string; expiry: number}> =>
    [...results]
      .filter(([, r]) => r.changed === changed)
      .map(([hash, r]) => ({hash, expiry: r.expiry}))
      .sort((a, b) => compareAscii(a.hash, b.hash));
  return {value: {updated: pick(true), unchanged: pick(false)}};
}

export function revokeSubaccounts(ctx: WriteContext, account: string, tokens: Buffer[]): WriteOutcome<void> {
  if (tokens.length === 0) return {value: undefined};
  const owner = ownerIdOrCreate(ctx.st, parseAccount(account));
  const now = ctx.clock.now();
  for (const token of tokens) ctx.st.upsertRevocation.run(owner, token, now);
  return {value: undefined};
}

export function unrevokeSubaccounts(ctx: WriteContext, account: string, tokens: Buffer[]): WriteOutcome<number> {
  const owner = ownerIdOf(ctx.st, parseAccount(account));
  if (owner === null) return {value: 0};
  let removed = 0;
  for (const token of tokens) removed += ctx.st.deleteRevocation.run(owner, token).changes;
  return {value: removed};
}
