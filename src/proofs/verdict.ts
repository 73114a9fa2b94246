/**
 * The verdict on a challenge (docs/PROTOCOL.md (Storage proofs) §6): a pure function of the signed
 * challenge, the signed answer, both parties' public keys, the challenger's copy of the message
 * and, when live, the challenger's own observation of the exchange. Checks run in a fixed order
 * and the first failure is the verdict. `judge` never throws (garbage answers are "malformed");
 * it needs initHashing() (BLAKE2b) to have resolved.
 */
import type {PqBackend} from "../crypto/index.js";
import {answerFromJson, type ChallengeAnswer} from "./answer.js";
import {ProofError} from "./errors.js";
import * as checks from "./verdict-checks.js";
import {fail, inconclusive, PASS, type JudgeInput, type Verdict} from "./verdict-types.js";

export * from "./verdict-types.js";

export function judge(input: JudgeInput, pq: PqBackend): Verdict {
  try {
    return judgeChecked(input, pq);
  } catch (err) {
    // Every check guards its inputs; this only turns an unforeseen throw into a typed verdict.
    return fail("malformed", err instanceof Error ? err.message : String(err));
  }
}

function judgeChecked(input: JudgeInput, pq: PqBackend): Verdict {
  const bad = checks.challengeProblem(input, pq);
  if (bad !== null) return inconclusive("invalid-challenge", bad);
  if (input.answer === null || input.answer === undefined) return fail("no-answer", "no answer arrived within the deadline");
  let answer: ChallengeAnswer;
  try {
    answer = isDecoded(input.answer) ? input.answer : answerFromJson(input.answer);
  } catch (err) {
    return fail("malformed", err instanceof ProofError ? err.message : "answer does not decode");
  }
  const steps = [
    () => checks.authenticity(input, answer, pq),
    () => checks.timing(input, answer),
    () => (answer.status === "missing" ? fail("missing", "the target says it does not hold the message") : null),
    () => checks.proof(input, answer, pq),
    () => checks.possession(input, answer),
    () => checks.leaf(input, answer),
    () => checks.commitment(input, answer),
    () => checks.inclusion(answer),
  ];
  for (const step of steps) {
    const verdict = step();
    if (verdict !== null) return verdict;
  }
  return PASS;
}

/** A ChallengeAnswer built in process (bytes, not JSON text); anything else is decoded as JSON. */
function isDecoded(answer: unknown): answer is ChallengeAnswer {
  if (typeof answer !== "object" || answer === null) return false;
  const a = answer as Partial<Record<keyof ChallengeAnswer, unknown>>;
  return a.signature instanceof Uint8Array && a.challengeDigest instanceof Uint8Array && typeof a.status === "string";
}
