export {createMetrics, peerLabel, PEER_LABEL_CHARS} from "./families.js";
export type {HttpMetrics, Metrics, OnionMetrics, ProofMetrics, ReplicationMetrics, RpcMetrics, SignerMetrics, StoreMetrics} from "./families.js";
export type {MetricSources} from "./collectors.js";
export {DEFAULT_METRICS_PREFIX, NodeMetrics, type NodeInfo} from "./registry.js";
