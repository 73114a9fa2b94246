import fs from "node:fs/promises";
import {dataPaths, type ParsStorageConfig} from "../../config/index.js";
import {initHashing} from "../../crypto/index.js";
import {decodeKeyFile, type NodeIdentity} from "../../crypto/index.js";
import type {PqBackend} from "../../crypto/index.js";
import {loadPqBackend} from "../../crypto/index.js";
import {CommandError} from "../errors.js";
import type {CliIo} from "../io.js";

/** Hashing (WebAssembly) and the configured post-quantum backend, ready for identity work. */
export async function loadCrypto(config: ParsStorageConfig, io: CliIo): Promise<PqBackend> {
  await initHashing();
  return loadPqBackend(config.crypto.pqBackend, {
    onFallback: (reason) => io.stderr(`pars-storage: warning: using noble for part of the post-quantum work (${reason.message})`),
  });
}

/** The identity in `<dataDir>/staking/signer.key`; a CommandError if there is none. */
export async function loadExistingIdentity(config: ParsStorageConfig, backend: PqBackend): Promise<{identity: NodeIdentity; keyFile: string}> {
  const {keyFile} = dataPaths(config);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(keyFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CommandError(`no node identity in ${keyFile}; create one with "pars-storage keygen"`);
    }
    throw e;
  }
  return {identity: decodeKeyFile(bytes, backend, {path: keyFile}), keyFile};
}
