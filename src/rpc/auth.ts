import {deriveAccountId07} from "../crypto/index.js";
import {CTX} from "../crypto/index.js";
import {ed25519PkToX25519, verifyEd25519} from "../crypto/index.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_DSA65_SIGNATURE_BYTES, ML_KEM768_PUBLIC_KEY_BYTES, type PqBackend} from "../crypto/index.js";
import type {MessageStore} from "../storage/index.js";
import {ACCOUNT_PREFIX_PQ, ACCOUNT_PREFIX_SESSION, parseAccount, type Account} from "../protocol/index.js";
import {decodeFixedBase64, decodeHexOrBase64, fromHex, isBase64, isHex} from "../protocol/index.js";
import {ParseError} from "./errors.js";
import {requireField, type Params} from "./params.js";

/** Subaccount token flags (Session oxenss/common/subaccount_token.h). */
export const ACCESS = {READ: 0x01, WRITE: 0x02, DELETE: 0x04, ANY_PREFIX: 0x08} as const;
export const SUBACCOUNT_TOKEN_BYTES = 36;
const ED25519_SIG_BYTES = 64;

export interface Subaccount {
  /** prefix(1) ‖ flags(1) ‖ reserved(2) ‖ Ed25519 subkey(32). */
  token: Buffer;
  /** The account key's signature over the token (Ed25519, or ML-DSA-65 for 07 accounts). */
  signature: Buffer;
}

/** Everything a request carries to prove it acts for `account`. */
export interface RequestAuth {
  account: Account;
  signature: Buffer;
  pubkeyEd25519?: Buffer;
  pq?: {mlKemPublicKey: Buffer; mlDsaPublicKey: Buffer};
  subaccount?: Subaccount;
}

/** Auth-related fields every signed method type-checks (added to its alphabetical field list). */
export const AUTH_FIELDS = {
  pubkey_ed25519: "string",
  pubkey_mldsa: "string",
  pubkey_mlkem: "string",
  signature: "string",
  subaccount: "string",
  subaccount_sig: "string",
} as const;

export function loadAccount(pubkey: string | undefined): Account {
  const account = parseAccount(requireField("pubkey", pubkey));
  if (account === null) throw new ParseError("Pubkey must be 66 hex digits (33 bytes) long");
  return account;
}

/** Session's load_pk_signature + load_subaccount, with the `07` additions of docs/PROTOCOL.md. */
export function loadAuth(pubkey: string | undefined, f: Record<string, unknown>): RequestAuth {
  const account = loadAccount(pubkey);
  const sig = requireField("signature", f.signature as string | undefined);
  const auth: RequestAuth = {account, signature: Buffer.alloc(0)};
  const pkEd = f.pubkey_ed25519 as string | undefined;
  if (pkEd !== undefined) auth.pubkeyEd25519 = loadPubkeyEd25519(account, pkEd);
  loadPqKeys(auth, f);
  const subacc = f.subaccount as string | undefined;
  const hasSubaccount = subacc !== undefined && subacc !== "";
  auth.signature = loadSignature(sig, account.prefix === ACCOUNT_PREFIX_PQ && !hasSubaccount, "invalid signature");
  if (hasSubaccount) auth.subaccount = loadSubaccount(account, subacc, f.subaccount_sig as string | undefined);
  return auth;
}

function loadPubkeyEd25519(account: Account, pkEd: string): Buffer {
  if (account.prefix !== ACCOUNT_PREFIX_SESSION) {
    throw new ParseError("pubkey_ed25519 is only permitted for 05[...] pubkeys");
  }
  if (pkEd.length === 64) {
    if (!isHex(pkEd)) throw new ParseError("invalid pubkey_ed25519: value is not hex");
    return fromHex(pkEd);
  }
  if (pkEd.length === 32 && Buffer.byteLength(pkEd, "utf8") === 32) return Buffer.from(pkEd, "latin1");
  throw new ParseError("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey");
}

function loadPqKeys(auth: RequestAuth, f: Record<string, unknown>): void {
  const dsa = f.pubkey_mldsa as string | undefined;
  const kem = f.pubkey_mlkem as string | undefined;
  if (auth.account.prefix !== ACCOUNT_PREFIX_PQ) {
    if (dsa !== undefined || kem !== undefined) {
      throw new ParseError("pubkey_mldsa and pubkey_mlkem are only permitted for 07[...] pubkeys");
    }
    return;
  }
  if (dsa === undefined || kem === undefined) {
    throw new ParseError("pubkey_mldsa and pubkey_mlkem are required for 07[...] pubkeys");
  }
  const mlDsaPublicKey = decodeHexOrBase64(dsa, ML_DSA65_PUBLIC_KEY_BYTES);
  if (mlDsaPublicKey === null) throw new ParseError("invalid pubkey_mldsa: expected hex or base64 encoded ML-DSA-65 public key");
  const mlKemPublicKey = decodeHexOrBase64(kem, ML_KEM768_PUBLIC_KEY_BYTES);
  if (mlKemPublicKey === null) throw new ParseError("invalid pubkey_mlkem: expected hex or base64 encoded ML-KEM-768 public key");
  auth.pq = {mlDsaPublicKey, mlKemPublicKey};
}

function loadSignature(sig: string, mlDsa: boolean, what: string): Buffer {
  if (mlDsa) {
    const out = decodeFixedBase64(sig, ML_DSA65_SIGNATURE_BYTES);
    if (out === null) throw new ParseError(`${what}: expected base64 encoded ML-DSA-65 signature`);
    return out;
  }
  if (!isBase64(sig) || !(sig.length === 86 || (sig.length === 88 && sig.endsWith("==")))) {
    throw new ParseError(`${what}: expected base64 encoded Ed25519 signature`);
  }
  return Buffer.from(sig, "base64");
}

function loadSubaccount(account: Account, token: string, sig: string | undefined): Subaccount {
  if (sig === undefined) throw new ParseError("invalid subaccount: subaccount_sig is required when using subaccount");
  const tokenBytes = parseToken(token);
  if (tokenBytes === null) throw new ParseError("invalid subaccount: expected base64 or hex-encoded subaccount token");
  const signature = loadSignature(sig, account.prefix === ACCOUNT_PREFIX_PQ, "invalid subaccount signature");
  return {token: tokenBytes, signature};
}

/** A 36-byte token as 48 base64 chars or 72 hex chars (Session's only accepted forms). */
export function parseToken(s: string): Buffer | null {
  if (s.length === (SUBACCOUNT_TOKEN_BYTES * 4) / 3 && isBase64(s)) return Buffer.from(s, "base64");
  if (s.length === SUBACCOUNT_TOKEN_BYTES * 2 && isHex(s)) return fromHex(s);
  return null;
}

/** Request signature checks off the event loop (signer/'s WorkerSigner); the same answers as verifying here. */
export interface RequestVerifier {
  ed25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  mlDsa65(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): Promise<boolean>;
}

export interface AuthModules {
  store: Pick<MessageStore, "isRevoked">;
  pq: PqBackend;
  /** Where `verifyRequestAsync` sends the request's signature check; absent: verified here. */
  verifier?: RequestVerifier;
}

/** The one signature check left once every other rule of verify_signature has passed. */
interface SignatureCheck {
  key: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  /** ML-DSA-65 with this context; absent: Ed25519. */
  context?: Uint8Array;
}

/**
 * Session's verify_signature: picks the account's verification key (05: the given Ed25519 key
 * after the ed→x check; 07: the ML-DSA key after re-deriving the account ID from both keys;
 * otherwise the account's own 32 bytes as Ed25519), applies subaccount rules, then verifies.
 */
export function verifyRequest(
  m: AuthModules,
  auth: RequestAuth,
  requiredAccess: number,
  skipRevokeCheck: boolean,
  message: Uint8Array,
): boolean {
  const check = requestCheck(m, auth, requiredAccess, skipRevokeCheck, message);
  if (typeof check === "boolean") return check;
  return check.context === undefined
    ? verifyEd25519(check.key, check.message, check.signature)
    : m.pq.mlDsa65.verify(check.key, check.message, check.signature, check.context);
}

/**
 * `verifyRequest`, with the request's own signature checked by `m.verifier` (a worker thread) when
 * there is one: every other rule (keys, account ID, subaccount token and revocation) runs here first,
 * unchanged, so the answer and its error are those of `verifyRequest`.
 */
export function verifyRequestAsync(
  m: AuthModules,
  auth: RequestAuth,
  requiredAccess: number,
  skipRevokeCheck: boolean,
  message: Uint8Array,
): Promise<boolean> {
  const verifier = m.verifier;
  if (verifier === undefined) return Promise.resolve(verifyRequest(m, auth, requiredAccess, skipRevokeCheck, message));
  const check = requestCheck(m, auth, requiredAccess, skipRevokeCheck, message);
  if (typeof check === "boolean") return Promise.resolve(check);
  return check.context === undefined
    ? verifier.ed25519(check.key, check.message, check.signature)
    : verifier.mlDsa65(check.key, check.message, check.signature, check.context);
}

/** verify_signature up to its last step: false if a rule fails, else the signature check still to make. */
function requestCheck(
  m: AuthModules,
  auth: RequestAuth,
  requiredAccess: number,
  skipRevokeCheck: boolean,
  message: Uint8Array,
): false | SignatureCheck {
  const {account} = auth;
  if (account.prefix === ACCOUNT_PREFIX_PQ) {
    if (auth.pq === undefined) return false;
    if (deriveAccountId07(auth.pq.mlKemPublicKey, auth.pq.mlDsaPublicKey) !== account.hex) return false;
  }
  let edKey: Uint8Array = account.key;
  if (account.prefix === ACCOUNT_PREFIX_SESSION && auth.pubkeyEd25519 !== undefined) {
    const x = ed25519PkToX25519(auth.pubkeyEd25519);
    if (x === null || !Buffer.from(x).equals(account.key)) return false;
    edKey = auth.pubkeyEd25519;
  }
  if (auth.subaccount !== undefined) {
    const sub = auth.subaccount;
    if (!skipRevokeCheck && m.store.isRevoked(account.hex, sub.token)) return false;
    if (!subaccountTokenValid(m, auth, edKey, requiredAccess)) return false;
    return {key: sub.token.subarray(4, 36), message, signature: auth.signature};
  }
  if (auth.pq !== undefined) {
    return {key: auth.pq.mlDsaPublicKey, message, signature: auth.signature, context: CTX.REQUEST_AUTH};
  }
  if (auth.signature.length !== ED25519_SIG_BYTES) return false;
  return {key: edKey, message, signature: auth.signature};
}

function subaccountTokenValid(m: AuthModules, auth: RequestAuth, edKey: Uint8Array, requiredAccess: number): boolean {
  const {token, signature} = auth.subaccount as Subaccount;
  const flags = token[1] ?? 0;
  if (token[0] !== auth.account.prefix && (flags & ACCESS.ANY_PREFIX) === 0) return false;
  if ((flags & requiredAccess) !== requiredAccess) return false;
  if (auth.pq !== undefined) return m.pq.mlDsa65.verify(auth.pq.mlDsaPublicKey, token, signature, CTX.SUBACCOUNT_TOKEN);
  return verifyEd25519(edKey, token, signature);
}

/** Concatenates the parts of a signed message: strings as UTF-8, numbers as decimal ASCII. */
export function sigMessage(...parts: Array<string | number | Uint8Array | ReadonlyArray<string | Uint8Array>>): Buffer {
  const bufs: Buffer[] = [];
  for (const p of parts) {
    if (typeof p === "string" || typeof p === "number") bufs.push(Buffer.from(String(p)));
    else if (p instanceof Uint8Array) bufs.push(Buffer.from(p));
    else for (const q of p) bufs.push(typeof q === "string" ? Buffer.from(q) : Buffer.from(q));
  }
  return Buffer.concat(bufs);
}

export type {Params};
