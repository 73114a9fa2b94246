/** Small byte helpers shared by the crypto module. Pure; no secrets are compared here in a hot path. */
import {CryptoError} from "./errors.js";

/** True when `value` is a Uint8Array (Buffer included) of exactly `length` bytes. */
export function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}

/** Throws CRYPTO_ERROR_INVALID_INPUT unless `value` is a Uint8Array of `length` bytes. */
export function assertBytes(value: unknown, length: number, what: string): asserts value is Uint8Array {
  if (!isBytes(value, length)) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new CryptoError({code: "CRYPTO_ERROR_INVALID_INPUT", what}, `${what} must be ${length} bytes, got ${got}`);
  }
}

/** Byte-wise equality (not constant time; only for public data and self-checks). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A Buffer view of `bytes` without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A plain `Uint8Array` (not a Buffer or other subclass) with the same bytes. Some WebAssembly
 * wrappers (liboqs-js) check `constructor.name === "Uint8Array"` and reject Buffers.
 */
export function toPlainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
}
