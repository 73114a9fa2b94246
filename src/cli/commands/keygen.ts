import {dataPaths, loadConfig} from "../../config/index.js";
import {loadOrCreateIdentity} from "../../crypto/index.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_OK} from "../errors.js";
import type {CliIo} from "../io.js";
import {loadCrypto} from "./crypto.js";

/**
 * `pars-storage keygen`: create `<dataDir>/staking/signer.key` unless it exists (never
 * overwritten; `loadOrCreateIdentity` creates the folder 0700 and the file 0600), then print the
 * node ID on stdout; what happened goes to stderr.
 */
export async function keygenCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const {keyFile} = dataPaths(config);
  const backend = await loadCrypto(config, io);
  const {identity, created, warnings} = await loadOrCreateIdentity(keyFile, backend);
  for (const warning of warnings) io.stderr(`pars-storage: warning: ${warning}`);
  io.stderr(
    created
      ? `pars-storage: created a new node identity in ${keyFile}`
      : `pars-storage: a node identity already exists in ${keyFile}; it was not overwritten`,
  );
  io.stdout(identity.nodeId);
  return EXIT_OK;
}
