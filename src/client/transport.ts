/**
 * How requests reach nodes. `HttpTransport` speaks HTTP(S) to one node directly (undici, one
 * connection pool per origin); the onion transport wraps the same client RPC body in layers and
 * sends it to the path's first hop. Both answer `{status, body}` as the node would over HTTP.
 */
import {Agent, request, type Dispatcher} from "undici";
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
  /**
   * TLS pinning hook (issue #14 item 3, not built yet): when nodes serve HTTPS, the connector
   * must check the certificate against the node's published key instead of a CA. Until then,
   * https:// URLs use undici's default CA verification; pass `connect` to override it.
   */
  connect?: Agent.Options["connect"];
}

/** Plain HTTP(S) to nodes, with one undici Agent (pooled, keep-alive) for all of them. */
export class HttpClient {
  readonly #agent: Dispatcher;

  constructor(private readonly opts: HttpOptions) {
    this.#agent = new Agent({keepAliveTimeout: 10_000, ...(opts.connect === undefined ? {} : {connect: opts.connect})});
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<HttpGetResult> {
    const res = await request(url, {method: "GET", headers, dispatcher: this.#agent, signal: AbortSignal.timeout(this.opts.timeoutMs)});
    return {status: res.statusCode, headers: res.headers, text: await readCapped(res.body)};
  }

  async post(url: string, body: string | Uint8Array, contentType = "application/json"): Promise<HttpGetResult> {
    const res = await request(url, {
      method: "POST",
      body,
      headers: {"content-type": contentType},
      dispatcher: this.#agent,
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    return {status: res.statusCode, headers: res.headers, text: await readCapped(res.body)};
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
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
      const res = await this.http.post(`${node.url}/storage_rpc/v1`, JSON.stringify(body));
      return parseAnswer(res.status, res.headers["content-type"], res.text);
    } catch (err) {
      throw new TransportFailure(node.nodeId, `${node.url}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {}
}
