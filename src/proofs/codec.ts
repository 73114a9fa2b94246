/**
 * Strict JSON field decoding for proofs, challenges and answers. Every decoder accepts only the
 * canonical text form (lowercase hex, padded standard base64, safe integers) so one value has one
 * encoding, and throws PROOF_ERROR_MALFORMED naming the field otherwise.
 */
import {toBase64} from "../protocol/encoding.js";
import {fromBase64Strict, fromHexStrict} from "../swarm/encoding.js";
import {malformed} from "./errors.js";

export type Json = Record<string, unknown>;

export {toBase64};

/** `value` as a plain object with exactly `keys` (in any order); `optional` keys may be absent. */
export function exactObject(value: unknown, field: string, keys: readonly string[], optional: readonly string[] = []): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed(field, "must be an object");
  const obj = value as Json;
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key) && !optional.includes(key)) throw malformed(field, `unknown field "${key}"`);
  }
  for (const key of keys) if (!(key in obj)) throw malformed(field, `missing field "${key}"`);
  return obj;
}

export function hexBytes(value: unknown, field: string, length: number): Buffer {
  const bytes = typeof value === "string" ? fromHexStrict(value) : null;
  if (bytes === null || bytes.length !== length) throw malformed(field, `must be ${length} bytes of lowercase hex`);
  return Buffer.from(bytes);
}

export function base64Bytes(value: unknown, field: string, length?: number): Buffer {
  const bytes = typeof value === "string" ? fromBase64Strict(value) : null;
  if (bytes === null || (length !== undefined && bytes.length !== length)) {
    throw malformed(field, `must be ${length === undefined ? "" : `${length} bytes of `}canonical padded base64`);
  }
  return Buffer.from(bytes);
}

/** An integer in [min, max] (both safe integers). */
export function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw malformed(field, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

/** A non-negative safe integer (u64 fields that must survive a JSON number round trip). */
export function safeU64(value: unknown, field: string): number {
  return integer(value, field, 0, Number.MAX_SAFE_INTEGER);
}

export function oneOf<T extends string>(value: unknown, field: string, values: readonly T[]): T {
  if (typeof value !== "string" || !(values as readonly string[]).includes(value)) {
    throw malformed(field, `must be one of ${values.join(", ")}`);
  }
  return value as T;
}

export function arrayOf<T>(value: unknown, field: string, max: number, item: (v: unknown, f: string) => T): T[] {
  if (!Array.isArray(value) || value.length > max) throw malformed(field, `must be an array of at most ${max} items`);
  return value.map((v, i) => item(v, `${field}[${i}]`));
}

/** Parses JSON text (or passes an already parsed value through); MALFORMED on invalid JSON. */
export function parseJson(text: string | Uint8Array, field: string): unknown {
  try {
    return JSON.parse(typeof text === "string" ? text : Buffer.from(text).toString("utf8")) as unknown;
  } catch {
    throw malformed(field, "is not valid JSON");
  }
}

export function writeU64(out: Buffer, offset: number, value: number | bigint): number {
  out.writeBigUInt64BE(BigInt(value), offset);
  return offset + 8;
}
