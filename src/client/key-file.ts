/**
 * Client key files: one JSON object holding the account's seeds (the keys are derived from them, so
 * a `07` file is ~250 bytes instead of the node key file's 9,639):
 *   {"pars_client_key": 1, "type": "05", "ed25519_seed": "<64 hex>"}
 *   {"pars_client_key": 1, "type": "07", "ml_dsa_seed": "<64 hex>", "ml_kem_seed": "<128 hex>"}
 * Written once with mode 0600 and O_EXCL (an existing file is never replaced), then fsync'd.
 */
import {open, readFile} from "node:fs/promises";
import type {PqBackend} from "../crypto/index.js";
import {isHex, toHex} from "../protocol/index.js";
import {Ed25519Account, PqAccount} from "./account.js";
import {ClientError} from "./errors.js";

export const CLIENT_KEY_FILE_VERSION = 1;
/** Larger files are not client key files; they are not read whole. */
const MAX_KEY_FILE_BYTES = 4096;

export type KeyFileAccount = Ed25519Account | PqAccount;

export function encodeClientKey(account: KeyFileAccount): string {
  const body =
    account instanceof PqAccount
      ? {pars_client_key: CLIENT_KEY_FILE_VERSION, type: "07", ml_dsa_seed: toHex(account.seeds.mlDsa), ml_kem_seed: toHex(account.seeds.mlKem)}
      : {pars_client_key: CLIENT_KEY_FILE_VERSION, type: account.prefix, ed25519_seed: toHex(account.key.seed)};
  return `${JSON.stringify(body)}\n`;
}

function seed(path: string, v: unknown, bytes: number, name: string): Buffer {
  if (typeof v !== "string" || v.length !== bytes * 2 || !isHex(v)) {
    throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `${path}: "${name}" must be ${bytes * 2} hex characters`);
  }
  return Buffer.from(v, "hex");
}

export function decodeClientKey(path: string, text: string, pq: PqBackend): KeyFileAccount {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `${path} is not a client key file (not JSON)`);
  }
  if (typeof body !== "object" || body === null || body.pars_client_key !== CLIENT_KEY_FILE_VERSION) {
    throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `${path} is not a version ${CLIENT_KEY_FILE_VERSION} client key file`);
  }
  if (body.type === "07") {
    return new PqAccount({mlDsa: seed(path, body.ml_dsa_seed, 32, "ml_dsa_seed"), mlKem: seed(path, body.ml_kem_seed, 64, "ml_kem_seed")}, pq);
  }
  if (typeof body.type === "string" && /^[0-9a-f]{2}$/.test(body.type)) {
    return new Ed25519Account(seed(path, body.ed25519_seed, 32, "ed25519_seed"), body.type);
  }
  throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `${path}: unknown account type ${JSON.stringify(body.type)}`);
}

/** Writes a new key file (0600); fails with CLIENT_ERROR_KEY_FILE if `path` exists. */
export async function writeClientKeyFile(path: string, account: KeyFileAccount): Promise<void> {
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `${path} already exists; it was not overwritten`);
    }
    throw err;
  }
  try {
    await handle.writeFile(encodeClientKey(account));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function readClientKeyFile(path: string, pq: PqBackend): Promise<KeyFileAccount> {
  let text: string;
  try {
    const handle = await open(path, "r");
    try {
      const {size} = await handle.stat();
      if (size > MAX_KEY_FILE_BYTES) throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `${path} is too large for a client key file`);
      text = await readFile(handle, "utf8");
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw new ClientError({code: "CLIENT_ERROR_KEY_FILE", path}, `cannot read ${path}: ${(err as Error).message}`, err);
  }
  return decodeClientKey(path, text, pq);
}
