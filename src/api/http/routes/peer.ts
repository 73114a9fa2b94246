/**
 * The node-to-node routes (docs/PROTOCOL.md (Replication) §1): `POST /peer/v1/handshake`
 * (body: a channel Init, answer: the Resp) and `POST /peer/v1/frame` (body: a sealed request
 * frame, answer: the sealed reply on the same channel). Bodies are raw bytes
 * (application/octet-stream). Refused bytes get a status by the ChannelError's action, and a small
 * JSON body `{"code", "action"}` (unauthenticated, informational):
 *
 *   409 CHANNEL_ERROR_UNKNOWN_CHANNEL  the sender drops its channels with us and handshakes again
 *   429 CHANNEL_ERROR_RATE_LIMITED     with Retry-After (seconds)
 *   503 CHANNEL_ERROR_BUSY, _CLOSED    try later
 *   403 any other REJECT-class code    forged, tampered or misaddressed: not worth retrying
 *   400 any other IGNORE-class code    stale, replayed, unknown peer: may succeed later
 *
 * Peer routes do not take part in the client rate limit except the handshake, the only step that
 * costs an ML-DSA verification before the sender is authenticated. Their bodies are read like every
 * other (app.ts, readBody): 408 if one stalls, 413 above `bodyLimitBytes`, 503 when the node-wide
 * body budget is exhausted.
 */
import type {FastifyInstance, FastifyReply} from "fastify";
import {ChannelError, type ChannelErrorCode} from "../../../peer/index.js";
import type {PeerEndpoint} from "../../../peer/index.js";
import {PEER_PATHS, STATUS_RESYNC} from "../../../peer/index.js";
import {HTTP} from "../../../rpc/index.js";

export interface PeerRouteOptions {
  /** Largest accepted body (a sealed frame). */
  readonly bodyLimitBytes: number;
}

export interface PeerRouteModules {
  readonly endpoint: PeerEndpoint;
  /** Rate limit of handshakes by client IP: false = answer 429. */
  readonly allowHandshake: (ip: string) => boolean;
  readonly logger: {debug(obj: object, msg?: string): void; error(obj: object, msg?: string): void};
}

const SPECIAL_STATUS: Partial<Record<ChannelErrorCode, number>> = {
  CHANNEL_ERROR_UNKNOWN_CHANNEL: STATUS_RESYNC,
  CHANNEL_ERROR_RATE_LIMITED: HTTP.TOO_MANY_REQUESTS,
  CHANNEL_ERROR_BUSY: HTTP.SERVICE_UNAVAILABLE,
  CHANNEL_ERROR_CLOSED: HTTP.SERVICE_UNAVAILABLE,
};

/** The HTTP status for a refused handshake or frame. */
export function channelErrorStatus(err: ChannelError): number {
  return SPECIAL_STATUS[err.code] ?? (err.action === "REJECT" ? HTTP.FORBIDDEN : HTTP.BAD_REQUEST);
}

export function registerPeerRoutes(app: FastifyInstance, opts: PeerRouteOptions, modules: PeerRouteModules): void {
  void app.register((scope, _opts, done) => {
    // Bodies come from the app's reader (timed, charged to the body budget), capped at bodyLimit.
    scope.post(PEER_PATHS.handshake, {bodyLimit: opts.bodyLimitBytes}, async (req, reply) => {
      if (!modules.allowHandshake(req.ip)) return reply.code(HTTP.TOO_MANY_REQUESTS).send("Too Many Requests\n");
      return answer(reply, modules, () => modules.endpoint.acceptHandshake(bodyOf(req.body)));
    });
    scope.post(PEER_PATHS.frame, {bodyLimit: opts.bodyLimitBytes}, (req, reply) =>
      answer(reply, modules, () => modules.endpoint.handleFrame(bodyOf(req.body))),
    );
    done();
  });
}

function bodyOf(body: unknown): Uint8Array {
  return Buffer.isBuffer(body) ? body : new Uint8Array(0);
}

async function answer(reply: FastifyReply, modules: PeerRouteModules, run: () => Promise<Uint8Array>): Promise<FastifyReply> {
  let bytes: Uint8Array;
  try {
    bytes = await run();
  } catch (err) {
    return refuse(reply, modules, err);
  }
  return reply.type("application/octet-stream").send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function refuse(reply: FastifyReply, modules: PeerRouteModules, err: unknown): FastifyReply {
  if (!(err instanceof ChannelError)) {
    modules.logger.error({err: err instanceof Error ? err.message : String(err)}, "peer route failed");
    return reply.code(HTTP.INTERNAL_SERVER_ERROR).type("application/json").send({code: "internal"});
  }
  modules.logger.debug({code: err.code, action: err.action}, "peer bytes refused");
  if (err.type.code === "CHANNEL_ERROR_RATE_LIMITED") void reply.header("retry-after", String(Math.ceil(err.type.retryAfterMs / 1000)));
  return reply.code(channelErrorStatus(err)).type("application/json").send({code: err.code, action: err.action});
}
