/**
 * The node identity key file, "PQID v1" (the layout of luxcpp/session `pq_identity.dat`):
 *
 *   "PQID" ‖ 0x01 ‖ ML-KEM-768 pk (1184) ‖ ML-KEM-768 sk (2400) ‖ ML-DSA-65 pk (1952)
 *          ‖ ML-DSA-65 sk (4032) ‖ ID as 66 ASCII chars ("07" + nodeId) = 9,639 bytes, unencrypted.
 *
 * "PQID v2" is v1 with version byte 0x02 and the onion-hop X25519 key appended (every v1 offset
 * unchanged): ‖ X25519 sk (32) ‖ X25519 pk (32) = 9,703 bytes. The X25519 key is not part of the
 * node ID, so a v1 file gains it (identity.ts rewrites it as v2) without changing the ID.
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
import {X25519_PUBLIC_KEY_BYTES} from "./ed25519.js";
import {X25519_SECRET_KEY_BYTES, x25519PublicKey} from "./x25519.js";

/** A node's long-term identity. `nodeId` is 64 lowercase hex chars; its `07` account is "07" + nodeId. */
export interface NodeIdentity {
  nodeId: string;
  mlDsa: KeyPair;
  mlKem: KeyPair;
  /**
   * The static X25519 key of onion hops (src/onion/). Absent only in an identity decoded from a
   * PQID v1 file; `loadOrCreateIdentity` always returns one.
   */
  x25519?: KeyPair;
}

export const KEY_FILE_MAGIC = "PQID";
/** The version this node writes; it reads KEY_FILE_V1 too. */
export const KEY_FILE_VERSION = 2;
export const KEY_FILE_V1 = 1;
const ID_CHARS = 66;

/** Byte ranges of a PQID file (v1 ends after `accountId`, v2 adds the X25519 key). */
export const KEY_FILE_LAYOUT = Object.freeze({
  magic: {offset: 0, length: 4},
  version: {offset: 4, length: 1},
  mlKemPublicKey: {offset: 5, length: ML_KEM768_PUBLIC_KEY_BYTES},
  mlKemSecretKey: {offset: 1189, length: ML_KEM768_SECRET_KEY_BYTES},
  mlDsaPublicKey: {offset: 3589, length: ML_DSA65_PUBLIC_KEY_BYTES},
  mlDsaSecretKey: {offset: 5541, length: ML_DSA65_SECRET_KEY_BYTES},
  accountId: {offset: 9573, length: ID_CHARS},
  x25519SecretKey: {offset: 9639, length: X25519_SECRET_KEY_BYTES},
  x25519PublicKey: {offset: 9671, length: X25519_PUBLIC_KEY_BYTES},
});
export type KeyFileField = keyof typeof KEY_FILE_LAYOUT;
/** Size of a PQID v2 file (what this node writes). */
export const KEY_FILE_BYTES = 9703;
export const KEY_FILE_V1_BYTES = 9639;

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

/**
 * Serializes an identity: PQID v2 (9,703 bytes) when it has an X25519 key, else PQID v1 (9,639
 * bytes, what luxcpp builds read and what a node wrote before onion keys).
 */
export function encodeKeyFile(identity: NodeIdentity): Uint8Array {
  const parts: Partial<Record<Exclude<KeyFileField, "magic" | "version" | "accountId">, Uint8Array>> = {
    mlKemPublicKey: identity.mlKem.publicKey,
    mlKemSecretKey: identity.mlKem.secretKey,
    mlDsaPublicKey: identity.mlDsa.publicKey,
    mlDsaSecretKey: identity.mlDsa.secretKey,
  };
  if (identity.x25519 !== undefined) {
    parts.x25519SecretKey = identity.x25519.secretKey;
    parts.x25519PublicKey = identity.x25519.publicKey;
  }
  if (!/^[0-9a-f]{64}$/.test(identity.nodeId)) {
    throw new InvalidArgumentError("encodeKeyFile: nodeId must be 64 lowercase hex chars");
  }
  const v2 = identity.x25519 !== undefined;
  const out = new Uint8Array(v2 ? KEY_FILE_BYTES : KEY_FILE_V1_BYTES);
  out.set(Buffer.from(KEY_FILE_MAGIC, "latin1"), KEY_FILE_LAYOUT.magic.offset);
  out[KEY_FILE_LAYOUT.version.offset] = v2 ? KEY_FILE_VERSION : KEY_FILE_V1;
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

/** Checks magic, version and size; returns the version (1 or 2). */
function checkHeader(bytes: Uint8Array, path: string | null): number {
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
  if (version !== KEY_FILE_VERSION && version !== KEY_FILE_V1) {
    throw new IdentityError(
      {code: "IDENTITY_ERROR_UNSUPPORTED_VERSION", path, version},
      `${where(path)} is PQID version ${version}; this node reads versions ${KEY_FILE_V1} and ${KEY_FILE_VERSION} only. ` +
        `${NOT_MODIFIED} Run a pars-storage release that supports version ${version}.`,
    );
  }
  const expected = version === KEY_FILE_V1 ? KEY_FILE_V1_BYTES : KEY_FILE_BYTES;
  if (bytes.length !== expected) {
    const how = bytes.length < expected ? "truncated" : "too long";
    corrupt(path, `it is ${how}: ${bytes.length} bytes instead of ${expected} (PQID v${version})`);
  }
  return version;
}

function corrupt(path: string | null, detail: string): never {
  throw new IdentityError(
    {code: "IDENTITY_ERROR_CORRUPT", path, detail},
    `${where(path)} is damaged: ${detail}. ${NOT_MODIFIED} ${RESTORE_HINT}`,
  );
}

function keyFailure(path: string | null, key: IdentityKeyName, failure: KeyCheckFailure): never {
  const label = key === "ml-dsa-65" ? "ML-DSA-65" : key === "ml-kem-768" ? "ML-KEM-768" : "X25519";
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

/** The v2 X25519 pair; its public key must be X25519(secret, 9). */
function readX25519(bytes: Uint8Array, path: string | null): KeyPair {
  const pair = {secretKey: field(bytes, "x25519SecretKey"), publicKey: field(bytes, "x25519PublicKey")};
  if (!equalBytes(x25519PublicKey(pair.secretKey), pair.publicKey)) {
    keyFailure(path, "x25519", {kind: "mismatch", detail: "the public key (bytes 9671–9702) is not X25519(secret key, 9)"});
  }
  return pair;
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
 * Parses and fully checks a PQID v1 or v2 file: size, magic, version, ID text, each secret key
 * against its public key (structure, then a KEM round trip; v2: the X25519 pair), the ID against
 * the keys, then a test signature. A v1 identity has no `x25519`. Each failure is a distinct IdentityError code. Needs `initHashing()` first.
 */
export function decodeKeyFile(bytes: Uint8Array, backend: PqBackend, opts: DecodeKeyFileOptions = {}): NodeIdentity {
  const path = opts.path ?? null;
  const version = checkHeader(bytes, path);
  const storedId = Buffer.from(field(bytes, "accountId")).toString("latin1");
  checkIdText(storedId, path);
  const mlKem = {publicKey: field(bytes, "mlKemPublicKey"), secretKey: field(bytes, "mlKemSecretKey")};
  const mlDsa = {publicKey: field(bytes, "mlDsaPublicKey"), secretKey: field(bytes, "mlDsaSecretKey")};
  const kemFailure = checkMlKem768KeyPair(mlKem.publicKey, mlKem.secretKey);
  if (kemFailure !== null) keyFailure(path, "ml-kem-768", kemFailure);
  const dsaFailure = checkMlDsa65KeyPair(mlDsa.publicKey, mlDsa.secretKey);
  if (dsaFailure !== null) keyFailure(path, "ml-dsa-65", dsaFailure);
  const identity: NodeIdentity = {nodeId: deriveAccountId07(mlKem.publicKey, mlDsa.publicKey).slice(2), mlDsa, mlKem};
  if (version === KEY_FILE_VERSION) identity.x25519 = readX25519(bytes, path);
  checkKemRoundTrip(identity, backend, path);
  checkDerivedId(identity, storedId, path);
  checkSignature(identity, backend, path);
  return identity;
}
