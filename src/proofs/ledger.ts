/**
 * The challenge ledger: every verdict this node reaches as a challenger is stored (the full
 * evidence bundle unless it passed) and counted in the peer-health view.
 */
import type {NewProofResult, ProofResultRow, ResultTally} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import {evidenceToJson, type EvidenceBundle} from "./evidence.js";
import type {PeerHealth} from "./peer-health.js";

/** The rows the ledger writes and reads (ProofTables implements it). */
export interface LedgerStore {
  addResult(r: NewProofResult, keep: number): number;
  results(limit: number, beforeId?: number, targetId?: string | null): ProofResultRow[];
  result(id: number): ProofResultRow | null;
  tally(sinceMs: number): ResultTally[];
}

/** Peer health after a restart counts the verdicts of this window. */
const HEALTH_WINDOW_MS = 86_400_000;

export class ProofLedger {
  constructor(
    private readonly opts: {keepResults: number},
    private readonly modules: {store: LedgerStore; health: PeerHealth; clock: Clock},
  ) {}

  /** Rebuilds peer-health counts from the last day of verdicts. */
  loadHealth(): void {
    const since = this.modules.clock.now() - HEALTH_WINDOW_MS;
    for (const t of this.modules.store.tally(since)) this.modules.health.seed(t.targetId, t.outcome, t.count, t.lastAt);
  }

  /** Stores a verdict and updates the target's health; returns the ledger id. */
  record(e: EvidenceBundle): number {
    const at = this.modules.clock.now();
    const {verdict} = e;
    const id = this.modules.store.addResult(
      {
        at,
        challengerId: e.challenge.challengerId,
        targetId: e.challenge.targetId,
        messageHash: e.challenge.messageHash,
        outcome: verdict.outcome,
        reason: verdict.outcome === "pass" ? null : verdict.reason,
        evidence: verdict.outcome === "pass" ? null : JSON.stringify(evidenceToJson(e)),
      },
      this.opts.keepResults,
    );
    this.modules.health.record(e.challenge.targetId, verdict, at);
    return id;
  }

  list(limit: number, beforeId?: number, targetId?: string | null): ProofResultRow[] {
    return this.modules.store.results(limit, beforeId, targetId);
  }

  get(id: number): ProofResultRow | null {
    return this.modules.store.result(id);
  }
}
