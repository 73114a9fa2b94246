/**
 * The node's view of its peers' storage health, fed by challenge verdicts: counts per outcome,
 * consecutive failures, the last failure's reason, and the newest StorageProof each peer sent us.
 */
import type {StorageProof} from "./storage-proof.js";
import type {Verdict} from "./verdict.js";

export interface PeerHealthEntry {
  passes: number;
  fails: number;
  inconclusive: number;
  consecutiveFailures: number;
  lastOutcome: Verdict["outcome"] | null;
  lastFailureReason: string | null;
  lastAt: number | null;
  latestProof: StorageProof | null;
}

export class PeerHealth {
  readonly #peers = new Map<string, PeerHealthEntry>();
  readonly #proofListeners: Array<(proof: StorageProof) => void> = [];

  constructor(private readonly unhealthyAfterFailures: number) {}

  #entry(nodeId: string): PeerHealthEntry {
    let e = this.#peers.get(nodeId);
    if (e === undefined) {
      e = {passes: 0, fails: 0, inconclusive: 0, consecutiveFailures: 0, lastOutcome: null, lastFailureReason: null, lastAt: null, latestProof: null};
      this.#peers.set(nodeId, e);
    }
    return e;
  }

  record(nodeId: string, verdict: Verdict, at: number): void {
    const e = this.#entry(nodeId);
    e.lastOutcome = verdict.outcome;
    e.lastAt = at;
    if (verdict.outcome === "pass") {
      e.passes++;
      e.consecutiveFailures = 0;
    } else if (verdict.outcome === "fail") {
      e.fails++;
      e.consecutiveFailures++;
      e.lastFailureReason = verdict.reason;
    } else {
      e.inconclusive++;
    }
  }

  /** Seeds counts from the ledger (after a restart); consecutive failures are not restored. */
  seed(nodeId: string, outcome: Verdict["outcome"], count: number, lastAt: number): void {
    const e = this.#entry(nodeId);
    if (outcome === "pass") e.passes += count;
    else if (outcome === "fail") e.fails += count;
    else e.inconclusive += count;
    e.lastAt = Math.max(e.lastAt ?? 0, lastAt);
  }

  /** Keeps the newest proof a peer sent (by timestamp) and hands it to the `onNewestProof` listeners. */
  noteProof(proof: StorageProof): void {
    const e = this.#entry(proof.nodeId);
    if (e.latestProof !== null && proof.timestamp <= e.latestProof.timestamp) return;
    e.latestProof = proof;
    for (const listener of this.#proofListeners) listener(proof);
  }

  /** Calls `listener` with every proof that becomes a peer's newest (the network view keeps them too). */
  onNewestProof(listener: (proof: StorageProof) => void): void {
    this.#proofListeners.push(listener);
  }

  isHealthy(nodeId: string): boolean {
    return (this.#peers.get(nodeId)?.consecutiveFailures ?? 0) < this.unhealthyAfterFailures;
  }

  get(nodeId: string): Readonly<PeerHealthEntry> | null {
    return this.#peers.get(nodeId) ?? null;
  }

  entries(): Array<[string, Readonly<PeerHealthEntry>]> {
    return [...this.#peers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
