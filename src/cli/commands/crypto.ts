import type {ParsStorageConfig} from "../../config/index.js";
import {initHashing} from "../../crypto/hash.js";
import type {PqBackend} from "../../crypto/interface.js";
import {loadPqBackend} from "../../crypto/pq/index.js";
import type {CliIo} from "../run.js";

/** Hashing (WebAssembly) and the configured post-quantum backend, ready for identity work. */
export async function loadCrypto(config: ParsStorageConfig, io: CliIo): Promise<PqBackend> {
  await initHashing();
  return loadPqBackend(config.crypto.pqBackend, {
    onFallback: (reason) => io.stderr(`pars-storage: warning: liboqs unavailable, using noble (${reason.message})`),
  });
}
