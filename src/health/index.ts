/** The network view: every node's newest StorageProof, NetworkHealth and the network's storage load. */
import {BYTES_PER_GB, STORAGE_PER_NODE_GB} from "../economics/index.js";

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
