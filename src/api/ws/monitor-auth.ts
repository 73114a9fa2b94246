/**
 * Authorises a parsed subscription: swarm ownership (Session 2.8 defines but never checks it),
 * subaccount rules, then the signature over
 *   "MONITOR" ‖ account hex (66, with prefix) ‖ t ‖ ("0" | "1") ‖ namespaces joined by ","
 * through the RPC layer's `verifyRequest`, so Ed25519 (05 via P, 03 and other prefixes via p),
 * subaccount tokens and `07` ML-DSA-65 (context `pars-storage/v1/request`) work exactly as for the
 * client RPC.
 */
import {ed25519} from "@noble/curves/ed25519.js";
import {verifyEd25519} from "../../crypto/index.js";
import type {PqBackend} from "../../crypto/index.js";
import {ACCOUNT_PREFIX_SESSION, accountFromBytes, type Account} from "../../protocol/index.js";
import {ACCESS, sigMessage, verifyRequest, type RequestAuth} from "../../rpc/index.js";
import type {SwarmRouter} from "../../swarm/index.js";
import type {MessageStore} from "../../storage/index.js";
import {MONITOR_ERRCODE, MonitorError} from "./errors.js";
import type {MonitorRequest} from "./monitor-params.js";

export interface MonitorAuthModules {
  store: Pick<MessageStore, "isRevoked">;
  pq: PqBackend;
  router: Pick<SwarmRouter, "isOurs" | "notReadyReasons">;
}

/** What a valid subscription grants: merged into the connection's subscription for `account`. */
export interface MonitorGrant {
  account: string;
  namespaces: number[];
  wantData: boolean;
  /** The subaccount token that authorised it; null when the account key itself signed. */
  token: Buffer | null;
}

/**
 * Session's rule for `P`: the account is 05 ‖ crypto_sign_ed25519_pk_to_curve25519(P). This is
 * the cheap part only (point decoding and the birational map, ~0.2 ms): the full libsodium-
 * equivalent check (`ed25519PkToX25519`, ~2.3 ms per new key) runs inside `verifyRequest`, after a
 * cheap signature check, so garbage keys cannot make subscribing expensive. Null: not a point.
 */
export function sessionAccountOf(edKey: Buffer): Account | null {
  let x: Uint8Array;
  try {
    x = ed25519.utils.toMontgomery(edKey);
  } catch {
    return null;
  }
  return accountFromBytes(Buffer.concat([Buffer.from([ACCOUNT_PREFIX_SESSION]), x]));
}

/** The exact bytes a subscriber signs. */
export function monitorSigMessage(accountHex: string, t: number, wantData: boolean, namespaces: readonly number[]): Buffer {
  return sigMessage("MONITOR", accountHex, t, wantData ? "1" : "0", namespaces.join(","));
}

function badSig(text: string): MonitorError {
  return new MonitorError(MONITOR_ERRCODE.BAD_SIG, text);
}

/**
 * Session's subaccount rules with readable reasons (the token signature itself is checked by
 * `verifyRequest`). Unlike Session, revoked tokens are refused: see websocket.md "Subaccounts".
 */
function checkToken(req: MonitorRequest, m: MonitorAuthModules): void {
  const token = (req.subaccount as NonNullable<MonitorRequest["subaccount"]>).token;
  const flags = token[1] ?? 0;
  if (token[0] !== req.account.prefix && (flags & ACCESS.ANY_PREFIX) === 0) {
    throw badSig("Subaccount verification failed: token is for another account prefix");
  }
  if ((flags & ACCESS.READ) === 0) throw badSig("Subaccount verification failed: token lacks read access");
  if (m.store.isRevoked(req.account.hex, token)) throw badSig("Subaccount verification failed: token has been revoked");
}

/**
 * With `P`, `verifyRequest` validates the key fully (~2.3 ms for a key it has not seen) before the
 * signature: check the signature the key made (~0.1 ms) first, so only real key holders pay it.
 */
function precheckSessionKey(req: MonitorRequest, msg: Buffer): void {
  const edKey = req.edKey as Buffer;
  const ok =
    req.subaccount === undefined
      ? verifyEd25519(edKey, msg, req.signature)
      : verifyEd25519(edKey, req.subaccount.token, req.subaccount.signature);
  if (!ok) throw badSig("Signature verification failed");
}

/** Checks everything but the parameters' form; throws `MonitorError` (errcode 5 or 6). */
export function authorizeMonitor(req: MonitorRequest, m: MonitorAuthModules): MonitorGrant {
  const notReady = m.router.notReadyReasons();
  if (notReady.length > 0) {
    throw new MonitorError(MONITOR_ERRCODE.WRONG_SWARM, `Service node is not ready: ${notReady.join("; ")}`);
  }
  if (!m.router.isOurs(req.account)) {
    throw new MonitorError(MONITOR_ERRCODE.WRONG_SWARM, "Wrong swarm: this service node's swarm does not store this account");
  }
  if (req.subaccount !== undefined) checkToken(req, m);
  const auth: RequestAuth = {account: req.account, signature: req.signature};
  if (req.edKey !== undefined) auth.pubkeyEd25519 = req.edKey;
  if (req.pq !== undefined) auth.pq = req.pq;
  if (req.subaccount !== undefined) auth.subaccount = req.subaccount;
  const msg = monitorSigMessage(req.account.hex, req.t, req.wantData, req.namespaces);
  if (req.edKey !== undefined) precheckSessionKey(req, msg);
  // Revocation was checked above with a precise reason; skip verifyRequest's second lookup.
  if (!verifyRequest(m, auth, ACCESS.READ, true, msg)) throw badSig("Signature verification failed");
  return {
    account: req.account.hex,
    namespaces: req.namespaces,
    wantData: req.wantData,
    token: req.subaccount === undefined ? null : req.subaccount.token,
  };
}
