/**
 * Signed node records: what a node publishes so others can put it in a swarm.
 * Layout of the signed bytes: record-payload.ts; wire JSON: record-types.ts `NodeRecordJson`;
 * both documented in docs/PROTOCOL.md (Swarms).
 */
import {toBase64, toHex} from "../protocol/index.js";
import {createHash} from "node:crypto";
import {CTX} from "../crypto/index.js";
import {ML_DSA65_SIGNATURE_BYTES, blsVerifyProofOfPossession, type PqBackend} from "../crypto/index.js";
import {checkStakeEligibility} from "../economics/index.js";
import {InvalidArgumentError} from "../util/index.js";

import {deriveNodeIdHex} from "./node-id.js";
import {decodeNodeRecordJson} from "./record-decode.js";
import {encodeNodeRecordPayload} from "./record-payload.js";
import {
  NODE_RECORD_MAX_FUTURE_SKEW_MS,
  NodeRecordError,
  type NodeRecord,
  type NodeRecordErrorCode,
  type NodeRecordFields,
  type NodeRecordJson,
  type NodeRecordResult,
  type NodeStake,
} from "./record-types.js";

/** PIP-0008 §2.2 check; economics' `checkStakeEligibility` satisfies it. */
export type StakeEligibilityCheck = (stake: {
  operator: {address: string; amount: bigint};
  contributors: Array<{address: string; amount: bigint}>;
}) => {eligible: true; totalStake: bigint} | {eligible: false; reasons: string[]; totalStake: bigint};

export interface VerifyNodeRecordOptions {
  /** Reject records of another network (recommended: the node's configured network ID). */
  networkId?: number;
  /** Current time (from the injected Clock); enables the freshness checks below. */
  nowMs?: number;
  /** With `nowMs`: reject records older than this. Unset = no age limit. */
  maxAgeMs?: number;
  /** With `nowMs`: reject records timestamped further in the future. */
  maxFutureSkewMs?: number;
  /** Stake rule; defaults to economics' PIP-0008 §2.2 `checkStakeEligibility`. */
  checkStake?: StakeEligibilityCheck;
  /**
   * Keys (`verifiedRecordKey`) of records whose signature verified before: their signature check is
   * skipped (ML-DSA-65 verify costs ~4 ms in the noble backend, so re-polling 1,000 records would
   * cost ~4 s). Everything else is still checked. A `Set<string>` works; the caller bounds it.
   */
  verifiedCache?: {has(key: string): boolean; add(key: string): unknown};
}

/**
 * Signs `fields` with the node's ML-DSA-65 secret key. Throws INVALID_ARGUMENT on invalid fields or
 * a secret key that does not match `fields.mlDsaPublicKey`.
 */
export function signNodeRecord(fields: NodeRecordFields, secretKey: Uint8Array, backend: PqBackend): NodeRecordJson {
  const nodeId = deriveNodeIdHex(fields.mlKemPublicKey, fields.mlDsaPublicKey);
  const unsigned = nodeRecordToJson(fields, nodeId, new Uint8Array(ML_DSA65_SIGNATURE_BYTES));
  try {
    decodeNodeRecordJson(unsigned); // same structural rules as verification, so we never publish junk
  } catch (err) {
    throw new InvalidArgumentError(`invalid node record fields: ${(err as Error).message}`);
  }
  const payload = encodeNodeRecordPayload(fields, nodeId);
  const signature = backend.mlDsa65.sign(secretKey, payload, CTX.NODE_RECORD);
  // Catches a secret key that is not the one for `fields.mlDsaPublicKey` before we publish.
  if (!backend.mlDsa65.verify(fields.mlDsaPublicKey, payload, signature, CTX.NODE_RECORD)) {
    throw new InvalidArgumentError("secretKey does not belong to fields.mlDsaPublicKey");
  }
  return {...unsigned, signature: toBase64(signature)};
}

/** Wire form of a record (also used to re-publish a verified `NodeRecord`). */
export function nodeRecordToJson(fields: NodeRecordFields, nodeId: string, signature: Uint8Array): NodeRecordJson {
  const share = (s: {address: string; amount: bigint}): {address: string; amount: string} => ({
    address: s.address,
    amount: s.amount.toString(10),
  });
  return {
    networkId: fields.networkId,
    nodeId,
    mlDsaPublicKey: toBase64(fields.mlDsaPublicKey),
    mlKemPublicKey: toBase64(fields.mlKemPublicKey),
    ...(fields.x25519PublicKey === undefined ? {} : {x25519PublicKey: toHex(fields.x25519PublicKey)}),
    ...(fields.tlsSpkiSha256 === undefined ? {} : {tls: {spkiSha256: toHex(fields.tlsSpkiSha256)}}),
    ...(fields.blsPublicKey === undefined || fields.blsProofOfPossession === undefined
      ? {}
      : {bls: {publicKey: toHex(fields.blsPublicKey), proofOfPossession: toHex(fields.blsProofOfPossession)}}),
    host: fields.host,
    port: fields.port,
    stake: {operator: share(fields.stake.operator), contributors: fields.stake.contributors.map(share)},
    version: [fields.version[0], fields.version[1], fields.version[2]],
    timestamp: fields.timestamp,
    signature: toBase64(signature),
  };
}

/**
 * Full check of one record in wire form; never throws. Order: structure and encodings, nodeId
 * derivation, network, freshness, stake eligibility (all cheap), then the ML-DSA-65 signature,
 * then (v4/v5) the BLS proof of possession (a pairing check, the dearest step: ~10 ms in noble).
 */
export function verifyNodeRecord(json: unknown, backend: PqBackend, opts: VerifyNodeRecordOptions = {}): NodeRecordResult {
  try {
    const {fields, nodeId, signature} = decodeNodeRecordJson(json);
    checkNodeId(fields, nodeId);
    checkNetworkAndTime(fields, opts);
    const totalStake = checkStake(fields.stake, opts.checkStake ?? checkStakeEligibility);
    const payload = encodeNodeRecordPayload(fields, nodeId);
    const verdict = checkSignatures(fields, payload, signature, backend, opts.verifiedCache);
    if (verdict !== null) return reject(verdict.code, verdict.reason);
    const record: NodeRecord = Object.freeze({...fields, nodeId, signature, totalStake});
    return {ok: true, record};
  } catch (err) {
    if (err instanceof NodeRecordError) return reject(err.code, err.message);
    return reject("NODE_RECORD_ERROR_MALFORMED", `unexpected: ${(err as Error).message}`);
  }
}

/** The signing payload of a verified record (for fixtures, caches and re-verification). */
export function nodeRecordPayload(record: NodeRecord): Uint8Array {
  return encodeNodeRecordPayload(record, record.nodeId);
}

/** Cache key of a verified (payload, signature) pair: hex SHA-256(payload ‖ signature). */
export function verifiedRecordKey(payload: Uint8Array, signature: Uint8Array): string {
  return createHash("sha256").update(payload).update(signature).digest("hex");
}

/**
 * The ML-DSA-65 signature, then the BLS proof of possession; null when both hold. The payload
 * holds the BLS key and proof, so a cached (payload, signature) pair had its proof checked too.
 */
function checkSignatures(
  fields: NodeRecordFields,
  payload: Uint8Array,
  signature: Uint8Array,
  backend: PqBackend,
  cache: VerifyNodeRecordOptions["verifiedCache"],
): {code: NodeRecordErrorCode; reason: string} | null {
  const key = cache === undefined ? "" : verifiedRecordKey(payload, signature);
  if (cache?.has(key) === true) return null;
  if (!backend.mlDsa65.verify(fields.mlDsaPublicKey, payload, signature, CTX.NODE_RECORD)) {
    return {code: "NODE_RECORD_ERROR_BAD_SIGNATURE", reason: "ML-DSA-65 signature does not verify"};
  }
  const {blsPublicKey, blsProofOfPossession} = fields;
  if (blsPublicKey !== undefined && blsProofOfPossession !== undefined && !blsVerifyProofOfPossession(blsPublicKey, blsProofOfPossession)) {
    return {
      code: "NODE_RECORD_ERROR_BAD_PROOF_OF_POSSESSION",
      reason: "the BLS public key is invalid or its proof of possession does not verify",
    };
  }
  cache?.add(key);
  return null;
}

function checkNodeId(fields: NodeRecordFields, nodeId: string): void {
  const expected = deriveNodeIdHex(fields.mlKemPublicKey, fields.mlDsaPublicKey);
  if (expected !== nodeId) {
    throw new NodeRecordError("NODE_RECORD_ERROR_NODE_ID_MISMATCH", `nodeId is not BLAKE2b-256(kem ‖ dsa) = ${expected}`);
  }
}

function checkNetworkAndTime(fields: NodeRecordFields, opts: VerifyNodeRecordOptions): void {
  if (opts.networkId !== undefined && fields.networkId !== opts.networkId) {
    throw new NodeRecordError("NODE_RECORD_ERROR_WRONG_NETWORK", `network ${fields.networkId} != ${opts.networkId}`);
  }
  if (opts.nowMs === undefined) return;
  const skew = opts.maxFutureSkewMs ?? NODE_RECORD_MAX_FUTURE_SKEW_MS;
  if (fields.timestamp > opts.nowMs + skew) {
    throw new NodeRecordError("NODE_RECORD_ERROR_FROM_FUTURE", `timestamp ${fields.timestamp} is > ${skew} ms ahead`);
  }
  if (opts.maxAgeMs !== undefined && fields.timestamp < opts.nowMs - opts.maxAgeMs) {
    throw new NodeRecordError("NODE_RECORD_ERROR_STALE", `timestamp ${fields.timestamp} is older than ${opts.maxAgeMs} ms`);
  }
}

function checkStake(stake: NodeStake, check: StakeEligibilityCheck): bigint {
  const copy = (s: {address: string; amount: bigint}): {address: string; amount: bigint} => ({...s});
  const result = check({operator: copy(stake.operator), contributors: stake.contributors.map(copy)});
  if (!result.eligible) {
    throw new NodeRecordError("NODE_RECORD_ERROR_STAKE_INELIGIBLE", `stake ineligible: ${result.reasons.join("; ")}`);
  }
  return result.totalStake;
}

function reject(code: NodeRecordErrorCode, reason: string): NodeRecordResult {
  return {ok: false, code, reason};
}
