/** Verdict types and constructors (docs/PROTOCOL.md (Storage proofs) §6). */
import type {StorageChallenge} from "./challenge.js";
import type {PublicKeys} from "./keys.js";

export const FAIL_REASONS = [
  "malformed",
  "bad-signature",
  "mismatched-challenge",
  "bad-timestamp",
  "late-answer",
  "missing",
  "root-not-signed",
  "stale-proof",
  "wrong-leaf",
  "bad-possession",
  "uncommitted",
  "path-mismatch",
  "no-answer",
] as const;
export type FailReason = (typeof FAIL_REASONS)[number];
export const INCONCLUSIVE_REASONS = ["invalid-challenge", "no-data", "uncommitted"] as const;
export type InconclusiveReason = (typeof INCONCLUSIVE_REASONS)[number];

export type Verdict =
  | {readonly outcome: "pass"}
  | {readonly outcome: "fail"; readonly reason: FailReason; readonly detail: string}
  | {readonly outcome: "inconclusive"; readonly reason: InconclusiveReason; readonly detail: string};

export interface VerdictRules {
  /** Longest allowed time from challenge to answer (as observed, and the target's own stamps). */
  readonly deadlineMs: number;
  /** The answer's StorageProof may be at most this much older than the challenge. */
  readonly maxProofAgeMs: number;
  /** Tolerated clock difference between challenger and target. */
  readonly maxClockSkewMs: number;
}

/** The challenger's copy of the message; account and namespace may come from the answer's leaf. */
export interface MessageCopy {
  readonly data: Uint8Array;
  readonly account?: string;
  readonly namespace?: number;
}

/** When the challenger sent the challenge and got the answer (its own clock; not signed by the target). */
export interface Observation {
  readonly issuedAt: number;
  readonly answerReceivedAt: number;
}

export interface JudgeInput {
  readonly challenge: StorageChallenge;
  readonly challengerKeys: PublicKeys;
  readonly targetKeys: PublicKeys;
  /** A decoded ChallengeAnswer, or the raw JSON value as received (decoded here: garbage is "malformed"). */
  readonly answer: unknown;
  readonly message: MessageCopy | null;
  readonly observed: Observation | null;
  /** A proof timestamped at or after this must contain the message (null: never required). */
  readonly committedBy: number | null;
  readonly rules: VerdictRules;
}

export const PASS: Verdict = Object.freeze({outcome: "pass"});

export function fail(reason: FailReason, detail: string): Verdict {
  return {outcome: "fail", reason, detail};
}

export function inconclusive(reason: InconclusiveReason, detail: string): Verdict {
  return {outcome: "inconclusive", reason, detail};
}
