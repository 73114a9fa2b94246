/**
 * Membership documents: `{"version": 1, "network_id": 7070, "nodes": [<NodeRecordJson>, …]}`, served
 * by a registry URL or stored as a static file (same format). `parseNodeRecords` never throws: each
 * bad record is dropped with its index and reason, and a broken document yields `documentError`.
 */
import {createHash} from "node:crypto";
import type {PqBackend} from "../crypto/index.js";
import {nodeRecordPayload, verifyNodeRecord, type VerifyNodeRecordOptions} from "./node-record.js";
import type {NodeRecord, NodeRecordErrorCode} from "./record-types.js";

/** The only document version this code reads. */
export const REGISTRY_DOCUMENT_VERSION = 1;
/** Upper bound on records per document (≈ 9 KB each in JSON, so ≈ 90 MB at the cap). */
export const REGISTRY_MAX_NODES = 10_000;

export type RegistryErrorCode =
  | "REGISTRY_ERROR_MALFORMED"
  | "REGISTRY_ERROR_UNSUPPORTED_VERSION"
  | "REGISTRY_ERROR_WRONG_NETWORK"
  | "REGISTRY_ERROR_TOO_MANY_NODES";

export interface RegistryRejection {
  /** Position in the document's `nodes` array. */
  readonly index: number;
  /** The record's claimed nodeId when it has one (unverified, for logs only). */
  readonly nodeId: string | null;
  readonly code: NodeRecordErrorCode;
  readonly reason: string;
}

export interface ParsedMembership {
  /** Verified records, one per nodeId and per ML-DSA key (newest wins), sorted by nodeId. */
  readonly records: NodeRecord[];
  /** Sorted by index. */
  readonly rejected: RegistryRejection[];
  readonly documentError: {readonly code: RegistryErrorCode; readonly reason: string} | null;
}

/** `networkId` here is the network we expect the document to be for. */
export type ParseNodeRecordsOptions = VerifyNodeRecordOptions;

/** Parses and verifies a membership document (a JSON string or an already parsed value). */
export function parseNodeRecords(
  input: unknown,
  backend: PqBackend,
  opts: ParseNodeRecordsOptions = {},
): ParsedMembership {
  const doc = readDocument(input, opts.networkId);
  if (!doc.ok) return {records: [], rejected: [], documentError: {code: doc.code, reason: doc.reason}};
  const accepted: Array<{index: number; record: NodeRecord}> = [];
  const rejected: RegistryRejection[] = [];
  doc.nodes.forEach((json, index) => {
    const result = verifyNodeRecord(json, backend, {...opts, networkId: doc.networkId});
    if (result.ok) accepted.push({index, record: result.record});
    else rejected.push({index, nodeId: claimedNodeId(json), code: result.code, reason: result.reason});
  });
  const {kept, superseded} = dedupe(accepted);
  rejected.push(...superseded);
  rejected.sort((a, b) => a.index - b.index);
  return {records: kept.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)), rejected, documentError: null};
}

type DocumentResult =
  | {ok: true; networkId: number; nodes: unknown[]}
  | {ok: false; code: RegistryErrorCode; reason: string};

function readDocument(input: unknown, expectedNetworkId: number | undefined): DocumentResult {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input) as unknown;
    } catch (err) {
      return {ok: false, code: "REGISTRY_ERROR_MALFORMED", reason: `not JSON: ${(err as Error).message}`};
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {ok: false, code: "REGISTRY_ERROR_MALFORMED", reason: "document must be a JSON object"};
  }
  const {version, network_id: networkId, nodes} = value as Record<string, unknown>;
  if (version !== REGISTRY_DOCUMENT_VERSION) {
    return {ok: false, code: "REGISTRY_ERROR_UNSUPPORTED_VERSION", reason: `version must be 1, got ${String(version)}`};
  }
  if (typeof networkId !== "number" || !Number.isInteger(networkId) || networkId < 0 || networkId > 0xffff_ffff) {
    return {ok: false, code: "REGISTRY_ERROR_MALFORMED", reason: "network_id must be a u32"};
  }
  if (expectedNetworkId !== undefined && networkId !== expectedNetworkId) {
    return {ok: false, code: "REGISTRY_ERROR_WRONG_NETWORK", reason: `network_id ${networkId} != ${expectedNetworkId}`};
  }
  if (!Array.isArray(nodes)) return {ok: false, code: "REGISTRY_ERROR_MALFORMED", reason: "nodes must be an array"};
  if (nodes.length > REGISTRY_MAX_NODES) {
    return {ok: false, code: "REGISTRY_ERROR_TOO_MANY_NODES", reason: `${nodes.length} > ${REGISTRY_MAX_NODES} nodes`};
  }
  return {ok: true, networkId, nodes: nodes as unknown[]};
}

interface Candidate {
  index: number;
  record: NodeRecord;
}

/**
 * One record per nodeId, then one per ML-DSA key (same identity key with another KEM key). The
 * winner is the newest timestamp; equal timestamps fall back to the lowest SHA-256 of the signing
 * payload, so every node picks the same winner whatever the document order.
 */
function dedupe(candidates: readonly Candidate[]): {kept: NodeRecord[]; superseded: RegistryRejection[]} {
  const superseded: RegistryRejection[] = [];
  const byNodeId = pickWinners(candidates, (c) => c.record.nodeId, superseded);
  const byKey = pickWinners(byNodeId, (c) => sha256Hex(c.record.mlDsaPublicKey), superseded);
  return {kept: byKey.map((c) => c.record), superseded};
}

function pickWinners(
  candidates: readonly Candidate[],
  keyOf: (c: Candidate) => string,
  superseded: RegistryRejection[],
): Candidate[] {
  const winners = new Map<string, Candidate & {rank: string}>();
  for (const candidate of candidates) {
    const key = keyOf(candidate);
    const ranked = {...candidate, rank: sha256Hex(nodeRecordPayload(candidate.record))};
    const current = winners.get(key);
    const [win, lose] = current === undefined || beats(ranked, current) ? [ranked, current] : [current, ranked];
    winners.set(key, win);
    if (lose !== undefined) {
      const reason = `superseded by the record at index ${win.index} (newer, or same time and lower payload hash)`;
      superseded.push({index: lose.index, nodeId: lose.record.nodeId, code: "NODE_RECORD_ERROR_SUPERSEDED", reason});
    }
  }
  return [...winners.values()].map(({index, record}) => ({index, record}));
}

function beats(a: {record: NodeRecord; rank: string}, b: {record: NodeRecord; rank: string}): boolean {
  if (a.record.timestamp !== b.record.timestamp) return a.record.timestamp > b.record.timestamp;
  return a.rank < b.rank;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function claimedNodeId(json: unknown): string | null {
  if (typeof json !== "object" || json === null) return null;
  const nodeId = (json as Record<string, unknown>).nodeId;
  return typeof nodeId === "string" ? nodeId.slice(0, 64) : null;
}
