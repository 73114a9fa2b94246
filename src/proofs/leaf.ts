/**
 * Leaf entries, buckets and digests (docs/PROTOCOL.md (Storage proofs) §1–2). A leaf binds a message's
 * hash, account, namespace, expiry, data size and SHA-256(data); its tree hash is
 * SHA-256(0x00 ‖ entry) (merkle.ts). Buckets are the first 18 bits of the raw message hash.
 */
import {ACCOUNT_BYTES} from "../protocol/identity.js";
import {hash} from "node:crypto";
import {BUCKET_BITS, LEAF_ENTRY_BYTES, LEAF_TAG, MAX_DATA_BYTES} from "./constants.js";
import {MESSAGE_HASH_BYTES, MESSAGE_HASH_CHARS, NODE_BYTES, POSSESSION_TAG} from "./constants.js";
import {malformed} from "./errors.js";
import {leafHash} from "../crypto/merkle.js";

export interface LeafFields {
  /** 43-character unpadded base64 (Session's wire form). */
  readonly messageHash: string;
  /** 66 lowercase hex characters: prefix byte ‖ 32-byte key. */
  readonly account: string;
  readonly namespace: number;
  /** Unix ms. */
  readonly expiry: number;
  /** Bytes of message data. */
  readonly size: number;
  /** SHA-256(data). */
  readonly dataDigest: Uint8Array;
}

const BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ACCOUNT_RE = /^[0-9a-f]{66}$/;

/** 42 base64 characters, then one whose low 4 bits are zero (32 bytes = 256 of 258 bits). */
const MESSAGE_HASH_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;

/** Raw 32 bytes of a canonical 43-char message hash; null for anything else. Never throws. */
export function decodeMessageHash(text: unknown): Buffer | null {
  if (typeof text !== "string" || text.length !== MESSAGE_HASH_CHARS || !MESSAGE_HASH_RE.test(text)) return null;
  return Buffer.from(text, "base64");
}

export function encodeMessageHash(raw: Uint8Array): string {
  // Session hashes are unpadded: drop the one "=" of a 32-byte value.
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64").replace(/=+$/, "");
}

/** Bucket of a raw message hash: its first 18 bits. */
export function bucketOf(raw: Uint8Array): number {
  return (((raw[0] ?? 0) << 16) | ((raw[1] ?? 0) << 8) | (raw[2] ?? 0)) >> (24 - BUCKET_BITS);
}

/** The 3-character hash prefix of bucket `b` (18 bits = three base64 characters, 6 bits each). */
export function bucketPrefix(b: number): string {
  return (BASE64_CHARS[(b >> 12) & 63] ?? "") + (BASE64_CHARS[(b >> 6) & 63] ?? "") + (BASE64_CHARS[b & 63] ?? "");
}

/** Bucket number of a 3-character prefix; null if it is not three base64 characters. */
export function bucketOfPrefix(prefix: string): number | null {
  if (prefix.length !== 3) return null;
  let b = 0;
  for (const c of prefix) {
    const v = BASE64_CHARS.indexOf(c);
    if (v < 0) return null;
    b = (b << 6) | v;
  }
  return b;
}

/**
 * The hash-string range [lo, hi) holding exactly bucket `b`'s hashes in ASCII (SQLite BINARY)
 * order: the bucket's full 3-character prefix, up to the same prefix with its last character's code
 * plus one. Exact although base64's alphabet is not in ASCII order, because every character of
 * the prefix is fixed: a string in the range shares the first two characters and has the third.
 */
export function bucketRange(b: number): {lo: string; hi: string} {
  const lo = bucketPrefix(b);
  return {lo, hi: lo.slice(0, 2) + String.fromCharCode(lo.charCodeAt(2) + 1)};
}

export function decodeAccountHex(account: unknown, field = "account"): Buffer {
  if (typeof account !== "string" || !ACCOUNT_RE.test(account)) throw malformed(field, "must be 66 lowercase hex characters");
  return Buffer.from(account, "hex");
}

export function dataDigest(data: Uint8Array): Buffer {
  return hash("sha256", data, "buffer");
}

/** SHA-256(POSSESSION_TAG ‖ nonce ‖ raw message hash ‖ data): only a holder of the data can compute it. */
export function possessionDigest(nonce: Uint8Array, rawHash: Uint8Array, data: Uint8Array): Buffer {
  return hash("sha256", Buffer.concat([POSSESSION_TAG, nonce, rawHash, data]), "buffer");
}

/** The leaf entry bytes; throws PROOF_ERROR_MALFORMED on out-of-range fields. */
export function encodeLeafEntry(f: LeafFields): Buffer {
  const raw = decodeMessageHash(f.messageHash);
  if (raw === null) throw malformed("messageHash", "must be 43 characters of canonical unpadded base64");
  const account = decodeAccountHex(f.account);
  checkLeafNumbers(f);
  const out = Buffer.alloc(LEAF_ENTRY_BYTES);
  writeLeafEntry(out, 0, {raw, account, namespace: f.namespace, expiry: f.expiry, size: f.size, dataDigest: f.dataDigest});
  return out;
}

/** Leaf fields in raw form (already range-checked): the hot path of commitment builds. */
export interface RawLeaf {
  readonly raw: Uint8Array;
  readonly account: Uint8Array;
  readonly namespace: number;
  readonly expiry: number;
  readonly size: number;
  readonly dataDigest: Uint8Array;
}

/** Writes the 137-byte leaf entry at `offset` (layout: docs/PROTOCOL.md (Storage proofs) §1). */
export function writeLeafEntry(out: Buffer, offset: number, l: RawLeaf): void {
  let o = offset + LEAF_TAG.copy(out, offset);
  out.set(l.raw, o);
  out.set(l.account, (o += MESSAGE_HASH_BYTES));
  o = out.writeInt16BE(l.namespace, o + ACCOUNT_BYTES);
  o = out.writeUInt32BE(Math.floor(l.expiry / 0x1_0000_0000), o);
  o = out.writeUInt32BE(l.expiry % 0x1_0000_0000, o);
  o = out.writeUInt32BE(l.size, o);
  out.set(l.dataDigest, o);
}

const LEAF_SCRATCH = Buffer.alloc(1 + LEAF_ENTRY_BYTES);

/** SHA-256(0x00 ‖ leaf entry) without intermediate buffers. */
export function rawLeafHash(l: RawLeaf): Buffer {
  writeLeafEntry(LEAF_SCRATCH, 1, l);
  return hash("sha256", LEAF_SCRATCH, "buffer");
}

function checkLeafNumbers(f: LeafFields): void {
  if (!Number.isInteger(f.namespace) || f.namespace < -32768 || f.namespace > 32767) throw malformed("namespace", "must be an int16");
  if (!Number.isSafeInteger(f.expiry) || f.expiry < 0) throw malformed("expiry", "must be a non-negative safe integer");
  if (!Number.isInteger(f.size) || f.size < 0 || f.size > MAX_DATA_BYTES) throw malformed("size", "must be a u32");
  if (!(f.dataDigest instanceof Uint8Array) || f.dataDigest.length !== NODE_BYTES) throw malformed("dataDigest", "must be 32 bytes");
}

/** SHA-256(0x00 ‖ leaf entry). */
export function leafHashOf(f: LeafFields): Buffer {
  return leafHash(encodeLeafEntry(f));
}

