import {parseAccount} from "../../protocol/index.js";
import {HTTP, ParseError} from "../errors.js";
import {loadFields, requireExactlyOneOf, type Params} from "../params.js";
import {miscFields} from "../recursive.js";
import {defineMethod} from "./types.js";

export const infoMethod = defineMethod<Record<string, never>>({
  names: ["info"],
  parse: () => ({}),
  run(ctx) {
    const now = ctx.clock.now();
    const body = {
      version: ctx.versions.version,
      timestamp: now,
      pars_version: ctx.versions.parsVersion,
      ...miscFields(ctx, now),
    };
    return Promise.resolve({status: HTTP.OK, body});
  },
});

export const getSwarmMethod = defineMethod<{account: ReturnType<typeof parseAccount> & object}>({
  names: ["get_swarm", "get_snodes_for_pubkey"],
  parse(params: Params) {
    const f = loadFields(params, {pubKey: "string", pubkey: "string"});
    const pk = requireExactlyOneOf("pubkey", f.pubkey as string | undefined, "pubKey", f.pubKey as string | undefined, true);
    const account = parseAccount(pk);
    if (account === null) throw new ParseError("Pubkey must be 66 hex digits/33 bytes long");
    return {account};
  },
  run(ctx, req) {
    // Any node answers for any account: no swarm check here.
    return Promise.resolve({status: HTTP.OK, body: {...ctx.router.swarmFor(req.account), ...miscFields(ctx)}});
  },
});
