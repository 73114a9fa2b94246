/**
 * Building the answer to a challenge from the node's latest commitment and its live store
 * (docs/PROTOCOL.md (Storage proofs) §5). Possession is always computed from the data as stored now;
 * the leaf's expiry and size are the committed ones, so a message whose expiry changed since the
 * proof still verifies against the signed root.
 */
import type {UnsignedAnswer} from "./answer.js";
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

export interface Committed {
  readonly commitment: Commitment;
  readonly proof: StorageProof;
}

/** The unsigned answer to `challenge` (already verified) received at `receivedAt`. */
export function buildAnswer(
  committed: Committed,
  challenge: StorageChallenge,
  live: LiveMessage | null,
  times: {receivedAt: number; answeredAt: number},
): UnsignedAnswer {
  const base = {challengeDigest: challengeDigest(challenge), ...times};
  if (live === null) return {...base, status: "missing", leaf: null, possession: null, proof: null, inclusion: null};
  const raw = decodeMessageHash(challenge.messageHash) as Buffer;
  const possession = possessionDigest(challenge.nonce, raw, live.data);
  const digest = dataDigest(live.data);
  const {commitment, proof} = committed;
  const found = findCommitted(commitment, raw, challenge.messageHash, live, digest);
  if (found === null) {
    const leaf: LeafFields = {messageHash: challenge.messageHash, ...liveLeaf(live), dataDigest: digest};
    return {...base, status: "uncommitted", leaf, possession, proof, inclusion: null};
  }
  const {at, leaf} = found;
  const bucket = commitment.buckets[at.bucket];
  const inclusion = {
    bucket: at.bucket,
    leafIndex: at.index,
    bucketSize: bucket?.count ?? 0,
    bucketPath: commitment.bucketPath(at),
    topPath: commitment.topPath(at.bucket),
  };
  return {...base, status: "held", leaf, possession, proof, inclusion};
}

function liveLeaf(live: LiveMessage): Pick<LeafFields, "account" | "namespace" | "expiry" | "size"> {
  return {account: live.account, namespace: live.namespace, expiry: live.expiry, size: live.data.length};
}

/**
 * The committed leaf of the message: the candidate whose recomputed leaf matches, else (data
 * changed since it was committed) the first candidate with the live digest, which the verifier
 * will reject. Null when the message is not in the commitment.
 */
function findCommitted(
  commitment: Commitment,
  raw: Buffer,
  messageHash: string,
  live: LiveMessage,
  digest: Buffer,
): {at: Located; leaf: LeafFields} | null {
  let first: {at: Located; leaf: LeafFields} | null = null;
  for (const at of commitment.locate(raw)) {
    const bucket = commitment.buckets[at.bucket];
    if (bucket === undefined) break;
    const leaf: LeafFields = {
      messageHash,
      account: live.account,
      namespace: live.namespace,
      expiry: bucket.expiries[at.index] ?? 0,
      size: bucket.sizes[at.index] ?? 0,
      dataDigest: digest,
    };
    if (leafHashOf(leaf).equals(commitment.leafAt(at))) return {at, leaf};
    first ??= {at, leaf};
  }
  return first;
}
