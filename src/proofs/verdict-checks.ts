/** The individual verdict checks, in the order `judge` runs them; each returns a verdict or null. */
import {timingSafeEqual} from "node:crypto";
import {messageHash} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import {verifyAnswerSignature, type ChallengeAnswer} from "./answer.js";
import {challengeDigest, verifyChallenge} from "./challenge.js";
import {BUCKET_COUNT} from "./constants.js";
import {nodeIdOf} from "./keys.js";
import {bucketOf, dataDigest, decodeMessageHash, encodeLeafEntry, possessionDigest} from "./leaf.js";
import {leafHash, rootFromPath} from "../crypto/index.js";
import {verifyProofSignature} from "./storage-proof.js";
import {fail, inconclusive, type JudgeInput, type Verdict} from "./verdict-types.js";

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

/** Problems that make the challenge itself unusable (not the target's fault), or null. */
export function challengeProblem(input: JudgeInput, pq: PqBackend): string | null {
  const {challenge, challengerKeys, targetKeys, message} = input;
  if (!verifyChallenge(challenge, challengerKeys, pq)) return "the challenge is not signed by the challenger's keys";
  if (nodeIdOf(targetKeys) !== challenge.targetId) return "the target's keys do not match the challenge's targetId";
  if (message?.account !== undefined && message.namespace !== undefined) {
    const account = Buffer.from(message.account, "hex");
    if (messageHash(account, message.namespace, message.data) !== challenge.messageHash) {
      return "the challenger's copy of the message does not hash to messageHash";
    }
  }
  return null;
}

export function authenticity(input: JudgeInput, answer: ChallengeAnswer, pq: PqBackend): Verdict | null {
  if (!verifyAnswerSignature(answer, input.targetKeys.mlDsa, pq)) return fail("bad-signature", "the answer is not signed by the target");
  if (!same(answer.challengeDigest, challengeDigest(input.challenge))) {
    return fail("mismatched-challenge", "the answer is signed for another challenge");
  }
  return null;
}

export function timing(input: JudgeInput, answer: ChallengeAnswer): Verdict | null {
  const {deadlineMs, maxClockSkewMs} = input.rules;
  if (answer.answeredAt < answer.receivedAt) return fail("bad-timestamp", "answeredAt is before receivedAt");
  if (answer.answeredAt - answer.receivedAt > deadlineMs) {
    return fail("late-answer", `the target took ${answer.answeredAt - answer.receivedAt} ms by its own clock (limit ${deadlineMs})`);
  }
  const seen = input.observed;
  if (seen === null) return null;
  if (seen.answerReceivedAt - seen.issuedAt > deadlineMs) {
    return fail("late-answer", `the answer arrived ${seen.answerReceivedAt - seen.issuedAt} ms after the challenge (limit ${deadlineMs})`);
  }
  if (answer.receivedAt < seen.issuedAt - maxClockSkewMs || answer.answeredAt > seen.answerReceivedAt + maxClockSkewMs) {
    return fail("bad-timestamp", "the target's timestamps lie outside the exchange (beyond the clock skew allowance)");
  }
  return null;
}

export function proof(input: JudgeInput, answer: ChallengeAnswer, pq: PqBackend): Verdict | null {
  const p = answer.proof;
  if (p === null) return null;
  if (p.nodeId !== input.challenge.targetId || !verifyProofSignature(p, input.targetKeys.mlDsa, pq)) {
    return fail("root-not-signed", "the StorageProof is not signed by the target");
  }
  const reference = input.observed?.issuedAt ?? answer.receivedAt;
  if (p.timestamp < reference - input.rules.maxProofAgeMs) {
    return fail("stale-proof", `the StorageProof is ${reference - p.timestamp} ms older than the challenge`);
  }
  if (p.timestamp > answer.answeredAt + input.rules.maxClockSkewMs) return fail("stale-proof", "the StorageProof is from the future");
  return null;
}

/** The possession digest, once the challenger's data is known to be the message's. */
export function possession(input: JudgeInput, answer: ChallengeAnswer): Verdict | null {
  const {leaf, possession: digest} = answer;
  if (leaf === null || digest === null) return null;
  const message = input.message;
  if (message === null) return inconclusive("no-data", "without the message data possession cannot be checked");
  const raw = decodeMessageHash(input.challenge.messageHash) as Buffer;
  if (message.account === undefined || message.namespace === undefined) {
    // The data is only trusted once it hashes to messageHash with the leaf's account and namespace.
    if (messageHash(Buffer.from(leaf.account, "hex"), leaf.namespace, message.data) !== input.challenge.messageHash) {
      return fail("wrong-leaf", "the leaf's account and namespace do not produce messageHash with the challenger's data");
    }
  }
  if (!same(digest, possessionDigest(input.challenge.nonce, raw, message.data))) {
    return fail("bad-possession", "the possession digest does not match the message data");
  }
  return null;
}

export function leaf(input: JudgeInput, answer: ChallengeAnswer): Verdict | null {
  const l = answer.leaf;
  if (l === null) return null;
  const m = input.message;
  if (l.messageHash !== input.challenge.messageHash) return fail("wrong-leaf", "the leaf is for another message");
  if (m !== null && (l.size !== m.data.length || !same(l.dataDigest, dataDigest(m.data)))) {
    return fail("wrong-leaf", "the leaf's size or data digest does not match the message data");
  }
  if (m?.account !== undefined && (l.account !== m.account || l.namespace !== m.namespace)) {
    return fail("wrong-leaf", "the leaf's account or namespace is not the message's");
  }
  if (answer.status === "held" && answer.proof !== null && l.expiry <= answer.proof.timestamp) {
    return fail("wrong-leaf", "the leaf had expired at the proof's timestamp, so it cannot be committed");
  }
  return null;
}

/** An `uncommitted` answer: acceptable only while the target's proof may predate the message. */
export function commitment(input: JudgeInput, answer: ChallengeAnswer): Verdict | null {
  if (answer.status !== "uncommitted" || answer.proof === null) return null;
  const at = answer.proof.timestamp;
  if (input.committedBy !== null && at >= input.committedBy) {
    return fail("uncommitted", `the message is missing from a StorageProof of ${at}, which must contain it`);
  }
  return inconclusive("uncommitted", `the target's latest StorageProof (${at}) may predate the message`);
}

export function inclusion(answer: ChallengeAnswer): Verdict | null {
  const {leaf: l, inclusion: inc, proof: p} = answer;
  if (l === null || inc === null || p === null) return null;
  const raw = decodeMessageHash(l.messageHash) as Buffer;
  if (inc.bucket !== bucketOf(raw)) return fail("path-mismatch", "the leaf is placed in the wrong bucket");
  const bucketRoot = rootFromPath(leafHash(encodeLeafEntry(l)), inc.leafIndex, inc.bucketSize, inc.bucketPath);
  if (bucketRoot === null) return fail("path-mismatch", "the bucket path has the wrong shape for its index and size");
  const root = rootFromPath(leafHash(bucketRoot), inc.bucket, BUCKET_COUNT, inc.topPath);
  if (root === null || !same(root, p.merkleRoot)) return fail("path-mismatch", "the inclusion path does not lead to the proof's merkleRoot");
  return null;
}
