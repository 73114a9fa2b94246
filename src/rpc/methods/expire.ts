import {ACCESS, sigMessage, verifyRequest} from "../auth.js";
import {SIGNATURE_TOLERANCE_FORWARDED_MS, SIGNATURE_TOLERANCE_MS, TTL_MAXIMUM_PRIVATE_MS} from "../../protocol/index.js";
import type {RpcContext} from "../context.js";
import {HTTP, ParseError, RpcError} from "../errors.js";
import {loadFields, requireField, type Params} from "../params.js";
import {runRecursive, wrongSwarm, type Entry, type SignEntry} from "../recursive.js";
import {bulkMethod} from "./bulk.js";
import {
  SIGNED_FIELDS,
  byHash,
  checkHashes,
  loadSigned,
  requireNonEmptyHashes,
  verifyOr401,
  type SignedRequest,
} from "./common.js";
import {defineMethod} from "./types.js";

/** expire_all only shortens: messages expiring later than `expiry` get `expiry`. */
export const expireAllMethod = bulkMethod({
  name: "expire_all",
  field: "expiry",
  key: "updated",
  check(ctx, expiry, origin) {
    const tolerance = origin.recurse ? SIGNATURE_TOLERANCE_MS : SIGNATURE_TOLERANCE_FORWARDED_MS;
    if (expiry < ctx.clock.now() - tolerance) {
      throw new RpcError(HTTP.NOT_ACCEPTABLE, "expire_all timestamp should be >= current time");
    }
  },
  apply: (store, account, ns, expiry) => store.expireAll(account, ns, expiry),
});

interface ExpireRequest extends SignedRequest {
  messages: string[];
  expiry: number[];
  shorten: boolean;
  extend: boolean;
}

function parseExpire(params: Params): ExpireRequest {
  const f = loadFields(params, {...SIGNED_FIELDS, expiry: "timestampArray", extend: "bool", messages: "stringArray", shorten: "bool"});
  const signed = loadSigned(f);
  const expiry = requireField("expiry", f.expiry as number[] | undefined);
  if (expiry.length === 0) throw new ParseError("'expiry' does not contain any expiration timestamps");
  const shorten = (f.shorten as boolean | undefined) ?? false;
  const extend = (f.extend as boolean | undefined) ?? false;
  if (shorten && extend) throw new ParseError("cannot specify both 'shorten' and 'extend'");
  const messages = requireNonEmptyHashes(f.messages as string[] | undefined);
  if (expiry.length > 1 && expiry.length !== messages.length) {
    throw new ParseError("'expiry' must be a single expiry, or the same length as 'messages'");
  }
  checkHashes(messages);
  return {...signed, messages, expiry, shorten, extend};
}

/** Session's expire: validate each expiry, clamp to now + 30 d (the originals stay signed/forwarded). */
function clampExpiries(ctx: RpcContext, req: ExpireRequest): number[] {
  const now = ctx.clock.now();
  return req.expiry.map((exp) => {
    if (exp < now - 60_000) throw new RpcError(HTTP.UNAUTHORIZED, "expire: timestamp should be >= current time");
    return Math.min(now + TTL_MAXIMUM_PRIVATE_MS, exp);
  });
}

/** A subaccount without delete access may only extend; explicit shorten is an error. */
function extendOnly(req: ExpireRequest): boolean {
  const sub = req.auth.subaccount;
  if (sub === undefined || ((sub.token[1] ?? 0) & ACCESS.DELETE) !== 0) return req.extend;
  if (req.shorten) {
    throw new RpcError(HTTP.BAD_REQUEST, "expire: shorten parameter cannot be used with this subaccount token (missing delete access)");
  }
  return true;
}

async function expireEntry(ctx: RpcContext, sign: SignEntry, req: ExpireRequest, clamped: number[], onlyExtend: boolean): Promise<Entry> {
  const multi = req.expiry.length > 1;
  const result = await ctx.store.expire({
    account: req.account.hex,
    hashes: req.messages,
    expiries: multi ? clamped : req.messages.map(() => clamped[0] as number),
    mode: onlyExtend ? "extend" : req.shorten ? "shorten" : "set",
  });
  const updated = [...result.updated].sort((a, b) => byHash(a.hash, b.hash));
  const unchanged = [...result.unchanged].sort((a, b) => byHash(a.hash, b.hash));
  const updatedExp = multi ? updated.map((u) => u.expiry) : [clamped[0] as number];
  const showUnchanged = req.shorten || req.extend;
  const unchangedParts = showUnchanged ? unchanged.map((u) => `${u.hash}${u.expiry}`) : [];
  const receipt = sigMessage(req.account.hex, updatedExp.join(""), req.messages, updated.map((u) => u.hash), unchangedParts);
  const signed = await sign(receipt);
  return {
    expiry: multi ? updatedExp : clamped[0],
    updated: updated.map((u) => u.hash),
    ...(showUnchanged ? {unchanged: Object.fromEntries(unchanged.map((u) => [u.hash, u.expiry]))} : {}),
    ...signed,
  };
}

export const expireMethod = defineMethod<ExpireRequest>({
  names: ["expire"],
  parse: parseExpire,
  run(ctx, req, origin, raw) {
    if (!ctx.router.isOurs(req.account)) return Promise.resolve(wrongSwarm(ctx, req.account));
    const clamped = clampExpiries(ctx, req);
    const mode = req.shorten ? "shorten" : req.extend ? "extend" : "";
    const msg = sigMessage("expire", mode, req.expiry.join(""), req.messages);
    if (!verifyRequest(ctx, req.auth, ACCESS.WRITE, false, msg)) throw new RpcError(HTTP.UNAUTHORIZED, "expire: signature verification failed");
    const onlyExtend = extendOnly(req);
    return runRecursive(ctx, origin, "expire", raw, (sign) => expireEntry(ctx, sign, req, clamped, onlyExtend));
  },
});

interface GetExpiriesRequest extends SignedRequest {
  messages: string[];
  timestamp: number;
}

export const getExpiriesMethod = defineMethod<GetExpiriesRequest>({
  names: ["get_expiries"],
  parse(params: Params) {
    const f = loadFields(params, {...SIGNED_FIELDS, messages: "stringArray", timestamp: "timestamp"});
    const signed = loadSigned(f);
    const timestamp = requireField("timestamp", f.timestamp as number | undefined);
    const messages = requireNonEmptyHashes(f.messages as string[] | undefined);
    return {...signed, timestamp, messages};
  },
  run(ctx, req) {
    if (!ctx.router.isOurs(req.account)) return Promise.resolve(wrongSwarm(ctx, req.account));
    if (Math.abs(req.timestamp - ctx.clock.now()) > SIGNATURE_TOLERANCE_MS) {
      throw new RpcError(HTTP.NOT_ACCEPTABLE, "get_expiries timestamp too far from current time");
    }
    verifyOr401(ctx, req.auth, ACCESS.READ, sigMessage("get_expiries", req.timestamp, req.messages), "get_expiries");
    const expiries = Object.fromEntries(ctx.store.getExpiries(req.account.hex, req.messages));
    // Session adds no t/hf here.
    return Promise.resolve({status: HTTP.OK, body: {expiries}});
  },
});
