/** The network view: every node's newest StorageProof, NetworkHealth and the network's storage load. */
import type {ParsStorageConfig} from "../config/index.js";
import type {PqBackend} from "../crypto/index.js";
import type {PeerClient} from "../peer/index.js";
import {BYTES_PER_GB, STORAGE_PER_NODE_GB} from "../economics/index.js";
import {defaultProofServiceOptions} from "../proofs/index.js";
import type {ProofService} from "../proofs/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {Clock} from "../util/index.js";
import {NetworkHealthService, type NetworkHealthLogger, type NetworkHealthOptions} from "./health-service.js";
import {LoneNodeHealth} from "./lone-node.js";

export {NetworkHealthService, type NetworkHealthOptions, type NetworkHealthReport} from "./health-service.js";
export {networkState, type ActivityRules, type NetworkState} from "./network-state.js";
export {latestProofFetcher, type LatestProofFetcher} from "./proof-fetch.js";
export {LoneNodeHealth} from "./lone-node.js";
export {ProofPoller, type PollTarget, type RoundStats} from "./proof-poller.js";
export {NetworkProofView, type OfferResult} from "./proof-view.js";

/**
 * Capacity credited to each active node: node records carry none, so PIP-0008 §3.2's per-node
 * SIZE_LIMIT (10 GB), the same for every node so that all nodes compute the same health.
 */
export const CAPACITY_BYTES_PER_NODE = STORAGE_PER_NODE_GB * BYTES_PER_GB;

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
  readonly logger: NetworkHealthLogger;
  /** Our proof service (null with proofs disabled): our own proof, and the proofs peers push to us. */
  readonly proofs: ProofService | null;
}

/** Call before `membership.start()`; `start()` it after. */
export function createNetworkHealth(config: ParsStorageConfig, p: NetworkHealthParts): NetworkHealthService {
  const {proofs} = p;
  const service = new NetworkHealthService(networkHealthOptions(config), {...p, ownProof: () => proofs?.latest ?? null});
  proofs?.health.onNewestProof((proof) => void service.notePeerProof(proof));
  return service;
}

/** `GET /network/v1/health` of a node without a membership: a network of one (lone-node.ts). */
export function createLoneNodeHealth(config: ParsStorageConfig, p: {nodeId: string; proofs: ProofService | null; clock: Clock}): LoneNodeHealth {
  const {proofs} = p;
  return new LoneNodeHealth(networkHealthOptions(config), {nodeId: p.nodeId, clock: p.clock, ownProof: () => proofs?.latest ?? null});
}
