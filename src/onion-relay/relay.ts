/**
 * `POST /onion_req/v2`, transport-free: one onion request in, one `{status, body}` out
 * (docs/PROTOCOL.md "Onion requests"). Session's statuses and bodies (oxenss/rpc/onion_processing.cpp):
 *
 *   400 "Error parsing onion request: …"   the entry blob is malformed (plain)
 *   400 "Invalid ciphertext"               this node's layer does not decrypt (plain)
 *   200 <sealed {"status":400,…}>         the layer decrypted but its content is malformed
 *   400 "onion request max path length exceeded"   hop_no > ONION_MAX_HOPS
 *   502 "Next node not found: <id>"        the next hop is not a member; no connection is made
 *   504 "Request time out"                 the next hop (or the final hop's RPC) did not answer in time
 *   200 <encrypted {"status","body"}>      the final hop's answer, for the client only
 *
 * and Pars' own: 503 (not ready) and 429 (over its token bucket) for a client at the entry hop only,
 * as the request pipeline answers them, 403 for a relay
 * header that does not verify, 503 when this node has `maxConcurrentRelays` relays in flight,
 * 502 when the next hop cannot be reached or answers more than `maxResponseBytes`. A relay
 * returns the next hop's status and body unchanged. Every await is bounded by `relayTimeoutMs`.
 */
import {performance} from "node:perf_hooks";
import type {OnionMetrics} from "../metrics/index.js";
import type {RpcResponse} from "../protocol/index.js";
import {OnionCounters, type OnionFailure} from "./counters.js";
import type {Forward} from "./forwarder.js";
import {isLayerRefusal, type OnionLayers, type OpenedLayer} from "./layer.js";
import type {RelayCheck, RelayHeaders} from "./relay-auth.js";

/** Session's MAX_ONION_HOPS: a hop refuses a request whose hop_no is above it. */
export const ONION_MAX_HOPS = 15;

export interface OnionRelayOptions {
  /** Longest wait for the next hop's answer, or for the final hop's RPC. */
  relayTimeoutMs: number;
  /** Relays (forwards waiting for the next hop) at once; past it 503. */
  maxConcurrentRelays: number;
  /** Largest answer read back from the next hop. */
  maxResponseBytes: number;
}

export interface OnionRelayModules {
  layers: OnionLayers;
  forward: Forward;
  /**
   * The request pipeline (rpc/pipeline.ts). `admit(ip)`: readiness and one token from the client's
   * bucket at the entry hop (a refusal to send, or null). `dispatch(body)`: the final hop's RPC,
   * the whole pipeline for a source with no address (not charged again).
   */
  admit: (ip: string) => RpcResponse | null;
  dispatch: (rpcBody: Uint8Array) => Promise<RpcResponse>;
  auth: {check(headers: RelayHeaders, blob: Uint8Array): RelayCheck; headers(to: string, blob: Uint8Array): Promise<Record<string, string>>};
  isMember: (nodeId: string) => boolean;
  logger: {debug(obj: object, msg: string): void; error(obj: object, msg: string): void};
  counters?: OnionCounters;
  /** Time spent per hop; null or absent when metrics are off. */
  metrics?: OnionMetrics | null;
}

export interface OnionRequest {
  blob: Uint8Array;
  /** The TCP peer's address: charged at the entry hop, never logged or kept. */
  ip: string;
  headers: RelayHeaders;
}

export interface OnionReply {
  status: number;
  body: string | Uint8Array;
  /** Set when a relay passes on the next hop's Content-Type. */
  contentType?: string;
}

const TIMED_OUT = Symbol("timed out");

export class OnionRelay {
  readonly counters: OnionCounters;
  readonly #opts: OnionRelayOptions;
  readonly #m: OnionRelayModules;

  constructor(opts: OnionRelayOptions, modules: OnionRelayModules) {
    this.#opts = opts;
    this.#m = modules;
    this.counters = modules.counters ?? new OnionCounters();
  }

  async handle(req: OnionRequest): Promise<OnionReply> {
    this.counters.entered += 1;
    const refused = this.#admit(req);
    if (refused !== null) return refused;
    let opened: OpenedLayer;
    try {
      opened = this.#m.layers.openLayer(this.#m.layers.parseEntryBlob(req.blob));
    } catch (err) {
      return this.#refuseLayer(err);
    }
    if (opened.hopNo > ONION_MAX_HOPS) return this.#fail("max_hops", 400, "onion request max path length exceeded");
    const started = performance.now();
    const reply = opened.kind === "relay" ? await this.#relay(opened) : await this.#answer(opened);
    this.#m.metrics?.hopDuration.observe({hop: opened.kind}, (performance.now() - started) / 1000);
    return reply;
  }

  /** Relay authentication, then, for a client, the pipeline's readiness check and token bucket. */
  #admit(req: OnionRequest): OnionReply | null {
    const source = this.#m.auth.check(req.headers, req.blob);
    if (source.kind === "relay") return null;
    if (source.kind === "invalid") {
      // A bad relay header costs its sender a token like any client request.
      this.#m.admit(req.ip);
      return this.#fail("relay_auth", 403, `Invalid relay authentication: ${source.reason}`);
    }
    this.counters.fromClients += 1;
    const refused = this.#m.admit(req.ip);
    if (refused === null) return null;
    const reason = refused.status === 429 ? "rate_limited" : refused.status === 503 ? "not_ready" : "refused";
    return this.#fail(reason, refused.status, typeof refused.body === "string" ? refused.body : JSON.stringify(refused.body));
  }

  /** The layer module's refusal, as Session answers it: plain, or sealed once the layer decrypted. */
  #refuseLayer(err: unknown): OnionReply {
    if (!isLayerRefusal(err)) {
      this.#m.logger.error({err: err instanceof Error ? err.message : String(err)}, "onion layer failed unexpectedly");
      return this.#fail("internal", 500, "request failed");
    }
    const reason = LAYER_FAILURE[err.code] ?? "invalid_layer";
    if (err.encryptReply === undefined) return this.#fail(reason, err.status, err.body);
    this.#fail(reason, err.status, err.body);
    return {status: 200, body: err.encryptReply(err.status, err.body)};
  }

  async #relay(layer: Extract<OpenedLayer, {kind: "relay"}>): Promise<OnionReply> {
    const next = layer.destination;
    if (!this.#m.isMember(next)) return this.#fail("unknown_next_hop", 502, `Next node not found: ${next}`);
    if (this.counters.inFlightRelays >= this.#opts.maxConcurrentRelays) {
      return this.#fail("busy", 503, "Node busy: too many onion relays in flight, retry later\n");
    }
    this.counters.inFlightRelays += 1;
    try {
      const {relayTimeoutMs: timeoutMs, maxResponseBytes} = this.#opts;
      const sent = await withTimeout(
        this.#m.auth.headers(next, layer.nextBlob).then((headers) => this.#m.forward(next, layer.nextBlob, {timeoutMs, maxResponseBytes, headers})),
        timeoutMs,
      );
      if (sent === TIMED_OUT || sent.kind === "timeout") return this.#fail("timeout", 504, "Request time out");
      if (sent.kind === "unknown_node") return this.#fail("unknown_next_hop", 502, `Next node not found: ${next}`);
      if (sent.kind === "too_large") return this.#fail("response_too_large", 502, "Invalid response from snode: too large");
      if (sent.kind === "unreachable") return this.#fail("unreachable", 502, `Next node unreachable: ${next}`);
      this.counters.relayed += 1;
      return {status: sent.status, body: sent.body, ...(sent.contentType === null ? {} : {contentType: sent.contentType})};
    } finally {
      this.counters.inFlightRelays -= 1;
    }
  }

  /** The final hop: the RPC answer, Session's wrap_proxy_response, encrypted for the client. */
  async #answer(layer: Extract<OpenedLayer, {kind: "final"}>): Promise<OnionReply> {
    const res = await withTimeout(this.#m.dispatch(layer.rpcBody), this.#opts.relayTimeoutMs);
    this.counters.final += 1;
    const {status, body} = res === TIMED_OUT ? {status: 504, body: "Request time out"} : res;
    return {status: 200, body: layer.encryptResponse(status, body)};
  }

  #fail(reason: OnionFailure, status: number, body: string): OnionReply {
    this.counters.fail(reason);
    this.#m.logger.debug({reason, status}, "onion request refused");
    return {status, body};
  }
}

const LAYER_FAILURE: Partial<Record<string, OnionFailure>> = {
  ONION_ERROR_PARSE: "parse_error",
  ONION_ERROR_MAX_HOPS: "max_hops",
  ONION_ERROR_DECRYPT: "invalid_ciphertext",
  ONION_ERROR_INVALID_LAYER: "invalid_layer",
};

/** `promise`'s value, or TIMED_OUT after `ms` (the promise keeps running; its result is dropped). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
