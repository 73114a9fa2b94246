/**
 * Choosing what to challenge a peer for: a random message this node holds itself, weighted by
 * bucket size, that was already in its previous commitment (so peers had a whole epoch plus the
 * replication delay to store it) and does not expire within the margin.
 *
 * "Already in the previous commitment" needs no second commitment in memory: a message held now
 * that did not change (no add, remove or update event) since the changes the previous refresh
 * consumed was held when the previous refresh read it, so it is in that commitment.
 */
import {bucketRange} from "./leaf.js";
import type {Candidate} from "./scheduler.js";
import type {LiveMessage} from "./answerer.js";

export interface CandidateSource {
  liveHashesInRange(lo: string, hi: string, minExpiryExclusive: number): string[];
  messageByHash(hash: string, nowMs: number): (LiveMessage & {hash: string}) | null;
}

export interface CandidateParams {
  /** Messages per bucket in the current commitment. */
  readonly bucketCounts: Uint32Array;
  /** Whether the message changed since the previous refresh took its changes (then skip it). */
  readonly changedSince: (hash: string) => boolean;
  /** The previous commitment's completion plus the replication delay. */
  readonly committedBy: number;
  readonly nowMs: number;
  readonly expiryMarginMs: number;
  readonly random: () => number;
}

const ATTEMPTS = 8;

export function pickCandidate(source: CandidateSource, p: CandidateParams): Candidate | null {
  const total = p.bucketCounts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const {lo, hi} = bucketRange(weightedBucket(p.bucketCounts, total, p.random));
    const hashes = source.liveHashesInRange(lo, hi, p.nowMs + p.expiryMarginMs);
    const hash = hashes[Math.floor(p.random() * hashes.length)];
    if (hash === undefined || p.changedSince(hash)) continue;
    const m = source.messageByHash(hash, p.nowMs);
    if (m === null) continue;
    return {messageHash: hash, message: {data: m.data, account: m.account, namespace: m.namespace}, committedBy: p.committedBy};
  }
  return null;
}

function weightedBucket(counts: Uint32Array, total: number, random: () => number): number {
  let r = Math.floor(random() * total);
  for (let b = 0; b < counts.length; b++) {
    const count = counts[b] ?? 0;
    if (r < count) return b;
    r -= count;
  }
  return counts.length - 1;
}
