import {messageHash} from "../../crypto/index.js";
import {quoteJson, type FeeQuoteJson} from "../../fees/index.js";
import type {StoreResult} from "../../storage/index.js";
import type {Account} from "../../protocol/index.js";
import {ACCESS, AUTH_FIELDS, loadAccount, loadAuth, sigMessage, verifyRequest, type RequestAuth} from "../auth.js";
import {
  MAX_MESSAGE_BODY_BYTES,
  SIGNATURE_TOLERANCE_MS,
  STORE_TOLERANCE_MS,
  TTL_MAXIMUM_PRIVATE_MS,
  TTL_MAXIMUM_PUBLIC_MS,
  TTL_MINIMUM_MS,
} from "../../protocol/index.js";
import type {RpcContext} from "../context.js";
import {isBase64} from "../../protocol/index.js";
import {HTTP, ParseError, RpcError} from "../errors.js";
import {isPublicInbox, isPublicOutbox, namespaceSigValue} from "../../protocol/index.js";
import {loadFields, loadStringifiedInt, requireField, requireAtMostOneOf, requireExactlyOneOf, type Params} from "../params.js";
import {runRecursive, wrongSwarm} from "../recursive.js";
import {withSignedJson} from "../response-json.js";
import {storeReceipt} from "../../receipts/index.js";
import {defineMethod} from "./types.js";

interface StoreRequest {
  account: Account;
  auth?: RequestAuth;
  namespace: number;
  timestamp: number;
  /** Undefined when the client gave neither `ttl` nor `expiry`: the node's default TTL applies. */
  expiry: number | undefined;
  sigTimestamp: number;
  data: Buffer;
}

const FIELDS = {
  data: "string",
  expiry: "timestamp",
  namespace: "namespace",
  pubKey: "string",
  pubkey: "string",
  sig_timestamp: "timestamp",
  ...AUTH_FIELDS,
} as const;

function parseStore(params: Params): StoreRequest {
  const f = loadFields(params, FIELDS);
  const timestamp = requireField("timestamp", loadStringifiedInt(params, "timestamp", false));
  const ttl = loadStringifiedInt(params, "ttl", true);
  const expiryParam = f.expiry as number | undefined;
  requireAtMostOneOf("expiry", expiryParam, "ttl", ttl);
  // Session requires one of them; PIP-0008 gives stores without either the 24 h sessionTTL.
  const expiry = expiryParam ?? (ttl === undefined ? undefined : timestamp + ttl);
  const pubkey = requireExactlyOneOf("pubkey", f.pubkey as string | undefined, "pubKey", f.pubKey as string | undefined, true);
  let auth: RequestAuth | undefined;
  let account: Account;
  if (f.signature !== undefined) {
    auth = loadAuth(pubkey, f);
    account = auth.account;
  } else {
    account = loadAccount(pubkey);
  }
  const data = requireField("data", f.data as string | undefined);
  if (!isBase64(data)) throw new ParseError("Invalid 'data' value: not base64 encoded");
  if (data.length > (MAX_MESSAGE_BODY_BYTES / 3) * 4) {
    throw new ParseError(`Message body exceeds maximum allowed length of ${MAX_MESSAGE_BODY_BYTES} bytes`);
  }
  const namespace = (f.namespace as number | undefined) ?? 0;
  const sigTimestamp = (f.sig_timestamp as number | undefined) ?? timestamp;
  return {account, auth, namespace, timestamp, expiry, sigTimestamp, data: Buffer.from(data, "base64")};
}

function checkStore(ctx: RpcContext, req: StoreRequest & {expiry: number}, now: number): void {
  const publicInbox = isPublicInbox(req.namespace);
  const ttl = req.expiry - req.timestamp;
  if (ttl < TTL_MINIMUM_MS || ttl > (publicInbox ? TTL_MAXIMUM_PUBLIC_MS : TTL_MAXIMUM_PRIVATE_MS)) {
    throw new RpcError(HTTP.FORBIDDEN, "Provided expiry/TTL is not valid.");
  }
  if (req.timestamp > now + STORE_TOLERANCE_MS || req.expiry < now - STORE_TOLERANCE_MS) {
    throw new RpcError(HTTP.NOT_ACCEPTABLE, "Timestamp error: check your clock");
  }
  // Public inboxes take anyone's messages; a signature given there is parsed but never checked.
  if (publicInbox) return;
  if (req.auth === undefined) {
    throw new RpcError(HTTP.UNAUTHORIZED, `store: signature required to store to namespace ${req.namespace}`);
  }
  if (Math.abs(req.sigTimestamp - now) > SIGNATURE_TOLERANCE_MS) {
    throw new RpcError(HTTP.NOT_ACCEPTABLE, "store signature timestamp too far from current time");
  }
  // Storing to a public outbox replaces its messages, so subaccounts also need delete access.
  const access = isPublicOutbox(req.namespace) ? ACCESS.WRITE | ACCESS.DELETE : ACCESS.WRITE;
  const msg = sigMessage("store", namespaceSigValue(req.namespace), req.sigTimestamp);
  if (!verifyRequest(ctx, req.auth, access, false, msg)) {
    throw new RpcError(HTTP.UNAUTHORIZED, "store signature verification failed");
  }
}

/**
 * The PIP-0008 fee of this store (a Pars addition to the entry): a new message pays the storage
 * fee times the scarcity multiplier, plus the session-create fee when it opens a mailbox; a
 * re-store of a message already held stores nothing new and is quoted at zero.
 */
function feeEntry(ctx: RpcContext, result: StoreResult, dataBytes: number): {fee?: FeeQuoteJson} {
  if (ctx.fees === undefined) return {};
  if (result.status !== "new") return {fee: quoteJson(ctx.fees.quote(0, false))};
  const q = ctx.fees.quote(dataBytes, result.newMailbox === true);
  ctx.fees.charge(q, dataBytes);
  return {fee: quoteJson(q)};
}

export const storeMethod = defineMethod<StoreRequest>({
  names: ["store"],
  parse: parseStore,
  async run(ctx, parsed, origin, raw) {
    if (!ctx.router.isOurs(parsed.account)) return wrongSwarm(ctx, parsed.account);
    const req = {...parsed, expiry: parsed.expiry ?? parsed.timestamp + ctx.opts.defaultTtlMs};
    const now = ctx.clock.now();
    checkStore(ctx, req, now);
    const hash = messageHash(req.account.bytes, req.namespace, req.data);
    return runRecursive(
      ctx,
      origin,
      "store",
      raw,
      async (sign) => {
        const result = await ctx.store.store({
          account: req.account.hex,
          hash,
          namespace: req.namespace,
          timestamp: req.timestamp,
          expiry: req.expiry,
          data: req.data,
          replaceNamespace: isPublicOutbox(req.namespace),
        });
        const already = result.status !== "new";
        const {fee} = feeEntry(ctx, result, req.data.length);
        // Expiry and fee are signed with the hash, so an entry node cannot alter them.
        const signed = await sign(storeReceipt({hash, expiry: result.expiry, already, fee}));
        const entry = {
          hash,
          ...signed,
          ...(already ? {already: true} : {}),
          expiry: result.expiry,
          ...(fee === undefined ? {} : {fee}),
          ...(origin.recurse ? {t: now} : {}),
        };
        return withSignedJson(entry, signed);
      },
      (_mine, body) => {
        body.hash = hash;
      },
    );
  },
});

