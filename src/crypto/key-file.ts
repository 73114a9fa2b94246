/**
 * The node identity key file, "PQID v1" (the layout of luxcpp/session `pq_identity.dat`):
 *
 *   "PQID" ‖ 0x01 ‖ ML-KEM-768 pk (1184) ‖ ML-KEM-768 sk (2400) ‖ ML-DSA-65 pk (1952)
 *          ‖ ML-DSA-65 sk (4032) ‖ ID as 66 ASCII chars ("07" + nodeId) = 9,639 bytes, unencrypted.
 *
 * Decoding is strict (the C++ loader checked only length, magic and version): every key pair and
 * the ID are re-derived, and a test signature is made, before the identity is handed out.
 * See docs/PROTOCOL.md (Identity).
 */
import {InvalidArgumentError} from "../util/index.js";
import {deriveAccountId07} from "./account.js";
import {equalBytes, isBytes} from "./bytes.js";
import {IdentityError, type IdentityKeyName} from "./errors.js";
import {
  ML_DSA65_PUBLIC_KEY_BYTES,
  ML_DSA65_SECRET_KEY_BYTES,
  ML_KEM768_PUBLIC_KEY_BYTES,
  ML_KEM768_SECRET_KEY_BYTES,
  type KeyPair,
  type PqBackend,
} from "./interface.js";
import {checkMlDsa65KeyPair, checkMlKem768KeyPair, type KeyCheckFailure} from "./pq/key-checks.js";

/** A node's long-term identity. `nodeId` is 64 lowercase hex chars; its `07` account is "07" + nodeId. */
export interface NodeIdentity {
  nodeId: string;
  mlDsa: KeyPair;
  mlKem: KeyPair;
}

export const KEY_FILE_MAGIC = "PQID";
export const KEY_FILE_VERSION = 1;
const ID_CHARS = 66;

/** Byte ranges of a PQID v1 file. */
export const KEY_FILE_LAYOUT = Object.freeze({
  magic: {offset: 0, length: 4},
  version: {offset: 4, length: 1},
  mlKemPublicKey: {offset: 5, length: ML_KEM768_PUBLIC_KEY_BYTES},
  mlKemSecretKey: {offset: 1189, length: ML_KEM768_SECRET_KEY_BYTES},
  mlDsaPublicKey: {offset: 3589, length: ML_DSA65_PUBLIC_KEY_BYTES},
  mlDsaSecretKey: {offset: 5541, length: ML_DSA65_SECRET_KEY_BYTES},
  accountId: {offset: 9573, length: ID_CHARS},
});
export type KeyFileField = keyof typeof KEY_FILE_LAYOUT;
export const KEY_FILE_BYTES = 9639;

/** Context of the load-time test signature; never leaves the process, so not a wire context. */
const SELF_TEST_CONTEXT = new TextEncoder().encode("pars-storage/v1/identity-self-test");
const NOT_MODIFIED = "The file was not modified.";
const RESTORE_HINT =
  "Restore the file from a backup; moving it away makes the node generate a new identity (a new node ID).";

export interface DecodeKeyFileOptions {
  /** Named in error messages. */
  path?: string;
}

/** A copy of one field as a plain Uint8Array (`Buffer#slice` would return a view, not a copy). */
function field(bytes: Uint8Array, name: KeyFileField): Uint8Array {
  const {offset, length} = KEY_FILE_LAYOUT[name];
  return Uint8Array.from(bytes.subarray(offset, offset + length));
}

/** Serializes an identity to the 9,639-byte PQID v1 layout. */
export function encodeKeyFile(identity: NodeIdentity): Uint8Array {
  const parts: Record<Exclude<KeyFileField, "magic" | "version" | "accountId">, Uint8Array> = {
    mlKemPublicKey: identity.mlKem.publicKey,
    mlKemSecretKey: identity.mlKem.secretKey,
    mlDsaPublicKey: identity.mlDsa.publicKey,
    mlDsaSecretKey: identity.mlDsa.secretKey,
  };
  if (!/^[0-9a-f]{64}$/.test(identity.nodeId)) {
    throw new InvalidArgumentError("encodeKeyFile: nodeId must be 64 lowercase hex chars");
  }
  const out = new Uint8Array(KEY_FILE_BYTES);
  out.set(Buffer.from(KEY_FILE_MAGIC, "latin1"), KEY_FILE_LAYOUT.magic.offset);
  out[KEY_FILE_LAYOUT.version.offset] = KEY_FILE_VERSION;
  for (const [name, value] of Object.entries(parts) as [keyof typeof parts, Uint8Array][]) {
    const {offset, length} = KEY_FILE_LAYOUT[name];
    if (!isBytes(value, length)) throw new InvalidArgumentError(`encodeKeyFile: ${name} must be ${length} bytes`);
    out.set(value, offset);
  }
  out.set(Buffer.from("07" + identity.nodeId, "latin1"), KEY_FILE_LAYOUT.accountId.offset);
  return out;
}

function where(path: string | null): string {
  return path === null ? "identity key file" : `identity key file ${path}`;
}

function checkHeader(bytes: Uint8Array, path: string | null): void {
  const magic = Buffer.from(bytes.subarray(0, 4)).toString("latin1");
  if (bytes.length < 5 || magic !== KEY_FILE_MAGIC) {
    const start = Buffer.from(bytes.subarray(0, 8)).toString("hex") || "(empty)";
    throw new IdentityError(
      {code: "IDENTITY_ERROR_FOREIGN_FILE", path, sizeBytes: bytes.length},
      `${where(path)} is not a Pars node identity file: expected ${KEY_FILE_BYTES} bytes starting with ` +
        `"PQID", found ${bytes.length} bytes starting with 0x${start}. ${NOT_MODIFIED} ` +
        "Check the configured key path; remove or move the file only if you want a new identity.",
    );
  }
  const version = bytes[KEY_FILE_LAYOUT.version.offset] ?? 0;
  if (version !== KEY_FILE_VERSION) {
    throw new IdentityError(
      {code: "IDENTITY_ERROR_UNSUPPORTED_VERSION", path, version},
      `${where(path)} is PQID version ${version}; this node reads version ${KEY_FILE_VERSION} only. ` +
        `${NOT_MODIFIED} Run a pars-storage release that supports version ${version}.`,
    );
  }
  if (bytes.length !== KEY_FILE_BYTES) {
    const how = bytes.length < KEY_FILE_BYTES ? "truncated" : "too long";
    corrupt(path, `it is ${how}: ${bytes.length} bytes instead of ${KEY_FILE_BYTES}`);
  }
}

function corrupt(path: string | null, detail: string): never {
  throw new IdentityError(
    {code: "IDENTITY_ERROR_CORRUPT", path, detail},
    `${where(path)} is damaged: ${detail}. ${NOT_MODIFIED} ${RESTORE_HINT}`,
  );
}

function keyFailure(path: string | null, key: IdentityKeyName, failure: KeyCheckFailure): never {
  const label = key === "ml-dsa-65" ? "ML-DSA-65" : "ML-KEM-768";
  if (failure.kind === "corrupt") corrupt(path, `${label} key: ${failure.detail}`);
  throw new IdentityError(
    {code: "IDENTITY_ERROR_KEY_MISMATCH", path, key, detail: failure.detail},
    `${where(path)} holds an ${label} secret key that does not belong to its ${label} public key ` +
      `(${failure.detail}); the file is damaged or was assembled from two identities. ${NOT_MODIFIED} ${RESTORE_HINT}`,
  );
}

function checkKemRoundTrip(identity: NodeIdentity, backend: PqBackend, path: string | null): void {
  const {cipherText, sharedSecret} = backend.mlKem768.encapsulate(identity.mlKem.publicKey);
  let recovered: Uint8Array | null = null;
  try {
    recovered = backend.mlKem768.decapsulate(cipherText, identity.mlKem.secretKey);
  } catch {
    recovered = null;
  }
  if (recovered === null || !equalBytes(recovered, sharedSecret)) {
    keyFailure(path, "ml-kem-768", {
      kind: "mismatch",
      detail: "decapsulating with dk_PKE (secret key bytes 0–1151) does not recover a secret encapsulated to the public key",
    });
  }
}

function checkIdText(storedId: string, path: string | null): void {
  if (!/^07[0-9a-f]{64}$/.test(storedId)) {
    const shown = JSON.stringify(storedId.replace(/[^\x20-\x7e]/g, "?"));
    corrupt(path, `the ID field (bytes 9573–9638) is not "07" + 64 lowercase hex chars: ${shown}`);
  }
}

function checkDerivedId(identity: NodeIdentity, storedId: string, path: string | null): void {
  const derivedId = "07" + identity.nodeId;
  if (storedId === derivedId) return;
  throw new IdentityError(
    {code: "IDENTITY_ERROR_ID_MISMATCH", path, storedId, derivedId},
    `${where(path)} stores ID ${storedId} but its keys derive ${derivedId} ` +
      "(07 ‖ hex BLAKE2b-256(ML-KEM pk ‖ ML-DSA pk)); the keys were replaced or the ID was edited " +
      `(files from luxcpp builds that hash with BLAKE3 also fail here). ${NOT_MODIFIED} ${RESTORE_HINT}`,
  );
}

function checkSignature(identity: NodeIdentity, backend: PqBackend, path: string | null): void {
  const message = Buffer.from(identity.nodeId, "latin1");
  const signature = backend.mlDsa65.sign(identity.mlDsa.secretKey, message, SELF_TEST_CONTEXT);
  if (backend.mlDsa65.verify(identity.mlDsa.publicKey, message, signature, SELF_TEST_CONTEXT)) return;
  throw new IdentityError(
    {code: "IDENTITY_ERROR_SELF_TEST_FAILED", path, backend: backend.name},
    `${where(path)} passed every structural check, but a test signature made with it did not verify ` +
      `(post-quantum backend "${backend.name}"). ${NOT_MODIFIED} Retry with the noble backend; ` +
      "if it still fails, report it with the node version.",
  );
}

/**
 * Parses and fully checks a PQID v1 file: size, magic, version, ID text, each secret key against
 * its public key (structure, then a KEM round trip), the ID against the keys, then a test
 * signature. Each failure is a distinct IdentityError code. Needs `initHashing()` first.
 */
export function decodeKeyFile(bytes: Uint8Array, backend: PqBackend, opts: DecodeKeyFileOptions = {}): NodeIdentity {
  const path = opts.path ?? null;
  checkHeader(bytes, path);
  const storedId = Buffer.from(field(bytes, "accountId")).toString("latin1");
  checkIdText(storedId, path);
  const mlKem = {publicKey: field(bytes, "mlKemPublicKey"), secretKey: field(bytes, "mlKemSecretKey")};
  const mlDsa = {publicKey: field(bytes, "mlDsaPublicKey"), secretKey: field(bytes, "mlDsaSecretKey")};
  const kemFailure = checkMlKem768KeyPair(mlKem.publicKey, mlKem.secretKey);
  if (kemFailure !== null) keyFailure(path, "ml-kem-768", kemFailure);
  const dsaFailure = checkMlDsa65KeyPair(mlDsa.publicKey, mlDsa.secretKey);
  if (dsaFailure !== null) keyFailure(path, "ml-dsa-65", dsaFailure);
  const identity: NodeIdentity = {nodeId: deriveAccountId07(mlKem.publicKey, mlDsa.publicKey).slice(2), mlDsa, mlKem};
  checkKemRoundTrip(identity, backend, path);
  checkDerivedId(identity, storedId, path);
  checkSignature(identity, backend, path);
  return identity;
}
