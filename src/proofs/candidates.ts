/**
 * Choosing what to challenge a peer for: a random message this node holds itself, weighted by
 * bucket size, that was already in its previous commitment (so peers had a whole epoch plus the
 * replication delay to store it) and does not expire within the margin.
 */
import type {Commitment} from "./commitment.js";
import {bucketRange, decodeMessageHash} from "./leaf.js";
import type {Candidate} from "./scheduler.js";
import type {CommitmentSource} from "./refresh.js";
import type {LiveMessage} from "./answerer.js";

export interface CandidateSource {
  rowsInRange: CommitmentSource["rowsInRange"];
  messageByHash(hash: string, nowMs: number): (LiveMessage & {hash: string}) | null;
}

export interface CandidateParams {
  readonly current: Commitment;
  /** The commitment before `current`: only messages already in it are challenged. */
  readonly previous: Commitment;
  readonly nowMs: number;
  readonly expiryMarginMs: number;
  readonly replicationDelayMs: number;
  readonly random: () => number;
}

const ATTEMPTS = 8;

export function pickCandidate(source: CandidateSource, p: CandidateParams): Candidate | null {
  if (p.current.messageCount === 0) return null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const bucket = weightedBucket(p.current, p.random);
    const {lo, hi} = bucketRange(bucket);
    const rows = source.rowsInRange(lo, hi, p.nowMs + p.expiryMarginMs, false);
    const row = rows[Math.floor(p.random() * rows.length)];
    const raw = row === undefined ? null : decodeMessageHash(row.hash);
    if (row === undefined || raw === null || p.previous.locate(raw).next().done === true) continue;
    const m = source.messageByHash(row.hash, p.nowMs);
    if (m === null) continue;
    return {
      messageHash: row.hash,
      message: {data: m.data, account: m.account, namespace: m.namespace},
      committedBy: p.previous.completedAt + p.replicationDelayMs,
    };
  }
  return null;
}

function weightedBucket(c: Commitment, random: () => number): number {
  let r = Math.floor(random() * c.messageCount);
  for (let b = 0; b < c.buckets.length; b++) {
    const count = c.buckets[b]?.count ?? 0;
    if (r < count) return b;
    r -= count;
  }
  return c.buckets.length - 1;
}
