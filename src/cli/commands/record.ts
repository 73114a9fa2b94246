import {loadConfig} from "../../config/index.js";
import {loadNodeTls} from "../../node/index.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_OK} from "../errors.js";
import {configuredRecord} from "../own-record.js";
import type {CliIo} from "../io.js";
import {loadCrypto, loadExistingIdentity} from "./crypto.js";

/**
 * `pars-storage record`: print this node's signed node record (one JSON object, docs/PROTOCOL.md
 * Swarms §3) for a registry or a static membership file, with the BLS key of `staking/signer.key` and
 * its proof of possession (payload v4/v5). Fails without a key file. With `http.tls`
 * the record carries the TLS pin (and with "auto" the TLS key is created here if it is not yet).
 */
export async function recordCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const backend = await loadCrypto(config, io);
  const {identity, bls, signerKeyFile} = await loadExistingIdentity(config, backend);
  if (bls === null) {
    io.stderr(`pars-storage: warning: no BLS key in ${signerKeyFile} yet (start the node or run "pars-storage keygen" once); the record has none`);
  }
  // With http.tls the record carries the certificate's pin ("auto" creates the key the node will use).
  const tls = await loadNodeTls(config);
  const record = configuredRecord(config, identity, backend, Date.now(), {tlsSpkiSha256: tls?.spkiSha256 ?? null, bls});
  io.stdout(JSON.stringify(record, null, 2));
  return EXIT_OK;
}
