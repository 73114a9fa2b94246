import {dataPaths, type ParsStorageConfig} from "../../config/index.js";
import {initHashing} from "../../crypto/index.js";
import {readNodeKeys, type BlsKeyPair, type NodeIdentity} from "../../crypto/index.js";
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

/**
 * The identity in `<dataDir>/staking/pq-identity.key` (or, in a data dir an older release made and
 * no node has started on since, in `signer.key`) and the BLS key of `signer.key` if it has one.
 * Writes nothing; a CommandError if there is no identity.
 */
export async function loadExistingIdentity(
  config: ParsStorageConfig,
  backend: PqBackend,
): Promise<{identity: NodeIdentity; keyFile: string; bls: BlsKeyPair | null; signerKeyFile: string}> {
  const {keyFile, signerKeyFile} = dataPaths(config);
  const keys = await readNodeKeys({identityFile: keyFile, signerKeyFile}, backend);
  if (keys === null) throw new CommandError(`no node identity in ${keyFile}; create one with "pars-storage keygen"`);
  return {identity: keys.identity, keyFile: keys.identityFile, bls: keys.bls, signerKeyFile};
}
