/**
 * The only place node-to-node HTTP happens. Peers are named by node ID; their address comes only
 * from the membership (`PeerDirectory`), never from a URL a caller or peer supplies. One undici
 * `Pool` per peer (keep-alive, a few connections, explicit connect/headers/body timeouts, a
 * response size cap), the retry policy of peer-retry.ts, and pool life cycle: a peer whose address
 * changed gets a new pool, a peer that left has its pool closed (`retainPeers`), and `close()`
 * closes them all.
 *
 * `request()` never rejects: it resolves with the peer's response (any status) or a
 * PeerClientError whose code says what failed (unknown node, connect, timeout, …). `post()` is the
 * throwing form the channel transport uses. What is safe to retry is the caller's call: channel
 * frames are (the receiver's replay window drops a duplicate), a handshake Init is not (the copy is
 * refused as a replay; start a new handshake instead).
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
import {readCappedBody} from "./capped-body.js";

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

/** Where peers are: the membership (`membershipDirectory()`, or replication's MembershipView). */
export interface PeerDirectory {
  /** The peer's address, or null if the node ID is not in the membership. */
  addressOf(nodeId: string): PeerAddress | null;
}

export interface PeerClientModules {
  readonly directory: PeerDirectory;
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
  /**
   * At most this many attempts (1: no retry), below the policy's `maxAttempts`. For callers that
   * poll again on their own schedule, or whose deadline a retry's wait would eat.
   */
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
  /** Deadline of the whole request, retries included; past it the request fails as a timeout. */
  readonly timeoutMs?: number;
  /** A cap below the client's `maxResponseBytes` for this request (e.g. a ~15 KB proof answer). */
  readonly maxResponseBytes?: number;
  /** Default "application/octet-stream". */
  readonly contentType?: string;
}

/** One request to a peer (`PeerClient.request`). */
export interface PeerCall extends Omit<PostOptions, "contentType"> {
  /** Default "POST". */
  readonly method?: "GET" | "POST";
  /** Starts with one "/". */
  readonly path: string;
  /** Bytes, sent as application/octet-stream (or `contentType`). */
  readonly body?: Uint8Array;
  /** A value sent as application/json (instead of `body`). */
  readonly json?: unknown;
  readonly contentType?: string;
  /** Sent as the Accept header. */
  readonly accept?: string;
  /** Further request headers (an onion relay's signed header). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What `request()` resolves with: the peer's answer (any status), or why there is none. */
export type PeerResult = ({ok: true} & PeerResponse) | {ok: false; error: PeerClientError};

export interface PeerResponse {
  readonly status: number;
  readonly body: Buffer;
  /** Attempts made, 1 = no retry. */
  readonly attempts: number;
  /** The response's Content-Type, if it had one (an onion relay passes it on). */
  readonly contentType?: string;
}

type Attempt =
  | {kind: "response"; status: number; body: Buffer; retryAfter: string | string[] | undefined; contentType: string | undefined}
  | {kind: "error"; err: unknown};

/** One request as the attempts send it. */
interface Send {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body: Uint8Array | string | null;
  readonly headers: Record<string, string>;
  readonly idempotent: boolean;
  readonly maxAttempts: number;
  readonly maxResponseBytes: number;
  readonly timeoutMs: number | null;
  /** The caller's signal and the deadline, combined. */
  readonly signal: AbortSignal | undefined;
  /** The caller's own signal (an abort by it is ABORTED, the deadline's is TIMEOUT). */
  readonly callerSignal: AbortSignal | undefined;
}

export class PeerClient {
  readonly #opts: PeerClientOptions;
  readonly #directory: PeerDirectory;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #onRetry: PeerClientModules["onRetry"];
  readonly #pools = new Map<string, {origin: string; pool: Pool}>();
  #closed = false;

  constructor(opts: Partial<PeerClientOptions>, modules: PeerClientModules) {
    this.#opts = checkOptions({...defaultPeerClientOptions, ...opts});
    this.#directory = modules.directory;
    this.#random = modules.random ?? Math.random;
    this.#clock = modules.clock ?? systemClock;
    this.#onRetry = modules.onRetry;
  }

  /**
   * Sends `call` to the member `nodeId`. Resolves with `{ok: true, status, body, attempts}` for any
   * HTTP status, or `{ok: false, error}` (a PeerClientError: unknown node, connect, timeout, …);
   * never rejects except for a malformed `call` (InvalidArgumentError).
   */
  async request(nodeId: string, call: PeerCall): Promise<PeerResult> {
    const json = call.json === undefined ? null : JSON.stringify(call.json);
    const body = json ?? call.body ?? null;
    const contentType = call.contentType ?? (json === null ? "application/octet-stream" : "application/json");
    const headers: Record<string, string> = {...call.headers, ...(body === null ? {} : {"content-type": contentType})};
    if (call.accept !== undefined) headers["accept"] = call.accept;
    try {
      return {ok: true, ...(await this.#send(nodeId, this.#prepare(call.method ?? "POST", call.path, body, headers, call)))};
    } catch (err) {
      if (err instanceof PeerClientError) return {ok: false, error: err};
      throw err;
    }
  }

  /** POSTs `body` to `path` on the member `nodeId`; resolves with any HTTP status, rejects with PeerClientError. */
  async post(nodeId: string, path: string, body: Uint8Array, options: PostOptions = {}): Promise<PeerResponse> {
    const headers = {"content-type": options.contentType ?? "application/octet-stream"};
    return this.#send(nodeId, this.#prepare("POST", path, body, headers, options));
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

  #prepare(method: "GET" | "POST", path: string, body: Uint8Array | string | null, headers: Record<string, string>, o: PostOptions): Send {
    if (!path.startsWith("/") || path.startsWith("//")) throw new InvalidArgumentError(`path must start with one "/": ${path}`);
    const positive = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n > 0);
    if (!positive(o.timeoutMs) || !positive(o.maxResponseBytes) || !positive(o.maxAttempts)) {
      throw new InvalidArgumentError("timeoutMs, maxResponseBytes and maxAttempts must be positive integers");
    }
    const timeoutMs = o.timeoutMs ?? null;
    const signals = [o.signal, timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)].filter((x) => x !== undefined);
    return {
      method,
      path,
      body,
      headers,
      idempotent: o.idempotent ?? false,
      maxAttempts: Math.min(o.maxAttempts ?? this.#opts.retry.maxAttempts, this.#opts.retry.maxAttempts),
      maxResponseBytes: Math.min(o.maxResponseBytes ?? this.#opts.maxResponseBytes, this.#opts.maxResponseBytes),
      timeoutMs,
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      callerSignal: o.signal,
    };
  }

  async #send(nodeId: string, req: Send): Promise<PeerResponse> {
    const peer = this.#directory.addressOf(nodeId);
    if (peer === null) {
      throw new PeerClientError({code: "PEER_CLIENT_ERROR_UNKNOWN_PEER", peer: nodeId, attempts: 0, cause: null}, `${nodeId} is not in the membership`);
    }
    if (this.#closed) {
      throw new PeerClientError({code: "PEER_CLIENT_ERROR_CLOSED", peer: nodeId, attempts: 0, cause: null}, "peer client closed");
    }
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(peer, req);
      const delayMs = this.#retryDelay(result, attempt, req);
      if (delayMs === null) return this.#finish(result, peer, attempt, req);
      this.#onRetry?.({peer: nodeId, attempt, delayMs, reason: describe(result)});
      try {
        await sleep(delayMs, undefined, {signal: req.signal});
      } catch (err) {
        return this.#finish({kind: "error", err}, peer, attempt, req);
      }
    }
  }

  async #attempt(peer: PeerAddress, req: Send): Promise<Attempt> {
    try {
      const o = this.#opts;
      const res = await this.#pool(peer).request({
        method: req.method,
        path: req.path,
        body: req.body,
        headers: req.headers,
        signal: req.signal,
        // A request's own deadline replaces the pool's (a proof's deadline may exceed 5 s).
        headersTimeout: req.timeoutMs ?? o.headersTimeoutMs,
        bodyTimeout: req.timeoutMs ?? o.bodyTimeoutMs,
      });
      const bytes = await readCappedBody(res.body, req.maxResponseBytes);
      const type = res.headers["content-type"];
      return {kind: "response", status: res.statusCode, body: bytes, retryAfter: res.headers["retry-after"], contentType: typeof type === "string" ? type : undefined};
    } catch (err) {
      return {kind: "error", err};
    }
  }

  /** Milliseconds to wait before the next attempt, or null to stop here. */
  #retryDelay(result: Attempt, attempt: number, req: Send): number | null {
    if (attempt >= req.maxAttempts || this.#closed || req.signal?.aborted === true) return null;
    const backoff = retryDelayMs(this.#opts.retry, attempt, this.#random);
    if (result.kind === "error") return shouldRetryFailure(classifyFailure(result.err, false), req.idempotent) ? backoff : null;
    if (!shouldRetryStatus(result.status, req.idempotent)) return null;
    const asked = retryAfterMs(result.retryAfter, this.#clock.now());
    if (asked === null) return backoff;
    return asked <= this.#opts.retry.maxRetryAfterMs ? Math.max(backoff, asked) : null;
  }

  #finish(result: Attempt, peer: PeerAddress, attempts: number, req: Send): PeerResponse {
    if (result.kind === "response") {
      return {status: result.status, body: result.body, attempts, ...(result.contentType === undefined ? {} : {contentType: result.contentType})};
    }
    const aborted = req.callerSignal?.aborted === true;
    const timedOut = !aborted && req.signal?.aborted === true;
    const failure = this.#closed && !aborted ? {code: "PEER_CLIENT_ERROR_CLOSED" as const} : timedOut ? {code: "PEER_CLIENT_ERROR_TIMEOUT" as const} : classifyFailure(result.err, aborted);
    const cause = timedOut ? `no answer within ${req.timeoutMs} ms` : errorCode(result.err);
    const reason = result.err instanceof Error ? result.err.message : String(result.err);
    throw new PeerClientError(
      {code: failure.code, peer: peer.nodeId, attempts, cause},
      `${req.method} ${req.path} to peer ${peer.nodeId} (${peer.host}:${peer.port}) failed after ${attempts} attempt(s): ${reason}`,
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
