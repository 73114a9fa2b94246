/**
 * Verifying node receipts (docs/PROTOCOL.md Client RPC §3): every entry of a recursive answer is a
 * leaf of an RFC 6962 tree whose root the node signed with ML-DSA-65 inside a batch header. The
 * client rebuilds the receipt from its own request and the entry, folds the audit path and
 * verifies the signature (context `pars-storage/v1/response-batch`) with the node's key from the
 * membership, never with a key the answer carries. Only `storeReceipt` and `verifyReceipt` know the
 * wire layout of receipts and headers.
 */
import {CTX, leafHash, rootFromPath, type PqBackend} from "../crypto/index.js";
import {batchHeader, fromBase64, isBase64} from "../protocol/index.js";

/** The keys a receipt is checked against: from the node list, verified against the node ID. */
export interface ReceiptKey {
  nodeId: string;
  mlDsaPublicKey: Uint8Array;
}

/** Longest audit path accepted: a batch holds at most 4,096 receipts (2^12), with room to grow. */
const MAX_PATH = 32;

const FEE_FIELDS = ["unit", "base_fee", "multiplier", "storage_fee", "session_create_fee", "total"] as const;
/** What a receipt field may hold: no space (the separator), nothing outside printable ASCII. */
const FIELD_RE = /^[\x21-\x7e]+$/;

function feeText(fee: unknown): string | null {
  if (fee === undefined) return "-";
  if (typeof fee !== "object" || fee === null) return null;
  const values = FEE_FIELDS.map((k) => (fee as Record<string, unknown>)[k]);
  const texts = values.map((v) => (typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) ? String(v) : null));
  return texts.every((t): t is string => t !== null && FIELD_RE.test(t)) ? texts.join(" ") : null;
}

/**
 * The receipt of a store entry (PROTOCOL Client RPC §3): `hash expiry status fee`, with the hash
 * the client computed itself, so the entry's `expiry`, `already` and `fee` are all signed. Null when
 * the entry names another hash or its covered fields are malformed.
 */
export function storeReceipt(hash: string, entry: Record<string, unknown>): Uint8Array | null {
  if (entry.hash !== undefined && entry.hash !== hash) return null;
  if (!Number.isSafeInteger(entry.expiry)) return null;
  if (entry.already !== undefined && entry.already !== true) return null;
  const fee = feeText(entry.fee);
  if (fee === null) return null;
  return Buffer.from([hash, String(entry.expiry), entry.already === true ? "already" : "new", fee].join(" "));
}

interface Proof {
  t: number;
  n: number;
  i: number;
  path: Buffer[];
}

function parseProof(p: unknown): Proof | string {
  if (typeof p !== "object" || p === null) return "no signature_proof";
  const {t, n, i, path} = p as Record<string, unknown>;
  if (!Number.isSafeInteger(t) || (t as number) < 0) return "bad signature_proof.t";
  if (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > 0xffffffff) return "bad signature_proof.n";
  if (!Number.isSafeInteger(i) || (i as number) < 0 || (i as number) >= (n as number)) return "bad signature_proof.i";
  if (!Array.isArray(path) || path.length > MAX_PATH) return "bad signature_proof.path";
  const hashes: Buffer[] = [];
  for (const h of path) {
    if (typeof h !== "string" || !isBase64(h)) return "bad signature_proof.path";
    const b = fromBase64(h);
    if (b.length !== 32) return "bad signature_proof.path";
    hashes.push(b);
  }
  return {t: t as number, n: n as number, i: i as number, path: hashes};
}

/**
 * Null when `entry` is a valid receipt of `receipt` by `key`'s node, else why not. Never throws on
 * malformed entries.
 */
export function verifyReceipt(pq: PqBackend, key: ReceiptKey, receipt: Uint8Array, entry: Record<string, unknown>): string | null {
  if (typeof entry.signature !== "string" || !isBase64(entry.signature)) return "no signature";
  const proof = parseProof(entry.signature_proof);
  if (typeof proof === "string") return proof;
  const root = rootFromPath(leafHash(receipt), proof.i, proof.n, proof.path);
  if (root === null) return "audit path does not fit the batch size";
  const header = batchHeader(key.nodeId, proof.t, proof.n, root);
  const ok = pq.mlDsa65.verify(key.mlDsaPublicKey, header, fromBase64(entry.signature), CTX.RESPONSE_BATCH);
  return ok ? null : "signature does not verify";
}
