/**
 * The chaos workload's clients: seeded `05` (Ed25519) and `07` (ML-DSA-65 + ML-KEM-768) accounts
 * and the signed storage RPC requests they send (store to the public inbox, delete, expire
 * shorten, non-recursive retrieve), each recorded with its outcome.
 */
import {request} from "undici";
import {detBytes} from "../../test/utils/prng.js";
import {ed25519FromSeed, pqAccount, sessionAccount} from "../../test/utils/keys.js";

const REQUEST_CONTEXT = new TextEncoder().encode("pars-storage/v1/request");

export interface ChaosAccount {
  readonly hex: string;
  readonly kind: "05" | "07";
  /** Auth params (pubkey_ed25519 or pubkey_mldsa/pubkey_mlkem) plus `signature` over `text`. */
  signed(text: string): Record<string, string>;
}

export function chaosAccounts(seed: number, count05: number, count07: number): ChaosAccount[] {
  const out: ChaosAccount[] = [];
  for (let i = 0; i < count05; i++) {
    const acc = sessionAccount(ed25519FromSeed(detBytes(`chaos/${seed}/05/${i}`, 32)));
    const edHex = acc.ed.pub.toString("hex");
    out.push({hex: acc.hex, kind: "05", signed: (text) => ({pubkey_ed25519: edHex, signature: acc.ed.sign(text).toString("base64")})});
  }
  for (let i = 0; i < count07; i++) {
    const acc = pqAccount(detBytes(`chaos/${seed}/07/dsa/${i}`, 32), detBytes(`chaos/${seed}/07/kem/${i}`, 64));
    const dsa = Buffer.from(acc.dsa.publicKey).toString("base64");
    const kem = Buffer.from(acc.kem.publicKey).toString("base64");
    out.push({
      hex: acc.hex,
      kind: "07",
      signed: (text) => ({pubkey_mldsa: dsa, pubkey_mlkem: kem, signature: acc.sign(text, REQUEST_CONTEXT).toString("base64")}),
    });
  }
  return out;
}

/** One request's outcome: an HTTP status, or `status: 0` with the transport error (down, frozen, reset). */
export interface RpcOutcome {
  readonly status: number;
  readonly body: unknown;
  readonly error: string | null;
  readonly ms: number;
}

export async function rpc(url: string, method: string, params: object, timeoutMs: number): Promise<RpcOutcome> {
  const started = Date.now();
  try {
    const res = await request(new URL("/storage_rpc/v1", url), {
      method: "POST",
      body: JSON.stringify({method, params}),
      headers: {"content-type": "application/json"},
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // plain-text error bodies stay text
    }
    return {status: res.statusCode, body, error: null, ms: Date.now() - started};
  } catch (err) {
    return {status: 0, body: null, error: (err as {code?: string}).code ?? (err as Error).message, ms: Date.now() - started};
  }
}

export function storeParams(acc: ChaosAccount, data: Buffer, ttlMs: number, nowMs: number): object {
  return {pubkey: acc.hex, namespace: 0, timestamp: nowMs, ttl: ttlMs, data: data.toString("base64")};
}

export function deleteParams(acc: ChaosAccount, hashes: readonly string[]): object {
  return {pubkey: acc.hex, messages: hashes, ...acc.signed(`delete${hashes.join("")}`)};
}

export function expireShortenParams(acc: ChaosAccount, hashes: readonly string[], expiryMs: number): object {
  return {pubkey: acc.hex, messages: hashes, expiry: expiryMs, shorten: true, ...acc.signed(`expireshorten${expiryMs}${hashes.join("")}`)};
}

export function retrieveParams(acc: ChaosAccount, nowMs: number, lastHash: string | null): object {
  const last = lastHash === null ? {} : {last_hash: lastHash};
  return {pubkey: acc.hex, namespace: 0, timestamp: nowMs, max_count: -1, max_size: -1, ...last, ...acc.signed(`retrieve${nowMs}`)};
}

/** Every hash the node returns for the account (pages through `more`), or null if it did not answer 200. */
export async function retrieveAll(url: string, acc: ChaosAccount, timeoutMs: number): Promise<{hashes: Set<string>; outcome: RpcOutcome}> {
  const hashes = new Set<string>();
  let last: string | null = null;
  for (;;) {
    const outcome = await rpc(url, "retrieve", retrieveParams(acc, Date.now(), last), timeoutMs);
    if (outcome.status !== 200) return {hashes, outcome};
    const body = outcome.body as {messages?: Array<{hash: string}>; more?: boolean};
    const messages = body.messages ?? [];
    for (const m of messages) hashes.add(m.hash);
    if (body.more !== true || messages.length === 0) return {hashes, outcome};
    last = messages[messages.length - 1]?.hash ?? null;
  }
}
