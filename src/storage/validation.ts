import type {ExpireRequest, NewMessage, StoredMessage} from "./interface.js";
import {invalidInput} from "./errors.js";

/** An account split as stored in `owners`: prefix byte and 32 key bytes. */
export interface OwnerKey {
  type: number;
  pubkey: Buffer;
}

const ACCOUNT_PATTERN = /^[0-9a-f]{66}$/;
/** Session hashes are 43 chars; allow some room for other hash encodings, but bound it. */
const MAX_HASH_LENGTH = 128;

/** Parses a 66-char lowercase hex account (prefix byte ‖ 32 key bytes). */
export function parseOwnerKey(account: string): OwnerKey {
  if (typeof account !== "string" || !ACCOUNT_PATTERN.test(account)) {
    throw invalidInput("account", "account must be 66 lowercase hex characters");
  }
  return {type: parseInt(account.slice(0, 2), 16), pubkey: Buffer.from(account.slice(2), "hex")};
}

export function checkHash(hash: string): void {
  if (typeof hash !== "string" || hash.length === 0 || hash.length > MAX_HASH_LENGTH) {
    throw invalidInput("hash", `hash must be a string of 1..${MAX_HASH_LENGTH} characters`);
  }
}

export function checkHashes(hashes: string[]): void {
  if (!Array.isArray(hashes)) throw invalidInput("hashes", "hashes must be an array");
  hashes.forEach(checkHash);
}

export function checkInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw invalidInput(field, `${field} must be a safe integer`);
}

export function checkNamespaceSelector(namespace: number | "all"): void {
  if (namespace !== "all") checkInteger("namespace", namespace);
}

/** Binary data as a Buffer (better-sqlite3 binds Buffers as BLOBs). */
export function toBuffer(field: string, bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw invalidInput(field, `${field} must be a Uint8Array`);
}

export function checkMessage(m: StoredMessage | NewMessage): void {
  parseOwnerKey(m.account);
  checkHash(m.hash);
  checkInteger("namespace", m.namespace);
  checkInteger("timestamp", m.timestamp);
  checkInteger("expiry", m.expiry);
  toBuffer("data", m.data);
}

/** Ascii (code unit) order, as Session signs and returns hash lists. */
export function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function checkExpireRequest(req: ExpireRequest): void {
  checkHashes(req.hashes);
  if (!Array.isArray(req.expiries) || req.expiries.length !== req.hashes.length) {
    throw invalidInput("expiries", "expiries must have one entry per hash");
  }
  req.expiries.forEach((e) => checkInteger("expiry", e));
  if (req.mode !== "extend" && req.mode !== "shorten" && req.mode !== "set") {
    throw invalidInput("mode", "mode must be extend, shorten or set");
  }
}

export function checkMessages(messages: StoredMessage[]): void {
  if (!Array.isArray(messages)) throw invalidInput("messages", "messages must be an array");
  messages.forEach(checkMessage);
}
