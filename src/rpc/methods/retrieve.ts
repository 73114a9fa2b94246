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
import {messagesJson, pageSizeOf} from "../../storage/reader-json.js";
import type {PageAnswer} from "../../storage/reader-thread.js";
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
      return Promise.resolve(answerPage(ctx, req, now));
    }
    const ts = req.timestamp as number;
    if (Math.abs(ts - now) > SIGNATURE_TOLERANCE_MS) {
      throw new RpcError(HTTP.NOT_ACCEPTABLE, "retrieve timestamp too far from current time");
    }
    const msg = sigMessage("retrieve", namespaceSigValue(req.namespace), ts);
    // The signature itself is checked on the signing worker when the node has one (ctx.verifier).
    return verifyRequestAsync(ctx, req.auth, ACCESS.READ, isUnrevocable(req.namespace), msg).then((ok) => {
      if (!ok) throw new RpcError(HTTP.UNAUTHORIZED, "retrieve signature verification failed");
      return answerPage(ctx, req, now);
    });
  },
});

/**
 * The page of a retrieve whose every check passed: from the reader thread when the node has one
 * (ctx.reader: the read and the answer's text off the event loop), else, or when it cannot answer,
 * read here. A full reader queue refuses the retrieve (503) rather than let pages pile up.
 */
function answerPage(ctx: RpcContext, req: RetrieveRequest, now: number): RpcResponse | Promise<RpcResponse> {
  const reader = ctx.reader;
  if (reader === undefined) return readPage(ctx, req, now);
  if (reader.full) throw new RpcError(HTTP.SERVICE_UNAVAILABLE, "Node busy: too many retrieves in progress, retry later");
  const misc = miscFields(ctx, now);
  const {maxCount, maxSize} = effectiveLimits(req);
  // The answer's fields after `more`, as objectJson writes them (each value through JSON.stringify).
  const tail = `,${JSON.stringify(misc).slice(1)}`;
  const request = {account: req.account.hex, namespace: req.namespace, afterHash: req.lastHash, maxCount, maxSize, now, tail};
  return reader.read(request).then((answer) =>
    answer === null ? readPage(ctx, req, now) : {status: HTTP.OK, body: answeredBody(answer, misc)},
  );
}

function readPage(ctx: RpcContext, req: RetrieveRequest, now: number): RpcResponse {
  const {maxCount, maxSize} = effectiveLimits(req);
  const result = ctx.store.retrieve({
    account: req.account.hex,
    namespace: req.namespace,
    afterHash: req.lastHash,
    maxCount,
    maxSize,
    sizeOf: pageSizeOf,
  });
  return {status: HTTP.OK, body: pageBody(result.messages, result.more, miscFields(ctx, now))};
}

/**
 * `{messages, more, t, hf}` around the reader thread's answer text, which is the body's JSON text.
 * The `messages` objects are parsed from it only if something reads `body.messages` (a batch
 * sub-request, a WebSocket frame, an onion response); once they are, they are what is written.
 */
function answeredBody(answer: PageAnswer, misc: ReturnType<typeof miscFields>): Record<string, unknown> {
  let messages: MessageJson[] | undefined;
  const body = {
    get messages(): MessageJson[] {
      messages ??= (JSON.parse(answer.text) as {messages: MessageJson[]}).messages;
      return messages;
    },
    more: answer.more,
    ...misc,
  };
  return withJson(body, (b) => (messages === undefined ? answer.text : objectJson(b)));
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
