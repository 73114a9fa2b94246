/**
 * Subaccount revocation records on the peer wire and in revocation digests (docs/PROTOCOL.md
 * (Replication) §5.5). A record is one token's state: revoked or unrevoked at the timestamp of the
 * account's signed request. JSON form:
 *
 *   {"account": <66 hex>, "token": <72 hex>, "revoked": <bool>, "timestamp": <ms>}
 *
 * Digest item: SHA-256("pars-storage/v1/revocation" ‖ account (33 bytes) ‖ token (36 bytes) ‖
 * state (0x01 revoked, 0x00 unrevoked) ‖ u64be timestamp), in the bucket of the account's first
 * key byte (256 buckets). Decoding is strict, like every peer message; `checkRecordTimes` also
 * refuses timestamps no client request could have had.
 */
import {createHash} from "node:crypto";
import type {RevocationRecord} from "../storage/index.js";
import {badMessage} from "./errors.js";

/** Revocation digest buckets: the first byte of the account's key. */
export const REVOCATION_BUCKETS = 256;
/** Most records in one `revocations_ok` or `push_revocations`. */
export const MAX_REVOCATION_RECORDS = 10_000;
/**
 * A record's timestamp is a client's, accepted within ±60 s of its entry node's clock; beyond this
 * much in our future it is refused (a far-future record would win every later request).
 */
export const REVOCATION_MAX_FUTURE_MS = 120_000;

const TAG = "pars-storage/v1/revocation";
const ACCOUNT = /^[0-9a-f]{66}$/;
const TOKEN = /^[0-9a-f]{72}$/;

/** The digest bucket of an account (66 lowercase hex). */
export function revocationBucket(account: string): number {
  return parseInt(account.slice(2, 4), 16);
}

/** The record's 32-byte digest item. */
export function revocationItem(r: RevocationRecord): Uint8Array {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(r.timestamp));
  return createHash("sha256")
    .update(TAG)
    .update(Buffer.from(r.account, "hex"))
    .update(r.token)
    .update(Uint8Array.of(r.revoked ? 1 : 0))
    .update(ts)
    .digest();
}

export function recordToJson(r: RevocationRecord): Record<string, unknown> {
  return {account: r.account, token: r.token.toString("hex"), revoked: r.revoked, timestamp: r.timestamp};
}

/** A list of records in JSON form, or BAD_MESSAGE. */
export function recordsFromJson(v: unknown): RevocationRecord[] {
  if (!Array.isArray(v)) throw badMessage("records must be an array");
  if (v.length > MAX_REVOCATION_RECORDS) throw badMessage(`records: more than ${MAX_REVOCATION_RECORDS} entries`);
  return v.map(recordFromJson);
}

function recordFromJson(v: unknown): RevocationRecord {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badMessage("a revocation record must be an object");
  const r = v as Record<string, unknown>;
  if (typeof r.account !== "string" || !ACCOUNT.test(r.account)) throw badMessage("a record's account must be 66 lowercase hex characters");
  if (typeof r.token !== "string" || !TOKEN.test(r.token)) throw badMessage("a record's token must be 72 lowercase hex characters (36 bytes)");
  if (typeof r.revoked !== "boolean") throw badMessage("a record's revoked must be a boolean");
  if (!Number.isSafeInteger(r.timestamp) || (r.timestamp as number) <= 0) throw badMessage("a record's timestamp must be a positive integer (ms)");
  return {account: r.account, token: Buffer.from(r.token, "hex"), revoked: r.revoked, timestamp: r.timestamp as number};
}

/** Throws BAD_MESSAGE if any record is dated more than REVOCATION_MAX_FUTURE_MS after `now`. */
export function checkRecordTimes(records: readonly RevocationRecord[], now: number): void {
  const late = records.find((r) => r.timestamp > now + REVOCATION_MAX_FUTURE_MS);
  if (late !== undefined) throw badMessage(`a revocation record of ${late.account} is dated ${late.timestamp - now} ms in the future`);
}
