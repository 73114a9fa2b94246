/**
 * How requests reach nodes. `HttpTransport` speaks HTTP(S) to one node directly (undici, one
 * connection pool per origin); the onion transport wraps the same client RPC body in layers and
 * sends it to the path's first hop. Both answer `{status, body}` as the node would over HTTP.
 */
import type {TLSSocket} from "node:tls";
import {Agent, Client, Pool, buildConnector, request, type Dispatcher} from "undici";
import {pinnedConnector, spkiSha256OfKey, TLS_PIN_MISMATCH, TlsPinError} from "../crypto/index.js";
import type {NodeInfo} from "./nodes.js";

export interface RpcBody {
  method: string;
  params: Record<string, unknown>;
}

export interface RpcAnswer {
  status: number;
  /** Parsed JSON when the node sent JSON, else the text. */
  body: unknown;
}

/** The node could not be reached, or answered something that is not the protocol. */
export class TransportFailure extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
  ) {
    super(message);
    this.name = "TransportFailure";
  }
}

export interface RpcTransport {
  /** Sends one client RPC to `node` (directly, or through a path ending at it). */
  send(node: NodeInfo, body: RpcBody): Promise<RpcAnswer>;
  close(): Promise<void>;
}

export interface HttpGetResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Per-request deadline: connect, headers and body. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/** Largest answer read (retrieve answers are at most 7.8 MB of JSON). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface HttpOptions {
  timeoutMs: number;
}

/** GET and POST against one origin (a node, or a seed whose pin is not known yet). */
export interface HttpRequester {
  get(url: string, headers?: Record<string, string>, tlsPin?: string): Promise<HttpGetResult>;
  post(url: string, body: string | Uint8Array, contentType?: string, tlsPin?: string): Promise<HttpGetResult>;
}

/** A connection to a seed made before its pin is known (HttpClient.openUnpinned). */
export interface UnpinnedSession extends HttpRequester {
  /** SHA-256 of the certificate key the server showed (https), null before a connection or over http. */
  readonly seenPin: string | null;
  close(): Promise<void>;
}

const KEEP_ALIVE_MS = 10_000;

/**
 * HTTP(S) to nodes. Plain http:// goes through one pooled keep-alive Agent. An https:// node is
 * reached only with its record's pin (NodeInfo.tlsPin): one Pool per origin and pin whose every
 * connection must show a certificate with that SubjectPublicKeyInfo, checked before a request
 * byte is sent (pinnedConnector). https:// without a pin is refused: no CA is consulted, since
 * node certificates are self-signed.
 */
export class HttpClient implements HttpRequester {
  /** http:// only; an https:// URL reaching it is refused for want of a pin. */
  readonly #agent: Dispatcher;
  readonly #pinned = new Map<string, Pool>();

  constructor(private readonly opts: HttpOptions) {
    this.#agent = new Agent({keepAliveTimeout: KEEP_ALIVE_MS, connect: pinnedConnector(() => null, {timeoutMs: opts.timeoutMs})});
  }

  /** The dispatcher for `url`: the pinned Pool of its origin when `tlsPin` is given (also for WebSockets). */
  dispatcherFor(url: string, tlsPin?: string): Dispatcher {
    if (tlsPin === undefined || !url.startsWith("https:") && !url.startsWith("wss:")) return this.#agent;
    const origin = new URL(url.replace(/^wss:/, "https:")).origin;
    const key = `${origin} ${tlsPin}`;
    let pool = this.#pinned.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {keepAliveTimeout: KEEP_ALIVE_MS, connect: pinnedConnector(tlsPin, {timeoutMs: this.opts.timeoutMs})});
      this.#pinned.set(key, pool);
    }
    return pool;
  }

  get(url: string, headers: Record<string, string> = {}, tlsPin?: string): Promise<HttpGetResult> {
    return send(this.dispatcherFor(url, tlsPin), url, {method: "GET", headers}, this.opts.timeoutMs);
  }

  post(url: string, body: string | Uint8Array, contentType = "application/json", tlsPin?: string): Promise<HttpGetResult> {
    return send(this.dispatcherFor(url, tlsPin), url, {method: "POST", body, headers: {"content-type": contentType}}, this.opts.timeoutMs);
  }

  /**
   * A session with one seed origin whose pin is not known yet: any certificate is accepted, and
   * the key it shows is `seenPin`. The caller must not trust what it reads until it has matched
   * `seenPin` against a pin from the answer (NodeDirectory: a node of the list must carry it).
   * Every connection of the session must show the same key.
   */
  openUnpinned(origin: string): UnpinnedSession {
    const timeoutMs = this.opts.timeoutMs;
    const base = buildConnector({rejectUnauthorized: false, maxCachedSessions: 0, timeout: timeoutMs});
    let seenPin: string | null = null;
    const connect: buildConnector.connector = (options, callback) =>
      base(options, (err, socket) => {
        if (err !== null) return callback(err, null);
        if (options.protocol !== "https:") return callback(null, socket);
        const cert = (socket as TLSSocket).getPeerX509Certificate();
        const pin = cert === undefined ? null : spkiSha256OfKey(cert.publicKey);
        if (pin !== null && (seenPin === null || seenPin === pin)) {
          seenPin = pin;
          return callback(null, socket);
        }
        socket.destroy();
        callback(new TlsPinError(TLS_PIN_MISMATCH, `${options.hostname}:${options.port}: the seed showed another certificate key than before`), null);
      });
    const client = new Client(origin, {keepAliveTimeout: KEEP_ALIVE_MS, connect});
    return {
      get seenPin() {
        return seenPin;
      },
      get: (url, headers = {}) => send(client, url, {method: "GET", headers}, timeoutMs),
      post: (url, body, contentType = "application/json") => send(client, url, {method: "POST", body, headers: {"content-type": contentType}}, timeoutMs),
      close: () => client.close(),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), ...[...this.#pinned.values()].map((p) => p.close())]);
    this.#pinned.clear();
  }
}

async function send(
  dispatcher: Dispatcher,
  url: string,
  req: {method: "GET" | "POST"; headers: Record<string, string>; body?: string | Uint8Array},
  timeoutMs: number,
): Promise<HttpGetResult> {
  const res = await request(url, {...req, dispatcher, signal: AbortSignal.timeout(timeoutMs)});
  return {status: res.statusCode, headers: res.headers, text: await readCapped(res.body)};
}

async function readCapped(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a node's answer: JSON when it says so (or looks like it), else the text. */
export function parseAnswer(status: number, contentType: unknown, text: string): RpcAnswer {
  const json = (Array.isArray(contentType) ? contentType.join(",") : typeof contentType === "string" ? contentType : "").includes("json");
  if (!json) return {status, body: text};
  try {
    return {status, body: JSON.parse(text) as unknown};
  } catch {
    return {status, body: text};
  }
}

/** `POST /storage_rpc/v1` straight to the node (`direct: true`). */
export class DirectTransport implements RpcTransport {
  constructor(private readonly http: HttpClient) {}

  async send(node: NodeInfo, body: RpcBody): Promise<RpcAnswer> {
    try {
      const res = await this.http.post(`${node.url}/storage_rpc/v1`, JSON.stringify(body), "application/json", node.tlsPin);
      return parseAnswer(res.status, res.headers["content-type"], res.text);
    } catch (err) {
      throw new TransportFailure(node.nodeId, `${node.url}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {}
}
