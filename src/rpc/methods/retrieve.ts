import type {Account, RpcResponse} from "../../protocol/index.js";
import type {RpcContext} from "../context.js";
import {ACCESS, AUTH_FIELDS, loadAccount, loadAuth, sigMessage, verifyRequestAsync, type RequestAuth} from "../auth.js";
import {RETRIEVE_MAX_SIZE_BYTES, SIGNATURE_TOLERANCE_MS} from "../../protocol/index.js";
import {isBase64} from "../../protocol/index.js";
import {HTTP, ParseError, RpcError} from "../errors.js";
import {isNoAuthRetrieve, isUnrevocable, namespaceSigValue} from "../../protocol/index.js";
import {loadFields, requireField, requireAtMostOneOf, requireExactlyOneOf, type Params} from "../params.js";
import {miscFields, wrongSwarm} from "../recursive.js";
import {withJson} from "../../util/index.js";
import {objectJson} from "../response-json.js";
import type {StoredMessage} from "../../storage/index.js";
import {defineMethod} from "./types.js";

interface RetrieveRequest {
  account: Account;
  auth?: RequestAuth;
  timestamp?: number;
  namespace: number;
  lastHash: string | null;
  maxCount?: number;
  maxSize?: number;
}

const FIELDS = {
  lastHash: "string",
  last_hash: "string",
  max_count: "int",
  max_size: "int",
  namespace: "namespace",
  pubKey: "string",
  pubkey: "string",
  timestamp: "timestamp",
  ...AUTH_FIELDS,
} as const;

function parseRetrieve(params: Params): RetrieveRequest {
  const f = loadFields(params, FIELDS);
  const pubkey = requireExactlyOneOf("pubkey", f.pubkey as string | undefined, "pubKey", f.pubKey as string | undefined, true);
  const ns = f.namespace as number | undefined;
  const req: RetrieveRequest = {account: undefined as unknown as Account, namespace: ns ?? 0, lastHash: null};
  const wantsAuth =
    f.pubkey_ed25519 !== undefined || f.signature !== undefined || f.timestamp !== undefined || (ns !== undefined && !isNoAuthRetrieve(ns));
  if (wantsAuth) {
    req.auth = loadAuth(pubkey, f);
    req.account = req.auth.account;
    req.timestamp = requireField("timestamp", f.timestamp as number | undefined);
  } else {
    req.account = loadAccount(pubkey);
  }
  requireAtMostOneOf("last_hash", f.last_hash, "lastHash", f.lastHash);
  const lastHash = (f.lastHash ?? f.last_hash) as string | undefined;
  if (lastHash !== undefined && lastHash !== "") {
    if (lastHash.length !== 43) throw new ParseError("Invalid last_hash: expected base64 (43 chars)");
    if (!isBase64(lastHash)) throw new ParseError("Invalid last_hash: not base64");
    req.lastHash = lastHash;
  }
  req.maxCount = f.max_count as number | undefined;
  req.maxSize = f.max_size as number | undefined;
  return req;
}

/** Session's limits: 0 = unspecified; neither → 1/5 of the max size; negative size −k → max/k. */
function effectiveLimits(req: RetrieveRequest): {maxCount: number; maxSize: number} {
  const count = req.maxCount === 0 ? undefined : req.maxCount;
  let size = req.maxSize === 0 ? undefined : req.maxSize;
  if (count === undefined && size === undefined) size = -5;
  if (size !== undefined && size < 0) size = Math.floor(RETRIEVE_MAX_SIZE_BYTES / -size);
  else if (size === undefined || size > RETRIEVE_MAX_SIZE_BYTES) size = RETRIEVE_MAX_SIZE_BYTES;
  // A negative count is an SQLite LIMIT -1 in Session: no limit.
  const maxCount = count === undefined || count < 0 ? Number.MAX_SAFE_INTEGER : count;
  return {maxCount, maxSize: size};
}

export const retrieveMethod = defineMethod<RetrieveRequest>({
  names: ["retrieve"],
  parse: parseRetrieve,
  run(ctx, req) {
    if (!ctx.router.isOurs(req.account)) return Promise.resolve(wrongSwarm(ctx, req.account));
    const now = ctx.clock.now();
    if (req.auth === undefined) {
      if (!isNoAuthRetrieve(req.namespace)) throw new RpcError(HTTP.UNAUTHORIZED, "retrieve: request signature required");
      return Promise.resolve(readPage(ctx, req, now));
    }
    const ts = req.timestamp as number;
    if (Math.abs(ts - now) > SIGNATURE_TOLERANCE_MS) {
      throw new RpcError(HTTP.NOT_ACCEPTABLE, "retrieve timestamp too far from current time");
    }
    const msg = sigMessage("retrieve", namespaceSigValue(req.namespace), ts);
    // The signature itself is checked on the signing worker when the node has one (ctx.verifier).
    return verifyRequestAsync(ctx, req.auth, ACCESS.READ, isUnrevocable(req.namespace), msg).then((ok) => {
      if (!ok) throw new RpcError(HTTP.UNAUTHORIZED, "retrieve signature verification failed");
      return readPage(ctx, req, now);
    });
  },
});

function readPage(ctx: RpcContext, req: RetrieveRequest, now: number): RpcResponse {
  const {maxCount, maxSize} = effectiveLimits(req);
  const result = ctx.store.retrieve({
    account: req.account.hex,
    namespace: req.namespace,
    afterHash: req.lastHash,
    maxCount,
    maxSize,
    sizeOf: (m) => 100 + m.hash.length + Math.floor((m.data.length * 4) / 3),
  });
  return {status: HTTP.OK, body: pageBody(result.messages, result.more, miscFields(ctx, now))};
}

interface MessageJson {
  hash: string;
  timestamp: number;
  expiration: number;
  data: string;
}

/**
 * `{messages, more, t, hf}`. The messages' JSON (~100 KB for a default page) is written straight
 * from the stored rows by concatenating each row's fields; the `messages` objects are only built
 * when something reads them (a batch sub-request, a WebSocket frame, an onion response, which
 * serialise with JSON.stringify and get the same bytes).
 */
function pageBody(rows: readonly StoredMessage[], more: boolean, misc: ReturnType<typeof miscFields>): Record<string, unknown> {
  let messages: MessageJson[] | undefined;
  const body = {
    get messages(): MessageJson[] {
      messages ??= rows.map((m) => ({hash: m.hash, timestamp: m.timestamp, expiration: m.expiry, data: m.data.toString("base64")}));
      return messages;
    },
    more,
    ...misc,
  };
  return withJson(body, (b) => objectJson(b, (key) => (key === "messages" && messages === undefined ? messagesJson(rows) : undefined)));
}

/** JSON.stringify's text of the page's messages, as the objects `pageBody` builds would give. */
function messagesJson(rows: readonly StoredMessage[]): string {
  let out = "[";
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i] as StoredMessage;
    // Base64 needs no escaping; the hash does not either but goes through JSON.stringify anyway (43 chars).
    out += `${i === 0 ? "" : ","}{"hash":${JSON.stringify(m.hash)},"timestamp":${numberJson(m.timestamp)},"expiration":${numberJson(m.expiry)},"data":"${m.data.toString("base64")}"}`;
  }
  return `${out}]`;
}

/** String(n) for a finite number (JSON has no NaN or Infinity: null, as JSON.stringify writes them). */
function numberJson(n: number): string {
  // A millisecond time is a heap number, whose String() takes V8's shortest-digits path; its two
  // halves below 10⁸ are small integers, printed (and cached) far faster, with the same digits.
  // floor(n / 10⁸) is exact for a safe integer: its quotient is below 2²⁷, where a double's
  // half-ulp is under the 10⁻⁸ that separates an integer n's quotient from the next integer.
  if (Number.isSafeInteger(n) && n >= 1e8) {
    const high = Math.floor(n / 1e8);
    const low = String(n - high * 1e8);
    return `${high}${"00000000".slice(low.length)}${low}`;
  }
  return Number.isFinite(n) ? String(n) : "null";
}
