/**
 * Node identity = one ML-DSA-65 key pair (signing) + one ML-KEM-768 key pair (channel keys) + one
 * X25519 key pair (onion hops, not part of the ID).
 * nodeId = hex(BLAKE2b-256(ML-KEM pk ‖ ML-DSA pk)), i.e. the node's own `07` account without "07".
 *
 * With node-keys.ts (which moves it and keeps the BLS key beside it), the only file of src/crypto/
 * that does I/O: it reads and creates the key file.
 * Creation never overwrites: the file is written to a private temp file (0600, fsync), then
 * hard-linked to the final name (link(2) fails with EEXIST instead of replacing), then the temp
 * name is removed and the directory fsync'd. A PQID v1 file (no X25519 key) is upgraded in place
 * by rename(2) of a fully written, fsync'd v2 temp file: at every instant the name holds either
 * the complete old file or the complete new one, with the same ML keys and node ID.
 */
import {createHash, randomBytes} from "node:crypto";
import {link, mkdir, open, readFile, rename, stat, unlink} from "node:fs/promises";
import {basename, dirname, join} from "node:path";
import {InvalidArgumentError} from "../util/index.js";
import {deriveAccountId07} from "./account.js";
import {isBytes} from "./bytes.js";
import {IdentityError} from "./errors.js";
import {initHashing} from "./hash.js";
import type {PqBackend} from "./interface.js";
import {KEY_FILE_BYTES, decodeKeyFile, encodeKeyFile, type NodeIdentity} from "./key-file.js";
import {ML_DSA65_SEED_BYTES, ML_KEM768_SEED_BYTES} from "./pq/checks.js";
import {X25519_SECRET_KEY_BYTES, x25519KeyPair} from "./x25519.js";

export {
  KEY_FILE_BYTES,
  KEY_FILE_LAYOUT,
  KEY_FILE_MAGIC,
  KEY_FILE_V1,
  KEY_FILE_V1_BYTES,
  KEY_FILE_VERSION,
  decodeKeyFile,
  encodeKeyFile,
  type DecodeKeyFileOptions,
  type KeyFileField,
  type NodeIdentity,
} from "./key-file.js";

/** Files bigger than this are rejected as foreign without being read. */
export const KEY_FILE_MAX_READ_BYTES = 1_048_576;
const KEY_FILE_MODE = 0o600;
const KEY_DIR_MODE = 0o700;

export interface IdentitySeeds {
  /** ML-DSA-65 ξ, 32 bytes. */
  mlDsa: Uint8Array;
  /** ML-KEM-768 d ‖ z, 64 bytes. */
  mlKem: Uint8Array;
  /** X25519 secret key, 32 bytes; when absent, SHA-256(X25519_SEED_LABEL ‖ mlKem) (tests only). */
  x25519?: Uint8Array;
}

/** Derives a test identity's X25519 key from its ML-KEM seed when no X25519 seed is given. */
const X25519_SEED_LABEL = "pars-storage/v1/test-x25519-seed";

export interface LoadedIdentity {
  identity: NodeIdentity;
  /** True when this call generated the identity and wrote the file. */
  created: boolean;
  /** True when an existing PQID v1 file gained its X25519 key (rewritten as v2, same node ID). */
  upgraded: boolean;
  /** Operator-facing warnings (e.g. a key file readable by group/other). */
  warnings: string[];
}

/** hex(BLAKE2b-256(mlKemPk ‖ mlDsaPk)), 64 lowercase hex chars. Needs `initHashing()` first. */
export function deriveNodeId(mlKemPublicKey: Uint8Array, mlDsaPublicKey: Uint8Array): string {
  return deriveAccountId07(mlKemPublicKey, mlDsaPublicKey).slice(2);
}

/** New identity; deterministic when `seeds` are given (test vectors). Needs `initHashing()` first. */
export function generateIdentity(backend: PqBackend, seeds?: IdentitySeeds): NodeIdentity {
  if (
    seeds !== undefined &&
    (!isBytes(seeds.mlDsa, ML_DSA65_SEED_BYTES) ||
      !isBytes(seeds.mlKem, ML_KEM768_SEED_BYTES) ||
      (seeds.x25519 !== undefined && !isBytes(seeds.x25519, X25519_SECRET_KEY_BYTES)))
  ) {
    throw new InvalidArgumentError(
      `generateIdentity: seeds must be {mlDsa: ${ML_DSA65_SEED_BYTES} bytes, mlKem: ${ML_KEM768_SEED_BYTES} bytes, ` +
        `x25519?: ${X25519_SECRET_KEY_BYTES} bytes}`,
    );
  }
  const mlDsa = backend.mlDsa65.keygen(seeds?.mlDsa);
  const mlKem = backend.mlKem768.keygen(seeds?.mlKem);
  const x25519Seed =
    seeds === undefined
      ? undefined
      : (seeds.x25519 ?? createHash("sha256").update(X25519_SEED_LABEL).update(seeds.mlKem).digest());
  return {nodeId: deriveNodeId(mlKem.publicKey, mlDsa.publicKey), mlDsa, mlKem, x25519: x25519KeyPair(x25519Seed)};
}

function ioError(path: string, action: string, err: unknown): IdentityError {
  const code = err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : null;
  const reason = err instanceof Error ? err.message : String(err);
  return new IdentityError(
    {code: "IDENTITY_ERROR_IO", path, syscallCode: code},
    `cannot ${action} identity key file ${path}: ${reason}. No existing key file was modified.`,
    err,
  );
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && "code" in err && err.code === code;
}

/** Reads the key file, or returns null if it does not exist. */
async function readKeyFile(path: string): Promise<{bytes: Uint8Array; mode: number} | null> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw ioError(path, "inspect", err);
  }
  if (!info.isFile()) {
    throw ioError(path, "read", new Error("it is not a regular file"));
  }
  if (info.size > KEY_FILE_MAX_READ_BYTES) {
    throw new IdentityError(
      {code: "IDENTITY_ERROR_FOREIGN_FILE", path, sizeBytes: info.size},
      `identity key file ${path} is not a Pars node identity file: ${info.size} bytes instead of ` +
        `${KEY_FILE_BYTES}. The file was not modified. Check the configured key path.`,
    );
  }
  try {
    return {bytes: await readFile(path), mode: info.mode};
  } catch (err) {
    throw ioError(path, "read", err);
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` to a new 0600 temp file in `dir` and fsyncs it; returns its path. */
export async function writeTempFile(dir: string, path: string, bytes: Uint8Array): Promise<string> {
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", KEY_FILE_MODE);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return temp;
}

/**
 * Creates `path` holding `bytes` (written to a temp file, fsynced, then hard-linked into place, so
 * the file appears whole or not at all) unless it exists. Returns false if someone else created it
 * first; other failures throw the raw error for the caller to word.
 */
export async function createFileExclusive(path: string, bytes: Uint8Array): Promise<boolean> {
  const dir = dirname(path);
  await mkdir(dir, {recursive: true, mode: KEY_DIR_MODE});
  const temp = await writeTempFile(dir, path, bytes);
  try {
    await link(temp, path);
  } catch (err) {
    if (isErrno(err, "EEXIST")) return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await fsyncDirectory(dir);
  return true;
}

/** Creates `path` holding `bytes` unless it exists. Returns false if someone else created it first. */
async function createExclusive(path: string, bytes: Uint8Array): Promise<boolean> {
  try {
    return await createFileExclusive(path, bytes);
  } catch (err) {
    throw ioError(path, "create", err);
  }
}

/**
 * Replaces the PQID v1 file at `path` by `bytes` (its v2 form: same ML keys, so the same node ID):
 * a complete, fsync'd 0600 temp file renamed over it, then the directory fsync'd.
 */
async function replaceWithUpgrade(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await replaceFileAtomically(path, bytes);
  } catch (err) {
    throw ioError(path, "add the X25519 onion key to", err);
  }
}

/** Replaces `path` by a complete, fsync'd 0600 temp file renamed over it, then fsyncs the directory; raw errors. */
export async function replaceFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = await writeTempFile(dir, path, bytes);
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dir);
}

/**
 * Gives a v1 identity its X25519 key and rewrites the file as v2; returns what is on disk after,
 * re-read, so a process upgrading the same file at the same moment ends with the same key.
 */
async function upgradeV1(path: string, identity: NodeIdentity, backend: PqBackend): Promise<NodeIdentity> {
  await replaceWithUpgrade(path, encodeKeyFile({...identity, x25519: x25519KeyPair()}));
  const after = await readKeyFile(path);
  if (after === null) throw ioError(path, "read", new Error("the file vanished right after its upgrade"));
  const upgraded = decodeKeyFile(after.bytes, backend, {path});
  if (upgraded.nodeId !== identity.nodeId || upgraded.x25519 === undefined) {
    throw ioError(path, "upgrade", new Error("another process replaced the file with a different identity"));
  }
  return upgraded;
}

function modeWarnings(path: string, mode: number): string[] {
  if ((mode & 0o077) === 0) return [];
  const octal = (mode & 0o777).toString(8).padStart(3, "0");
  return [
    `identity key file ${path} has mode 0${octal}: group/other users can access the node's secret keys; ` +
      `run \`chmod 600 ${path}\``,
  ];
}

/**
 * Loads the identity at `path`, or generates one and creates the file (parent directories 0700,
 * file 0600) if there is none. A PQID v1 file gains an X25519 key (rewritten as v2, same node ID). An existing file is never overwritten, even if another process
 * creates it concurrently (then that file is loaded). Any problem with an existing file is an
 * IdentityError that leaves the file untouched.
 */
export async function loadOrCreateIdentity(path: string, backend: PqBackend): Promise<LoadedIdentity> {
  await initHashing();
  const existing = await readKeyFile(path);
  if (existing !== null) {
    const identity = decodeKeyFile(existing.bytes, backend, {path});
    const warnings = modeWarnings(path, existing.mode);
    if (identity.x25519 !== undefined) return {identity, created: false, upgraded: false, warnings};
    return {identity: await upgradeV1(path, identity, backend), created: false, upgraded: true, warnings};
  }
  const generated = generateIdentity(backend);
  if (await createExclusive(path, encodeKeyFile(generated))) {
    return {identity: generated, created: true, upgraded: false, warnings: []};
  }
  // link() found a name there: another process won the race (or it is a dangling symlink).
  const raced = await readKeyFile(path);
  if (raced === null) throw ioError(path, "read", new Error("the name exists but is not readable (dangling symlink?)"));
  const warnings = [
    `identity key file ${path} was created by another process at the same time; loaded that one`,
    ...modeWarnings(path, raced.mode),
  ];
  const identity = decodeKeyFile(raced.bytes, backend, {path});
  if (identity.x25519 !== undefined) return {identity, created: false, upgraded: false, warnings};
  return {identity: await upgradeV1(path, identity, backend), created: false, upgraded: true, warnings};
}
