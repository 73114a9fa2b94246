/**
 * A Session-style onion client for tests: reads the published node records (GET
 * /network/v1/nodes: ML-KEM key in base64, X25519 key in hex), builds paths through them with
 * the layer module and talks from its own loopback address (127.0.0.2 by default) so a node's
 * logs and state can be searched for it.
 */
import {Agent, request} from "undici";
import {buildOnionRequest, hopFromEntry, type HopPublicKeys, type OnionResponse} from "../../src/onion/index.js";

export const CLIENT_ADDRESS = "127.0.0.2";

export interface PublishedNode extends HopPublicKeys {
  url: string;
}

export interface OnionAnswer {
  /** The entry hop's HTTP status (200 when the final hop answered). */
  httpStatus: number;
  raw: Buffer;
  /** The final hop's decrypted {status, body}; null when the path refused the request. */
  inner: OnionResponse | null;
}

export class OnionTestClient {
  readonly agent: Agent;

  constructor(
    readonly nodes: ReadonlyMap<string, PublishedNode>,
    readonly localAddress = CLIENT_ADDRESS,
  ) {
    this.agent = new Agent({localAddress, keepAliveTimeout: 10});
  }

  /** Reads the node list published by the node at `url`. */
  static async fromNetwork(url: string, localAddress = CLIENT_ADDRESS): Promise<OnionTestClient> {
    const agent = new Agent({localAddress, keepAliveTimeout: 10});
    const res = await request(`${url}/network/v1/nodes`, {dispatcher: agent});
    const body = (await res.body.json()) as {nodes: Array<{node_id: string; host: string; port: number}>};
    await agent.close();
    const nodes = new Map<string, PublishedNode>();
    for (const n of body.nodes) {
      const hop = hopFromEntry(n);
      if (hop === null) throw new Error(`node ${n.node_id} publishes no usable onion keys`);
      nodes.set(n.node_id, {...hop, url: `http://${n.host}:${n.port}`});
    }
    return new OnionTestClient(nodes, localAddress);
  }

  hop(nodeId: string): PublishedNode {
    const n = this.nodes.get(nodeId);
    if (n === undefined) throw new Error(`unknown node ${nodeId}`);
    return n;
  }

  /** Builds the request for `path` (node IDs or explicit hop keys) and sends it to the first hop. */
  async send(path: Array<string | HopPublicKeys>, rpc: {method: string; params: unknown}, opts: {json?: boolean; tamper?: (blob: Uint8Array) => Uint8Array} = {}): Promise<OnionAnswer> {
    const hops = path.map((p) => (typeof p === "string" ? this.hop(p) : p));
    const built = buildOnionRequest(hops, Buffer.from(JSON.stringify(rpc)), opts.json === undefined ? {} : {json: opts.json});
    const blob = opts.tamper === undefined ? built.blob : opts.tamper(built.blob);
    const raw = await this.post(this.hop(built.firstHop).url, blob);
    let inner: OnionResponse | null = null;
    if (raw.status === 200) inner = built.decryptResponse(raw.body.toString("utf8"));
    return {httpStatus: raw.status, raw: raw.body, inner};
  }

  /** Builds without sending: the blob and its decryptor (for replays). */
  build(path: string[], rpc: {method: string; params: unknown}): ReturnType<typeof buildOnionRequest> {
    return buildOnionRequest(path.map((id) => this.hop(id)), Buffer.from(JSON.stringify(rpc)));
  }

  async post(url: string, blob: Uint8Array, headers: Record<string, string> = {}): Promise<{status: number; body: Buffer}> {
    const res = await request(`${url}/onion_req/v2`, {method: "POST", body: blob, headers, dispatcher: this.agent});
    return {status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer())};
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
