import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {dirname, join} from "node:path";

/** This package's version, read from package.json (two or three levels up: src/ or dist/src/). */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {name?: string; version?: string};
      if (pkg.name === "pars-storage" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not here; go up
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

export const PARS_STORAGE_VERSION = readVersion();

/**
 * The client RPC level we implement: Session storage server 2.8.0 semantics on hardfork 19.4
 * (multi-expiry `expire` needs 19.4). Clients gate features on these numbers.
 */
export const SESSION_RPC_VERSION: [number, number, number] = [2, 8, 0];
export const SESSION_RPC_HF: [number, number] = [19, 4];
