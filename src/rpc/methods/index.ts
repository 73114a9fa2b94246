import {deleteAllMethod, deleteBeforeMethod, deleteMethod} from "./delete.js";
import {expireAllMethod, expireMethod, getExpiriesMethod} from "./expire.js";
import {getSwarmMethod, infoMethod} from "./info.js";
import {retrieveMethod} from "./retrieve.js";
import {storeMethod} from "./store.js";
import {revokeSubaccountMethod, unrevokeSubaccountMethod} from "./subaccount.js";
import type {AnyMethodDef} from "./types.js";

/** Every non-meta client method (the ones a batch may contain). */
export const SUBREQUEST_METHODS: readonly AnyMethodDef[] = [
  storeMethod,
  retrieveMethod,
  infoMethod,
  getSwarmMethod,
  deleteMethod,
  deleteAllMethod,
  deleteBeforeMethod,
  expireAllMethod,
  expireMethod,
  getExpiriesMethod,
  revokeSubaccountMethod,
  unrevokeSubaccountMethod,
];

/** Methods whose effect fans out to the whole swarm (Session's `recursive` requests). */
export const RECURSIVE_METHOD_NAMES: ReadonlySet<string> = new Set([
  "store",
  "delete",
  "delete_all",
  "delete_before",
  "expire",
  "expire_all",
  "revoke_subaccount",
  "unrevoke_subaccount",
]);

export function methodTable(): Map<string, AnyMethodDef> {
  const table = new Map<string, AnyMethodDef>();
  for (const m of SUBREQUEST_METHODS) for (const name of m.names) table.set(name, m);
  return table;
}
