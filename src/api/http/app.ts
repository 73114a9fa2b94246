import Fastify, {LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply} from "fastify";
import type {RpcResponse} from "../../rpc/context.js";
import {HTTP} from "../../rpc/errors.js";
import type {RpcHandler} from "../../rpc/handler.js";
import type {SwarmRouter} from "../../rpc/swarm-router.js";
import {RateLimiter, type RateLimiterOptions} from "./rate-limiter.js";
import {registerEconomicsRoutes, type EconomicsApi} from "./routes/economics.js";
import {registerNetworkRoutes, type NetworkHealthApi, type NetworkMembership} from "./routes/network.js";
import {registerPeerRoutes} from "./routes/peer.js";
import type {PeerEndpoint} from "../../replication/peer-handler.js";
import {PEER_MAX_FRAME_BYTES} from "../../replication/options.js";
import {registerProofRoutes, type ProofApi} from "./routes/proofs.js";

export interface HttpAppOptions {
  /** Session's MAX_REQUEST_BODY_SIZE: 10 MiB. */
  bodyLimitBytes: number;
  rateLimit: RateLimiterOptions & {enabled: boolean};
  /** Value of the `Server` header. */
  serverName: string;
}

export interface HttpAppModules {
  rpc: RpcHandler;
  router: SwarmRouter;
  logger: FastifyBaseLogger;
  now: () => number;
  /** Extra read-only facts for GET /health. */
  health: () => Record<string, unknown>;
  /** The membership, when the node has a membership source: serves GET /network/v1/nodes. */
  network?: NetworkMembership;
  /** The network view (or a lone node's network of one): serves GET /network/v1/health. */
  networkHealth?: NetworkHealthApi;
  /** Replication, when the node has a membership: serves POST /peer/v1/handshake and /peer/v1/frame. */
  peer?: PeerEndpoint;
  /** Fees: serves GET /economics/v1/fees and /economics/v1/ledger. */
  economics?: EconomicsApi;
  /** Storage proofs, when enabled: serves /proof/v1/* (per-IP challenge limit in bursts of 10). */
  proofs?: {api: ProofApi; nodeId: string; challengesPerSecond: number};
}

function send(reply: FastifyReply, res: RpcResponse): FastifyReply {
  reply.code(res.status);
  if (typeof res.body === "string") return reply.type("text/plain; charset=utf-8").send(res.body);
  return reply.type("application/json").send(JSON.stringify(res.body));
}

/**
 * The HTTP API, without listening (tests use `inject()`). POST /storage_rpc/v1 follows Session's
 * pre-processing order: readiness (503), rate limit (429), long-poll header (410), body size (413),
 * JSON shape (400), then the RPC dispatcher.
 */
export function buildHttpApp(opts: HttpAppOptions, modules: HttpAppModules): FastifyInstance {
  const app = Fastify({
    loggerInstance: modules.logger,
    bodyLimit: opts.bodyLimitBytes,
    // Per-request log lines cost ~3 % at load and would log client keys: off.
    logController: new LogController({disableRequestLogging: true}),
  });
  const limiter = new RateLimiter(opts.rateLimit, modules.now);

  // Session parses the body as JSON whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", {parseAs: "string"}, (_req, body, done) => done(null, body));

  app.addHook("onSend", (_req, reply, payload, done) => {
    reply.header("server", opts.serverName);
    done(null, payload);
  });

  app.post("/storage_rpc/v1", async (req, reply) => {
    const reasons = modules.router.notReadyReasons();
    if (reasons.length > 0) {
      return send(reply, {status: HTTP.SERVICE_UNAVAILABLE, body: `Service node is not ready: ${reasons.join("; ")}\n`});
    }
    if (opts.rateLimit.enabled && !limiter.take(req.ip)) {
      return send(reply, {status: HTTP.TOO_MANY_REQUESTS, body: "Too Many Requests\n"});
    }
    const longPoll = req.headers["x-loki-long-poll"];
    if (typeof longPoll === "string" && longPoll !== "") {
      return send(reply, {status: HTTP.GONE, body: "long polling is no longer supported, client upgrade required"});
    }
    const body = typeof req.body === "string" ? req.body : "";
    return send(reply, await modules.rpc.handleBody(body));
  });

  app.get("/health", (_req, reply) => {
    void reply.send({status: "ok", ready: modules.router.notReadyReasons().length === 0, ...modules.health()});
  });
  if (modules.network !== undefined || modules.networkHealth !== undefined) {
    const allow = (ip: string): boolean => !opts.rateLimit.enabled || limiter.take(ip);
    const {network: membership, networkHealth: health} = modules;
    registerNetworkRoutes(app, {now: modules.now, allow, ...(membership === undefined ? {} : {membership}), ...(health === undefined ? {} : {health})});
  }
  if (modules.peer !== undefined) {
    const allowHandshake = (ip: string): boolean => !opts.rateLimit.enabled || limiter.take(ip);
    // A sealed frame is its plaintext plus 42 bytes of header and tag.
    const peerOpts = {bodyLimitBytes: PEER_MAX_FRAME_BYTES + 64};
    registerPeerRoutes(app, peerOpts, {endpoint: modules.peer, allowHandshake, logger: modules.logger});
  }
  if (modules.proofs !== undefined) registerProofs(app, opts, modules.proofs, {limiter, now: modules.now});
  if (modules.economics !== undefined) {
    const allow = (ip: string): boolean => !opts.rateLimit.enabled || limiter.take(ip);
    registerEconomicsRoutes(app, {api: modules.economics, allow});
  }
  // Deprecated in Session but still answered there.
  app.get("/get_stats/v1", (_req, reply) => {
    void reply.send({version: "2.8.0"});
  });

  app.setNotFoundHandler((req, reply) => {
    void send(reply, {status: HTTP.NOT_FOUND, body: `${req.method} ${req.url} Not Found`});
  });

  app.setErrorHandler((err: {code?: string; statusCode?: number}, _req, reply) => {
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      void reply.header("connection", "close");
      return send(reply, {status: HTTP.PAYLOAD_TOO_LARGE, body: "Request body too large"});
    }
    if (err.code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH") return send(reply, {status: HTTP.BAD_REQUEST, body: "invalid Content-Length"});
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, {status: err.statusCode, body: "Bad Request\n"});
    }
    modules.logger.error({err}, "unhandled HTTP error");
    return send(reply, {status: HTTP.INTERNAL_SERVER_ERROR, body: "request failed"});
  });

  return app;
}

function registerProofs(
  app: FastifyInstance,
  opts: HttpAppOptions,
  proofs: NonNullable<HttpAppModules["proofs"]>,
  m: {limiter: RateLimiter; now: () => number},
): void {
  const challenges = new RateLimiter({capacity: 10, refillPerSecond: proofs.challengesPerSecond, maxClients: opts.rateLimit.maxClients}, m.now);
  const on = opts.rateLimit.enabled;
  registerProofRoutes(app, {
    proofs: proofs.api,
    nodeId: proofs.nodeId,
    now: m.now,
    allow: (ip) => !on || m.limiter.take(ip),
    allowChallenge: (ip) => !on || challenges.take(ip),
  });
}
