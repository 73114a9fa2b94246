/**
 * Hashes used by the storage protocol.
 *
 * BLAKE2b-256 (unkeyed BLAKE2b with a 32-byte digest, i.e. libsodium `crypto_generichash` with
 * outlen 32 and Go `blake2b.New256(nil)`) comes from hash-wasm, which must be loaded once with
 * `initHashing()` before any synchronous call; node:crypto has only BLAKE2b-512, whose output is not
 * a prefix of BLAKE2b-256 (the digest length is part of the parameter block).
 */
import {ACCOUNT_BYTES} from "../protocol/index.js";
import {NAMESPACE_MAX, NAMESPACE_MIN} from "../protocol/index.js";
import {createHash} from "node:crypto";
import {createBLAKE2b, type IHasher} from "hash-wasm";
import {InvalidArgumentError} from "../util/index.js";
import {CryptoError} from "./errors.js";

/** Whole levels and trees of RFC 6962 nodes per call (WebAssembly; the storage-proof commitment). */
export {sha256EntriesInto, sha256LeavesInto, sha256ParentsInto, sha256RootInto} from "./sha256-batch.js";

/** Session's namespace is an int16 (`namespace_id` in oxenss/common/namespace.h). */
export const BLAKE2B256_BYTES = 32;

const EMPTY = new Uint8Array(0);

let blake2bHasher: IHasher | null = null;
let loading: Promise<void> | null = null;

/** Loads the WebAssembly BLAKE2b once; later calls resolve immediately. Safe to call concurrently. */
export async function initHashing(): Promise<void> {
  if (blake2bHasher !== null) return;
  loading ??= createBLAKE2b(BLAKE2B256_BYTES * 8).then((hasher) => {
    blake2bHasher = hasher;
  });
  try {
    await loading;
  } catch (err) {
    loading = null;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CryptoError(
      {code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "hash-wasm"},
      `cannot load hash-wasm BLAKE2b: ${reason}`,
      err,
    );
  }
}

function hasher(): IHasher {
  if (blake2bHasher === null) {
    throw new CryptoError(
      {code: "CRYPTO_ERROR_NOT_INITIALIZED"},
      "BLAKE2b used before initHashing() resolved: await initHashing() once at startup (StorageNode.init does)",
    );
  }
  return blake2bHasher;
}

/** BLAKE2b-256 of the concatenation of `parts`. Synchronous; needs `initHashing()` first. */
export function blake2b256(...parts: Uint8Array[]): Uint8Array {
  const h = hasher().init();
  for (const part of parts) if (part.length > 0) h.update(part); // each update costs ~1 µs of overhead
  return h.digest("binary");
}

/** SHA-256 of the concatenation of `parts` (node:crypto). */
export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Standard-alphabet base64 with the trailing `=` padding removed. */
export function toBase64NoPad(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let end = b64.length;
  while (end > 0 && b64.charCodeAt(end - 1) === 0x3d /* = */) end--;
  return b64.slice(0, end);
}

/**
 * Session's message hash (oxenss `computeMessageHash`): unpadded base64 of
 * BLAKE2b-256(prefix byte ‖ 32 key bytes ‖ namespace as decimal ASCII, empty for 0 ‖ data).
 * Timestamp and expiry are not hashed, so identical content stored twice de-duplicates.
 *
 * @param account33 the account as 33 raw bytes (network/type prefix byte + 32-byte key)
 * @param namespace integer in [-32768, 32767]
 */
export function messageHash(account33: Uint8Array, namespace: number, data: Uint8Array): string {
  if (!(account33 instanceof Uint8Array) || account33.length !== ACCOUNT_BYTES) {
    throw new InvalidArgumentError(`messageHash: account must be ${ACCOUNT_BYTES} raw bytes (prefix + key)`);
  }
  if (!Number.isInteger(namespace) || namespace < NAMESPACE_MIN || namespace > NAMESPACE_MAX) {
    throw new InvalidArgumentError(`messageHash: namespace must be an integer in [${NAMESPACE_MIN}, ${NAMESPACE_MAX}]`);
  }
  const ns = namespace === 0 ? EMPTY : Buffer.from(String(namespace), "latin1");
  return toBase64NoPad(blake2b256(account33, ns, data));
}
