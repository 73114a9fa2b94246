/**
 * Structural decoding of a node record's JSON form. Everything that can be checked without crypto
 * is checked here: exact key set (unknown keys are rejected: the record is signed, extra data would
 * be unauthenticated), types, ranges, canonical encodings and byte lengths. Throws NodeRecordError.
 */
import {NODE_ID_HEX_CHARS} from "../protocol/index.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_DSA65_SIGNATURE_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../crypto/index.js";
import {fromBase64Strict} from "./encoding.js";

import {
  NODE_RECORD_BLS_POP_BYTES,
  NODE_RECORD_BLS_PUBLIC_KEY_BYTES,
  NODE_RECORD_MAX_AMOUNT,
  NODE_RECORD_MAX_CONTRIBUTORS,
  NODE_RECORD_TLS_PIN_BYTES,
  NODE_RECORD_X25519_BYTES,
  NodeRecordError,
  type NodeRecordFields,
  type NodeStake,
  type NodeVersion,
  type StakeShare,
} from "./record-types.js";

export interface DecodedNodeRecord {
  readonly fields: NodeRecordFields;
  readonly nodeId: string;
  readonly signature: Uint8Array;
}

const RECORD_KEYS = [
  "networkId", "nodeId", "mlDsaPublicKey", "mlKemPublicKey", "host", "port", "stake", "version", "timestamp",
  "signature",
] as const;
/** Keys a record may carry; absent in records signed before they existed (payload v1). */
const OPTIONAL_RECORD_KEYS = ["x25519PublicKey", "tls", "bls"] as const;
const X25519_HEX_RE = new RegExp(`^[0-9a-f]{${2 * NODE_RECORD_X25519_BYTES}}$`);
const TLS_PIN_HEX_RE = new RegExp(`^[0-9a-f]{${2 * NODE_RECORD_TLS_PIN_BYTES}}$`);
const BLS_KEY_HEX_RE = new RegExp(`^[0-9a-f]{${2 * NODE_RECORD_BLS_PUBLIC_KEY_BYTES}}$`);
const BLS_POP_HEX_RE = new RegExp(`^[0-9a-f]{${2 * NODE_RECORD_BLS_POP_BYTES}}$`);
const NODE_ID_RE = new RegExp(`^[0-9a-f]{${NODE_ID_HEX_CHARS}}$`);
const ADDRESS_RE = /^[\x21-\x7e]{1,128}$/;
const AMOUNT_RE = /^(0|[1-9][0-9]{0,77})$/;
const IPV4_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);
const HOST_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function decodeNodeRecordJson(value: unknown): DecodedNodeRecord {
  const obj = expectObject(value, "record", RECORD_KEYS, OPTIONAL_RECORD_KEYS);
  const nodeId = expectString(obj.nodeId, "nodeId");
  if (!NODE_ID_RE.test(nodeId)) fail("BAD_ENCODING", `nodeId must be ${NODE_ID_HEX_CHARS} lowercase hex characters`);
  const x25519 = obj.x25519PublicKey === undefined ? {} : {x25519PublicKey: expectX25519(obj.x25519PublicKey)};
  if (obj.tls !== undefined && obj.x25519PublicKey === undefined) fail("MALFORMED", "tls needs x25519PublicKey (payload v3)");
  const tls = obj.tls === undefined ? {} : {tlsSpkiSha256: expectTls(obj.tls)};
  if (obj.bls !== undefined && obj.x25519PublicKey === undefined) fail("MALFORMED", "bls needs x25519PublicKey (payload v4/v5)");
  const bls = obj.bls === undefined ? {} : expectBls(obj.bls);
  const fields: NodeRecordFields = {
    networkId: expectInt(obj.networkId, "networkId", 0, 0xffff_ffff),
    mlDsaPublicKey: expectBase64(obj.mlDsaPublicKey, "mlDsaPublicKey", ML_DSA65_PUBLIC_KEY_BYTES),
    mlKemPublicKey: expectBase64(obj.mlKemPublicKey, "mlKemPublicKey", ML_KEM768_PUBLIC_KEY_BYTES),
    ...x25519,
    ...tls,
    ...bls,
    host: expectHost(obj.host),
    port: expectInt(obj.port, "port", 1, 0xffff),
    stake: expectStake(obj.stake),
    version: expectVersion(obj.version),
    timestamp: expectInt(obj.timestamp, "timestamp", 0, Number.MAX_SAFE_INTEGER),
  };
  const signature = expectBase64(obj.signature, "signature", ML_DSA65_SIGNATURE_BYTES);
  return {fields, nodeId, signature};
}

/** IPv4 dotted quad (not 0.0.0.0) or a lowercase RFC 1123 host name (no trailing dot). */
export function isValidHost(host: string): boolean {
  if (IPV4_RE.test(host)) return host !== "0.0.0.0";
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split(".");
  // A numeric last label would make malformed IPv4 (e.g. "1.2.3.999") look like a host name.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return false;
  return labels.every((label) => HOST_LABEL_RE.test(label));
}

function expectStake(value: unknown): NodeStake {
  const obj = expectObject(value, "stake", ["operator", "contributors"]);
  const list = obj.contributors;
  if (!Array.isArray(list)) fail("MALFORMED", "stake.contributors must be an array");
  if (list.length > NODE_RECORD_MAX_CONTRIBUTORS) {
    fail("MALFORMED", `stake.contributors has more than ${NODE_RECORD_MAX_CONTRIBUTORS} entries`);
  }
  const operator = expectShare(obj.operator, "stake.operator");
  const contributors = list.map((c: unknown, i) => expectShare(c, `stake.contributors[${i}]`));
  return Object.freeze({operator, contributors: Object.freeze(contributors)});
}

function expectShare(value: unknown, name: string): StakeShare {
  const obj = expectObject(value, name, ["address", "amount"]);
  const address = expectString(obj.address, `${name}.address`);
  if (!ADDRESS_RE.test(address)) fail("MALFORMED", `${name}.address must be 1..128 printable ASCII characters`);
  const text = expectString(obj.amount, `${name}.amount`);
  if (!AMOUNT_RE.test(text)) fail("MALFORMED", `${name}.amount must be a canonical decimal string`);
  const amount = BigInt(text);
  if (amount > NODE_RECORD_MAX_AMOUNT) fail("MALFORMED", `${name}.amount exceeds u256`);
  return Object.freeze({address, amount});
}

function expectVersion(value: unknown): NodeVersion {
  if (!Array.isArray(value) || value.length !== 3) fail("MALFORMED", "version must be [major, minor, patch]");
  const [major, minor, patch] = value.map((v: unknown, i) => expectInt(v, `version[${i}]`, 0, 0xffff));
  return Object.freeze([major ?? 0, minor ?? 0, patch ?? 0] as const);
}

function expectHost(value: unknown): string {
  const host = expectString(value, "host");
  if (!isValidHost(host)) fail("MALFORMED", "host must be an IPv4 address other than 0.0.0.0 or a lowercase host name");
  return host;
}

function expectX25519(value: unknown): Uint8Array {
  const text = expectString(value, "x25519PublicKey");
  if (!X25519_HEX_RE.test(text)) {
    fail("BAD_ENCODING", `x25519PublicKey must be ${2 * NODE_RECORD_X25519_BYTES} lowercase hex characters`);
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

function expectTls(value: unknown): Uint8Array {
  const obj = expectObject(value, "tls", ["spkiSha256"]);
  const text = expectString(obj.spkiSha256, "tls.spkiSha256");
  if (!TLS_PIN_HEX_RE.test(text)) {
    fail("BAD_ENCODING", `tls.spkiSha256 must be ${2 * NODE_RECORD_TLS_PIN_BYTES} lowercase hex characters`);
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** Only the encoding here: the key's validity and its proof are checked by verifyNodeRecord. */
function expectBls(value: unknown): {blsPublicKey: Uint8Array; blsProofOfPossession: Uint8Array} {
  const obj = expectObject(value, "bls", ["publicKey", "proofOfPossession"]);
  const key = expectString(obj.publicKey, "bls.publicKey");
  if (!BLS_KEY_HEX_RE.test(key)) fail("BAD_ENCODING", `bls.publicKey must be ${2 * NODE_RECORD_BLS_PUBLIC_KEY_BYTES} lowercase hex characters`);
  const proof = expectString(obj.proofOfPossession, "bls.proofOfPossession");
  if (!BLS_POP_HEX_RE.test(proof)) {
    fail("BAD_ENCODING", `bls.proofOfPossession must be ${2 * NODE_RECORD_BLS_POP_BYTES} lowercase hex characters`);
  }
  return {blsPublicKey: new Uint8Array(Buffer.from(key, "hex")), blsProofOfPossession: new Uint8Array(Buffer.from(proof, "hex"))};
}

function expectBase64(value: unknown, name: string, length: number): Uint8Array {
  const bytes = fromBase64Strict(expectString(value, name));
  if (bytes === null) fail("BAD_ENCODING", `${name} is not canonical padded base64`);
  if (bytes.length !== length) fail("BAD_LENGTH", `${name} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function expectInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    fail("MALFORMED", `${name} must be an integer in ${min}..${max}`);
  }
  return value;
}

function expectString(value: unknown, name: string): string {
  if (typeof value !== "string") fail("MALFORMED", `${name} must be a string`);
  return value;
}

function expectObject<K extends string, O extends string = never>(
  value: unknown,
  name: string,
  keys: readonly K[],
  optional: readonly O[] = [],
): Record<K, unknown> & Partial<Record<O, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("MALFORMED", `${name} must be an object`);
  const present = Object.keys(value);
  const unknownKey = present.find((k) => !(keys as readonly string[]).includes(k) && !(optional as readonly string[]).includes(k));
  if (unknownKey !== undefined) fail("MALFORMED", `${name} has unknown field "${unknownKey}"`);
  const missing = keys.find((k) => !present.includes(k));
  if (missing !== undefined) fail("MALFORMED", `${name} is missing field "${missing}"`);
  return value as Record<K, unknown> & Partial<Record<O, unknown>>;
}

function fail(code: "MALFORMED" | "BAD_ENCODING" | "BAD_LENGTH", reason: string): never {
  throw new NodeRecordError(`NODE_RECORD_ERROR_${code}`, reason);
}
