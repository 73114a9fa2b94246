/**
 * Checks on what other parties post to this node: a challenge request `{challenge,
 * challengerKeys?}` and a peer's StorageProof. Keys of membership nodes come from the membership;
 * others (auditors) must send theirs, and their ID must be derived from them.
 */
import type {PqBackend} from "../crypto/index.js";
import {challengeFromJson, verifyChallenge, type StorageChallenge} from "./challenge.js";
import {exactObject} from "./codec.js";
import {ProofError} from "./errors.js";
import {keysFromJson, type PublicKeys} from "./keys.js";
import {proofFromJson, verifyProofSignature, type StorageProof} from "./storage-proof.js";

export interface ChallengeRequestContext {
  readonly memberKeys: (nodeId: string) => PublicKeys | null;
  readonly allowAuditors: boolean;
  readonly pq: PqBackend;
}

export interface ChallengeRequest {
  readonly challenge: StorageChallenge;
  /** Keys the request carried (null: none); a membership node's own keys take precedence. */
  readonly suppliedKeys: PublicKeys | null;
}

/** Decodes the request and checks it targets us (cheap: no signature work). */
export function parseChallengeRequest(body: unknown, self: string): ChallengeRequest {
  const o = exactObject(body, "request", ["challenge"], ["challengerKeys"]);
  const challenge = challengeFromJson(o.challenge);
  if (challenge.targetId !== self) throw new ProofError({code: "PROOF_ERROR_WRONG_TARGET"}, "the challenge is for another node");
  const suppliedKeys = o.challengerKeys === undefined ? null : keysFromJson(o.challengerKeys, "challengerKeys");
  return {challenge, suppliedKeys};
}

/** The challenger's keys (membership first, then supplied if auditors are allowed), signature checked. */
export function authenticateChallenge(req: ChallengeRequest, ctx: ChallengeRequestContext): PublicKeys {
  const challengerKeys = ctx.memberKeys(req.challenge.challengerId) ?? (ctx.allowAuditors ? req.suppliedKeys : null);
  if (challengerKeys === null) {
    const why = ctx.allowAuditors ? "send challengerKeys" : "only membership nodes may challenge this node";
    throw new ProofError({code: "PROOF_ERROR_UNKNOWN_CHALLENGER"}, `unknown challenger: ${why}`);
  }
  if (!verifyChallenge(req.challenge, challengerKeys, ctx.pq)) {
    throw new ProofError({code: "PROOF_ERROR_BAD_SIGNATURE"}, "the challenge signature or challengerId does not match the challenger's keys");
  }
  return challengerKeys;
}

export function parsePeerProof(body: unknown, ctx: {memberKeys: (nodeId: string) => PublicKeys | null; pq: PqBackend}): StorageProof {
  const proof = proofFromJson(body);
  verifyPeerProof(proof, ctx);
  return proof;
}

/** Throws UNKNOWN_CHALLENGER (node not in the membership) or BAD_SIGNATURE unless `proof` is signed by its node. */
export function verifyPeerProof(proof: StorageProof, ctx: {memberKeys: (nodeId: string) => PublicKeys | null; pq: PqBackend}): void {
  const keys = ctx.memberKeys(proof.nodeId);
  if (keys === null) throw new ProofError({code: "PROOF_ERROR_UNKNOWN_CHALLENGER"}, "the proof's node is not in the membership");
  if (!verifyProofSignature(proof, keys.mlDsa, ctx.pq)) throw new ProofError({code: "PROOF_ERROR_BAD_SIGNATURE"}, "the proof is not signed by its node");
}
