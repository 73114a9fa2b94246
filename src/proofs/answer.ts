/**
 * The target's signed answer to a StorageChallenge (docs/PROTOCOL.md (Storage proofs) §5): the leaf,
 * its inclusion path to the root of a StorageProof the target signed, and a possession digest
 * SHA-256(tag ‖ nonce ‖ hash ‖ data). Signed with ML-DSA-65, context CTX.CHALLENGE_ANSWER.
 */
import type {ContextSigner} from "../signer/index.js";
import {CTX} from "../crypto/index.js";
import {ML_DSA65_SIGNATURE_BYTES, type PqBackend} from "../crypto/index.js";

import {arrayOf, base64Bytes, exactObject, hexBytes, integer, oneOf, safeU64, toBase64, writeU64, type Json} from "./codec.js";
import {BUCKET_COUNT, MAX_BUCKET_PATH, NODE_BYTES, PAYLOAD_VERSION, TOP_PATH_LENGTH} from "./constants.js";
import {malformed} from "./errors.js";
import {encodeLeafEntry, type LeafFields} from "./leaf.js";
import {leafFromJson, leafToJson} from "./leaf-json.js";
import {encodeProofPayload, proofFromJson, proofToJson, type StorageProof} from "./storage-proof.js";

export const ANSWER_STATUSES = ["held", "missing", "uncommitted"] as const;
export type AnswerStatus = (typeof ANSWER_STATUSES)[number];

export interface Inclusion {
  readonly bucket: number;
  readonly leafIndex: number;
  readonly bucketSize: number;
  /** Leaf upwards within the bucket (RFC 9162 path for (leafIndex, bucketSize)). */
  readonly bucketPath: readonly Uint8Array[];
  /** Bucket root upwards within the top tree: always TOP_PATH_LENGTH (18) nodes. */
  readonly topPath: readonly Uint8Array[];
}

/**
 * `missing`: the target does not hold the message. `uncommitted`: it holds it (leaf, possession)
 * but its latest proof predates it. `held`: leaf, possession, proof and inclusion path.
 */
export interface UnsignedAnswer {
  readonly challengeDigest: Uint8Array;
  readonly status: AnswerStatus;
  /** Target's clock when the challenge arrived and when the answer was built (Unix ms). */
  readonly receivedAt: number;
  readonly answeredAt: number;
  readonly leaf: LeafFields | null;
  readonly possession: Uint8Array | null;
  readonly proof: StorageProof | null;
  readonly inclusion: Inclusion | null;
}

export interface ChallengeAnswer extends UnsignedAnswer {
  readonly signature: Uint8Array;
}

const STATUS_BYTE: Record<AnswerStatus, number> = {held: 0, missing: 1, uncommitted: 2};

/** Checks that exactly the parts the status calls for are present. */
function checkShape(a: UnsignedAnswer): void {
  const hasHolding = a.leaf !== null && a.possession !== null && a.proof !== null;
  const none = a.leaf === null && a.possession === null && a.proof === null && a.inclusion === null;
  const ok =
    a.status === "missing" ? none : a.status === "uncommitted" ? hasHolding && a.inclusion === null : hasHolding && a.inclusion !== null;
  if (!ok) throw malformed("answer", `fields do not match status "${a.status}"`);
}

export function encodeAnswerPayload(a: UnsignedAnswer): Buffer {
  checkShape(a);
  if (a.challengeDigest.length !== NODE_BYTES) throw malformed("challengeDigest", "must be 32 bytes");
  const head = Buffer.alloc(1 + NODE_BYTES + 1 + 16);
  head[0] = PAYLOAD_VERSION;
  Buffer.from(a.challengeDigest).copy(head, 1);
  head[1 + NODE_BYTES] = STATUS_BYTE[a.status];
  writeU64(head, 2 + NODE_BYTES, safeU64(a.receivedAt, "receivedAt"));
  writeU64(head, 10 + NODE_BYTES, safeU64(a.answeredAt, "answeredAt"));
  const parts: Buffer[] = [head];
  if (a.leaf !== null && a.possession !== null && a.proof !== null) {
    if (a.possession.length !== NODE_BYTES) throw malformed("possession", "must be 32 bytes");
    parts.push(encodeLeafEntry(a.leaf), Buffer.from(a.possession), encodeProofPayload(a.proof));
  }
  if (a.inclusion !== null) parts.push(encodeInclusion(a.inclusion));
  return Buffer.concat(parts);
}

/** Bytes before the path nodes: bucket u32 ‖ leafIndex u32 ‖ bucketSize u32 ‖ k u8. */
const INCLUSION_HEAD = 13;

/** bucket u32 ‖ leafIndex u32 ‖ bucketSize u32 ‖ k u8 ‖ k × 32 ‖ 18 × 32 (18-bit buckets need more than a u16). */
function encodeInclusion(inc: Inclusion): Buffer {
  integer(inc.bucket, "bucket", 0, BUCKET_COUNT - 1);
  integer(inc.bucketSize, "bucketSize", 1, 0xffff_ffff);
  integer(inc.leafIndex, "leafIndex", 0, inc.bucketSize - 1);
  if (inc.bucketPath.length > MAX_BUCKET_PATH) throw malformed("bucketPath", "is too long");
  if (inc.topPath.length !== TOP_PATH_LENGTH) throw malformed("topPath", `must have ${TOP_PATH_LENGTH} nodes`);
  const out = Buffer.alloc(INCLUSION_HEAD + (inc.bucketPath.length + TOP_PATH_LENGTH) * NODE_BYTES);
  out.writeUInt32BE(inc.bucket, 0);
  out.writeUInt32BE(inc.leafIndex, 4);
  out.writeUInt32BE(inc.bucketSize, 8);
  out[12] = inc.bucketPath.length;
  [...inc.bucketPath, ...inc.topPath].forEach((node, i) => {
    if (node.length !== NODE_BYTES) throw malformed("path", "nodes must be 32 bytes");
    Buffer.from(node).copy(out, INCLUSION_HEAD + i * NODE_BYTES);
  });
  return out;
}

export async function signAnswer(a: UnsignedAnswer, signer: ContextSigner): Promise<ChallengeAnswer> {
  return {...a, signature: await signer.sign(encodeAnswerPayload(a), CTX.CHALLENGE_ANSWER)};
}

/** Never throws. */
export function verifyAnswerSignature(a: ChallengeAnswer, mlDsaPublicKey: Uint8Array, pq: PqBackend): boolean {
  try {
    return pq.mlDsa65.verify(mlDsaPublicKey, encodeAnswerPayload(a), a.signature, CTX.CHALLENGE_ANSWER);
  } catch {
    return false;
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export function answerToJson(a: ChallengeAnswer): Json {
  const out: Json = {challengeDigest: hex(a.challengeDigest), status: a.status, receivedAt: a.receivedAt, answeredAt: a.answeredAt};
  if (a.leaf !== null) out.leaf = leafToJson(a.leaf);
  if (a.possession !== null) out.possession = hex(a.possession);
  if (a.proof !== null) out.proof = proofToJson(a.proof);
  if (a.inclusion !== null) {
    const {bucket, leafIndex, bucketSize, bucketPath, topPath} = a.inclusion;
    out.inclusion = {bucket, leafIndex, bucketSize, bucketPath: bucketPath.map(hex), topPath: topPath.map(hex)};
  }
  out.signature = toBase64(a.signature);
  return out;
}

const BASE = ["challengeDigest", "status", "receivedAt", "answeredAt", "signature"];
const OPTIONAL = ["leaf", "possession", "proof", "inclusion"];

/** Decodes and shape-checks the JSON form; PROOF_ERROR_MALFORMED on any deviation. */
export function answerFromJson(value: unknown, field = "answer"): ChallengeAnswer {
  const o = exactObject(value, field, BASE, OPTIONAL);
  const answer: ChallengeAnswer = {
    challengeDigest: hexBytes(o.challengeDigest, `${field}.challengeDigest`, NODE_BYTES),
    status: oneOf(o.status, `${field}.status`, ANSWER_STATUSES),
    receivedAt: safeU64(o.receivedAt, `${field}.receivedAt`),
    answeredAt: safeU64(o.answeredAt, `${field}.answeredAt`),
    leaf: o.leaf === undefined ? null : leafFromJson(o.leaf, `${field}.leaf`),
    possession: o.possession === undefined ? null : hexBytes(o.possession, `${field}.possession`, NODE_BYTES),
    proof: o.proof === undefined ? null : proofFromJson(o.proof, `${field}.proof`),
    inclusion: o.inclusion === undefined ? null : inclusionFromJson(o.inclusion, `${field}.inclusion`),
    signature: base64Bytes(o.signature, `${field}.signature`, ML_DSA65_SIGNATURE_BYTES),
  };
  checkShape(answer);
  return answer;
}

function inclusionFromJson(value: unknown, field: string): Inclusion {
  const o = exactObject(value, field, ["bucket", "leafIndex", "bucketSize", "bucketPath", "topPath"]);
  const bucketSize = integer(o.bucketSize, `${field}.bucketSize`, 1, 0xffff_ffff);
  const node = (v: unknown, f: string): Buffer => hexBytes(v, f, NODE_BYTES);
  const topPath = arrayOf(o.topPath, `${field}.topPath`, TOP_PATH_LENGTH, node);
  if (topPath.length !== TOP_PATH_LENGTH) throw malformed(`${field}.topPath`, `must have ${TOP_PATH_LENGTH} nodes`);
  return {
    bucket: integer(o.bucket, `${field}.bucket`, 0, BUCKET_COUNT - 1),
    leafIndex: integer(o.leafIndex, `${field}.leafIndex`, 0, bucketSize - 1),
    bucketSize,
    bucketPath: arrayOf(o.bucketPath, `${field}.bucketPath`, MAX_BUCKET_PATH, node),
    topPath,
  };
}
