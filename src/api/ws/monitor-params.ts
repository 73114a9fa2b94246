/**
 * Parameters of a subscription: Session's `monitor.messages` dict (oxenss/server/mqbase.cpp
 * `handle_monitor_message_single`) in JSON, plus the two public keys of a `07` account. Keys are
 * read in Session's (ASCII) order, so the first error reported is the one Session reports, with
 * Session's errcode and text.
 */
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_DSA65_SIGNATURE_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../../crypto/index.js";
import {ACCOUNT_PREFIX_PQ, accountFromBytes, type Account} from "../../protocol/index.js";
import {parseToken, type Subaccount} from "../../rpc/index.js";
import {decodeHexOrBase64} from "../../protocol/index.js";
import {NAMESPACE_MAX, NAMESPACE_MIN} from "../../protocol/index.js";
import {MONITOR_ERRCODE, MonitorError} from "./errors.js";

const ACCOUNT_BYTES = 33;
const ED25519_KEY_BYTES = 32;
const ED25519_SIG_BYTES = 64;
const SECOND_MS = 1000;

/** A subscription request that is well-formed; its signature is not checked yet. */
export interface MonitorRequest {
  account: Account;
  /** `P`: the Ed25519 key of a Session ID (the account is 05 ‖ ed→x(P)). */
  edKey?: Buffer;
  /** Strictly ascending. */
  namespaces: number[];
  wantData: boolean;
  /** Signature timestamp in seconds. */
  t: number;
  signature: Buffer;
  subaccount?: Subaccount;
  pq?: {mlKemPublicKey: Buffer; mlDsaPublicKey: Buffer};
}

/** The limits parsing needs (a subset of WsOptions). */
export interface MonitorParseLimits {
  maxNamespacesPerSubscription: number;
  timestampMaxAgeMs: number;
  timestampMaxFutureMs: number;
}

/** The fields after the first pass: types, presence and every size that does not depend on the account kind. */
interface RawMonitor {
  edKey?: Buffer;
  S?: string;
  token?: Buffer;
  d: boolean;
  n: number[];
  account?: Account;
  mldsa?: string;
  mlkem?: string;
  s: string;
  t: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function badArgs(what: string): MonitorError {
  return new MonitorError(MONITOR_ERRCODE.BAD_ARGS, `Invalid arguments: ${what}`);
}

function badPubkey(text: string): MonitorError {
  return new MonitorError(MONITOR_ERRCODE.BAD_PUBKEY, text);
}

function optString(params: Record<string, unknown>, key: string): string | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badArgs(`${key}= must be a string`);
  return v;
}

/** `d`: true/false or 1/0 (bencoded dicts carry it as an integer); absent means false. */
function readDataFlag(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (v === true || v === 1) return true;
  if (v === false || v === 0) return false;
  throw badArgs("d= must be a boolean, 0 or 1");
}

function readNamespaces(v: unknown, max: number): number[] {
  if (v === undefined || v === null) throw badArgs("required n= namespace list is missing");
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) throw badArgs("n= must be a list of integers");
  const ns = v as number[];
  const bad = (why: string): MonitorError => new MonitorError(MONITOR_ERRCODE.BAD_NS, `Invalid n= namespace list: ${why}`);
  if (ns.length === 0) throw bad("at least one namespace is required");
  if (ns.length > max) throw bad(`at most ${max} namespaces per subscription`);
  for (const [i, x] of ns.entries()) {
    if (x < NAMESPACE_MIN || x > NAMESPACE_MAX) throw bad(`namespace ${x} is out of range`);
    if (i > 0 && x <= (ns[i - 1] as number)) throw bad("namespaces must be ascending");
  }
  return [...ns];
}

function readSessionKey(P: string | undefined): Buffer | undefined {
  if (P === undefined) return undefined;
  const edKey = decodeHexOrBase64(P, ED25519_KEY_BYTES);
  if (edKey === null) throw badPubkey("Provided P= Session Ed25519 pubkey must be 32 bytes");
  return edKey;
}

function readToken(S: string | undefined, T: string | undefined): Buffer | undefined {
  if ((S === undefined) !== (T === undefined)) throw badArgs("S= and T= must be given together");
  if (T === undefined) return undefined;
  const token = parseToken(T);
  if (token === null) throw badPubkey("Provided T subaccount token must be 36 bytes");
  return token;
}

function readAccount(p: string | undefined, hasP: boolean): Account | undefined {
  if (p !== undefined && hasP) throw badArgs("Cannot provide both p= and P= pubkey values");
  if (p === undefined) {
    if (!hasP) throw badArgs("Either p= or P= must be given");
    return undefined;
  }
  const bytes = decodeHexOrBase64(p, ACCOUNT_BYTES);
  if (bytes === null) throw badPubkey("Provided p= pubkey must be 33 bytes");
  return accountFromBytes(bytes);
}

/** First pass, in Session's (ASCII) key order: P S T d n p pubkey_mldsa pubkey_mlkem s t. */
function readRaw(params: unknown, limits: MonitorParseLimits): RawMonitor {
  if (!isObject(params)) throw badArgs("subscription parameters must be an object");
  const edKey = readSessionKey(optString(params, "P"));
  const S = optString(params, "S");
  const token = readToken(S, optString(params, "T"));
  const d = readDataFlag(params.d);
  const n = readNamespaces(params.n, limits.maxNamespacesPerSubscription);
  const account = readAccount(optString(params, "p"), edKey !== undefined);
  const mldsa = optString(params, "pubkey_mldsa");
  const mlkem = optString(params, "pubkey_mlkem");
  const s = optString(params, "s");
  if (s === undefined) throw badArgs("required s= signature is missing");
  const t = params.t;
  if (t === undefined || t === null) throw badArgs("required signature timestamp is missing");
  if (typeof t !== "number" || !Number.isSafeInteger(t)) throw badArgs("t= must be an integer (seconds)");
  return {edKey, S, token, d, n, account, mldsa, mlkem, s, t};
}

function decodePqKeys(raw: RawMonitor): MonitorRequest["pq"] {
  if (raw.account?.prefix !== ACCOUNT_PREFIX_PQ) {
    if (raw.mldsa !== undefined || raw.mlkem !== undefined) {
      throw badArgs("pubkey_mldsa and pubkey_mlkem are only permitted for 07[...] pubkeys");
    }
    return undefined;
  }
  if (raw.mldsa === undefined || raw.mlkem === undefined) throw badPubkey("pubkey_mldsa and pubkey_mlkem are required for 07[...] pubkeys");
  const mlDsaPublicKey = decodeHexOrBase64(raw.mldsa, ML_DSA65_PUBLIC_KEY_BYTES);
  if (mlDsaPublicKey === null) throw badPubkey("invalid pubkey_mldsa: expected hex or base64 encoded ML-DSA-65 public key");
  const mlKemPublicKey = decodeHexOrBase64(raw.mlkem, ML_KEM768_PUBLIC_KEY_BYTES);
  if (mlKemPublicKey === null) throw badPubkey("invalid pubkey_mlkem: expected hex or base64 encoded ML-KEM-768 public key");
  return {mlDsaPublicKey, mlKemPublicKey};
}

/** Second pass: the sizes that depend on the account kind (ML-DSA-65 for 07 accounts). */
function decodeSignatures(raw: RawMonitor, pq: boolean): {signature: Buffer; subaccount?: Subaccount} {
  let subaccount: Subaccount | undefined;
  if (raw.token !== undefined) {
    const sigBytes = pq ? ML_DSA65_SIGNATURE_BYTES : ED25519_SIG_BYTES;
    const tokenSig = decodeHexOrBase64(raw.S as string, sigBytes);
    if (tokenSig === null) throw badPubkey(`Provided S subaccount signature must be ${sigBytes} bytes`);
    subaccount = {token: raw.token, signature: tokenSig};
  }
  const sigBytes = pq && subaccount === undefined ? ML_DSA65_SIGNATURE_BYTES : ED25519_SIG_BYTES;
  const signature = decodeHexOrBase64(raw.s, sigBytes);
  if (signature === null) throw new MonitorError(MONITOR_ERRCODE.BAD_SIG, `Provided s= signature must be ${sigBytes} bytes`);
  return subaccount === undefined ? {signature} : {signature, subaccount};
}

/**
 * Validates one subscription's parameters at time `nowMs`. `sessionAccount` turns a `P` key into
 * its `05` account (null when the key is not a valid Ed25519 point). Throws `MonitorError`.
 */
export function parseMonitorParams(
  params: unknown,
  limits: MonitorParseLimits,
  nowMs: number,
  sessionAccount: (edKey: Buffer) => Account | null,
): MonitorRequest {
  const raw = readRaw(params, limits);
  const pq = decodePqKeys(raw);
  const {signature, subaccount} = decodeSignatures(raw, pq !== undefined);
  const tMs = raw.t * SECOND_MS;
  const tooOld = tMs < nowMs - limits.timestampMaxAgeMs;
  if (tooOld || tMs > nowMs + limits.timestampMaxFutureMs) {
    const why = tooOld ? "too old" : "in the future";
    throw new MonitorError(MONITOR_ERRCODE.BAD_TS, `Invalid t= signature timestamp: timestamp is ${why}`);
  }
  let account = raw.account;
  if (raw.edKey !== undefined) {
    account = sessionAccount(raw.edKey) ?? undefined;
    if (account === undefined) throw badPubkey("Invalid P= ed25519 public key");
  }
  const req: MonitorRequest = {account: account as Account, namespaces: raw.n, wantData: raw.d, t: raw.t, signature};
  if (raw.edKey !== undefined) req.edKey = raw.edKey;
  if (pq !== undefined) req.pq = pq;
  if (subaccount !== undefined) req.subaccount = subaccount;
  return req;
}
