/**
 * The node's two key files under `staking/` (issue #18):
 * - `signer.key`: the BLS secret key in luxd's format (32 bytes, the scalar big-endian; see bls.ts),
 *   so a luxd-created file is used as is;
 * - `pq-identity.key`: the post-quantum identity (PQID file, key-file.ts) that gives the node ID.
 *
 * Releases before this one kept the PQID file in `signer.key`. Such a data dir is migrated on load
 * without ever leaving a state where the identity exists nowhere:
 *   1. the PQID bytes are copied to `pq-identity.key` (temp file, fsync, link(2), fsync of the
 *      folder; never over an existing file), then loaded from there (a v1 file gains its X25519
 *      key as usual) and checked to have the node ID of the old file;
 *   2. only then is `signer.key` replaced by a new BLS key (temp file, fsync, rename(2), fsync).
 * A crash after 1 leaves both files holding the same identity, and the next load finishes at 2; a
 * crash inside 2 leaves either the old PQID `signer.key` or the new BLS key (rename is atomic).
 * If both files hold PQID identities with different node IDs, nothing is changed and loading fails.
 */
import {readFile, stat} from "node:fs/promises";
import {BLS_SECRET_KEY_BYTES, blsPublicKey, generateBlsSecretKey, isBlsSecretKey, type BlsKeyPair} from "./bls.js";
import {IdentityError} from "./errors.js";
import {createFileExclusive, isErrno, loadOrCreateIdentity, replaceFileAtomically, type LoadedIdentity} from "./identity.js";
import type {PqBackend} from "./interface.js";
import {KEY_FILE_MAGIC, decodeKeyFile, type NodeIdentity} from "./key-file.js";

export interface NodeKeyPaths {
  /** `<dataDir>/staking/pq-identity.key`: the PQID identity file. */
  identityFile: string;
  /** `<dataDir>/staking/signer.key`: the BLS secret key, luxd's format. */
  signerKeyFile: string;
}

export interface LoadedNodeKeys extends LoadedIdentity {
  /** The BLS key pair from `signer.key`. */
  bls: BlsKeyPair;
  /** True when this call generated the BLS key and wrote `signer.key`. */
  blsCreated: boolean;
  /** True when this call moved the identity out of a PQID `signer.key` (an older release's layout). */
  migrated: boolean;
}

/** A PQID file is ~9.7 KB; anything much bigger in signer.key is foreign and not read. */
const SIGNER_KEY_MAX_READ_BYTES = 1_048_576;

function io(path: string, action: string, err: unknown): IdentityError {
  const code = err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : null;
  const reason = err instanceof Error ? err.message : String(err);
  return new IdentityError(
    {code: "IDENTITY_ERROR_IO", path, syscallCode: code},
    `cannot ${action} BLS signer key file ${path}: ${reason}. No existing key file was modified.`,
    err,
  );
}

async function readSmall(path: string): Promise<{bytes: Uint8Array; mode: number} | null> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw io(path, "inspect", err);
  }
  if (!info.isFile()) throw io(path, "read", new Error("it is not a regular file"));
  if (info.size > SIGNER_KEY_MAX_READ_BYTES) return {bytes: new Uint8Array(0), mode: info.mode};
  try {
    return {bytes: await readFile(path), mode: info.mode};
  } catch (err) {
    throw io(path, "read", err);
  }
}

function isPqidFile(bytes: Uint8Array): boolean {
  return bytes.length > 4 && Buffer.from(bytes.subarray(0, 4)).toString("latin1") === KEY_FILE_MAGIC;
}

/** The BLS key in a luxd-format signer.key; an IdentityError (file untouched) for anything else. */
function decodeSignerKey(bytes: Uint8Array, path: string): BlsKeyPair {
  if (bytes.length !== BLS_SECRET_KEY_BYTES) {
    throw new IdentityError(
      {code: "IDENTITY_ERROR_FOREIGN_FILE", path, sizeBytes: bytes.length},
      `BLS signer key file ${path} is not a luxd BLS secret key: expected ${BLS_SECRET_KEY_BYTES} bytes, found ` +
        `${bytes.length}. The file was not modified. Check the configured data directory; move the file away ` +
        "only if you want a new BLS key.",
    );
  }
  if (!isBlsSecretKey(bytes)) {
    throw new IdentityError(
      {code: "IDENTITY_ERROR_CORRUPT", path, detail: "the scalar is 0 or not below the group order r"},
      `BLS signer key file ${path} is damaged: its 32 bytes are not a BLS12-381 secret key (0 or >= r). ` +
        "The file was not modified. Restore it from a backup.",
    );
  }
  const secretKey = Uint8Array.from(bytes);
  return {secretKey, publicKey: blsPublicKey(secretKey)};
}

/** Creates `path` with `bytes` (0600) unless it exists; false if it already does. */
async function createExclusive(path: string, bytes: Uint8Array, what: string): Promise<boolean> {
  try {
    return await createFileExclusive(path, bytes);
  } catch (err) {
    throw io(path, `create ${what} in`, err);
  }
}

/** Atomically replaces `path` by a complete, fsync'd 0600 file holding `bytes`. */
async function replaceAtomically(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await replaceFileAtomically(path, bytes);
  } catch (err) {
    throw io(path, "replace the moved identity by a BLS key in", err);
  }
}

function modeWarning(path: string, mode: number): string[] {
  if ((mode & 0o077) === 0) return [];
  const octal = (mode & 0o777).toString(8).padStart(3, "0");
  return [`BLS signer key file ${path} has mode 0${octal}: group/other users can read the BLS secret key; run \`chmod 600 ${path}\``];
}

/** Step 1 of the migration: the identity of a PQID signer.key, safely in the identity file. */
async function moveIdentity(paths: NodeKeyPaths, old: Uint8Array, backend: PqBackend): Promise<LoadedIdentity> {
  const oldIdentity = decodeKeyFile(old, backend, {path: paths.signerKeyFile});
  // EEXIST is fine: a crash after this step left the copy (checked below like any other file).
  await createExclusive(paths.identityFile, old, "the moved identity");
  const loaded = await loadOrCreateIdentity(paths.identityFile, backend);
  if (loaded.identity.nodeId !== oldIdentity.nodeId) {
    throw new IdentityError(
      {code: "IDENTITY_ERROR_ID_MISMATCH", path: paths.identityFile, storedId: "07" + loaded.identity.nodeId, derivedId: "07" + oldIdentity.nodeId},
      `${paths.signerKeyFile} holds the identity of an older release (node ID ${oldIdentity.nodeId}), but ` +
        `${paths.identityFile} holds another one (node ID ${loaded.identity.nodeId}). Neither file was modified. ` +
        "Keep the file of the node ID this node is known by and move the other away.",
    );
  }
  return loaded;
}

/**
 * Loads the node's identity and BLS key, creating whichever is missing and migrating an older
 * release's layout (module comment). A luxd-created `signer.key` is adopted as is. Needs no
 * `initHashing()` first (loadOrCreateIdentity runs it).
 */
export async function loadOrCreateNodeKeys(paths: NodeKeyPaths, backend: PqBackend): Promise<LoadedNodeKeys> {
  const signer = await readSmall(paths.signerKeyFile);
  if (signer !== null && isPqidFile(signer.bytes)) {
    const loaded = await moveIdentity(paths, signer.bytes, backend);
    const secretKey = generateBlsSecretKey();
    await replaceAtomically(paths.signerKeyFile, secretKey);
    return {...loaded, bls: {secretKey, publicKey: blsPublicKey(secretKey)}, blsCreated: true, migrated: true};
  }
  if (signer !== null) {
    // A bad signer.key fails before anything is created.
    const bls = decodeSignerKey(signer.bytes, paths.signerKeyFile);
    const loaded = await loadOrCreateIdentity(paths.identityFile, backend);
    const warnings = [...loaded.warnings, ...modeWarning(paths.signerKeyFile, signer.mode)];
    return {...loaded, warnings, bls, blsCreated: false, migrated: false};
  }
  const loaded = await loadOrCreateIdentity(paths.identityFile, backend);
  const secretKey = generateBlsSecretKey();
  if (await createExclusive(paths.signerKeyFile, secretKey, "a new BLS key")) {
    return {...loaded, bls: {secretKey, publicKey: blsPublicKey(secretKey)}, blsCreated: true, migrated: false};
  }
  // Another process created it at the same moment: use that one.
  const raced = await readSmall(paths.signerKeyFile);
  if (raced === null) throw io(paths.signerKeyFile, "read", new Error("the name exists but is not readable (dangling symlink?)"));
  return {...loaded, bls: decodeSignerKey(raced.bytes, paths.signerKeyFile), blsCreated: false, migrated: false};
}

/**
 * Reads the keys without writing anything (`pars-storage id`/`record`): the identity from the
 * identity file or, in a data dir an older release made, from the PQID `signer.key`; the BLS key
 * when `signer.key` already holds one (else null). Null when there is no identity at all. Needs
 * `initHashing()` first.
 */
export async function readNodeKeys(
  paths: NodeKeyPaths,
  backend: PqBackend,
): Promise<{identity: NodeIdentity; identityFile: string; bls: BlsKeyPair | null} | null> {
  const signer = await readSmall(paths.signerKeyFile);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(paths.identityFile);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    if (signer === null || !isPqidFile(signer.bytes)) return null;
    return {identity: decodeKeyFile(signer.bytes, backend, {path: paths.signerKeyFile}), identityFile: paths.signerKeyFile, bls: null};
  }
  const identity = decodeKeyFile(bytes, backend, {path: paths.identityFile});
  const bls = signer === null || isPqidFile(signer.bytes) ? null : decodeSignerKey(signer.bytes, paths.signerKeyFile);
  return {identity, identityFile: paths.identityFile, bls};
}
