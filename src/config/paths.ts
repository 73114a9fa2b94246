import path from "node:path";
import type {ParsStorageConfig} from "./schema.js";

/** Files and folders inside the data directory, as laid out by PIP-0007 (`~/.pars/…`). */
export interface DataPaths {
  readonly dataDir: string;
  /** `<dataDir>/db/session`: the SessionVM/storage database folder. */
  readonly dbDir: string;
  readonly dbFile: string;
  /**
   * `<dataDir>/staking/pq-identity.key`: the node's ML-DSA-65 + ML-KEM-768 (+ X25519) identity, a
   * PQID file. Releases before issue #18 kept it in `signer.key`; loading moves it here.
   */
  readonly keyFile: string;
  /** `<dataDir>/staking/signer.key`: the BLS secret key in luxd's format (32 bytes, big-endian). */
  readonly signerKeyFile: string;
  /** `<dataDir>/config.json`: read when no `--config` is given. */
  readonly configFile: string;
  /** `<dataDir>/tls/key.pem`: the TLS key with `http.tls = "auto"` (0600, never overwritten). */
  readonly tlsKeyFile: string;
  /** `<dataDir>/tls/cert.pem`: the self-signed certificate for it. */
  readonly tlsCertFile: string;
}

export const DB_SUBDIR = path.join("db", "session");
export const DB_FILE_NAME = "storage.db";
export const KEY_FILE_SUBPATH = path.join("staking", "pq-identity.key");
export const SIGNER_KEY_SUBPATH = path.join("staking", "signer.key");
export const CONFIG_FILE_NAME = "config.json";
export const TLS_SUBDIR = "tls";

/** `~` and `~/x` become the home directory; `~user/x` is left alone (not supported). */
export function expandHome(p: string, homeDir: string): string {
  if (p === "~") return homeDir;
  if (p.startsWith("~/")) return path.join(homeDir, p.slice(2));
  return p;
}

/** Expands `~` and makes the path absolute relative to `cwd`. */
export function resolveUserPath(p: string, cwd: string, homeDir: string): string {
  return path.resolve(cwd, expandHome(p, homeDir));
}

/** Derived paths of a loaded config (its `dataDir` is already absolute). */
export function dataPaths(config: Pick<ParsStorageConfig, "dataDir">): DataPaths {
  const dataDir = config.dataDir;
  const dbDir = path.join(dataDir, DB_SUBDIR);
  return Object.freeze({
    dataDir,
    dbDir,
    dbFile: path.join(dbDir, DB_FILE_NAME),
    keyFile: path.join(dataDir, KEY_FILE_SUBPATH),
    signerKeyFile: path.join(dataDir, SIGNER_KEY_SUBPATH),
    configFile: path.join(dataDir, CONFIG_FILE_NAME),
    tlsKeyFile: path.join(dataDir, TLS_SUBDIR, "key.pem"),
    tlsCertFile: path.join(dataDir, TLS_SUBDIR, "cert.pem"),
  });
}
