/**
 * Building the answer to a challenge (docs/PROTOCOL.md (Storage proofs) §5) in two halves: the
 * engine that holds the commitment finds the committed leaf and its inclusion path
 * (`committedLeaf`), and the proof service adds what needs the live data — the possession digest —
 * and the signed proof (`buildAnswer`). Possession is always computed from the data as stored now;
 * the leaf's expiry and size are the committed ones, so a message whose expiry changed since the
 * proof still verifies against the signed root.
 */
import type {Inclusion, UnsignedAnswer} from "./answer.js";
import {challengeDigest, type StorageChallenge} from "./challenge.js";
import type {Commitment, Located} from "./commitment.js";
import {dataDigest, decodeMessageHash, leafHashOf, possessionDigest, type LeafFields} from "./leaf.js";
import type {StorageProof} from "./storage-proof.js";

/** A message as the store holds it now (null from the lookup: missing or expired). */
export interface LiveMessage {
  readonly account: string;
  readonly namespace: number;
  readonly expiry: number;
  readonly data: Buffer;
}

/** What the engine needs of the live message to find its committed leaf (not the data). */
export interface LiveLeaf {
  readonly account: string;
  readonly namespace: number;
  readonly dataDigest: Buffer;
}

/** The message's leaf as committed and its inclusion path in the commitment. */
export interface CommittedLeaf {
  readonly leaf: LeafFields;
  readonly inclusion: Inclusion;
}

export interface Committed {
  readonly commitment: Commitment;
  readonly proof: StorageProof;
}

/**
 * The unsigned answer to `challenge` (already verified) received at `receivedAt`, given the live
 * message and its committed leaf (null: not in the commitment of `proof`).
 */
export function buildAnswer(
  proof: StorageProof,
  challenge: StorageChallenge,
  live: LiveMessage | null,
  found: CommittedLeaf | null,
  times: {receivedAt: number; answeredAt: number},
): UnsignedAnswer {
  const base = {challengeDigest: challengeDigest(challenge), ...times};
  if (live === null) return {...base, status: "missing", leaf: null, possession: null, proof: null, inclusion: null};
  const raw = decodeMessageHash(challenge.messageHash) as Buffer;
  const possession = possessionDigest(challenge.nonce, raw, live.data);
  if (found === null) {
    const leaf: LeafFields = {messageHash: challenge.messageHash, ...liveLeaf(live), dataDigest: dataDigest(live.data)};
    return {...base, status: "uncommitted", leaf, possession, proof, inclusion: null};
  }
  return {...base, status: "held", leaf: found.leaf, possession, proof, inclusion: found.inclusion};
}

/** Both halves at once, on a commitment in this thread (tests, benchmarks). */
export function answerFromCommitment(
  {commitment, proof}: Committed,
  challenge: StorageChallenge,
  live: LiveMessage | null,
  times: {receivedAt: number; answeredAt: number},
): UnsignedAnswer {
  const found = live === null ? null : committedLeaf(commitment, challenge.messageHash, {...live, dataDigest: dataDigest(live.data)});
  return buildAnswer(proof, challenge, live, found, times);
}

function liveLeaf(live: LiveMessage): Pick<LeafFields, "account" | "namespace" | "expiry" | "size"> {
  return {account: live.account, namespace: live.namespace, expiry: live.expiry, size: live.data.length};
}

/**
 * The committed leaf of the message with its inclusion path: the candidate whose recomputed leaf
 * matches, else (data changed since it was committed) the first candidate with the live digest,
 * which the verifier will reject. Null when the message is not in the commitment.
 */
export function committedLeaf(commitment: Commitment, messageHash: string, live: LiveLeaf): CommittedLeaf | null {
  const raw = decodeMessageHash(messageHash);
  if (raw === null) return null;
  let first: {at: Located; leaf: LeafFields} | null = null;
  for (const at of commitment.locate(raw)) {
    const bucket = commitment.record(at.bucket);
    const leaf: LeafFields = {
      messageHash,
      account: live.account,
      namespace: live.namespace,
      expiry: bucket.expiry(at.index),
      size: bucket.size(at.index),
      dataDigest: live.dataDigest,
    };
    if (leafHashOf(leaf).equals(commitment.leafAt(at))) return withInclusion(commitment, at, leaf);
    first ??= {at, leaf};
  }
  return first === null ? null : withInclusion(commitment, first.at, first.leaf);
}

function withInclusion(commitment: Commitment, at: Located, leaf: LeafFields): CommittedLeaf {
  const inclusion = {
    bucket: at.bucket,
    leafIndex: at.index,
    bucketSize: commitment.buckets[at.bucket]?.count ?? 0,
    bucketPath: commitment.bucketPath(at),
    topPath: commitment.topPath(at.bucket),
  };
  return {leaf, inclusion};
}
