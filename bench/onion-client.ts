/**
 * The load client's onion side: reads the entry node's /network/v1/nodes, takes the entry and the
 * next two nodes as a 3-hop path, and wraps each RPC body into an onion blob (client-side ML-KEM
 * on liboqs when it loads, so the load client is not the bottleneck).
 */
import {request} from "undici";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {buildOnionRequest, type HopPublicKeys} from "../src/onion/index.js";
import type {Outgoing} from "./load-client.js";

interface NodeJson {
  node_id: string;
  port: number;
  pubkey_mlkem: string;
  pubkey_x25519?: string;
}

/** The 3-hop path entering at `url`: the entry first, then two other nodes (node ID order). */
export async function onionPath(url: string): Promise<HopPublicKeys[]> {
  const res = await request(`${url}/network/v1/nodes`);
  const {nodes} = (await res.body.json()) as {nodes: NodeJson[]};
  const port = Number(new URL(url).port);
  const entry = nodes.find((n) => n.port === port);
  const others = nodes.filter((n) => n !== entry).sort((a, b) => a.node_id.localeCompare(b.node_id));
  if (entry === undefined || others.length < 2) throw new Error(`onion bench: ${url} lists no 3-hop path (${nodes.length} nodes)`);
  return [entry, others[0]!, others[1]!].map((n) => {
    if (n.pubkey_x25519 === undefined) throw new Error(`onion bench: node ${n.node_id} publishes no X25519 key`);
    return {nodeId: n.node_id, x25519: Buffer.from(n.pubkey_x25519, "hex"), mlKem: Buffer.from(n.pubkey_mlkem, "base64")};
  });
}

export async function onionSource(url: string, nextBody: () => string): Promise<() => Outgoing> {
  const path = await onionPath(url);
  const {mlKem768: mlKem} = await loadPqBackend("auto");
  return () => {
    const built = buildOnionRequest(path, Buffer.from(nextBody()), {mlKem});
    return {
      path: "/onion_req/v2",
      body: built.blob,
      open: (text) => {
        const inner = built.decryptResponse(text);
        return {status: inner.status, body: typeof inner.body === "string" ? inner.body : JSON.stringify(inner.body)};
      },
    };
  };
}
