/**
 * The bodies of GET /proof/v1/results and /proof/v1/results/:id: ledger rows (newest first, the
 * evidence bundle only in the single-result form), the peer-health view and our latest proof.
 * Wrapper fields are snake_case like the other /…/v1 routes; embedded PIP objects keep camelCase.
 */
import type {ProofResultRow} from "../storage/index.js";
import type {Json} from "./codec.js";
import type {PeerHealth} from "./peer-health.js";
import {proofToJson, type StorageProof} from "./storage-proof.js";

export interface ResultsQuery {
  readonly limit: number;
  readonly beforeId?: number;
  readonly target?: string | null;
}

/** Longest page of GET /proof/v1/results. */
export const MAX_RESULTS_PAGE = 500;

export interface ResultsSource {
  readonly latest: StorageProof | null;
  readonly health: PeerHealth;
  readonly ledger: {list(limit: number, beforeId?: number, targetId?: string | null): ProofResultRow[]; get(id: number): ProofResultRow | null};
}

export function resultRow(r: ProofResultRow, withEvidence: boolean): Json {
  const row: Json = {
    id: r.id,
    at: r.at,
    challenger_id: r.challengerId,
    target_id: r.targetId,
    message_hash: r.messageHash,
    outcome: r.outcome,
    reason: r.reason,
    has_evidence: r.evidence !== null,
  };
  if (withEvidence) row.evidence = r.evidence === null ? null : (JSON.parse(r.evidence) as unknown);
  return row;
}

export function resultsBody(src: ResultsSource, q: ResultsQuery, meta: {nodeId: string; now: number}): Json {
  const rows = src.ledger.list(Math.min(q.limit, MAX_RESULTS_PAGE), q.beforeId, q.target ?? null);
  return {
    t: meta.now,
    node_id: meta.nodeId,
    latest_proof: src.latest === null ? null : proofToJson(src.latest),
    results: rows.map((r) => resultRow(r, false)),
    peers: src.health.entries().map(([nodeId, e]) => ({
      node_id: nodeId,
      healthy: src.health.isHealthy(nodeId),
      passes: e.passes,
      fails: e.fails,
      inconclusive: e.inconclusive,
      consecutive_failures: e.consecutiveFailures,
      last_outcome: e.lastOutcome,
      last_failure_reason: e.lastFailureReason,
      last_at: e.lastAt,
      latest_proof: e.latestProof === null ? null : proofToJson(e.latestProof),
    })),
  };
}
