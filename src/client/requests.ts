/**
 * Every storage RPC request as the node parses and verifies it (src/rpc/methods/, docs/PROTOCOL.md
 * Client RPC): the params, the exact string the account signs, and, for recursive methods, the
 * receipt each swarm member's entry is signed over (PROTOCOL Client RPC §3). Pure functions: the
 * time comes in as `now`.
 */
import {messageHash} from "../crypto/index.js";
import {isPublicInbox, namespaceSigValue, toBase64} from "../protocol/index.js";
import type {ClientAccount} from "./account.js";
import {storeReceipt} from "./receipts.js";

export type Entry = Record<string, unknown>;
export type Namespace = number | "all";

/** One request, ready to send, and how to rebuild each member's receipt from its entry. */
export interface PreparedRequest {
  method: string;
  params: Record<string, unknown>;
  /** The account whose swarm must serve it. */
  account: string;
  /** Fans out to the swarm: the answer is `{swarm: {<node id>: entry}}`, each entry signed. */
  recursive: boolean;
  /** The receipt a successful entry is signed over; null when the entry lacks what it needs. */
  receipt?: (entry: Entry) => Uint8Array | null;
}

/** Session's signed strings: parts concatenated, strings as UTF-8, numbers in decimal. */
export function sigMessage(...parts: Array<string | number | Uint8Array | ReadonlyArray<string | Uint8Array>>): Buffer {
  const bufs: Buffer[] = [];
  for (const p of parts) {
    if (typeof p === "string" || typeof p === "number") bufs.push(Buffer.from(String(p)));
    else if (p instanceof Uint8Array) bufs.push(Buffer.from(p));
    else for (const q of p) bufs.push(Buffer.from(q));
  }
  return Buffer.concat(bufs);
}

const byHash = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

export interface StoreArgs {
  /** The recipient account (66 hex). */
  to: string;
  data: Uint8Array;
  /** Default 0 (the public inbox: anyone may store, no signature). */
  namespace?: number;
  /** Default: the node's 24 h. */
  ttlMs?: number;
}

/**
 * store. Public inboxes (namespace % 10 = 0) take unsigned stores from anyone; elsewhere `signer`
 * must be the recipient (or its subaccount with write access). `now` is the message timestamp and
 * the signature timestamp.
 */
export function storeRequest(args: StoreArgs, now: number, signer?: ClientAccount): PreparedRequest & {hash: string} {
  const namespace = args.namespace ?? 0;
  const hash = messageHash(Buffer.from(args.to, "hex"), namespace, args.data);
  const params: Record<string, unknown> = {pubkey: args.to, timestamp: now, namespace, data: toBase64(args.data)};
  if (args.ttlMs !== undefined) params.ttl = args.ttlMs;
  // Stores to someone else's public inbox are unsigned (a signature would name the wrong account);
  // to one's own, the signature is sent as Session clients do, though the node does not check it.
  if (signer !== undefined && (signer.id === args.to || !isPublicInbox(namespace))) {
    Object.assign(params, signer.auth(sigMessage("store", namespaceSigValue(namespace), now)), {pubkey: args.to});
  }
  return {method: "store", params, account: args.to, recursive: true, hash, receipt: (e) => storeReceipt(hash, e)};
}

export interface RetrieveArgs {
  namespace?: number;
  /** Only messages after this hash (paging). */
  lastHash?: string;
  maxCount?: number;
  maxSize?: number;
}

export function retrieveRequest(account: ClientAccount, args: RetrieveArgs, now: number): PreparedRequest {
  const namespace = args.namespace ?? 0;
  const params: Record<string, unknown> = {
    namespace,
    timestamp: now,
    ...account.auth(sigMessage("retrieve", namespaceSigValue(namespace), now)),
  };
  if (args.lastHash !== undefined && args.lastHash !== "") params.last_hash = args.lastHash;
  if (args.maxCount !== undefined) params.max_count = args.maxCount;
  if (args.maxSize !== undefined) params.max_size = args.maxSize;
  return {method: "retrieve", params, account: account.id, recursive: false};
}

export function deleteRequest(account: ClientAccount, messages: string[], required = false): PreparedRequest {
  const params = {messages, ...(required ? {required: true} : {}), ...account.auth(sigMessage("delete", messages))};
  return {
    method: "delete",
    params,
    account: account.id,
    recursive: true,
    receipt: (e) => (isStrings(e.deleted) ? sigMessage(account.id, messages, e.deleted) : null),
  };
}

/** The hashes of a bulk entry in receipt order: one list, or (namespace "all") groups merged and sorted. */
function bulkHashes(list: unknown): string[] | null {
  if (isStrings(list)) return list;
  if (typeof list !== "object" || list === null) return null;
  const groups = Object.values(list as Record<string, unknown>);
  if (!groups.every(isStrings)) return null;
  return groups.flat().sort(byHash);
}

function bulkRequest(
  method: "delete_all" | "delete_before" | "expire_all",
  field: "timestamp" | "before" | "expiry",
  key: "deleted" | "updated",
  account: ClientAccount,
  namespace: Namespace,
  value: number,
): PreparedRequest {
  const params = {namespace, [field]: value, ...account.auth(sigMessage(method, namespaceSigValue(namespace), value))};
  const receipt = (e: Entry): Uint8Array | null => {
    const hashes = bulkHashes(e[key]);
    return hashes === null ? null : sigMessage(account.id, value, hashes);
  };
  return {method, params, account: account.id, recursive: true, receipt};
}

export const deleteAllRequest = (account: ClientAccount, namespace: Namespace, now: number): PreparedRequest =>
  bulkRequest("delete_all", "timestamp", "deleted", account, namespace, now);
export const deleteBeforeRequest = (account: ClientAccount, namespace: Namespace, before: number): PreparedRequest =>
  bulkRequest("delete_before", "before", "deleted", account, namespace, before);
export const expireAllRequest = (account: ClientAccount, namespace: Namespace, expiry: number): PreparedRequest =>
  bulkRequest("expire_all", "expiry", "updated", account, namespace, expiry);

export interface ExpireArgs {
  messages: string[];
  /** One expiry for all, or one per message. */
  expiry: number | number[];
  mode?: "shorten" | "extend";
}

export function expireRequest(account: ClientAccount, args: ExpireArgs): PreparedRequest {
  const expiries = Array.isArray(args.expiry) ? args.expiry : [args.expiry];
  const mode = args.mode ?? "";
  const params: Record<string, unknown> = {
    messages: args.messages,
    expiry: Array.isArray(args.expiry) ? expiries : args.expiry,
    ...(mode === "" ? {} : {[mode]: true}),
    ...account.auth(sigMessage("expire", mode, expiries.join(""), args.messages)),
  };
  const receipt = (e: Entry): Uint8Array | null => {
    const exp = Array.isArray(e.expiry) ? e.expiry : [e.expiry];
    if (!exp.every((x) => Number.isSafeInteger(x)) || !isStrings(e.updated)) return null;
    let unchanged: string[] = [];
    if (mode !== "") {
      if (typeof e.unchanged !== "object" || e.unchanged === null) return null;
      unchanged = Object.entries(e.unchanged as Record<string, unknown>)
        .sort(([a], [b]) => byHash(a, b))
        .map(([h, x]) => `${h}${String(x)}`);
    }
    return sigMessage(account.id, exp.join(""), args.messages, e.updated, unchanged);
  };
  return {method: "expire", params, account: account.id, recursive: true, receipt};
}

export function getExpiriesRequest(account: ClientAccount, messages: string[], now: number): PreparedRequest {
  const params = {messages, timestamp: now, ...account.auth(sigMessage("get_expiries", now, messages))};
  return {method: "get_expiries", params, account: account.id, recursive: false};
}

/** revoke_subaccount / unrevoke_subaccount: signed by the account key itself, never a subaccount. */
export function tokensRequest(
  method: "revoke_subaccount" | "unrevoke_subaccount",
  account: ClientAccount,
  tokens: Uint8Array[],
  now: number,
): PreparedRequest {
  const list = method === "revoke_subaccount" ? "revoke" : "unrevoke";
  const params = {[list]: tokens.map(toBase64), timestamp: now, ...account.auth(sigMessage(method, now, tokens))};
  return {method, params, account: account.id, recursive: true, receipt: () => sigMessage(account.id, now, tokens)};
}

/** `batch` (all run) or `sequence` (stops at the first failure) of up to 20 requests of one account. */
export function bulkOf(kind: "batch" | "sequence", requests: PreparedRequest[]): PreparedRequest {
  return {
    method: kind,
    params: {requests: requests.map((r) => ({method: r.method, params: r.params}))},
    account: requests[0]?.account ?? "",
    recursive: false,
  };
}

/** The WebSocket subscription signature (PROTOCOL WebSocket §3.2) and its params. */
export function subscribeParams(account: ClientAccount, namespaces: number[], data: boolean, nowMs: number): Record<string, unknown> {
  const t = Math.floor(nowMs / 1000);
  const n = [...namespaces].sort((a, b) => a - b);
  const auth = account.auth(sigMessage("MONITOR", account.id, t, data ? "1" : "0", n.join(",")));
  const params: Record<string, unknown> = {n, d: data, t, s: auth.signature};
  if (auth.pubkey_ed25519 !== undefined) params.P = auth.pubkey_ed25519;
  else params.p = auth.pubkey;
  if (auth.subaccount !== undefined) Object.assign(params, {T: auth.subaccount, S: auth.subaccount_sig});
  if (auth.pubkey_mldsa !== undefined) Object.assign(params, {pubkey_mldsa: auth.pubkey_mldsa, pubkey_mlkem: auth.pubkey_mlkem});
  return params;
}
