/**
 * Tombstones (migration 0004), written inside the group-commit writes so a delete and its
 * tombstone commit together. A tombstone says a hash must not come back (cap = 0: deleted) or must
 * not live past `cap` (a shortened expiry); it is kept until `until`, the longest expiry the
 * message had. Replication consults them before inserting pushed messages and exchanges them in
 * anti-entropy (docs/PROTOCOL.md (Replication) §5).
 */
import type {Tombstone, TombstoneChange} from "./interface.js";
import type {Statements} from "./statements.js";
import type {WriteOutcome} from "./write-batcher.js";
import {checkHash, checkInteger, parseOwnerKey} from "./validation.js";
import {invalidInput} from "./errors.js";

/** Upper bound of any message's expiry relative to now: 30 d TTL + 10 s store tolerance, rounded up. */
export const TOMBSTONE_MAX_LIFETIME_MS = 31 * 24 * 3600 * 1000;

/** Collects the tombstone set changes of one write (reported after commit). */
export function tombstoneLog(): TombstoneChange {
  return {added: [], removed: []};
}

/** Records `t`, merging with an existing tombstone (lowest cap, latest until). */
export function bury(st: Statements, t: Tombstone, log: TombstoneChange): void {
  if (st.selectTombstone.get(t.hash) === undefined) {
    st.insertTombstone.run(t.hash, t.account, t.cap, t.until);
    log.added.push(t.hash);
  } else {
    st.mergeTombstone.run(t.cap, t.until, t.hash);
  }
}

/** Tombstones for rows this write removed that were still alive (expired rows need none). */
export function buryRows(st: Statements, account: string, rows: Array<{hash: string; expiry: number}>, now: number, log: TombstoneChange): void {
  for (const r of rows) if (r.expiry > now) bury(st, {hash: r.hash, account, cap: 0, until: r.expiry}, log);
}

/** A client store or an extension of `hash`: its tombstone (if any) no longer applies here. */
export function unbury(st: Statements, hash: string, log: TombstoneChange): void {
  if (st.deleteTombstone.get(hash) !== undefined) log.removed.push(hash);
}

/** The cap of `hash`'s tombstone, or null if it has none. */
export function capOf(st: Statements, hash: string): number | null {
  return st.selectTombstone.get(hash)?.cap ?? null;
}

/** `{tombstones}` for a WriteOutcome, omitted when nothing changed. */
export function tombstoneOutcome(log: TombstoneChange): Pick<WriteOutcome<unknown>, "tombstones"> {
  return log.added.length + log.removed.length > 0 ? {tombstones: log} : {};
}

export interface AppliedTombstones {
  /** Tombstones that were new or lowered a cap. */
  merged: number;
  /** Messages deleted because of them. */
  deleted: number;
}

/**
 * Replication: merges peers' tombstones and applies them to the messages they cover (deleted when
 * the cap has passed, expiry lowered to the cap otherwise). Creates no tombstone for the deleted
 * messages beyond the ones given.
 */
export function applyTombstones(st: Statements, list: Tombstone[], now: number): WriteOutcome<AppliedTombstones> {
  const log = tombstoneLog();
  const removed: string[] = [];
  let merged = 0;
  for (const t of list) {
    if (t.until <= now) continue;
    const before = st.selectTombstone.get(t.hash);
    if (before === undefined || t.cap < before.cap) merged++;
    bury(st, t, log);
    const cap = Math.min(t.cap, before?.cap ?? t.cap);
    if (cap <= now) {
      if (st.deleteMessageByHash.get(t.hash) !== undefined) removed.push(t.hash);
    } else {
      st.lowerExpiry.run(cap, t.hash, cap);
    }
  }
  return {value: {merged, deleted: removed.length}, removed, ...tombstoneOutcome(log)};
}

export function checkTombstones(list: Tombstone[]): void {
  if (!Array.isArray(list)) throw invalidInput("tombstones", "tombstones must be an array");
  for (const t of list) {
    checkHash(t.hash);
    parseOwnerKey(t.account);
    checkInteger("cap", t.cap);
    checkInteger("until", t.until);
    if (t.cap < 0) throw invalidInput("cap", "cap must be >= 0");
  }
}
