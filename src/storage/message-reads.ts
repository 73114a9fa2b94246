import type {RetrieveQuery, RetrieveResult, StoredMessage} from "./interface.js";
import {ownerIdOf} from "./message-writes.js";
import type {MessagePageRow, Statements} from "./statements.js";
import {checkHash, checkHashes, checkInteger, parseOwnerKey, toBuffer} from "./validation.js";
import {invalidInput} from "./errors.js";

/**
 * Reads: synchronous, committed data only (the group-commit transaction never spans an
 * event-loop turn), and rows with expiry <= now are invisible.
 */

/**
 * Rows one retrieve reads per statement call. A default page (up to ~100 messages) is one call to
 * `.all()`, which costs far less per row than stepping an iterator; a mailbox of many small
 * messages is still read in bounded chunks, since the size limit may end the page after any row.
 */
export const RETRIEVE_CHUNK_ROWS = 128;

/**
 * Session retrieve: the mailbox's unexpired messages in insertion order after `afterHash`, at most
 * `maxCount`, stopping before `maxSize` would be exceeded (but always at least one). `sizeOf` must
 * not call back into the store.
 */
export function retrieve(st: Statements, now: number, q: RetrieveQuery): RetrieveResult {
  if (!Number.isSafeInteger(q.maxCount) || q.maxCount < 1) throw invalidInput("maxCount", "maxCount must be ≥ 1");
  if (typeof q.maxSize !== "number" || Number.isNaN(q.maxSize)) throw invalidInput("maxSize", "maxSize must be a number");
  checkInteger("namespace", q.namespace);
  if (q.afterHash !== null) checkHash(q.afterHash);
  const owner = ownerIdOf(st, parseOwnerKey(q.account));
  if (owner === null) return {messages: [], more: false};
  let afterId = q.afterHash === null ? 0 : (st.selectIdInMailbox.get(q.afterHash, owner, q.namespace)?.id ?? 0);
  const messages: StoredMessage[] = [];
  let size = 0;
  for (;;) {
    // One row past maxCount tells whether there is more.
    const want = Math.min(RETRIEVE_CHUNK_ROWS, q.maxCount - messages.length + 1);
    const rows = st.retrievePage.all(owner, q.namespace, afterId, now, want);
    for (const [hash, namespace, timestamp, expiry, data] of rows) {
      if (messages.length >= q.maxCount) return {messages, more: true};
      const message: StoredMessage = {account: q.account, hash, namespace, timestamp, expiry, data};
      const messageSize = q.sizeOf(message);
      if (messages.length > 0 && size + messageSize > q.maxSize) return {messages, more: true};
      size += messageSize;
      messages.push(message);
    }
    if (rows.length < want) return {messages, more: false};
    afterId = (rows[rows.length - 1] as MessagePageRow)[5];
  }
}

export function getExpiries(st: Statements, now: number, account: string, hashes: string[]): Map<string, number> {
  checkHashes(hashes);
  const result = new Map<string, number>();
  const owner = ownerIdOf(st, parseOwnerKey(account));
  if (owner === null) return result;
  for (const hash of hashes) {
    const row = st.selectOwnedExpiry.get(hash, owner, now);
    if (row !== undefined) result.set(hash, row.expiry);
  }
  return result;
}

export function isRevoked(st: Statements, account: string, token: Uint8Array): boolean {
  const key = parseOwnerKey(account);
  return st.selectRevocation.get(key.type, key.pubkey, toBuffer("token", token)) !== undefined;
}

/**
 * Unexpired hashes with lo <= hash < hi in ascii order (hash-prefix buckets for Merkle trees and
 * anti-entropy), at most `limit`.
 */
export function hashesInRange(st: Statements, now: number, lo: string, hi: string, limit: number): string[] {
  if (typeof lo !== "string" || typeof hi !== "string") throw invalidInput("range", "lo and hi must be strings");
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalidInput("limit", "limit must be ≥ 1");
  return st.hashesInRange.all(lo, hi, now, limit).map((r) => r.hash);
}
