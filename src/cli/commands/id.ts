import fs from "node:fs/promises";
import {dataPaths, loadConfig} from "../../config/index.js";
import {decodeKeyFile} from "../../crypto/identity.js";
import type {ParsedArgs} from "../args.js";
import {CommandError, EXIT_OK} from "../errors.js";
import {describeIdentity, type PublicIdentity} from "../identity-format.js";
import type {CliIo} from "../run.js";
import {loadCrypto} from "./crypto.js";

async function readKeyFile(keyFile: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(keyFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CommandError(`no node identity in ${keyFile}; create one with "pars-storage keygen"`);
    }
    throw e;
  }
}

/** `pars-storage id [--full]`: describe the existing identity; fails if there is none. */
export async function idCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const {keyFile} = dataPaths(config);
  const bytes = await readKeyFile(keyFile);
  const backend = await loadCrypto(config, io);
  const identity: PublicIdentity = decodeKeyFile(bytes, backend, {path: keyFile});
  for (const line of describeIdentity(identity, keyFile, args.full)) io.stdout(line);
  return EXIT_OK;
}
