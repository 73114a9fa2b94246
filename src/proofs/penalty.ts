/**
 * Penalty reports (PIP-0008 §7.1, issue #18; docs/PROTOCOL.md (Storage proofs) "Penalty reports").
 * When this node's challenge of a peer ends in a failing verdict, it signs, with its BLS key
 * (`staking/signer.key`), the statement "node X failed a challenge of kind K in epoch E, evidence
 * H" on network N. Any node can collect the reports about one node and epoch and aggregate them
 * into one slashing report: the statements, the reporters' node IDs and one aggregate signature,
 * which anyone verifies offline with the reporters' BLS keys from their node records.
 *
 * Signed message (all integers big-endian):
 *   u8 ‖ ASCII   "pars-storage/v1/penalty-report" (30 bytes, with its length)
 *   u32          network ID
 *   32 B         accused node ID
 *   u64          epoch index (economics/epochs.ts)
 *   u8           kind: 1 = wrong-proof, 2 = no-answer
 *   32 B         evidence hash: SHA-256 of the evidence bundle's JSON text as served
 * under BLS_SIGNATURE_DST. Each reporter names its own evidence, so the messages of one slashing
 * report differ and the aggregate is checked with AggregateVerify (one pairing per reporter plus
 * one); the reporters' keys come from records whose proof of possession was verified.
 */
import {createHash} from "node:crypto";
import {
  BLS_SIGNATURE_BYTES,
  blsAggregateSignatures,
  blsSign,
  blsVerify,
  blsVerifyAggregateDistinct,
} from "../crypto/index.js";
import {arrayOf, exactObject, hexBytes, integer, oneOf, safeU64, type Json} from "./codec.js";
import {malformed} from "./errors.js";
import type {Verdict} from "./verdict-types.js";

export const PENALTY_REPORT_DOMAIN = "pars-storage/v1/penalty-report";
export const PENALTY_KINDS = ["wrong-proof", "no-answer"] as const;
export type PenaltyKind = (typeof PENALTY_KINDS)[number];
const KIND_CODES: Record<PenaltyKind, number> = {"wrong-proof": 1, "no-answer": 2};
const NODE_ID_BYTES = 32;
const HASH_BYTES = 32;
/** More reporters than a swarm has peers is not a real report; bounds the work of a verifier. */
export const MAX_SLASHING_REPORTERS = 256;

/** What a reporter signs. */
export interface PenaltyStatement {
  readonly networkId: number;
  readonly accusedId: string;
  readonly epoch: number;
  readonly kind: PenaltyKind;
  /** SHA-256 of the evidence JSON text, 32 bytes. */
  readonly evidenceHash: Uint8Array;
}

export interface PenaltyReport extends PenaltyStatement {
  readonly reporterId: string;
  /** BLS signature (96 bytes) of `penaltyMessage(this)`. */
  readonly signature: Uint8Array;
}

/** The reports of several nodes about one accused node and epoch, under one aggregate signature. */
export interface SlashingReport {
  readonly networkId: number;
  readonly accusedId: string;
  readonly epoch: number;
  /** One per reporter, sorted by reporterId. */
  readonly reports: readonly {readonly reporterId: string; readonly kind: PenaltyKind; readonly evidenceHash: Uint8Array}[];
  readonly aggregateSignature: Uint8Array;
}

/**
 * The kind of penalty a verdict supports, or null (pass, inconclusive). No answer in time is
 * "no-answer"; every other failure (a wrong, unsigned, stale or malformed proof) is "wrong-proof".
 */
export function penaltyKindOf(verdict: Verdict): PenaltyKind | null {
  if (verdict.outcome !== "fail") return null;
  return verdict.reason === "no-answer" || verdict.reason === "late-answer" ? "no-answer" : "wrong-proof";
}

/** SHA-256 of the evidence JSON text, the hash a report signs. */
export function penaltyEvidenceHash(evidenceJson: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(evidenceJson, "utf8").digest());
}

/** The bytes a reporter signs (module comment). Throws MALFORMED for out-of-range fields. */
export function penaltyMessage(s: PenaltyStatement): Uint8Array {
  const domain = Buffer.from(PENALTY_REPORT_DOMAIN, "latin1");
  const out = Buffer.alloc(1 + domain.length + 4 + NODE_ID_BYTES + 8 + 1 + HASH_BYTES);
  let at = out.writeUInt8(domain.length, 0);
  at += domain.copy(out, at);
  at = out.writeUInt32BE(integer(s.networkId, "networkId", 0, 0xffff_ffff), at);
  at += hexBytes(s.accusedId, "accusedId", NODE_ID_BYTES).copy(out, at);
  at = out.writeBigUInt64BE(BigInt(safeU64(s.epoch, "epoch")), at);
  at = out.writeUInt8(KIND_CODES[oneOf(s.kind, "kind", PENALTY_KINDS)], at);
  if (s.evidenceHash.length !== HASH_BYTES) throw malformed("evidenceHash", `must be ${HASH_BYTES} bytes`);
  out.set(s.evidenceHash, at);
  return new Uint8Array(out);
}

export function signPenaltyReport(statement: PenaltyStatement, reporterId: string, blsSecretKey: Uint8Array): PenaltyReport {
  hexBytes(reporterId, "reporterId", NODE_ID_BYTES);
  return {...statement, reporterId, signature: blsSign(blsSecretKey, penaltyMessage(statement))};
}

/** True when `report` is signed by `reporterBlsKey` (the reporter's record key). Never throws. */
export function verifyPenaltyReport(report: PenaltyReport, reporterBlsKey: Uint8Array): boolean {
  try {
    return blsVerify(reporterBlsKey, penaltyMessage(report), report.signature);
  } catch {
    return false;
  }
}

/**
 * Aggregates the reports about `accusedId` in `epoch` (others are ignored), one per reporter
 * (the first one given of each). Null when none is left. The reports should be verified first:
 * one bad signature makes the whole aggregate fail.
 */
export function aggregatePenaltyReports(reports: readonly PenaltyReport[], accusedId: string, epoch: number): SlashingReport | null {
  const byReporter = new Map<string, PenaltyReport>();
  for (const r of reports) {
    if (r.accusedId === accusedId && r.epoch === epoch && !byReporter.has(r.reporterId)) byReporter.set(r.reporterId, r);
  }
  const chosen = [...byReporter.values()].sort((a, b) => (a.reporterId < b.reporterId ? -1 : 1));
  const first = chosen[0];
  if (first === undefined) return null;
  if (chosen.some((r) => r.networkId !== first.networkId)) throw malformed("reports", "reports of different networks");
  return {
    networkId: first.networkId,
    accusedId,
    epoch,
    reports: chosen.map(({reporterId, kind, evidenceHash}) => ({reporterId, kind, evidenceHash})),
    aggregateSignature: blsAggregateSignatures(chosen.map((r) => r.signature)),
  };
}

export type SlashingVerdict =
  | {readonly ok: true; readonly reporters: readonly string[]}
  | {readonly ok: false; readonly reason: string};

/**
 * Verifies a slashing report offline. `blsKeyOf(nodeId)` gives a reporter's BLS key from its
 * verified node record (whose proof of possession was checked), or null if it has none.
 */
export function verifySlashingReport(report: SlashingReport, blsKeyOf: (nodeId: string) => Uint8Array | null): SlashingVerdict {
  const ids = report.reports.map((r) => r.reporterId);
  if (ids.length === 0) return {ok: false, reason: "no reporters"};
  if (ids.some((id, i) => i > 0 && id <= (ids[i - 1] ?? ""))) return {ok: false, reason: "reporters must be sorted and distinct"};
  if (ids.includes(report.accusedId)) return {ok: false, reason: "a node cannot report itself"};
  const items: {publicKey: Uint8Array; message: Uint8Array}[] = [];
  for (const r of report.reports) {
    const publicKey = blsKeyOf(r.reporterId);
    if (publicKey === null) return {ok: false, reason: `no BLS key known for reporter ${r.reporterId}`};
    const statement = {networkId: report.networkId, accusedId: report.accusedId, epoch: report.epoch, kind: r.kind, evidenceHash: r.evidenceHash};
    items.push({publicKey, message: penaltyMessage(statement)});
  }
  if (!blsVerifyAggregateDistinct(items, report.aggregateSignature)) return {ok: false, reason: "the aggregate signature does not verify"};
  return {ok: true, reporters: ids};
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export function penaltyReportToJson(r: PenaltyReport): Json {
  return {
    networkId: r.networkId,
    accusedId: r.accusedId,
    epoch: r.epoch,
    kind: r.kind,
    evidenceHash: hex(r.evidenceHash),
    reporterId: r.reporterId,
    signature: hex(r.signature),
  };
}

export function penaltyReportFromJson(value: unknown, field = "report"): PenaltyReport {
  const o = exactObject(value, field, ["networkId", "accusedId", "epoch", "kind", "evidenceHash", "reporterId", "signature"]);
  hexBytes(o.accusedId, `${field}.accusedId`, NODE_ID_BYTES);
  hexBytes(o.reporterId, `${field}.reporterId`, NODE_ID_BYTES);
  return {
    networkId: integer(o.networkId, `${field}.networkId`, 0, 0xffff_ffff),
    accusedId: o.accusedId as string,
    epoch: safeU64(o.epoch, `${field}.epoch`),
    kind: oneOf(o.kind, `${field}.kind`, PENALTY_KINDS),
    evidenceHash: new Uint8Array(hexBytes(o.evidenceHash, `${field}.evidenceHash`, HASH_BYTES)),
    reporterId: o.reporterId as string,
    signature: new Uint8Array(hexBytes(o.signature, `${field}.signature`, BLS_SIGNATURE_BYTES)),
  };
}

export function slashingReportToJson(s: SlashingReport): Json {
  return {
    networkId: s.networkId,
    accusedId: s.accusedId,
    epoch: s.epoch,
    reports: s.reports.map((r) => ({reporterId: r.reporterId, kind: r.kind, evidenceHash: hex(r.evidenceHash)})),
    aggregateSignature: hex(s.aggregateSignature),
  };
}

export function slashingReportFromJson(value: unknown, field = "slashingReport"): SlashingReport {
  const o = exactObject(value, field, ["networkId", "accusedId", "epoch", "reports", "aggregateSignature"]);
  hexBytes(o.accusedId, `${field}.accusedId`, NODE_ID_BYTES);
  const reports = arrayOf(o.reports, `${field}.reports`, MAX_SLASHING_REPORTERS, (v, f) => {
    const r = exactObject(v, f, ["reporterId", "kind", "evidenceHash"]);
    hexBytes(r.reporterId, `${f}.reporterId`, NODE_ID_BYTES);
    return {
      reporterId: r.reporterId as string,
      kind: oneOf(r.kind, `${f}.kind`, PENALTY_KINDS),
      evidenceHash: new Uint8Array(hexBytes(r.evidenceHash, `${f}.evidenceHash`, HASH_BYTES)),
    };
  });
  return {
    networkId: integer(o.networkId, `${field}.networkId`, 0, 0xffff_ffff),
    accusedId: o.accusedId as string,
    epoch: safeU64(o.epoch, `${field}.epoch`),
    reports,
    aggregateSignature: new Uint8Array(hexBytes(o.aggregateSignature, `${field}.aggregateSignature`, BLS_SIGNATURE_BYTES)),
  };
}
