/** Options of the storage-proof service, with defaults and the reasons behind them. */
import {CONFIG_DEFAULTS} from "../config/index.js";

export interface ProofServiceOptions {
  /** Time between StorageProofs. 10 min: 144 proofs a day, each a full refresh of dirty buckets. */
  readonly epochMs: number;
  /** Signed proofs kept (memory and `proof_history`): 144 = one day at the default epoch. */
  readonly keepProofs: number;
  /** Longest synchronous slice of a refresh before yielding to the event loop. */
  readonly sliceBudgetMs: number;
  /** An answer must arrive within this (and the target's own stamps must be within it). */
  readonly answerDeadlineMs: number;
  /** An answer's StorageProof may be this much older than the challenge: two epochs plus slack. */
  readonly maxProofAgeMs: number;
  /** Tolerated clock difference between nodes. */
  readonly maxClockSkewMs: number;
  /** Mean time between two challenges this node sends (to a random swarm peer); 0 = never. */
  readonly challengeIntervalMs: number;
  /** Messages are challenged only once peers had this long to replicate them. */
  readonly replicationDelayMs: number;
  /** Messages expiring within this are not challenged (they may be swept before the answer). */
  readonly expiryMarginMs: number;
  /** Answer challenges from keys outside the membership (auditors). */
  readonly allowAuditors: boolean;
  /** Challenges answered at once; more get 503 (each costs an ML-DSA verify and a signature). */
  readonly maxConcurrentAnswers: number;
  /** Ledger rows kept. */
  readonly keepResults: number;
  /** Consecutive failures after which a peer counts as unhealthy. */
  readonly unhealthyAfterFailures: number;
}

/** The options that are config settings (`proofs.*`) default to the schema's values (config/schema.ts). */
const {epochMs, keepProofs, answerDeadlineMs, maxProofAgeMs, challengeIntervalMs, replicationDelayMs, allowAuditors} = CONFIG_DEFAULTS.proofs;

export const defaultProofServiceOptions: ProofServiceOptions = Object.freeze({
  epochMs,
  keepProofs,
  sliceBudgetMs: 10,
  answerDeadlineMs,
  maxProofAgeMs,
  maxClockSkewMs: 30_000,
  challengeIntervalMs,
  replicationDelayMs,
  expiryMarginMs: 1_800_000,
  allowAuditors,
  maxConcurrentAnswers: 4,
  keepResults: 10_000,
  unhealthyAfterFailures: 3,
});
