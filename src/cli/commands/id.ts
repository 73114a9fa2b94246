import {loadConfig} from "../../config/index.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_OK} from "../errors.js";
import {describeIdentity} from "../identity-format.js";
import type {CliIo} from "../io.js";
import {loadCrypto, loadExistingIdentity} from "./crypto.js";

/** `pars-storage id [--full]`: describe the existing identity; fails if there is none. */
export async function idCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const backend = await loadCrypto(config, io);
  const {identity, keyFile} = await loadExistingIdentity(config, backend);
  for (const line of describeIdentity(identity, keyFile, args.full)) io.stdout(line);
  return EXIT_OK;
}
