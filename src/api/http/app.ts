import {
  DEFAULT_HTTP_BODY_BUDGET_BYTES,
  DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP,
  DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
} from "../../config/index.js";
import type {RpcResponse} from "../../protocol/index.js";
import type {IncomingMessage} from "node:http";
import Fastify, {LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply} from "fastify";

import {HTTP, responseJson, TOO_MANY_REQUESTS} from "../../rpc/index.js";
import type {RequestPipeline} from "../../rpc/index.js";
import {RateLimiter, type RateLimiterOptions} from "../../util/index.js";
import {
  BodyBudget,
  BodyError,
  lingerThenClose,
  readBody,
} from "./body-reader.js";
import {ConnectionLimit, isLoopback} from "./connection-limit.js";
import {MemoryRelease, RELEASE_AFTER_BYTES, RELEASE_DELAY_MS, RELEASE_MIN_INTERVAL_MS} from "./memory-release.js";
import {registerEconomicsRoutes, type EconomicsApi} from "./routes/economics.js";
import {registerNetworkRoutes, type NetworkHealthApi, type NetworkMembership} from "./routes/network.js";
import {registerOnionRoutes, type OnionRouteModules} from "./routes/onion.js";
import {registerPeerRoutes} from "./routes/peer.js";
import type {PeerEndpoint} from "../../peer/index.js";
import {PEER_MAX_FRAME_BYTES} from "../../peer/index.js";
import {registerProofRoutes, type ProofApi} from "./routes/proofs.js";
import {registerStatusRoutes} from "./routes/status.js";
import {registerRewardsRoutes, type RewardsApi} from "./routes/rewards.js";

export interface HttpAppOptions {
  /** Session's MAX_REQUEST_BODY_SIZE: 10 MiB. */
  bodyLimitBytes: number;
  /**
   * Read here only for the proof-challenge bucket (`enabled`, `maxClients`); the shared per-IP
   * bucket is the pipeline's.
   */
  rateLimit: RateLimiterOptions & {enabled: boolean};
  /** Value of the `Server` header. */
  serverName: string;
  /**
   * What `GET /get_stats/v1` answers as `version`: the Session RPC level (`info`'s `version`,
   * dotted), which is what Session answers there.
   */
  rpcVersion: string;
  /** The whole request (headers and body) must arrive within this; 408 otherwise. */
  requestTimeoutMs?: number;
  /** Longest pause between two body chunks; 408 otherwise. */
  bodyIdleTimeoutMs?: number;
  /** Open connections per client IP; more are closed unanswered. */
  maxConnectionsPerIp?: number;
  /** Whether loopback clients are exempt from `maxConnectionsPerIp` (the node sets it; tests of the cap do not). */
  loopbackUncapped?: boolean;
  /** Request-body bytes held at once over all requests; past it 503. */
  bodyBudgetBytes?: number;
  /** PEM certificate and key: serve HTTPS (every route, WebSocket included). Absent or null: plain HTTP. */
  https?: {cert: string; key: string} | null;
}

export interface HttpAppModules {
  /**
   * The node's request pipeline: readiness, the per-IP bucket (shared with the WebSocket endpoint
   * and every client route here), shape checks and the RPC dispatcher.
   */
  pipeline: Pick<RequestPipeline, "admit" | "dispatch" | "allow" | "notReadyReasons">;
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
  /** Onion requests: serves POST /onion_req/v2 (404 without). */
  onion?: OnionRouteModules["relay"];
  /** Fees: serves GET /economics/v1/fees and /economics/v1/ledger. */
  economics?: EconomicsApi;
  /** Storage proofs, when enabled: serves /proof/v1/* (per-IP challenge limit in bursts of 10). */
  proofs?: {api: ProofApi; nodeId: string; challengesPerSecond: number};
  /** Reward accounting and claims, when enabled: serves /rewards/v1/*. */
  rewards?: RewardsApi;
  /**
   * Whether a remote address is a member node's published host: such connections are exempt from
   * `maxConnectionsPerIp`, since a peer keeps a pool of connections for replication, proofs and
   * onion relays (PEER_CONNECTIONS per peer) that a client-sized cap would cut. Absent: none is.
   */
  isMemberAddress?: (ip: string) => boolean;
  /**
   * A full GC (`loadGc()`), run once a burst of request bodies (over 32 MiB held) is over, so their
   * memory leaves the process rather than waiting for V8's next collection. Absent: never forced.
   */
  gc?: (() => void) | null;
}

function send(reply: FastifyReply, res: RpcResponse): FastifyReply {
  reply.code(res.status);
  if (typeof res.body === "string") return reply.type("text/plain; charset=utf-8").send(res.body);
  // responseJson: JSON.stringify's bytes, from the pre-serialised parts of a store or retrieve answer.
  return reply.type("application/json").send(responseJson(res.body));
}

/**
 * The HTTP API, without listening (tests use `inject()`). POST /storage_rpc/v1 is the request
 * pipeline (rpc/pipeline.ts) with HTTP's own checks around it: a body over the limit is refused
 * while it is read (413), before anything else; then readiness (503) and rate limit (429), the
 * long-poll header (410), the JSON shape (400) and the RPC dispatcher.
 */
export function buildHttpApp(opts: HttpAppOptions, modules: HttpAppModules): FastifyInstance {
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_HTTP_REQUEST_TIMEOUT_MS;
  const https = opts.https ?? null;
  const app = Fastify({
    ...(https === null ? {} : {https: {cert: https.cert, key: https.key}}),
    loggerInstance: modules.logger,
    bodyLimit: opts.bodyLimitBytes,
    // Node's own check (every 30 s) for requests whose headers never complete; bodies are timed by readBody.
    requestTimeout: requestTimeoutMs,
    // Per-request log lines cost ~3 % at load and would log client keys: off.
    logController: new LogController({disableRequestLogging: true}),
    // Requests log through the node's logger itself: a pino child per request (its bindings, a
    // request id nothing logs) was ~1.5 % of a store's main-thread time at load.
    childLoggerFactory: (logger) => logger,
  });
  const {pipeline} = modules;
  const member = modules.isMemberAddress ?? ((): boolean => false);
  const uncapped = (ip: string): boolean => (opts.loopbackUncapped === true && isLoopback(ip)) || member(ip);
  new ConnectionLimit(opts.maxConnectionsPerIp ?? DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP, uncapped).attach(app.server);
  const release = new MemoryRelease(
    {delayMs: RELEASE_DELAY_MS, minIntervalMs: RELEASE_MIN_INTERVAL_MS},
    {gc: modules.gc ?? null, now: modules.now, logger: modules.logger},
  );
  app.addHook("onClose", (_app, done) => {
    release.close();
    done();
  });
  const budget = new BodyBudget(opts.bodyBudgetBytes ?? DEFAULT_HTTP_BODY_BUDGET_BYTES, {afterBytes: RELEASE_AFTER_BYTES, notify: (peak) => release.drained(peak)});
  registerBodyReader(app, {
    bodyLimitBytes: opts.bodyLimitBytes,
    requestTimeoutMs,
    bodyIdleTimeoutMs: opts.bodyIdleTimeoutMs ?? DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS,
    budget,
    serverName: opts.serverName,
  });
  const allow = (ip: string): boolean => pipeline.allow(ip);

  app.post("/storage_rpc/v1", async (req, reply) => {
    const refused = pipeline.admit({transport: "http", ip: req.ip});
    if (refused !== null) return send(reply, refused);
    const longPoll = req.headers["x-loki-long-poll"];
    if (typeof longPoll === "string" && longPoll !== "") {
      return send(reply, {status: HTTP.GONE, body: "long polling is no longer supported, client upgrade required"});
    }
    return send(reply, await pipeline.dispatch(Buffer.isBuffer(req.body) ? req.body : ""));
  });

  app.get("/health", (req, reply) => {
    if (!allow(req.ip)) return tooMany(reply);
    return reply.send({status: "ok", ready: pipeline.notReadyReasons().length === 0, ...modules.health()});
  });
  if (modules.network !== undefined || modules.networkHealth !== undefined) {
    const {network: membership, networkHealth: health} = modules;
    registerNetworkRoutes(app, {now: modules.now, allow, ...(membership === undefined ? {} : {membership}), ...(health === undefined ? {} : {health})});
  }
  if (modules.peer !== undefined) {
    const allowHandshake = allow;
    // A sealed frame is its plaintext plus 42 bytes of header and tag.
    const peerOpts = {bodyLimitBytes: PEER_MAX_FRAME_BYTES + 64};
    registerPeerRoutes(app, peerOpts, {endpoint: modules.peer, allowHandshake, logger: modules.logger});
  }
  if (modules.onion !== undefined) registerOnionRoutes(app, {rpcBodyLimitBytes: opts.bodyLimitBytes}, {relay: modules.onion});
  if (modules.proofs !== undefined) registerProofs(app, opts, modules.proofs, {allow, now: modules.now});
  if (modules.rewards !== undefined) registerRewardsRoutes(app, {api: modules.rewards, allow, now: modules.now});
  if (modules.economics !== undefined) {
    registerEconomicsRoutes(app, {api: modules.economics, allow});
  }
  registerStatusRoutes(app, {
    allow,
    now: modules.now,
    uptimeSeconds: () => process.uptime(),
    health: modules.health,
    notReadyReasons: () => pipeline.notReadyReasons(),
    ...(modules.network === undefined ? {} : {membership: modules.network}),
    ...(modules.networkHealth === undefined ? {} : {networkHealth: modules.networkHealth}),
    ...(modules.proofs === undefined ? {} : {proofs: modules.proofs.api}),
    ...(modules.economics === undefined ? {} : {fees: modules.economics}),
  });
  // Deprecated in Session but still answered there.
  app.get("/get_stats/v1", (req, reply) => {
    if (!allow(req.ip)) return tooMany(reply);
    return reply.send({version: opts.rpcVersion});
  });

  app.setNotFoundHandler((req, reply) => {
    if (!allow(req.ip)) return tooMany(reply);
    return send(reply, {status: HTTP.NOT_FOUND, body: `${req.method} ${req.url} Not Found`});
  });

  app.setErrorHandler((err: {code?: string; statusCode?: number}, req, reply) => {
    if (err instanceof BodyError) return answerBodyError(err, req.raw, reply);
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      lingerThenClose(req.raw);
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

function tooMany(reply: FastifyReply): FastifyReply {
  return send(reply, TOO_MANY_REQUESTS);
}

/**
 * A stalled body (408) is cut: the connection closes after the answer. A body too large (413) or
 * refused for the budget (503) is answered at once and the rest of the upload is read and
 * discarded for a bounded time, so the client reads the answer rather than a reset (it must not
 * retry a 413 as if the network had failed).
 */
function answerBodyError(err: BodyError, raw: IncomingMessage, reply: FastifyReply): FastifyReply {
  if (err.statusCode === 408) {
    void reply.header("connection", "close");
    return send(reply, {status: 408, body: `Request Timeout: ${err.message}\n`});
  }
  // fastify marks every parser error `connection: close`, and node would then destroy the socket
  // with the upload unread (a reset at the client): keep the connection while lingering instead.
  reply.removeHeader("connection");
  lingerThenClose(raw);
  return send(reply, {status: err.statusCode, body: err.statusCode === 413 ? "Request body too large" : `${err.message}\n`});
}

/**
 * Session parses the body as JSON whatever the content type says, so the node reads no route's
 * body by its `Content-Type`: the header is dropped on arrival, or fastify would refuse an empty
 * or malformed one with 415 before any route ran. Bodies of every route (client RPC, proofs, the
 * peer routes) are read by readBody: timed (whole request and idle gap), capped (the route's
 * bodyLimit), and charged to the node-wide budget until the answer is sent or the connection
 * closes.
 */
function registerBodyReader(
  app: FastifyInstance,
  o: {bodyLimitBytes: number; requestTimeoutMs: number; bodyIdleTimeoutMs: number; budget: BodyBudget; serverName: string},
): void {
  const held = new WeakMap<IncomingMessage, number>();
  const release = (raw: IncomingMessage): void => {
    const n = held.get(raw) ?? 0;
    held.delete(raw);
    o.budget.release(n);
  };
  app.addHook("onRequest", (req, reply, done) => {
    delete req.raw.headers["content-type"];
    // The `Server` header, set here rather than in an onSend hook: one hook less per request
    // (~7 µs of an `info` call's ~95 µs, docs/benchmarks.md), and reply headers set here survive
    // into the error handler's answers (400, 408, 413, 503) as they did with onSend.
    reply.header("server", o.serverName);
    reply.raw.once("close", () => release(req.raw));
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (req, raw, done) => {
    readBody(
      raw,
      // A route's own bodyLimit (the peer routes' frame size) applies to it instead of the node's.
      {...o, bodyLimitBytes: req.routeOptions.bodyLimit ?? o.bodyLimitBytes},
      o.budget,
      (err, body) => {
        if (err === null) return done(null, body);
        release(raw);
        return done(err, undefined);
      },
      (n) => held.set(raw, (held.get(raw) ?? 0) + n),
    );
  });
}

function registerProofs(
  app: FastifyInstance,
  opts: HttpAppOptions,
  proofs: NonNullable<HttpAppModules["proofs"]>,
  m: {allow: (ip: string) => boolean; now: () => number},
): void {
  const challenges = new RateLimiter({capacity: 10, refillPerSecond: proofs.challengesPerSecond, maxClients: opts.rateLimit.maxClients}, m.now);
  const on = opts.rateLimit.enabled;
  registerProofRoutes(app, {
    proofs: proofs.api,
    nodeId: proofs.nodeId,
    now: m.now,
    allow: m.allow,
    allowChallenge: (ip) => !on || challenges.take(ip),
  });
}
