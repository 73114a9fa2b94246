import {loadConfig} from "../../config/index.js";
import {blsProofOfPossession} from "../../crypto/index.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_OK} from "../errors.js";
import {describeIdentity} from "../identity-format.js";
import type {CliIo} from "../io.js";
import {loadCrypto, loadExistingIdentity} from "./crypto.js";

/** `pars-storage id [--full]`: describe the existing identity and BLS key; fails if there is no identity. */
export async function idCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const backend = await loadCrypto(config, io);
  const {identity, keyFile, bls, signerKeyFile} = await loadExistingIdentity(config, backend);
  for (const line of describeIdentity(identity, keyFile, args.full)) io.stdout(line);
  // The BLS key in full: 48 bytes, and what a staking registration or luxd asks for.
  if (bls === null) {
    io.stdout(`BLS public key: none yet (${signerKeyFile} is created by "pars-storage keygen" or the first start)`);
  } else {
    io.stdout(`BLS public key: ${Buffer.from(bls.publicKey).toString("hex")}`);
    if (args.full) io.stdout(`BLS proof of possession: ${Buffer.from(blsProofOfPossession(bls.secretKey)).toString("hex")}`);
    io.stdout(`BLS key file: ${signerKeyFile}`);
  }
  return EXIT_OK;
}
