import type {RpcResponse} from "../protocol/index.js";
import type {Origin} from "../protocol/index.js";
import type {Account} from "../protocol/index.js";
import type {SignedReceipt} from "../receipts/index.js";
import type {RpcContext} from "./context.js";
import {HTTP} from "./errors.js";
import {withObjectJson} from "./response-json.js";

export type Entry = Record<string, unknown>;

/** Signs one receipt of our entry (ResponseSigner.sign with the request's batching). */
export type SignEntry = (receipt: Uint8Array) => Promise<SignedReceipt>;

export function miscFields(ctx: RpcContext, now = ctx.clock.now()): {t: number; hf: [number, number]} {
  return {t: now, hf: ctx.versions.hf};
}

/** Session's 421 answer: the swarm that does serve this account. */
export function wrongSwarm(ctx: RpcContext, account: Account): RpcResponse {
  return {status: HTTP.MISDIRECTED_REQUEST, body: {...ctx.router.swarmFor(account), ...miscFields(ctx)}};
}

/**
 * Runs a recursive (swarm fan-out) method after local validation passed. Peers get the request
 * first, as in Session; our own entry is computed meanwhile. The answer is
 * `{swarm: {<node id>: entry, …}, t, hf}` with status 200 unless every entry failed: then 507 if
 * any member failed for lack of storage (`storage_full`), else 500. A request forwarded by a peer
 * answers with our entry alone (200, 507 or 500 likewise).
 *
 * `local` signs its receipts with the `sign` it is given. A forwarded request's receipt is signed
 * as soon as the job that made it is done, without the signing window: it came in a peer's frame,
 * whose calls share one group commit and so hand over their receipts together, and the window
 * would only add its wait to the entry node's answer (docs/PROTOCOL.md, Response signatures).
 */
export async function runRecursive(
  ctx: RpcContext,
  origin: Origin,
  method: string,
  rawParams: Record<string, unknown>,
  local: (sign: SignEntry) => Promise<Entry>,
  extra?: (mine: Entry, body: Entry) => void,
): Promise<RpcResponse> {
  const peers = origin.recurse ? ctx.router.forward(method, rawParams) : Promise.resolve({});
  const promptly = !origin.recurse;
  const mine = await localEntry(ctx, method, () => local((receipt) => ctx.signer.sign(receipt, promptly)));
  if (!origin.recurse) return {status: statusOf([mine]), body: mine};
  // Serialised one level at a time, so our entry's own JSON text (a store's) is used.
  const swarm = withObjectJson<Record<string, Entry>>({[ctx.nodeId]: mine, ...(await peers)});
  const body = withObjectJson<Entry>({swarm, ...miscFields(ctx)});
  extra?.(mine, body);
  return {status: statusOf(Object.values(swarm)), body};
}

function statusOf(entries: Entry[]): number {
  if (entries.some((e) => e.failed === undefined)) return HTTP.OK;
  return entries.some((e) => e.storage_full === true) ? HTTP.INSUFFICIENT_STORAGE : HTTP.INTERNAL_SERVER_ERROR;
}

/**
 * Our own entry, or Session's failure entry `{failed, query_failure, reason}`; a store refused for
 * lack of room (STORAGE_ERROR_FULL: the size limit or a full disk) is `{failed, storage_full,
 * reason}` instead (a Pars difference: Session reports every storage failure as query_failure).
 */
async function localEntry(ctx: RpcContext, method: string, local: () => Promise<Entry>): Promise<Entry> {
  try {
    return await local();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // Matched on the code, not the class (ParsError convention); the store logs these itself.
    if ((err as {code?: unknown} | null)?.code === "STORAGE_ERROR_FULL") return {failed: true, storage_full: true, reason};
    ctx.logger.warn({method, err: reason}, "local operation failed");
    return {failed: true, query_failure: true, reason};
  }
}
