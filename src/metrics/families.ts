/**
 * The metrics modules update as things happen (docs/operations-metrics.md lists every family).
 * Names are `pars_<module>_<what>_<unit>`; labels take bounded values only: an RPC method name from
 * the method table, an HTTP route pattern, a node-ID prefix for peers (membership is bounded),
 * a reason code. Never an account ID, a message hash or an IP.
 */
import {Counter, Histogram, type Registry} from "prom-client";

/** Request latencies: 1 ms (a cached retrieve) to 10 s (a slow swarm forward). */
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** An onion hop includes every later hop and the final RPC. */
const ONION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Powers of two up to the batchers' caps (maxBatchWrites, the response signer's batch size). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** One ML-DSA-65 signature takes ~1-5 ms; a queue in front of the worker makes it longer. */
const SIGN_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
/** An incremental refresh takes milliseconds, the startup build of 10 M messages minutes. */
const REFRESH_BUCKETS_S = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800];

/** The event-driven metrics, each registered once on `register`. */
// eslint-disable-next-line @typescript-eslint/explicit-function-return-type -- the Metrics type is derived from it
export function createMetrics(register: Registry) {
  const r = [register];
  return {
    http: {
      requests: new Counter({
        name: "pars_http_requests_total",
        help: "HTTP requests answered, by method, route pattern and status",
        labelNames: ["method", "route", "status"] as const,
        registers: r,
      }),
      duration: new Histogram({
        name: "pars_http_request_duration_seconds",
        help: "Time from request to response, by route pattern",
        labelNames: ["route"] as const,
        buckets: LATENCY_BUCKETS_S,
        registers: r,
      }),
    },
    rpc: {
      requests: new Counter({
        name: "pars_rpc_requests_total",
        help: "Client RPCs dispatched (HTTP, WebSocket, onion final hop), by method and answer status",
        labelNames: ["method", "status"] as const,
        registers: r,
      }),
      duration: new Histogram({
        name: "pars_rpc_request_duration_seconds",
        help: "Time to answer a client RPC (store includes the group commit, the receipt and the swarm forward), by method",
        labelNames: ["method"] as const,
        buckets: LATENCY_BUCKETS_S,
        registers: r,
      }),
      rateLimited: new Counter({
        name: "pars_rate_limit_rejections_total",
        help: "Requests refused because the client IP's token bucket was empty (429)",
        registers: r,
      }),
    },
    onion: {
      hopDuration: new Histogram({
        name: "pars_onion_hop_duration_seconds",
        help: "Time this node spent on an onion request, by its part: relay (waiting for the next hop) or final (the RPC)",
        labelNames: ["hop"] as const,
        buckets: ONION_BUCKETS_S,
        registers: r,
      }),
    },
    store: {
      commitWrites: new Histogram({
        name: "pars_store_group_commit_writes",
        help: "Writes committed per group-commit transaction",
        buckets: BATCH_BUCKETS,
        registers: r,
      }),
      sweeps: new Counter({name: "pars_store_sweeps_total", help: "TTL sweeps run", registers: r}),
      sweptMessages: new Counter({name: "pars_store_swept_messages_total", help: "Expired messages deleted by TTL sweeps", registers: r}),
      added: new Counter({name: "pars_store_messages_added_total", help: "Messages newly stored (by clients, peers or repairs)", registers: r}),
      removed: new Counter({
        name: "pars_store_messages_removed_total",
        help: "Messages removed (deleted, replaced, evicted or swept)",
        registers: r,
      }),
    },
    signer: {
      signatures: new Counter({
        name: "pars_signer_signatures_total",
        help: "ML-DSA signatures made with the node key, by FIPS 204 context",
        labelNames: ["context"] as const,
        registers: r,
      }),
      duration: new Histogram({
        name: "pars_signer_sign_duration_seconds",
        help: "Time from asking the signing worker for a signature to having it",
        buckets: SIGN_BUCKETS_S,
        registers: r,
      }),
      receiptBatch: new Histogram({
        name: "pars_signer_receipt_batch_size",
        help: "RPC receipts covered by one signed response batch",
        buckets: BATCH_BUCKETS,
        registers: r,
      }),
    },
    replication: {
      forwards: new Counter({
        name: "pars_replication_forwards_total",
        help: "Client writes forwarded to swarm peers, by peer (node-ID prefix) and result: ok, error (the peer answered a failure), retry (queued for retry), down (peer known down, queued)",
        labelNames: ["peer", "result"] as const,
        registers: r,
      }),
      forwardFrameCalls: new Histogram({
        name: "pars_replication_forward_frame_calls",
        help: "Client writes per frame (rpc or rpc_batch) sent to a swarm peer",
        buckets: BATCH_BUCKETS,
        registers: r,
      }),
      retries: new Counter({
        name: "pars_replication_retries_total",
        help: "Queued forwards a retry pass tried to deliver again, by peer (node-ID prefix)",
        labelNames: ["peer"] as const,
        registers: r,
      }),
      antiEntropyRounds: new Counter({
        name: "pars_replication_anti_entropy_syncs_total",
        help: "Anti-entropy syncs with one peer, by result (ok, failed)",
        labelNames: ["result"] as const,
        registers: r,
      }),
      antiEntropyRepairs: new Counter({
        name: "pars_replication_anti_entropy_repairs_total",
        help: "Differences anti-entropy repaired, by kind (messages, tombstones, revocations)",
        labelNames: ["kind"] as const,
        registers: r,
      }),
    },
    proofs: {
      refreshDuration: new Histogram({
        name: "pars_proof_refresh_duration_seconds",
        help: "Time to refresh the storage-proof commitment (a full build at startup, then incremental)",
        labelNames: ["result"] as const,
        buckets: REFRESH_BUCKETS_S,
        registers: r,
      }),
      answerDuration: new Histogram({
        name: "pars_proof_answer_duration_seconds",
        help: "Time to answer a storage challenge, by result (answered, or the refusal's error code)",
        labelNames: ["result"] as const,
        buckets: LATENCY_BUCKETS_S,
        registers: r,
      }),
      challengeResults: new Counter({
        name: "pars_proof_challenge_results_total",
        help: "Verdicts of the challenges this node sent its swarm peers, by outcome",
        labelNames: ["outcome"] as const,
        registers: r,
      }),
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
export type HttpMetrics = Metrics["http"];
export type RpcMetrics = Metrics["rpc"];
export type OnionMetrics = Metrics["onion"];
export type StoreMetrics = Metrics["store"];
export type SignerMetrics = Metrics["signer"];
export type ReplicationMetrics = Metrics["replication"];
export type ProofMetrics = Metrics["proofs"];

/** Hex characters of a node ID kept in a `peer` label: enough to tell swarm members apart. */
export const PEER_LABEL_CHARS = 8;

/** A peer's label value: its node ID's first hex characters (never an address). */
export function peerLabel(nodeId: string): string {
  return nodeId.slice(0, PEER_LABEL_CHARS);
}
