/**
 * Epoch reports (docs/PROTOCOL.md (Rewards) §3): after an epoch ends, each node signs what it saw
 * in it (the fees it charged and for which swarm, the verdicts of the challenges it sent) and
 * serves it; every node fetches every member's report and computes the epoch's rewards from them.
 * ML-DSA-65 under context CTX.EPOCH_REPORT, over the canonical JSON of the report without its
 * signature, so a report can be relayed by any node and checked against its author's record.
 */
import {CTX, type PqBackend} from "../crypto/index.js";
import {RewardsError} from "./errors.js";

export interface VerdictCount {
  readonly target: string;
  readonly passed: number;
  readonly failed: number;
}

export interface EpochReport {
  readonly networkId: number;
  readonly epoch: number;
  readonly nodeId: string;
  readonly fees: {readonly total: bigint; readonly swarmMembers: readonly string[]};
  /** Sorted by target; inconclusive verdicts are not counted. */
  readonly verdicts: readonly VerdictCount[];
  /** Unix ms when the node signed it. */
  readonly signedAt: number;
  readonly signature: Uint8Array;
}

export type UnsignedReport = Omit<EpochReport, "signature">;

/** Wire form. */
export interface EpochReportJson {
  network_id: number;
  epoch: number;
  node_id: string;
  fees: {total: string; swarm_members: string[]};
  verdicts: Array<{target: string; passed: number; failed: number}>;
  signed_at: number;
  signature: string;
}

const NODE_ID_RE = /^[0-9a-f]{64}$/;
const AMOUNT_RE = /^(0|[1-9][0-9]{0,77})$/;
/** Most entries of a report's lists: a swarm or a challenger's targets never come near it. */
export const REPORT_MAX_ENTRIES = 1_000;

/** The bytes the signature covers: the report's JSON without `signature`, keys in this order. */
export function reportSigningBytes(r: UnsignedReport): Uint8Array {
  const body = {
    network_id: r.networkId,
    epoch: r.epoch,
    node_id: r.nodeId,
    fees: {total: r.fees.total.toString(), swarm_members: [...r.fees.swarmMembers]},
    verdicts: r.verdicts.map((v) => ({target: v.target, passed: v.passed, failed: v.failed})),
    signed_at: r.signedAt,
  };
  return new TextEncoder().encode(JSON.stringify(body));
}

export function reportToJson(r: EpochReport): EpochReportJson {
  return {
    network_id: r.networkId,
    epoch: r.epoch,
    node_id: r.nodeId,
    fees: {total: r.fees.total.toString(), swarm_members: [...r.fees.swarmMembers]},
    verdicts: r.verdicts.map((v) => ({...v})),
    signed_at: r.signedAt,
    signature: Buffer.from(r.signature).toString("base64"),
  };
}

/** Parses a report's JSON; throws REWARDS_ERROR_BAD_REPORT naming the first problem. */
export function reportFromJson(value: unknown): EpochReport {
  const o = object(value, "report");
  const fees = object(o.fees, "fees");
  const members = list(fees.swarm_members, "fees.swarm_members").map((id, i) => nodeId(id, `fees.swarm_members[${i}]`));
  const verdicts = list(o.verdicts, "verdicts").map((v, i) => {
    const e = object(v, `verdicts[${i}]`);
    return {target: nodeId(e.target, `verdicts[${i}].target`), passed: count(e.passed, "passed"), failed: count(e.failed, "failed")};
  });
  for (let i = 1; i < verdicts.length; i++) {
    if ((verdicts[i - 1]?.target ?? "") >= (verdicts[i]?.target ?? "")) bad("verdicts must be sorted by target, each once");
  }
  if (typeof fees.total !== "string" || !AMOUNT_RE.test(fees.total)) bad("fees.total must be a decimal string of base units");
  if (typeof o.signature !== "string") bad("signature must be base64");
  return {
    networkId: count(o.network_id, "network_id"),
    epoch: count(o.epoch, "epoch"),
    nodeId: nodeId(o.node_id, "node_id"),
    fees: {total: BigInt(fees.total), swarmMembers: members},
    verdicts,
    signedAt: count(o.signed_at, "signed_at"),
    signature: new Uint8Array(Buffer.from(o.signature, "base64")),
  };
}

/** Whether `r` is signed by the ML-DSA key of its node (from the node's record). */
export function verifyReport(pq: PqBackend, r: EpochReport, mlDsaPublicKey: Uint8Array): boolean {
  try {
    return pq.mlDsa65.verify(mlDsaPublicKey, reportSigningBytes(r), r.signature, CTX.EPOCH_REPORT);
  } catch {
    return false;
  }
}

function bad(message: string): never {
  throw new RewardsError({code: "REWARDS_ERROR_BAD_REPORT"}, message);
}

function object(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(`${name} must be an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, name: string): unknown[] {
  if (!Array.isArray(v) || v.length > REPORT_MAX_ENTRIES) bad(`${name} must be an array of at most ${REPORT_MAX_ENTRIES}`);
  return v;
}

function count(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`${name} must be a non-negative integer`);
  return v;
}

function nodeId(v: unknown, name: string): string {
  if (typeof v !== "string" || !NODE_ID_RE.test(v)) bad(`${name} must be a node ID (64 lowercase hex)`);
  return v;
}
