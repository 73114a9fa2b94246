import type {Origin, RpcResponse} from "../../protocol/index.js";
import {loadAuth, parseToken, sigMessage, verifyRequest} from "../auth.js";
import {MAX_SUBACCOUNT_TOKENS, SIGNATURE_TOLERANCE_MS} from "../../protocol/index.js";
import type {RpcContext} from "../context.js";
import {HTTP, ParseError, RpcError} from "../errors.js";
import {loadFields, requireField, type Params} from "../params.js";
import {runRecursive, wrongSwarm, type Entry, type SignEntry} from "../recursive.js";
import type {SignedRequest} from "./common.js";
import {defineMethod} from "./types.js";

/** Subaccounts may not revoke or unrevoke: only the account key signs these. */
const FIELDS = {pubkey: "string", pubkey_ed25519: "string", pubkey_mldsa: "string", pubkey_mlkem: "string", signature: "string"} as const;

interface TokensRequest extends SignedRequest {
  tokens: Buffer[];
  timestamp: number;
}

function parseTokens(list: string[], what: "revoke" | "unrevoke"): Buffer[] {
  return list.map((s) => {
    const token = parseToken(s);
    if (token === null) throw new ParseError(`invalid ${what}: expected base64 or hex-encoded subaccount tag`);
    return token;
  });
}

function parseRevoke(params: Params): TokensRequest {
  const f = loadFields(params, {...FIELDS, revoke: "stringArray", timestamp: "timestamp"});
  const auth = loadAuth(f.pubkey as string | undefined, f);
  const revoke = requireField("revoke", f.revoke as string[] | undefined);
  if (revoke.length > MAX_SUBACCOUNT_TOKENS) {
    throw new ParseError(`invalid revoke: cannot revoke more than ${MAX_SUBACCOUNT_TOKENS} subaccounts at once`);
  }
  const tokens = parseTokens(revoke, "revoke");
  const timestamp = requireField("timestamp", f.timestamp as number | undefined);
  return {auth, account: auth.account, tokens, timestamp};
}

function parseUnrevoke(params: Params): TokensRequest {
  const f = loadFields(params, {...FIELDS, timestamp: "timestamp", unrevoke: "stringArray"});
  const auth = loadAuth(f.pubkey as string | undefined, f);
  const timestamp = requireField("timestamp", f.timestamp as number | undefined);
  const tokens = parseTokens(requireField("unrevoke", f.unrevoke as string[] | undefined), "unrevoke");
  return {auth, account: auth.account, tokens, timestamp};
}

async function runTokens(
  ctx: RpcContext,
  req: TokensRequest,
  origin: Origin,
  raw: Params,
  method: "revoke_subaccount" | "unrevoke_subaccount",
  local: (sign: SignEntry) => Promise<Entry>,
): Promise<RpcResponse> {
  if (!ctx.router.isOurs(req.account)) return wrongSwarm(ctx, req.account);
  if (Math.abs(req.timestamp - ctx.clock.now()) > SIGNATURE_TOLERANCE_MS) {
    throw new RpcError(HTTP.NOT_ACCEPTABLE, `${method} timestamp too far from current time`);
  }
  if (!verifyRequest(ctx, req.auth, 0, false, sigMessage(method, req.timestamp, req.tokens))) {
    throw new RpcError(HTTP.UNAUTHORIZED, `${method} signature verification failed`);
  }
  return runRecursive(ctx, origin, method, raw, local);
}

export const revokeSubaccountMethod = defineMethod<TokensRequest>({
  names: ["revoke_subaccount"],
  parse: parseRevoke,
  run(ctx, req, origin, raw) {
    return runTokens(ctx, req, origin, raw, "revoke_subaccount", async (sign) => {
      // The signed timestamp, identical on every member: replicas order revokes and unrevokes by it.
      await ctx.store.revokeSubaccounts(req.account.hex, req.tokens, req.timestamp);
      // Session 2.8 returns no `count` for revoke (only for unrevoke); kept for compatibility.
      return {...(await sign(sigMessage(req.account.hex, req.timestamp, req.tokens)))};
    });
  },
});

export const unrevokeSubaccountMethod = defineMethod<TokensRequest>({
  names: ["unrevoke_subaccount"],
  parse: parseUnrevoke,
  run(ctx, req, origin, raw) {
    return runTokens(ctx, req, origin, raw, "unrevoke_subaccount", async (sign) => {
      const count = await ctx.store.unrevokeSubaccounts(req.account.hex, req.tokens, req.timestamp);
      return {count, ...(await sign(sigMessage(req.account.hex, req.timestamp, req.tokens)))};
    });
  },
});
