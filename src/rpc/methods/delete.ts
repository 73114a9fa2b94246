import {ACCESS, sigMessage} from "../auth.js";
import {SIGNATURE_TOLERANCE_FORWARDED_MS, SIGNATURE_TOLERANCE_MS} from "../../protocol/index.js";
import {HTTP, RpcError} from "../errors.js";
import {loadFields, type Params} from "../params.js";
import {runRecursive, wrongSwarm} from "../recursive.js";
import {bulkMethod} from "./bulk.js";
import {SIGNED_FIELDS, byHash, checkHashes, loadSigned, requireNonEmptyHashes, verifyOr401, type SignedRequest} from "./common.js";
import {defineMethod} from "./types.js";

interface DeleteRequest extends SignedRequest {
  messages: string[];
  required: boolean;
}

export const deleteMethod = defineMethod<DeleteRequest>({
  names: ["delete"],
  parse(params: Params) {
    const f = loadFields(params, {...SIGNED_FIELDS, messages: "stringArray", required: "bool"});
    const signed = loadSigned(f);
    const messages = requireNonEmptyHashes(f.messages as string[] | undefined);
    checkHashes(messages);
    return {...signed, messages, required: (f.required as boolean | undefined) ?? false};
  },
  async run(ctx, req, origin, raw) {
    if (!ctx.router.isOurs(req.account)) return wrongSwarm(ctx, req.account);
    verifyOr401(ctx, req.auth, ACCESS.DELETE, sigMessage("delete", req.messages), "delete_msgs");
    const res = await runRecursive(ctx, origin, "delete", raw, async (sign) => {
      const deleted = [...(await ctx.store.deleteByHashes(req.account.hex, req.messages))].sort(byHash);
      const signed = await sign(sigMessage(req.account.hex, req.messages, deleted));
      return {deleted, ...signed};
    });
    // required: 404 when no swarm member deleted anything (the body is unchanged).
    if (req.required && res.status === HTTP.OK && typeof res.body === "object") {
      const entries = origin.recurse ? Object.values(res.body.swarm as Record<string, {deleted?: unknown[]}>) : [res.body];
      if (!entries.some((e) => Array.isArray(e.deleted) && e.deleted.length > 0)) return {...res, status: HTTP.NOT_FOUND};
    }
    return res;
  },
});

/** Future bound of `before`: a minute, as in Session. */
const DELETE_BEFORE_MAX_FUTURE_MS = 60_000;

/**
 * delete_all. From a client (we are the entry node): every message, now, as in Session. Forwarded
 * by a swarm peer, it may reach us late (a persisted retry replays it up to ~70 s after it was
 * signed), and it means what the swarm held when it was signed, not what we hold when it arrives:
 * only messages timestamped at or before its signed `timestamp` are deleted (a delete_before), so
 * the message the client sent right after clearing its mailbox survives, and every member computes
 * the same set whatever its clock. What the entry node deleted beyond that (messages dated after
 * the request but stored before it) reaches us as its tombstones (docs/PROTOCOL.md (Replication) §4.1).
 */
export const deleteAllMethod = bulkMethod({
  name: "delete_all",
  field: "timestamp",
  key: "deleted",
  check(ctx, timestamp, origin) {
    const tolerance = origin.recurse ? SIGNATURE_TOLERANCE_MS : SIGNATURE_TOLERANCE_FORWARDED_MS;
    if (Math.abs(timestamp - ctx.clock.now()) > tolerance) {
      throw new RpcError(HTTP.NOT_ACCEPTABLE, "delete_all timestamp too far from current time");
    }
  },
  apply: (store, account, ns, timestamp, origin) =>
    origin.recurse ? store.deleteAll(account, ns) : store.deleteBefore(account, ns, timestamp),
});

/**
 * Deletes messages with timestamp ≤ before; Session 2.8's "all" variant was broken, this one works.
 * `before` already bounds it, so a forwarded one is applied unchanged.
 */
export const deleteBeforeMethod = bulkMethod({
  name: "delete_before",
  field: "before",
  key: "deleted",
  check(ctx, before) {
    if (before > ctx.clock.now() + DELETE_BEFORE_MAX_FUTURE_MS) {
      throw new RpcError(HTTP.UNAUTHORIZED, "delete_before timestamp too far in the future");
    }
  },
  apply: (store, account, ns, before) => store.deleteBefore(account, ns, before),
});
