import type {ParsStorageConfig} from "../config/index.js";
import type {BlsKeyPair, NodeIdentity} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import {checkStakeEligibility} from "../economics/index.js";
import {advertisedHost} from "../node/index.js";
import {PARS_STORAGE_VERSION} from "../node/index.js";
import {ownRecordFields, signOwnRecord, type OwnRecordInput} from "../swarm/index.js";
import type {NodeRecordJson} from "../swarm/index.js";
import {CommandError} from "./errors.js";

const HINT = "set node.publicHost, http.port and node.stake.* (pars-storage help record)";

/**
 * This node's signed record from its identity and configuration (`port` overrides `http.port`, for
 * nodes whose port the OS picked; `tlsSpkiSha256` is the pin of the node's TLS certificate,
 * `loadNodeTls(config)`, null for plain HTTP; `bls` is the key of `staking/signer.key`, published with
 * its proof of possession, null before the node has one). Throws a CommandError naming the problem when the record would
 * be rejected by other nodes: port 0, a host that is not advertisable, an ineligible stake.
 */
export function configuredRecord(
  config: ParsStorageConfig,
  identity: NodeIdentity,
  backend: PqBackend,
  nowMs: number,
  opts: {port?: number; tlsSpkiSha256?: string | null; bls?: BlsKeyPair | null} = {},
): NodeRecordJson {
  const port = opts.port ?? config.http.port;
  if (port === 0) throw new CommandError(`http.port is 0 (any free port), but a record needs the real port; ${HINT}`);
  const input: OwnRecordInput = {
    networkId: config.networkId,
    identity,
    host: advertisedHost(config),
    port,
    stake: config.node.stake,
    version: PARS_STORAGE_VERSION,
    timestampMs: nowMs,
    tlsSpkiSha256: opts.tlsSpkiSha256 ?? null,
    bls: opts.bls ?? null,
  };
  try {
    const {operator, contributors} = ownRecordFields(input).stake;
    const eligibility = checkStakeEligibility({operator: {...operator}, contributors: contributors.map((c) => ({...c}))});
    if (!eligibility.eligible) throw new CommandError(`stake is not eligible (PIP-0008 §2.2): ${eligibility.reasons.join("; ")}; ${HINT}`);
    return signOwnRecord(input, backend);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(`cannot build the node record: ${(err as Error).message}; ${HINT}`);
  }
}
