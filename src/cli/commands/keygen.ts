import {dataPaths, loadConfig} from "../../config/index.js";
import {loadOrCreateNodeKeys} from "../../crypto/index.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_OK} from "../errors.js";
import type {CliIo} from "../io.js";
import {loadCrypto} from "./crypto.js";

/**
 * `pars-storage keygen`: create `<dataDir>/staking/pq-identity.key` (the node identity) and
 * `<dataDir>/staking/signer.key` (the BLS key, luxd's format) unless they exist (never overwritten;
 * the folder is created 0700 and the files 0600; an older release's PQID signer.key is moved to
 * pq-identity.key first, as `start` does), then print the node ID on stdout; what happened goes to stderr.
 */
export async function keygenCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const {keyFile, signerKeyFile} = dataPaths(config);
  const backend = await loadCrypto(config, io);
  const keys = await loadOrCreateNodeKeys({identityFile: keyFile, signerKeyFile}, backend);
  const {identity, created, warnings} = keys;
  for (const warning of warnings) io.stderr(`pars-storage: warning: ${warning}`);
  if (keys.migrated) io.stderr(`pars-storage: moved the node identity from ${signerKeyFile} to ${keyFile} (node ID unchanged)`);
  io.stderr(
    created
      ? `pars-storage: created a new node identity in ${keyFile}`
      : `pars-storage: a node identity already exists in ${keyFile}; it was not overwritten`,
  );
  io.stderr(
    keys.blsCreated
      ? `pars-storage: created a new BLS signer key in ${signerKeyFile}`
      : `pars-storage: a BLS signer key already exists in ${signerKeyFile}; it was not overwritten`,
  );
  io.stdout(identity.nodeId);
  return EXIT_OK;
}
