/**
 * The relay's one way out: POST an onion blob to a member node, named by node ID, at the address
 * the membership holds for it (never an address from the request: no SSRF). This is the seam the
 * peer module's client replaces (`forward(nodeId, blob, opts)`); the result says which way it
 * failed so the relay can answer Session's statuses.
 */
import {Agent, errors as undiciErrors} from "undici";

export const ONION_PATH = "/onion_req/v2";

export interface ForwardOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  headers: Record<string, string>;
}

export type ForwardResult =
  | {kind: "response"; status: number; body: Buffer; contentType: string | null}
  | {kind: "unknown_node"}
  | {kind: "timeout"}
  | {kind: "unreachable"; reason: string}
  | {kind: "too_large"};

export type Forward = (nodeId: string, blob: Uint8Array, opts: ForwardOptions) => Promise<ForwardResult>;

export interface MemberAddress {
  host: string;
  port: number;
}

/** Forwards over HTTP with one keep-alive agent; `address` looks the node up in the membership. */
export class HttpForwarder {
  // Sockets per next hop: a relay holds one until the final hop's store has replicated (~100 ms),
  // so 8 capped the onion bench at ~50 req/s; the next hop's per-IP cap (http.maxConnectionsPerIp,
  // 32, loopback exempt) also counts this node's replication sockets, hence not more.
  readonly #agent = new Agent({keepAliveTimeout: 30_000, connections: 16});
  readonly #address: (nodeId: string) => MemberAddress | null;

  constructor(modules: {address: (nodeId: string) => MemberAddress | null}) {
    this.#address = modules.address;
  }

  readonly forward: Forward = async (nodeId, blob, opts) => {
    const addr = this.#address(nodeId);
    if (addr === null) return {kind: "unknown_node"};
    const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
    const signal = AbortSignal.timeout(opts.timeoutMs);
    try {
      const res = await this.#agent.request({
        origin: `http://${host}:${addr.port}`,
        path: ONION_PATH,
        method: "POST",
        body: blob,
        headers: {...opts.headers, "content-type": "application/octet-stream"},
        signal,
      });
      const body = await readCapped(res.body, opts.maxResponseBytes);
      if (body === null) return {kind: "too_large"};
      const type = res.headers["content-type"];
      return {kind: "response", status: res.statusCode, body, contentType: typeof type === "string" ? type : null};
    } catch (err) {
      if (signal.aborted || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return {kind: "timeout"};
      return {kind: "unreachable", reason: err instanceof Error ? err.message : String(err)};
    }
  };

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** The whole body, or null (and the stream destroyed) once it passes `max` bytes. */
async function readCapped(body: AsyncIterable<Buffer> & {destroy(): unknown}, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > max) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, n);
}
