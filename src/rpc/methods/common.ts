import type {NamespacedHash, NamespaceSelector} from "../../storage/index.js";
import type {Account} from "../../protocol/index.js";
import {AUTH_FIELDS, loadAuth, verifyRequest, type RequestAuth} from "../auth.js";
import type {RpcContext} from "../context.js";
import {isBase64} from "../../protocol/index.js";
import {HTTP, ParseError, RpcError} from "../errors.js";
import type {Entry, SignEntry} from "../recursive.js";

/** Session's message-hash validity rule for delete/expire: 43 base64 characters. */
export function checkHashes(hashes: string[]): void {
  for (const h of hashes) {
    if (!(h.length === 43 && isBase64(h))) throw new ParseError(`invalid message hash: ${h}`);
  }
}

export function requireNonEmptyHashes(messages: string[] | undefined): string[] {
  if (messages === undefined) throw new ParseError("Required field 'messages' missing");
  if (messages.length === 0) throw new ParseError("messages does not contain any message hashes");
  return messages;
}

/** Fields of methods signed by the account (or a subaccount), keyed `pubkey` only. */
export const SIGNED_FIELDS = {pubkey: "string", ...AUTH_FIELDS} as const;

export interface SignedRequest {
  auth: RequestAuth;
  account: Account;
}

export function loadSigned(f: Record<string, unknown>): SignedRequest {
  const auth = loadAuth(f.pubkey as string | undefined, f);
  return {auth, account: auth.account};
}

/** Verifies the request signature or throws Session's 401 "<what> signature verification failed". */
export function verifyOr401(ctx: RpcContext, auth: RequestAuth, access: number, msg: Uint8Array, what: string): void {
  if (!verifyRequest(ctx, auth, access, false, msg)) {
    throw new RpcError(HTTP.UNAUTHORIZED, `${what} signature verification failed`);
  }
}

const byHash = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Session's handle_action_{one,all}_ns: hashes affected by a bulk action, totally ordered by hash
 * for the node signature; for "all" the entry groups them by namespace (each list still sorted).
 */
export async function bulkActionEntry(
  sign: SignEntry,
  key: "deleted" | "updated",
  ns: NamespaceSelector,
  affected: NamespacedHash[],
  receiptPrefix: Array<string | number>,
): Promise<Entry> {
  const sorted = [...affected].sort((a, b) => byHash(a.hash, b.hash));
  const hashes = sorted.map((a) => a.hash);
  const signed = await sign(Buffer.from(receiptPrefix.join("") + hashes.join("")));
  if (ns !== "all") return {[key]: hashes, ...signed};
  const grouped: Record<string, string[]> = {};
  for (const a of sorted) (grouped[String(a.namespace)] ??= []).push(a.hash);
  return {[key]: grouped, ...signed};
}

export {byHash};
