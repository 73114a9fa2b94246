/**
 * Peer messages, version 1 (docs/PROTOCOL.md (Replication) §3): UTF-8 JSON carried as the
 * plaintext of one channel frame. A request frame gets exactly one reply frame on the same channel.
 * Every object has `"v": 1` and a `type`; binary fields are standard base64. Decoding is strict:
 * unknown types, wrong field types and oversized lists are REPLICATION_ERROR_BAD_MESSAGE.
 */
import type {RevocationRecord, StoredMessage, Tombstone} from "../storage/index.js";
import {withJson} from "../util/index.js";
import {ReplicationError, badMessage} from "./errors.js";
import {MAX_REVOCATION_RECORDS, REVOCATION_BUCKETS, recordToJson, recordsFromJson} from "./revocation-records.js";

export const PEER_PROTOCOL_VERSION = 1;
/** Anti-entropy buckets: the first two base64 characters of the hash (12 bits). */
export const DIGEST_BUCKETS = 4096;
/** Bytes per bucket in a digest (a truncated SHA-256). */
export const DIGEST_BUCKET_BYTES = 8;
/** Most messages in one push or fetch reply, and most hashes in one fetch request. */
export const MAX_LIST_MESSAGES = 1_000;
/** Most tombstones in one push. */
export const MAX_LIST_TOMBSTONES = 20_000;
/** Most entries (hashes plus tombstones) in one `hashes` reply. */
export const MAX_HASHES_ENTRIES = 20_000;
/** Most forwarded requests in one `rpc_batch`. */
export const MAX_RPC_BATCH = 256;
/**
 * Largest `proof_challenge` / `proof_push` message (a ~10 KB challenge request, a ~5 KB proof):
 * the cap of the HTTP proof routes' bodies, kept inside the channel.
 */
export const MAX_PROOF_REQUEST_BYTES = 64 * 1024;
/** Largest `proof_answer_ok` (an answer is ~15 KB): the HTTP transport's answer cap, kept inside the channel. */
export const MAX_PROOF_ANSWER_BYTES = 256 * 1024;

export interface BucketList {
  bucket: number;
  /** Hashes of the messages the responder holds for the swarm in this bucket, ascii order. */
  messages: string[];
  tombstones: Tombstone[];
}

/** A forwarded client request, and the peer's answer to it. */
export interface RpcCall {
  method: string;
  params: Record<string, unknown>;
}

export interface RpcResult {
  status: number;
  body: Record<string, unknown> | string;
}

export type PeerRequest =
  | {type: "rpc"; method: string; params: Record<string, unknown>}
  /** `sharedSignatures`: the sender reads an `rpc_batch_ok` whose signatures are sent once (§3.2). */
  | {type: "rpc_batch"; requests: RpcCall[]; sharedSignatures?: boolean}
  | {type: "push"; messages: StoredMessage[]; tombstones: Tombstone[]}
  | {type: "digest"; swarm: string}
  | {type: "hashes"; swarm: string; buckets: number[]}
  | {type: "fetch"; swarm: string; hashes: string[]}
  | {type: "push_revocations"; records: RevocationRecord[]}
  | {type: "revocation_digest"; swarm: string}
  | {type: "revocations"; swarm: string; buckets: number[]}
  | {type: "proof_challenge"; request: Record<string, unknown>}
  | {type: "proof_push"; proof: Record<string, unknown>};

export type PeerReply =
  | {type: "rpc_ok"; status: number; body: Record<string, unknown> | string}
  /** `shareSignatures` (encoding only): send each distinct entry signature once (the request asked for it). */
  | {type: "rpc_batch_ok"; results: RpcResult[]; shareSignatures?: boolean}
  | {type: "push_ok"; held: string[]}
  | {type: "digest_ok"; digest: Uint8Array}
  | {type: "hashes_ok"; buckets: BucketList[]}
  | {type: "fetch_ok"; messages: StoredMessage[]; more: string[]}
  | {type: "push_revocations_ok"; accounts: string[]}
  | {type: "revocation_digest_ok"; digest: Uint8Array}
  | {type: "revocations_ok"; buckets: number[]; records: RevocationRecord[]}
  | {type: "proof_answer_ok"; answer: Record<string, unknown>}
  | {type: "proof_push_ok"}
  | {type: "error"; code: string; message: string};

type Json = Record<string, unknown>;
const HASH = /^[A-Za-z0-9+/]{43}$/;
const ACCOUNT = /^[0-9a-f]{66}$/;
const SWARM = /^[0-9a-f]{1,16}$/;

const encoder = new TextEncoder();

export function encodePeerMessage(m: PeerRequest | PeerReply): Uint8Array {
  return encoder.encode(JSON.stringify({v: PEER_PROTOCOL_VERSION, ...toJson(m)}));
}

function toJson(m: PeerRequest | PeerReply): Json {
  switch (m.type) {
    case "rpc_batch":
      return {type: m.type, requests: m.requests, ...(m.sharedSignatures === true ? {shared_signatures: true} : {})};
    case "rpc_batch_ok":
      return m.shareSignatures === true ? sharedSignatureResults(m.results) : {type: m.type, results: m.results};
    case "push":
      return {...m, messages: m.messages.map(messageToJson)};
    case "fetch_ok":
      return {...m, messages: m.messages.map(messageToJson)};
    case "digest_ok":
    case "revocation_digest_ok":
      return {type: m.type, digest: Buffer.from(m.digest).toString("base64")};
    case "push_revocations":
    case "revocations_ok":
      return {...m, records: m.records.map(recordToJson)};
    default:
      return m;
  }
}

/** One call of an `rpc_batch`, serialised once (the batcher sizes batches by it). */
export function serializeRpcCall(call: RpcCall): string {
  return JSON.stringify({method: call.method, params: call.params});
}

/**
 * An `rpc_batch` request from calls serialised by serializeRpcCall (same bytes as encodePeerMessage
 * with `sharedSignatures: true`: this node reads both forms of `rpc_batch_ok`).
 */
export function encodeRpcBatch(serializedCalls: readonly string[]): Uint8Array {
  const requests = serializedCalls.join(",");
  return encoder.encode(`{"v":${PEER_PROTOCOL_VERSION},"type":"rpc_batch","requests":[${requests}],"shared_signatures":true}`);
}

/**
 * `rpc_batch_ok` with shared signatures (PROTOCOL.md Replication §3.2): the entries of one batch
 * mostly carry the same ML-DSA batch signature (~4.4 KB of base64 each), so each distinct
 * `signature` goes once into `signatures` and an entry names it by `signature_ref`, in the place
 * its `signature` had (the entry node puts it back in that place: clients see the same entry).
 */
function sharedSignatureResults(results: readonly RpcResult[]): Json {
  const table = new Map<string, number>();
  const shared = results.map((r): RpcResult => {
    const sig = typeof r.body === "object" ? r.body.signature : undefined;
    if (typeof sig !== "string" || typeof r.body !== "object") return r;
    let ref = table.get(sig);
    if (ref === undefined) table.set(sig, (ref = table.size));
    return {status: r.status, body: renameKey(r.body, "signature", "signature_ref", ref)};
  });
  return {type: "rpc_batch_ok", results: shared, signatures: [...table.keys()]};
}

/** `body` with `from` replaced by `to` = `value`, in the same position (JSON key order is kept). */
function renameKey(body: Json, from: string, to: string, value: unknown): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === from) out[to] = value;
    else out[k] = v;
  }
  return out;
}

/** The results of an `rpc_batch_ok`, with shared signatures put back into their entries. */
function batchResults(j: Json): RpcResult[] {
  const results = list(j.results, MAX_RPC_BATCH, "results").map(rpcResult);
  if (j.signatures === undefined) return results;
  const table = list(j.signatures, MAX_RPC_BATCH, "signatures");
  if (!table.every((sig) => typeof sig === "string")) throw badMessage("signatures must be strings");
  const texts = new Map<number, string>();
  return results.map((r) => {
    if (typeof r.body !== "object" || !("signature_ref" in r.body)) return r;
    const ref = r.body.signature_ref;
    if (!Number.isSafeInteger(ref) || (ref as number) < 0 || (ref as number) >= table.length || "signature" in r.body) {
      throw badMessage("signature_ref must index signatures, in an entry without its own signature");
    }
    const sig = table[ref as number] as string;
    const body = renameKey(r.body, "signature_ref", "signature", sig);
    return {status: r.status, body: withJson(body, (e) => entryJson(e, sig, () => sharedText(texts, ref as number, sig)))};
  });
}

/** The JSON text of a shared signature, made once per reply: a ~4.4 KB string escaped once, not once per entry. */
function sharedText(texts: Map<number, string>, ref: number, sig: string): string {
  let text = texts.get(ref);
  if (text === undefined) texts.set(ref, (text = JSON.stringify(sig)));
  return text;
}

/**
 * `JSON.stringify(e)` of a peer's entry (a flat object of JSON values, as decoded), writing its
 * `signature` from the reply's shared text while the entry still holds that very signature.
 */
function entryJson(e: Json, sig: string, sigText: () => string): string {
  let out = "";
  for (const key of Object.keys(e)) {
    const v = e[key];
    const text = key === "signature" && v === sig ? sigText() : JSON.stringify(v);
    if (text === undefined) continue;
    out += `${out === "" ? "{" : ","}${JSON.stringify(key)}:${text}`;
  }
  return out === "" ? "{}" : `${out}}`;
}

function messageToJson(m: StoredMessage): Json {
  const {account, hash, namespace, timestamp, expiry} = m;
  return {account, hash, namespace, timestamp, expiry, data: Buffer.from(m.data).toString("base64")};
}

/** The version and type of a decoded object, or BAD_MESSAGE. */
function envelope(bytes: Uint8Array): Json & {type: string} {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch {
    throw badMessage("not JSON");
  }
  if (!isObject(json)) throw badMessage("not a JSON object");
  if (json.v !== PEER_PROTOCOL_VERSION) throw badMessage(`unsupported version ${String(json.v)}`);
  if (typeof json.type !== "string") throw badMessage("no type");
  return json as Json & {type: string};
}

export function decodePeerRequest(bytes: Uint8Array): PeerRequest {
  const j = envelope(bytes);
  switch (j.type) {
    case "rpc":
      return {type: "rpc", ...rpcCall(j)};
    case "rpc_batch": {
      if (j.shared_signatures !== undefined && typeof j.shared_signatures !== "boolean") throw badMessage("shared_signatures must be a boolean");
      const requests = list(j.requests, MAX_RPC_BATCH, "requests").map(rpcCall);
      return {type: "rpc_batch", requests, ...(j.shared_signatures === true ? {sharedSignatures: true} : {})};
    }
    case "push":
      return {type: "push", messages: list(j.messages, MAX_LIST_MESSAGES, "messages").map(message), tombstones: tombstones(j.tombstones)};
    case "digest":
      return {type: "digest", swarm: swarm(j.swarm)};
    case "hashes":
      return {type: "hashes", swarm: swarm(j.swarm), buckets: list(j.buckets, DIGEST_BUCKETS, "buckets").map(bucket)};
    case "fetch":
      return {type: "fetch", swarm: swarm(j.swarm), hashes: list(j.hashes, MAX_LIST_MESSAGES, "hashes").map(hash)};
    case "push_revocations":
      return {type: "push_revocations", records: recordsFromJson(j.records)};
    case "revocation_digest":
      return {type: "revocation_digest", swarm: swarm(j.swarm)};
    case "revocations":
      return {type: "revocations", swarm: swarm(j.swarm), buckets: list(j.buckets, REVOCATION_BUCKETS, "buckets").map(revocationBucketNumber)};
    case "proof_challenge":
      return {type: "proof_challenge", request: proofObject(j.request, bytes, MAX_PROOF_REQUEST_BYTES, "request")};
    case "proof_push":
      return {type: "proof_push", proof: proofObject(j.proof, bytes, MAX_PROOF_REQUEST_BYTES, "proof")};
    default:
      throw badMessage(`unknown request type ${j.type}`);
  }
}

export function decodePeerReply(bytes: Uint8Array): PeerReply {
  const j = envelope(bytes);
  switch (j.type) {
    case "rpc_ok":
      return {type: "rpc_ok", ...rpcResult(j)};
    case "rpc_batch_ok":
      return {type: "rpc_batch_ok", results: batchResults(j)};
    case "push_ok":
      return {type: "push_ok", held: list(j.held, MAX_LIST_MESSAGES + MAX_LIST_TOMBSTONES, "held").map(hash)};
    case "digest_ok":
      return {type: "digest_ok", digest: digest(j.digest, DIGEST_BUCKETS)};
    case "hashes_ok":
      return {type: "hashes_ok", buckets: list(j.buckets, DIGEST_BUCKETS, "buckets").map(bucketList)};
    case "fetch_ok":
      return {type: "fetch_ok", messages: list(j.messages, MAX_LIST_MESSAGES, "messages").map(message), more: list(j.more, MAX_LIST_MESSAGES, "more").map(hash)};
    case "push_revocations_ok":
      return {type: "push_revocations_ok", accounts: list(j.accounts, MAX_REVOCATION_RECORDS, "accounts").map(account)};
    case "revocation_digest_ok":
      return {type: "revocation_digest_ok", digest: digest(j.digest, REVOCATION_BUCKETS)};
    case "revocations_ok":
      return {type: "revocations_ok", buckets: list(j.buckets, REVOCATION_BUCKETS, "buckets").map(revocationBucketNumber), records: recordsFromJson(j.records)};
    case "proof_answer_ok":
      return {type: "proof_answer_ok", answer: proofObject(j.answer, bytes, MAX_PROOF_ANSWER_BYTES, "answer")};
    case "proof_push_ok":
      return {type: "proof_push_ok"};
    case "error":
      if (typeof j.code !== "string" || typeof j.message !== "string") throw badMessage("error needs code and message");
      return {type: "error", code: j.code, message: j.message};
    default:
      throw badMessage(`unknown reply type ${j.type}`);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A storage-proof object carried as is (proofs/ parses it strictly), within the proof routes' size cap. */
function proofObject(v: unknown, bytes: Uint8Array, maxBytes: number, what: string): Record<string, unknown> {
  if (bytes.length > maxBytes) throw badMessage(`a ${what} message larger than ${maxBytes} bytes`);
  if (!isObject(v)) throw badMessage(`${what} must be an object`);
  return v;
}

function list(v: unknown, max: number, what: string): unknown[] {
  if (!Array.isArray(v)) throw badMessage(`${what} must be an array`);
  if (v.length > max) throw badMessage(`${what}: more than ${max} entries`);
  return v;
}

function int(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v)) throw badMessage(`${what} must be an integer`);
  return v as number;
}

function rpcCall(v: unknown): RpcCall {
  if (!isObject(v) || typeof v.method !== "string" || !isObject(v.params)) throw badMessage("rpc needs method and params");
  return {method: v.method, params: v.params};
}

function rpcResult(v: unknown): RpcResult {
  if (!isObject(v) || (!isObject(v.body) && typeof v.body !== "string")) throw badMessage("an rpc result needs a status and an object or string body");
  return {status: int(v.status, "status"), body: v.body};
}

function hash(v: unknown): string {
  if (typeof v !== "string" || !HASH.test(v)) throw badMessage("a hash must be 43 base64 characters");
  return v;
}

function account(v: unknown): string {
  if (typeof v !== "string" || !ACCOUNT.test(v)) throw badMessage("an account must be 66 lowercase hex characters");
  return v;
}

function swarm(v: unknown): string {
  if (typeof v !== "string" || !SWARM.test(v)) throw badMessage("swarm must be a swarm ID in wire form");
  return v;
}

function bucket(v: unknown): number {
  const b = int(v, "bucket");
  if (b < 0 || b >= DIGEST_BUCKETS) throw badMessage(`bucket must be 0..${DIGEST_BUCKETS - 1}`);
  return b;
}

function revocationBucketNumber(v: unknown): number {
  const b = int(v, "bucket");
  if (b < 0 || b >= REVOCATION_BUCKETS) throw badMessage(`a revocation bucket must be 0..${REVOCATION_BUCKETS - 1}`);
  return b;
}

function message(v: unknown): StoredMessage {
  if (!isObject(v) || typeof v.data !== "string") throw badMessage("a message needs account, hash, namespace, timestamp, expiry, data");
  const namespace = int(v.namespace, "namespace");
  if (namespace < -32_768 || namespace > 32_767) throw badMessage("namespace must be an int16");
  const data = Buffer.from(v.data, "base64");
  return {account: account(v.account), hash: hash(v.hash), namespace, timestamp: int(v.timestamp, "timestamp"), expiry: int(v.expiry, "expiry"), data};
}

function tombstone(v: unknown): Tombstone {
  if (!isObject(v)) throw badMessage("a tombstone must be an object");
  const cap = int(v.cap, "cap");
  if (cap < 0) throw badMessage("cap must be >= 0");
  return {hash: hash(v.hash), account: account(v.account), cap, until: int(v.until, "until")};
}

function tombstones(v: unknown): Tombstone[] {
  return list(v, MAX_LIST_TOMBSTONES, "tombstones").map(tombstone);
}

function bucketList(v: unknown): BucketList {
  if (!isObject(v)) throw badMessage("a bucket list must be an object");
  return {bucket: bucket(v.bucket), messages: list(v.messages, MAX_HASHES_ENTRIES, "messages").map(hash), tombstones: tombstones(v.tombstones)};
}

function digest(v: unknown, buckets: number): Uint8Array {
  const bytes = typeof v === "string" ? Buffer.from(v, "base64") : null;
  if (bytes === null || bytes.length !== buckets * DIGEST_BUCKET_BYTES) throw badMessage("digest has the wrong size");
  return new Uint8Array(bytes);
}

/** The reply if it has the expected type; an `error` reply (or any other type) throws PEER_REFUSED. */
export function expectReply<T extends PeerReply["type"]>(peer: string, reply: PeerReply, type: T): Extract<PeerReply, {type: T}> {
  if (reply.type === type) return reply as Extract<PeerReply, {type: T}>;
  const peerCode = reply.type === "error" ? reply.code : `unexpected_${reply.type}`;
  const detail = reply.type === "error" ? reply.message : `expected ${type}`;
  throw new ReplicationError({code: "REPLICATION_ERROR_PEER_REFUSED", peer, peerCode}, `peer ${peer} refused: ${peerCode} (${detail})`);
}
