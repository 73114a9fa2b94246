import {ACCESS, sigMessage} from "../auth.js";
import {SIGNATURE_TOLERANCE_FORWARDED_MS, SIGNATURE_TOLERANCE_MS} from "../constants.js";
import {HTTP, RpcError} from "../errors.js";
import {namespaceSigValue} from "../namespace.js";
import {loadFields, require, type Params} from "../params.js";
import {runRecursive, wrongSwarm} from "../recursive.js";
import {
  SIGNED_FIELDS,
  bulkActionEntry,
  byHash,
  checkHashes,
  loadSigned,
  requireNonEmptyHashes,
  verifyOr401,
  type SignedRequest,
} from "./common.js";
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
    const res = await runRecursive(ctx, origin, "delete", raw, async () => {
      const deleted = [...(await ctx.store.deleteByHashes(req.account.hex, req.messages))].sort(byHash);
      const signed = await ctx.signer.sign(sigMessage(req.account.hex, req.messages, deleted));
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

interface DeleteAllRequest extends SignedRequest {
  namespace: number | "all";
  timestamp: number;
}

export const deleteAllMethod = defineMethod<DeleteAllRequest>({
  names: ["delete_all"],
  parse(params: Params) {
    const f = loadFields(params, {...SIGNED_FIELDS, namespace: "namespaceOrAll", timestamp: "timestamp"});
    const signed = loadSigned(f);
    const timestamp = require("timestamp", f.timestamp as number | undefined);
    return {...signed, timestamp, namespace: (f.namespace as number | "all" | undefined) ?? 0};
  },
  run(ctx, req, origin, raw) {
    if (!ctx.router.isOurs(req.account)) return Promise.resolve(wrongSwarm(ctx, req.account));
    const tolerance = origin.recurse ? SIGNATURE_TOLERANCE_MS : SIGNATURE_TOLERANCE_FORWARDED_MS;
    if (Math.abs(req.timestamp - ctx.clock.now()) > tolerance) {
      throw new RpcError(HTTP.NOT_ACCEPTABLE, "delete_all timestamp too far from current time");
    }
    const msg = sigMessage("delete_all", namespaceSigValue(req.namespace), req.timestamp);
    verifyOr401(ctx, req.auth, ACCESS.DELETE, msg, "delete_all");
    return runRecursive(ctx, origin, "delete_all", raw, async () => {
      const affected = await ctx.store.deleteAll(req.account.hex, req.namespace);
      return bulkActionEntry(ctx, "deleted", req.namespace, affected, [req.account.hex, req.timestamp]);
    });
  },
});

interface DeleteBeforeRequest extends SignedRequest {
  namespace: number | "all";
  before: number;
}

/** Future bound of `before`: a minute, as in Session. */
const DELETE_BEFORE_MAX_FUTURE_MS = 60_000;

export const deleteBeforeMethod = defineMethod<DeleteBeforeRequest>({
  names: ["delete_before"],
  parse(params: Params) {
    const f = loadFields(params, {...SIGNED_FIELDS, before: "timestamp", namespace: "namespaceOrAll"});
    const signed = loadSigned(f);
    const before = require("before", f.before as number | undefined);
    return {...signed, before, namespace: (f.namespace as number | "all" | undefined) ?? 0};
  },
  run(ctx, req, origin, raw) {
    if (!ctx.router.isOurs(req.account)) return Promise.resolve(wrongSwarm(ctx, req.account));
    if (req.before > ctx.clock.now() + DELETE_BEFORE_MAX_FUTURE_MS) {
      throw new RpcError(HTTP.UNAUTHORIZED, "delete_before timestamp too far in the future");
    }
    const msg = sigMessage("delete_before", namespaceSigValue(req.namespace), req.before);
    verifyOr401(ctx, req.auth, ACCESS.DELETE, msg, "delete_before");
    return runRecursive(ctx, origin, "delete_before", raw, async () => {
      const affected = await ctx.store.deleteBefore(req.account.hex, req.namespace, req.before);
      return bulkActionEntry(ctx, "deleted", req.namespace, affected, [req.account.hex, req.before]);
    });
  },
});
