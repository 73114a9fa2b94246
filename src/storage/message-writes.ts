import {sha256} from "../crypto/index.js";
import type {Clock} from "../util/index.js";
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
import {TOMBSTONE_MAX_LIFETIME_MS, bury, buryRows, capOf, tombstoneLog, tombstoneOutcome, unbury} from "./tombstones.js";
import type {TombstoneChange} from "./interface.js";
import {compareAscii, parseOwnerKey, toBuffer, type OwnerKey} from "./validation.js";
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
export function ownerIdOrCreate(st: Statements, key: OwnerKey): number {
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
 * Replaced and evicted messages get tombstones; a client's store or extension of a hash lifts its
 * tombstone here (the latest client request wins locally).
 */
export function storeMessage(ctx: WriteContext, m: NewMessage): WriteOutcome<StoreResult> {
  const {st} = ctx;
  const now = ctx.clock.now();
  const owner = ownerIdOrCreate(st, parseOwnerKey(m.account));
  // Read before outbox replacement: a replaced public outbox is not a new mailbox.
  const countBefore = st.mailboxCount.get(owner, m.namespace)?.count ?? 0;
  const newMailbox = countBefore === 0;
  const removed: string[] = [];
  const log = tombstoneLog();
  if (m.replaceNamespace) {
    const replaced = st.deleteOutboxOthers.all(owner, m.namespace, m.hash);
    removed.push(...replaced.map((r) => r.hash));
    buryRows(st, m.account, replaced, now, log);
  }
  const existing = st.selectByHash.get(m.hash);
  if (existing !== undefined && existing.expiry > now) {
    if (m.expiry <= existing.expiry) return {value: {status: "exists", expiry: existing.expiry}, removed, ...tombstoneOutcome(log)};
    st.updateExpiryById.run(m.expiry, existing.id);
    unbury(st, m.hash, log);
    return {value: {status: "extended", expiry: m.expiry}, removed, ...tombstoneOutcome(log)};
  }
  if (existing !== undefined) {
    st.deleteById.run(existing.id);
    removed.push(m.hash);
  }
  unbury(st, m.hash, log);
  const data = toBuffer("data", m.data);
  st.insertMessage.run(m.hash, owner, m.namespace, m.timestamp, m.expiry, data, sha256(data));
  // Nothing but this insert changed the mailbox on the common path, so its count is known.
  const countAfter = !m.replaceNamespace && existing === undefined ? countBefore + 1 : undefined;
  removed.push(...evictOverflow(ctx, {owner, namespace: m.namespace, account: m.account}, log, countAfter));
  const added: StoredMessage = {
    account: m.account,
    hash: m.hash,
    namespace: m.namespace,
    timestamp: m.timestamp,
    expiry: m.expiry,
    data,
  };
  return {value: {status: "new", expiry: m.expiry, newMailbox}, added: [added], removed, ...tombstoneOutcome(log)};
}

/** A mailbox touched by a write, for the rolling buffer. */
interface Mailbox {
  owner: number;
  namespace: number;
  account: string;
}

/**
 * Replication bulk insert (Session `sn.data`): new messages are inserted, no outbox rule, and the
 * rolling buffer still applies. Unlike Session, tombstones are honoured (a deleted hash is skipped,
 * a capped one stored with its cap). Known messages keep their expiry unless `mergeExpiry`: then a
 * copy with a later expiry raises ours (an extension this node missed). Expired messages are
 * skipped. Returns the messages that were new.
 */
export function storeBulk(ctx: WriteContext, messages: StoredMessage[], mergeExpiry = false): WriteOutcome<StoredMessage[]> {
  const {st} = ctx;
  const now = ctx.clock.now();
  const owners = new Map<string, number>();
  const touched = new Map<string, Mailbox>();
  const added: StoredMessage[] = [];
  for (const m of messages) {
    const cap = capOf(st, m.hash);
    const expiry = cap === null ? m.expiry : Math.min(m.expiry, cap);
    if (expiry <= now) continue;
    const owner = owners.get(m.account) ?? ownerIdOrCreate(st, parseOwnerKey(m.account));
    owners.set(m.account, owner);
    const data = toBuffer("data", m.data);
    if (st.insertMessageIfNew.get(m.hash, owner, m.namespace, m.timestamp, expiry, data, sha256(data)) === undefined) {
      if (mergeExpiry) st.raiseExpiry.run(expiry, m.hash, expiry);
      continue;
    }
    added.push({...m, expiry, data});
    touched.set(`${owner}/${m.namespace}`, {owner, namespace: m.namespace, account: m.account});
  }
  // Messages evicted by the same bulk insert were never announced: report neither add nor removal.
  const log = tombstoneLog();
  const evicted = [...touched.values()].flatMap((t) => evictOverflow(ctx, t, log));
  const evictedSet = new Set(evicted);
  const kept = added.filter((m) => !evictedSet.has(m.hash));
  const addedSet = new Set(added.map((m) => m.hash));
  return {value: kept, added: kept, removed: evicted.filter((h) => !addedSet.has(h)), ...tombstoneOutcome(log)};
}

/**
 * Rolling buffer: deletes (and tombstones) the oldest messages of the mailbox beyond
 * mailboxMaxMessages. `knownCount`, when the caller knows the mailbox's count, saves reading it.
 */
function evictOverflow(ctx: WriteContext, box: Mailbox, log: TombstoneChange, knownCount?: number): string[] {
  const count = knownCount ?? ctx.st.mailboxCount.get(box.owner, box.namespace)?.count ?? 0;
  const excess = count - ctx.mailboxMaxMessages;
  if (excess <= 0) return [];
  const rows = ctx.st.evictOldest.all(box.owner, box.namespace, excess);
  buryRows(ctx.st, box.account, rows, ctx.clock.now(), log);
  return rows.map((r) => r.hash);
}

/** Relocation: deletes messages another swarm now holds; no tombstones (they moved, not died). */
export function deleteMoved(ctx: WriteContext, hashes: string[]): WriteOutcome<string[]> {
  const removed = [...new Set(hashes)].filter((h) => ctx.st.deleteMessageByHash.get(h) !== undefined);
  return {value: removed, removed};
}

export function deleteByHashes(ctx: WriteContext, account: string, hashes: string[]): WriteOutcome<string[]> {
  const owner = ownerIdOf(ctx.st, parseOwnerKey(account));
  if (owner === null) return {value: []};
  const now = ctx.clock.now();
  const rows: Array<{hash: string; expiry: number}> = [];
  for (const hash of new Set(hashes)) {
    const row = ctx.st.deleteOwnedByHash.get(hash, owner);
    if (row !== undefined) rows.push(row);
  }
  const log = tombstoneLog();
  buryRows(ctx.st, account, rows, now, log);
  const deleted = rows.filter((r) => r.expiry > now).map((r) => r.hash);
  return {value: deleted.sort(compareAscii), removed: rows.map((r) => r.hash), ...tombstoneOutcome(log)};
}

export function deleteAll(ctx: WriteContext, account: string, ns: NamespaceSelector): WriteOutcome<NamespacedHash[]> {
  const owner = ownerIdOf(ctx.st, parseOwnerKey(account));
  if (owner === null) return {value: []};
  const {deleteAll: stmt} = ctx.st;
  const rows = ns === "all" ? stmt.all.all({owner}) : stmt.one.all({owner, namespace: ns});
  return deletedOutcome(ctx, account, rows);
}

export function deleteBefore(
  ctx: WriteContext,
  account: string,
  ns: NamespaceSelector,
  before: number,
): WriteOutcome<NamespacedHash[]> {
  const owner = ownerIdOf(ctx.st, parseOwnerKey(account));
  if (owner === null) return {value: []};
  const {deleteBefore: stmt} = ctx.st;
  const rows = ns === "all" ? stmt.all.all({owner, before}) : stmt.one.all({owner, namespace: ns, before});
  return deletedOutcome(ctx, account, rows);
}

/** Every deleted row is `removed`; those still visible are reported as deleted and tombstoned. */
function deletedOutcome(ctx: WriteContext, account: string, rows: NamespacedRow[]): WriteOutcome<NamespacedHash[]> {
  const now = ctx.clock.now();
  const log = tombstoneLog();
  buryRows(ctx.st, account, rows, now, log);
  const visible = rows.filter((r) => r.expiry > now).map((r) => ({namespace: r.namespace, hash: r.hash}));
  const value = visible.sort((a, b) => compareAscii(a.hash, b.hash));
  return {value, removed: rows.map((r) => r.hash), ...tombstoneOutcome(log)};
}

export function expireAll(
  ctx: WriteContext,
  account: string,
  ns: NamespaceSelector,
  expiry: number,
): WriteOutcome<NamespacedHash[]> {
  const owner = ownerIdOf(ctx.st, parseOwnerKey(account));
  if (owner === null) return {value: []};
  const now = ctx.clock.now();
  const {expireAll: stmt} = ctx.st;
  const rows = ns === "all" ? stmt.all.all({owner, expiry, now}) : stmt.one.all({owner, namespace: ns, expiry, now});
  // Shortened: a cap tombstone keeps a missed copy from bringing the old expiry back. The old
  // expiries are not returned by the UPDATE; the longest any message can have bounds them.
  const log = tombstoneLog();
  for (const r of rows) bury(ctx.st, {hash: r.hash, account, cap: expiry, until: now + TOMBSTONE_MAX_LIFETIME_MS}, log);
  const updated = rows.map((r) => ({namespace: r.namespace, hash: r.hash}));
  return {value: updated.sort((a, b) => compareAscii(a.hash, b.hash)), ...tombstoneOutcome(log)};
}

/** Session `expire`: set, or only raise (extend), or only lower (shorten) unexpired messages. */
export function expire(ctx: WriteContext, req: ExpireRequest): WriteOutcome<ExpireResult> {
  const owner = ownerIdOf(ctx.st, parseOwnerKey(req.account));
  if (owner === null) return {value: {updated: [], unchanged: []}};
  const now = ctx.clock.now();
  const results = new Map<string, {expiry: number; changed: boolean}>();
  const log = tombstoneLog();
  req.hashes.forEach((hash, i) => {
    const expiry = req.expiries[i] as number;
    const current = ctx.st.selectOwnedExpiry.get(hash, owner, now)?.expiry;
    if (current === undefined) return;
    const change = req.mode === "set" || (req.mode === "extend" ? current < expiry : current > expiry);
    if (change) {
      ctx.st.updateOwnedExpiry.run(expiry, hash, owner);
      if (expiry < current) bury(ctx.st, {hash, account: req.account, cap: expiry, until: current}, log);
      else if (expiry > current) unbury(ctx.st, hash, log);
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
  return {value: {updated: pick(true), unchanged: pick(false)}, ...tombstoneOutcome(log)};
}
