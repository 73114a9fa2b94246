import type {Origin} from "../../protocol/index.js";
import type {MessageStore, NamespacedHash} from "../../storage/index.js";
import {ACCESS, sigMessage} from "../auth.js";
import type {RpcContext} from "../context.js";
import {namespaceSigValue} from "../../protocol/index.js";
import {loadFields, requireField, type Params} from "../params.js";
import {runRecursive, wrongSwarm} from "../recursive.js";
import {SIGNED_FIELDS, bulkActionEntry, loadSigned, verifyOr401, type SignedRequest} from "./common.js";
import {defineMethod, type MethodDef} from "./types.js";

export interface BulkRequest extends SignedRequest {
  namespace: number | "all";
  /** The method's one time value: `timestamp`, `before` or `expiry`. */
  value: number;
}

/**
 * Session's namespace-wide actions (delete_all, delete_before, expire_all) share one shape: a
 * namespace (or "all"), one signed time value, Delete access, and an entry listing the affected
 * hashes signed as PUBKEY_HEX ‖ value ‖ hashes. Only the time check and the store call differ.
 */
export interface BulkSpec {
  name: "delete_all" | "delete_before" | "expire_all";
  field: "timestamp" | "before" | "expiry";
  key: "deleted" | "updated";
  /** Throws the method's RpcError when the time value is out of bounds. */
  check(ctx: RpcContext, value: number, origin: Origin): void;
  /** `origin`: a request forwarded by a swarm peer may be applied with a narrower scope. */
  apply(store: MessageStore, account: string, ns: number | "all", value: number, origin: Origin): Promise<NamespacedHash[]>;
}

export function bulkMethod(spec: BulkSpec): MethodDef<BulkRequest> {
  return defineMethod<BulkRequest>({
    names: [spec.name],
    parse(params: Params) {
      const f = loadFields(params, {...SIGNED_FIELDS, [spec.field]: "timestamp", namespace: "namespaceOrAll"});
      const signed = loadSigned(f);
      const value = requireField(spec.field, f[spec.field] as number | undefined);
      return {...signed, value, namespace: (f.namespace as number | "all" | undefined) ?? 0};
    },
    run(ctx, req, origin, raw) {
      if (!ctx.router.isOurs(req.account)) return Promise.resolve(wrongSwarm(ctx, req.account));
      spec.check(ctx, req.value, origin);
      const msg = sigMessage(spec.name, namespaceSigValue(req.namespace), req.value);
      verifyOr401(ctx, req.auth, ACCESS.DELETE, msg, spec.name);
      return runRecursive(ctx, origin, spec.name, raw, async (sign) => {
        const affected = await spec.apply(ctx.store, req.account.hex, req.namespace, req.value, origin);
        return bulkActionEntry(sign, spec.key, req.namespace, affected, [req.account.hex, req.value]);
      });
    },
  });
}
