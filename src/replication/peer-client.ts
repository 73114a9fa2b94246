/**
 * The only place node-to-node HTTP happens. One undici `Pool` per peer (keep-alive, a few
 * connections, explicit connect/headers/body timeouts, a response size cap), `post()` with the
 * retry policy of peer-retry.ts, and pool life cycle: a peer whose address changed gets a new
 * pool, a peer that left has its pool closed (`retainPeers`), and `close()` closes them all.
 *
 * Bodies are opaque bytes (channel Init/Resp messages and frames). What is safe to retry is the
 * caller's call: channel frames are (the receiver's replay window drops a duplicate), a handshake
 * Init is not (the copy is refused as a replay; start a new handshake instead).
 */
import {setTimeout as sleep} from "node:timers/promises";
import {Pool} from "undici";
import {InvalidArgumentError} from "../util/index.js";
import {type Clock, systemClock} from "../util/index.js";
import {
  type PeerRetryPolicy,
  PeerClientError,
  classifyFailure,
  defaultPeerRetryPolicy,
  errorCode,
  retryAfterMs,
  retryDelayMs,
  shouldRetryFailure,
  shouldRetryStatus,
} from "./peer-retry.js";

export interface PeerAddress {
  /** 64-hex node ID: pools are per node. */
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
}

export interface PeerClientOptions {
  /** Default "http": peer traffic is protected by the channel, not by TLS. */
  readonly scheme: "http" | "https";
  /** Connections per peer. Default 4. */
  readonly connections: number;
  /** TCP (and TLS) connect deadline. Default 3 s. */
  readonly connectTimeoutMs: number;
  /** From sending the request to the response headers. Default 5 s (Session's forward timeout). */
  readonly headersTimeoutMs: number;
  /** Longest silence between response body chunks. Default 5 s. */
  readonly bodyTimeoutMs: number;
  /** Idle keep-alive sockets close after this (below Node's 5 s server default). Default 4 s. */
  readonly keepAliveTimeoutMs: number;
  /** Larger responses fail with PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE. Default 17 MiB (one max frame + slack). */
  readonly maxResponseBytes: number;
  readonly retry: PeerRetryPolicy;
}

export const defaultPeerClientOptions: PeerClientOptions = Object.freeze({
  scheme: "http",
  connections: 4,
  connectTimeoutMs: 3_000,
  headersTimeoutMs: 5_000,
  bodyTimeoutMs: 5_000,
  keepAliveTimeoutMs: 4_000,
  maxResponseBytes: 17 * 1024 * 1024,
  retry: defaultPeerRetryPolicy,
});

export interface PeerClientModules {
  /** Jitter source, [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Wall clock for Retry-After dates. Default systemClock. */
  readonly clock?: Clock;
  /** Called before each retry (metrics, debug logs). */
  readonly onRetry?: (info: {peer: string; attempt: number; delayMs: number; reason: string}) => void;
}

export interface PostOptions {
  /** May the peer safely process this body twice? Default false. See peer-retry.ts. */
  readonly idempotent?: boolean;
  readonly signal?: AbortSignal;
}

export interface PeerResponse {
  readonly status: number;
  readonly body: Buffer;
  /** Attempts made, 1 = no retry. */
  readonly attempts: number;
}

type Attempt = {kind: "response"; status: number; body: Buffer; retryAfter: string | string[] | undefined} | {kind: "error"; err: unknown};

export class PeerClient {
  readonly #opts: PeerClientOptions;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #onRetry: PeerClientModules["onRetry"];
  readonly #pools = new Map<string, {origin: string; pool: Pool}>();
  #closed = false;

  constructor(opts: Partial<PeerClientOptions>, modules: PeerClientModules = {}) {
    this.#opts = checkOptions({...defaultPeerClientOptions, ...opts});
    this.#random = modules.random ?? Math.random;
    this.#clock = modules.clock ?? systemClock;
    this.#onRetry = modules.onRetry;
  }

  /** POSTs `body` to `path` on `peer`; resolves with any HTTP status, rejects with PeerClientError. */
  async post(peer: PeerAddress, path: string, body: Uint8Array, options: PostOptions = {}): Promise<PeerResponse> {
    if (!path.startsWith("/") || path.startsWith("//")) throw new InvalidArgumentError(`path must start with one "/": ${path}`);
    if (this.#closed) {
      throw new PeerClientError({code: "PEER_CLIENT_ERROR_CLOSED", peer: peer.nodeId, attempts: 0, cause: null}, "peer client closed");
    }
    const idempotent = options.idempotent ?? false;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(peer, path, body, options.signal);
      const delayMs = this.#retryDelay(result, attempt, idempotent, options.signal);
      if (delayMs === null) return this.#finish(result, peer, attempt, options.signal);
      this.#onRetry?.({peer: peer.nodeId, attempt, delayMs, reason: describe(result)});
      try {
        await sleep(delayMs, undefined, {signal: options.signal});
      } catch (err) {
        return this.#finish({kind: "error", err}, peer, attempt, options.signal);
      }
    }
  }

  /** Closes the pools of peers not in `nodeIds` (they left the membership). */
  async retainPeers(nodeIds: Iterable<string>): Promise<void> {
    const keep = new Set(nodeIds);
    await Promise.all([...this.#pools.keys()].filter((id) => !keep.has(id)).map((id) => this.closePeer(id)));
  }

  /** Closes one peer's pool; requests in flight on it finish first. */
  async closePeer(nodeId: string): Promise<void> {
    const entry = this.#pools.get(nodeId);
    if (entry === undefined) return;
    this.#pools.delete(nodeId);
    await entry.pool.close().catch(() => undefined);
  }

  /** Peers with an open pool. */
  peers(): string[] {
    return [...this.#pools.keys()];
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.keys()].map((id) => this.closePeer(id)));
  }

  async #attempt(peer: PeerAddress, path: string, body: Uint8Array, signal: AbortSignal | undefined): Promise<Attempt> {
    try {
      const res = await this.#pool(peer).request({
        method: "POST",
        path,
        body,
        headers: {"content-type": "application/octet-stream"},
        signal,
      });
      const bytes = Buffer.from(await res.body.arrayBuffer());
      return {kind: "response", status: res.statusCode, body: bytes, retryAfter: res.headers["retry-after"]};
    } catch (err) {
      return {kind: "error", err};
    }
  }

  /** Milliseconds to wait before the next attempt, or null to stop here. */
  #retryDelay(result: Attempt, attempt: number, idempotent: boolean, signal: AbortSignal | undefined): number | null {
    if (attempt >= this.#opts.retry.maxAttempts || this.#closed || signal?.aborted === true) return null;
    const backoff = retryDelayMs(this.#opts.retry, attempt, this.#random);
    if (result.kind === "error") return shouldRetryFailure(classifyFailure(result.err, false), idempotent) ? backoff : null;
    if (!shouldRetryStatus(result.status, idempotent)) return null;
    const asked = retryAfterMs(result.retryAfter, this.#clock.now());
    if (asked === null) return backoff;
    return asked <= this.#opts.retry.maxRetryAfterMs ? Math.max(backoff, asked) : null;
  }

  #finish(result: Attempt, peer: PeerAddress, attempts: number, signal: AbortSignal | undefined): PeerResponse {
    if (result.kind === "response") return {status: result.status, body: result.body, attempts};
    const aborted = signal?.aborted === true;
    const failure = this.#closed && !aborted ? {code: "PEER_CLIENT_ERROR_CLOSED" as const} : classifyFailure(result.err, aborted);
    const cause = errorCode(result.err);
    const reason = result.err instanceof Error ? result.err.message : String(result.err);
    throw new PeerClientError(
      {code: failure.code, peer: peer.nodeId, attempts, cause},
      `POST to peer ${peer.nodeId} (${peer.host}:${peer.port}) failed after ${attempts} attempt(s): ${reason}`,
      result.err,
    );
  }

  #pool(peer: PeerAddress): Pool {
    const origin = `${this.#opts.scheme}://${peer.host.includes(":") ? `[${peer.host}]` : peer.host}:${peer.port}`;
    const entry = this.#pools.get(peer.nodeId);
    if (entry !== undefined && entry.origin === origin) return entry.pool;
    if (entry !== undefined) void entry.pool.close().catch(() => undefined); // the peer moved
    const o = this.#opts;
    const pool = new Pool(origin, {
      connections: o.connections,
      connectTimeout: o.connectTimeoutMs,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      maxResponseSize: o.maxResponseBytes,
    });
    this.#pools.set(peer.nodeId, {origin, pool});
    return pool;
  }
}

function describe(result: Attempt): string {
  return result.kind === "response" ? `HTTP ${result.status}` : (errorCode(result.err) ?? "error");
}

function checkOptions(o: PeerClientOptions): PeerClientOptions {
  const positive = (n: number): boolean => Number.isSafeInteger(n) && n > 0;
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`PeerClient: ${what}`);
  };
  if (o.scheme !== "http" && o.scheme !== "https") bad(`scheme must be "http" or "https"`);
  if (!positive(o.connections) || o.connections > 64) bad("connections must be 1..64");
  for (const k of ["connectTimeoutMs", "headersTimeoutMs", "bodyTimeoutMs", "keepAliveTimeoutMs", "maxResponseBytes"] as const) {
    if (!positive(o[k])) bad(`${k} must be a positive integer`);
  }
  const r = o.retry;
  if (!positive(r.maxAttempts) || r.maxAttempts > 10) bad("retry.maxAttempts must be 1..10");
  if (!(r.baseDelayMs >= 0 && r.maxDelayMs >= r.baseDelayMs && r.factor >= 1 && r.maxRetryAfterMs >= 0)) {
    bad("retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs, factor >= 1, maxRetryAfterMs >= 0");
  }
  return Object.freeze({...o, retry: Object.freeze({...r})});
}
