import {performance} from "node:perf_hooks";
import type {RpcMetrics} from "../metrics/index.js";
import type {RpcResponse} from "../protocol/index.js";
import type {SwarmRouter} from "../swarm/index.js";
import type {Logger} from "../util/index.js";
import {HTTP} from "./errors.js";
import {RPC_METHOD_NAMES, type RpcHandler} from "./handler.js";
import type {Params} from "./params.js";

/** The door a request came in by. */
export type RpcTransport = "http" | "ws" | "onion";

/**
 * Who sent a request. `ip` names the per-IP bucket that pays for it; null means the request is
 * not charged here because its token was taken elsewhere: a WebSocket frame pays on arrival,
 * whatever its type (the endpoint charges it before it knows it is an RPC), and an onion request
 * is charged to the entry hop's client there, not to the hop that hands it to this node.
 */
export interface RequestSource {
  transport: RpcTransport;
  ip: string | null;
}

/** A request whose JSON was already parsed by its transport (a WebSocket frame): fields unchecked. */
export interface ParsedRpcRequest {
  method: unknown;
  params: unknown;
}

/** The body of `POST /storage_rpc/v1` as bytes or text, or the parsed `{method, params}`. */
export type RpcInput = string | Buffer | ParsedRpcRequest;

export interface RequestPipelineModules {
  rpc: Pick<RpcHandler, "handle">;
  router: Pick<SwarmRouter, "notReadyReasons">;
  /**
   * The node's one per-IP token bucket, shared by every client route and WebSocket frame so that
   * no door bypasses another; null when rate limiting is off.
   */
  limiter: {take(ip: string): boolean} | null;
  logger: Pick<Logger, "error">;
  /** Requests by method and status, their latency and rate-limit refusals; null when metrics are off. */
  metrics?: RpcMetrics | null;
}

/** Session's answer when the bucket is empty (every transport sends these bytes). */
export const TOO_MANY_REQUESTS: RpcResponse = Object.freeze({status: HTTP.TOO_MANY_REQUESTS, body: "Too Many Requests\n"});

const FAILED: RpcResponse = Object.freeze({status: HTTP.INTERNAL_SERVER_ERROR, body: "request failed"});

const isObject = (v: unknown): v is Params => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The one way a client RPC enters the node, whatever carried it: `POST /storage_rpc/v1`, a
 * WebSocket `rpc` frame, or (at the final hop) a decrypted onion request. In Session's order:
 *
 * 1. readiness: 503 `Service node is not ready: <reasons>\n` until the router is ready;
 * 2. rate limit: one token from `source.ip`'s bucket, else 429 `Too Many Requests\n` (skipped for
 *    `ip: null`, see {@link RequestSource});
 * 3. shape: the body must be a JSON object with a string `method` and an object `params`, else 400
 *    `invalid json` / ``invalid json: no `method` field`` / ``invalid json: no `params` field``;
 * 4. dispatch to the RpcHandler; an exception it lets through answers 500 `request failed`.
 *
 * The answer is the transport-independent `{status, body}`; the transport only frames it. A
 * transport with a check of its own between steps 2 and 3 (HTTP's long-poll header, 410) calls
 * `admit` and `dispatch` itself; everything else calls `handle`. Nothing here throws.
 */
export class RequestPipeline {
  constructor(private readonly m: RequestPipelineModules) {}

  /** Steps 1-4. */
  async handle(input: RpcInput, source: RequestSource): Promise<RpcResponse> {
    return this.admit(source) ?? (await this.dispatch(input));
  }

  /** Steps 1-2: the refusal to send, or null when the request may go on. */
  admit(source: RequestSource): RpcResponse | null {
    const reasons = this.m.router.notReadyReasons();
    if (reasons.length > 0) return {status: HTTP.SERVICE_UNAVAILABLE, body: `Service node is not ready: ${reasons.join("; ")}\n`};
    if (source.ip !== null && !this.allow(source.ip)) return TOO_MANY_REQUESTS;
    return null;
  }

  /** Steps 3-4, for a request already admitted. */
  async dispatch(input: RpcInput): Promise<RpcResponse> {
    const started = performance.now();
    const res = await this.#dispatch(input);
    const metrics = this.m.metrics;
    if (metrics != null) {
      const method = typeof res.method === "string" && RPC_METHOD_NAMES.has(res.method) ? res.method : "other";
      metrics.requests.inc({method, status: String(res.response.status)});
      metrics.duration.observe({method}, (performance.now() - started) / 1000);
    }
    return res.response;
  }

  async #dispatch(input: RpcInput): Promise<{method: unknown; response: RpcResponse}> {
    const req = typeof input === "string" || Buffer.isBuffer(input) ? parseBody(input) : input;
    return {method: req?.method, response: await this.#run(req)};
  }

  async #run(req: ParsedRpcRequest | null): Promise<RpcResponse> {
    if (req === null) return {status: HTTP.BAD_REQUEST, body: "invalid json"};
    if (typeof req.method !== "string") return {status: HTTP.BAD_REQUEST, body: "invalid json: no `method` field"};
    if (!isObject(req.params)) return {status: HTTP.BAD_REQUEST, body: "invalid json: no `params` field"};
    try {
      return await this.m.rpc.handle(req.method, req.params);
    } catch (err) {
      // RpcHandler answers its own failures; this guards against a bug costing more than this request.
      this.m.logger.error({method: req.method, err: err instanceof Error ? err.stack : String(err)}, "rpc request raised an exception");
      return FAILED;
    }
  }

  /**
   * Takes one token from `ip`'s bucket (true when rate limiting is off). For the transports' other
   * routes and frames, which share the bucket without being RPCs.
   */
  allow(ip: string): boolean {
    if (this.m.limiter === null || this.m.limiter.take(ip)) return true;
    this.m.metrics?.rateLimited.inc();
    return false;
  }

  /** Why the node does not serve RPCs yet; empty when it does. */
  notReadyReasons(): string[] {
    return this.m.router.notReadyReasons();
  }
}

/** A JSON object's fields (unchecked), or null when the text is not JSON or not an object. */
function parseBody(input: string | Buffer): ParsedRpcRequest | null {
  let json: unknown;
  try {
    json = JSON.parse(typeof input === "string" ? input : input.toString("utf8"));
  } catch {
    return null;
  }
  // A JSON value that is not an object has no `method` (Session: "no `method` field").
  return isObject(json) ? {method: json.method, params: json.params} : {method: undefined, params: undefined};
}
