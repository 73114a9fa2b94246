/**
 * StorageChallenge (PIP-0008 §3.4): challengerId, targetId, messageHash, nonce, plus the
 * challenger's ML-DSA-65 signature (context CTX.STORAGE_CHALLENGE) over the 129-byte payload.
 */
import type {ContextSigner} from "../signer/index.js";
import {NODE_ID_BYTES} from "../protocol/identity.js";
import {hash} from "node:crypto";
import {CTX} from "../crypto/contexts.js";
import {ML_DSA65_SIGNATURE_BYTES, type PqBackend} from "../crypto/interface.js";

import {base64Bytes, exactObject, hexBytes, toBase64, type Json} from "./codec.js";
import {CHALLENGE_PAYLOAD_BYTES, NONCE_BYTES, PAYLOAD_VERSION} from "./constants.js";
import {malformed} from "./errors.js";
import {nodeIdOf, type PublicKeys} from "./keys.js";
import {decodeMessageHash} from "./leaf.js";

export interface UnsignedChallenge {
  readonly challengerId: string;
  readonly targetId: string;
  /** 43-char base64, as Session writes message hashes. */
  readonly messageHash: string;
  readonly nonce: Uint8Array;
}

export interface StorageChallenge extends UnsignedChallenge {
  readonly signature: Uint8Array;
}

const FIELDS = ["challengerId", "targetId", "messageHash", "nonce", "signature"] as const;

/** version ‖ challengerId 32 ‖ targetId 32 ‖ raw messageHash 32 ‖ nonce 32. */
export function encodeChallengePayload(c: UnsignedChallenge): Buffer {
  const raw = decodeMessageHash(c.messageHash);
  if (raw === null) throw malformed("messageHash", "must be 43 characters of canonical unpadded base64");
  if (c.nonce.length !== NONCE_BYTES) throw malformed("nonce", "must be 32 bytes");
  const out = Buffer.alloc(CHALLENGE_PAYLOAD_BYTES);
  out[0] = PAYLOAD_VERSION;
  let o = 1 + hexBytes(c.challengerId, "challengerId", NODE_ID_BYTES).copy(out, 1);
  o += hexBytes(c.targetId, "targetId", NODE_ID_BYTES).copy(out, o);
  o += raw.copy(out, o);
  Buffer.from(c.nonce).copy(out, o);
  return out;
}

/** SHA-256 of the payload: what an answer binds itself to. */
export function challengeDigest(c: UnsignedChallenge): Buffer {
  return hash("sha256", encodeChallengePayload(c), "buffer");
}

export async function signChallenge(c: UnsignedChallenge, signer: ContextSigner): Promise<StorageChallenge> {
  return {...c, signature: await signer.sign(encodeChallengePayload(c), CTX.STORAGE_CHALLENGE)};
}

/** The challenger's keys imply challengerId and sign the payload. Never throws. */
export function verifyChallenge(c: StorageChallenge, challenger: PublicKeys, pq: PqBackend): boolean {
  try {
    if (nodeIdOf(challenger) !== c.challengerId) return false;
    return pq.mlDsa65.verify(challenger.mlDsa, encodeChallengePayload(c), c.signature, CTX.STORAGE_CHALLENGE);
  } catch {
    return false;
  }
}

export function challengeToJson(c: StorageChallenge): Json {
  return {
    challengerId: c.challengerId,
    targetId: c.targetId,
    messageHash: c.messageHash,
    nonce: Buffer.from(c.nonce).toString("hex"),
    signature: toBase64(c.signature),
  };
}

export function challengeFromJson(value: unknown, field = "challenge"): StorageChallenge {
  const o = exactObject(value, field, FIELDS);
  if (decodeMessageHash(o.messageHash) === null) {
    throw malformed(`${field}.messageHash`, "must be 43 characters of canonical unpadded base64");
  }
  return {
    challengerId: hexBytes(o.challengerId, `${field}.challengerId`, NODE_ID_BYTES).toString("hex"),
    targetId: hexBytes(o.targetId, `${field}.targetId`, NODE_ID_BYTES).toString("hex"),
    messageHash: o.messageHash as string,
    nonce: hexBytes(o.nonce, `${field}.nonce`, NONCE_BYTES),
    signature: base64Bytes(o.signature, `${field}.signature`, ML_DSA65_SIGNATURE_BYTES),
  };
}
