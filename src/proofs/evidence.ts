/**
 * Evidence bundles (docs/PROTOCOL.md (Storage proofs) §7): everything a third party needs to re-check a
 * verdict offline with nothing but the two public keys inside it: the signed challenge, the signed
 * answer (with the target's signed StorageProof), the challenger's copy of the message, the rules
 * and the verdict. `observed` holds the challenger's own timing, which the target did not sign.
 */
import type {PqBackend} from "../crypto/index.js";
import {base64Bytes, exactObject, integer, oneOf, parseJson, safeU64, toBase64, type Json} from "./codec.js";
import {answerToJson, type ChallengeAnswer} from "./answer.js";
import {challengeFromJson, challengeToJson} from "./challenge.js";
import {malformed} from "./errors.js";
import {keysFromJson, keysToJson} from "./keys.js";
import {decodeAccountHex} from "./leaf.js";
import {judge, FAIL_REASONS, INCONCLUSIVE_REASONS} from "./verdict.js";
import type {JudgeInput, MessageCopy, Observation, Verdict, VerdictRules} from "./verdict.js";

export const EVIDENCE_VERSION = 1;

/** Everything judge() needs (the answer's JSON exactly as received; null: none arrived) plus its verdict. */
export interface EvidenceBundle extends JudgeInput {
  readonly verdict: Verdict;
}

export function evidenceToJson(e: EvidenceBundle): Json {
  const m = e.message;
  return {
    version: EVIDENCE_VERSION,
    challenge: challengeToJson(e.challenge),
    challengerKeys: keysToJson(e.challengerKeys),
    targetKeys: keysToJson(e.targetKeys),
    answer: isAnswer(e.answer) ? answerToJson(e.answer) : e.answer,
    message: m === null ? null : {data: toBase64(m.data), account: m.account ?? null, namespace: m.namespace ?? null},
    observed: e.observed,
    committedBy: e.committedBy,
    rules: {...e.rules},
    verdict: e.verdict,
  };
}

function isAnswer(a: unknown): a is ChallengeAnswer {
  return typeof a === "object" && a !== null && (a as {signature?: unknown}).signature instanceof Uint8Array;
}

const KEYS = ["version", "challenge", "challengerKeys", "targetKeys", "answer", "message", "observed", "committedBy", "rules", "verdict"];

/** Decodes a bundle (JSON text or value); the answer stays raw so `judge` can call it malformed. */
export function evidenceFromJson(value: unknown): EvidenceBundle {
  const o = exactObject(typeof value === "string" ? parseJson(value, "evidence") : value, "evidence", KEYS);
  if (o.version !== EVIDENCE_VERSION) throw malformed("evidence.version", `must be ${EVIDENCE_VERSION}`);
  return {
    challenge: challengeFromJson(o.challenge, "evidence.challenge"),
    challengerKeys: keysFromJson(o.challengerKeys, "evidence.challengerKeys"),
    targetKeys: keysFromJson(o.targetKeys, "evidence.targetKeys"),
    answer: o.answer,
    message: o.message === null ? null : messageFromJson(o.message),
    observed: o.observed === null ? null : observedFromJson(o.observed),
    committedBy: o.committedBy === null ? null : safeU64(o.committedBy, "evidence.committedBy"),
    rules: rulesFromJson(o.rules),
    verdict: verdictFromJson(o.verdict),
  };
}

function messageFromJson(value: unknown): MessageCopy {
  const o = exactObject(value, "evidence.message", ["data", "account", "namespace"]);
  const data = base64Bytes(o.data, "evidence.message.data");
  if (o.account === null || o.namespace === null) return {data};
  decodeAccountHex(o.account, "evidence.message.account");
  return {data, account: o.account as string, namespace: integer(o.namespace, "evidence.message.namespace", -32768, 32767)};
}

function observedFromJson(value: unknown): Observation {
  const o = exactObject(value, "evidence.observed", ["issuedAt", "answerReceivedAt"]);
  return {issuedAt: safeU64(o.issuedAt, "evidence.observed.issuedAt"), answerReceivedAt: safeU64(o.answerReceivedAt, "evidence.observed.answerReceivedAt")};
}

function rulesFromJson(value: unknown): VerdictRules {
  const o = exactObject(value, "evidence.rules", ["deadlineMs", "maxProofAgeMs", "maxClockSkewMs"]);
  return {
    deadlineMs: safeU64(o.deadlineMs, "evidence.rules.deadlineMs"),
    maxProofAgeMs: safeU64(o.maxProofAgeMs, "evidence.rules.maxProofAgeMs"),
    maxClockSkewMs: safeU64(o.maxClockSkewMs, "evidence.rules.maxClockSkewMs"),
  };
}

function verdictFromJson(value: unknown): Verdict {
  const o = exactObject(value, "evidence.verdict", ["outcome"], ["reason", "detail"]);
  const outcome = oneOf(o.outcome, "evidence.verdict.outcome", ["pass", "fail", "inconclusive"] as const);
  if (outcome === "pass") return {outcome};
  const detail = typeof o.detail === "string" ? o.detail : "";
  if (outcome === "fail") return {outcome, reason: oneOf(o.reason, "evidence.verdict.reason", FAIL_REASONS), detail};
  return {outcome, reason: oneOf(o.reason, "evidence.verdict.reason", INCONCLUSIVE_REASONS), detail};
}

export interface EvidenceCheck {
  /** The verdict recomputed from the bundle. */
  readonly verdict: Verdict;
  /** Whether it agrees (outcome and reason) with the recorded one. */
  readonly agrees: boolean;
}

/**
 * Re-judges a bundle offline. `trustObserved: false` ignores the challenger's unsigned timing, so
 * only what the target signed decides lateness (a "no-answer" or observed "late-answer" verdict
 * then cannot be reproduced: the bundle holds no signed answer proving it).
 */
export function verifyEvidence(e: EvidenceBundle, pq: PqBackend, opts: {trustObserved?: boolean} = {}): EvidenceCheck {
  const observed = opts.trustObserved === false ? null : e.observed;
  const verdict = judge({...e, observed}, pq);
  const reason = (v: Verdict): string => (v.outcome === "pass" ? "" : v.reason);
  return {verdict, agrees: verdict.outcome === e.verdict.outcome && reason(verdict) === reason(e.verdict)};
}
