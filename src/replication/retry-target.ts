/**
 * What a persisted retry concerns, read from the forwarded request's params (already validated by
 * the entry node): the account, for `store` the message hash (a store is re-delivered as a push of
 * the message, so it never runs into the client signature's ±60 s window), and when the retry
 * stops mattering (the message's expiry; for other methods the latest expiry they set, or the
 * longest a message can live). Revokes and unrevokes are re-delivered as a push of the account's
 * revocation state, for the same reason (`isRevocationMethod`), and expire_all as a push of the
 * caps it set (`isCapMethod`).
 */
import {messageHash} from "../crypto/index.js";
import {parseAccount} from "../protocol/index.js";
import {DEFAULT_TTL_MS, TTL_MAXIMUM_PRIVATE_MS} from "../protocol/index.js";

export interface RetryTarget {
  /** 66 lowercase hex. */
  readonly account: string;
  /** `store` only. */
  readonly hash: string | null;
  readonly expiry: number;
}

type Params = Record<string, unknown>;

/** Methods whose retries push the account's revocation state instead of replaying the request. */
export function isRevocationMethod(method: string): boolean {
  return method === "revoke_subaccount" || method === "unrevoke_subaccount";
}

/**
 * Methods whose retries push the caps they set here instead of replaying the request: an
 * expire_all's signature stays valid until its expiry (days, possibly), and a replay would also
 * shorten the messages stored since (docs/PROTOCOL.md (Replication) §4.1).
 */
export function isCapMethod(method: string): boolean {
  return method === "expire_all";
}

/** The cap an expire_all set (its `expiry`), or null if the params carry none. */
export function capOf(params: Params): number | null {
  return toInt(params.expiry);
}

const toInt = (v: unknown): number | null => {
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  return Number.isSafeInteger(n) ? (n as number) : null;
};

/** The retry target, or null when the params do not name an account (nothing to retry then). */
export function retryTarget(method: string, params: Params, now: number): RetryTarget | null {
  const pubkey = typeof params.pubkey === "string" ? params.pubkey : typeof params.pubKey === "string" ? params.pubKey : null;
  const account = pubkey === null ? null : parseAccount(pubkey);
  if (account === null) return null;
  const latest = now + TTL_MAXIMUM_PRIVATE_MS;
  if (method === "store") return storeTarget(account.hex, account.bytes, params);
  if (method === "expire" || method === "expire_all") {
    const given = (Array.isArray(params.expiry) ? params.expiry : [params.expiry]).map(toInt).filter((e): e is number => e !== null);
    return {account: account.hex, hash: null, expiry: Math.min(latest, Math.max(now, ...given))};
  }
  return {account: account.hex, hash: null, expiry: latest};
}

function storeTarget(account: string, accountBytes: Buffer, params: Params): RetryTarget | null {
  const namespace = toInt(params.namespace) ?? 0;
  if (typeof params.data !== "string") return null;
  const hash = messageHash(accountBytes, namespace, Buffer.from(params.data, "base64"));
  const timestamp = toInt(params.timestamp) ?? 0;
  const ttl = toInt(params.ttl);
  const expiry = toInt(params.expiry) ?? (ttl === null ? timestamp + DEFAULT_TTL_MS : timestamp + ttl);
  return {account, hash, expiry};
}
