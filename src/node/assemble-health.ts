/** The network view (every node's newest StorageProof, NetworkHealth), or a lone node's network of one. */
import type {ParsStorageConfig} from "../config/index.js";
import type {Logger} from "../util/index.js";
import type {PqBackend} from "../crypto/index.js";
import {CAPACITY_BYTES_PER_NODE, LoneNodeHealth, NetworkHealthService, type NetworkHealthOptions} from "../health/index.js";
import type {PeerClient} from "../peer/index.js";
import {defaultProofServiceOptions, type ProofService} from "../proofs/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {Clock} from "../util/index.js";

/** `networkView.*` with the activity window in ms (`activeEpochs` × `proofs.epochMs`). */
export function networkHealthOptions(config: ParsStorageConfig): NetworkHealthOptions {
  const {pollIntervalMs, requestTimeoutMs, concurrency, activeEpochs} = config.networkView;
  return {
    pollIntervalMs,
    requestTimeoutMs,
    concurrency,
    activeWindowMs: activeEpochs * config.proofs.epochMs,
    maxClockSkewMs: defaultProofServiceOptions.maxClockSkewMs,
    capacityBytesPerNode: CAPACITY_BYTES_PER_NODE,
  };
}

export interface NetworkHealthParts {
  readonly membership: MembershipService;
  /** The node's peer client: the poller's requests go through it. */
  readonly peers: Pick<PeerClient, "request">;
  readonly pq: PqBackend;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Our proof service (null with proofs disabled): our own proof, and the proofs peers push to us. */
  readonly proofs: ProofService | null;
}

/** Call before `membership.start()`; `start()` it after. */
export function assembleNetworkHealth(config: ParsStorageConfig, p: NetworkHealthParts): NetworkHealthService {
  const {proofs} = p;
  const service = new NetworkHealthService(networkHealthOptions(config), {...p, ownProof: () => proofs?.latest ?? null});
  proofs?.health.onNewestProof((proof) => void service.notePeerProof(proof));
  return service;
}

/** `GET /network/v1/health` of a node without a membership: a network of one (health/lone-node.ts). */
export function assembleLoneNodeHealth(config: ParsStorageConfig, p: {nodeId: string; proofs: ProofService | null; clock: Clock}): LoneNodeHealth {
  const {proofs} = p;
  return new LoneNodeHealth(networkHealthOptions(config), {nodeId: p.nodeId, clock: p.clock, ownProof: () => proofs?.latest ?? null});
}
