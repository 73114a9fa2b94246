/**
 * `POST /onion_req/v2` (docs/PROTOCOL.md "Onion requests"): the body is the raw onion blob; the
 * relay service does the rest. Its body cap is the RPC body limit plus one layer's overhead per
 * hop, so a full-size RPC body fits through the longest path. The client's address is used only
 * for its token bucket at the entry hop and is not logged (the app logs no per-request lines).
 */
import type {FastifyInstance, FastifyReply} from "fastify";
import {ONION_MAX_HOPS, ONION_PATH, RELAY_FROM_HEADER, RELAY_SIG_HEADER, RELAY_TIME_HEADER} from "../../../onion-relay/index.js";
import type {OnionReply, OnionRequest, RelayHeaders} from "../../../onion-relay/index.js";

/**
 * Upper bound of what one hop's layer adds: u32 length, AEAD nonce and tag (28), and the JSON
 * control (ML-KEM ciphertext in base64 1,452 chars, ephemeral key, destination, enc_type, hop_no).
 */
export const ONION_LAYER_OVERHEAD_BYTES = 2048;

export interface OnionRouteOptions {
  /** The node's RPC body limit; the route adds the layers' overhead. */
  readonly rpcBodyLimitBytes: number;
}

export interface OnionRouteModules {
  readonly relay: {handle(req: OnionRequest): Promise<OnionReply>};
}

export function onionBodyLimit(rpcBodyLimitBytes: number): number {
  return rpcBodyLimitBytes + ONION_MAX_HOPS * ONION_LAYER_OVERHEAD_BYTES;
}

export function registerOnionRoutes(app: FastifyInstance, opts: OnionRouteOptions, modules: OnionRouteModules): void {
  app.post(ONION_PATH, {bodyLimit: onionBodyLimit(opts.rpcBodyLimitBytes)}, async (req, reply) => {
    const blob = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await modules.relay.handle({blob, ip: req.ip, headers: relayHeaders(req.headers)});
    return send(reply, answer);
  });
}

function relayHeaders(h: Record<string, string | string[] | undefined>): RelayHeaders {
  const out: RelayHeaders = {};
  for (const name of [RELAY_FROM_HEADER, RELAY_TIME_HEADER, RELAY_SIG_HEADER] as const) {
    const v = h[name];
    if (typeof v === "string") out[name] = v;
  }
  return out;
}

function send(reply: FastifyReply, r: OnionReply): FastifyReply {
  reply.code(r.status);
  if (typeof r.body === "string") return reply.type(r.contentType ?? "text/plain; charset=utf-8").send(r.body);
  return reply.type(r.contentType ?? "application/octet-stream").send(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
}
