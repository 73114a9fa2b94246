import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, beforeAll, describe, expect, it} from "vitest";
import {HttpClient, NodeDirectory, TransportFailure, type NodeInfo, type RpcAnswer, type RpcBody, type RpcTransport} from "../../../src/client/index.js";
import {SwarmRouter} from "../../../src/client/router.js";
import {initHashing, nobleBackend, pqKeysHash} from "../../../src/crypto/index.js";
import {toHex} from "../../../src/protocol/index.js";
import {ManualClock} from "../../../src/util/clock.js";

/**
 * Swarm routing and the node list with stub nodes: a 421 is followed to the swarm it names, a
 * member that fails is replaced by another, request errors are not retried; the node list is
 * bootstrapped from a seed, revalidated with its ETag, and found through get_swarm when a seed has
 * no list.
 */
let nodes: NodeInfo[];

beforeAll(async () => {
  await initHashing();
  nodes = Array.from({length: 6}, (_, i) => {
    const dsa = nobleBackend.mlDsa65.keygen(new Uint8Array(32).fill(i + 1)).publicKey;
    const kem = nobleBackend.mlKem768.keygen(new Uint8Array(64).fill(i + 1)).publicKey;
    return {nodeId: toHex(pqKeysHash(kem, dsa)), url: `http://127.0.0.1:${40000 + i}`, swarm: i < 3 ? "0" : "1", mlDsaPublicKey: dsa, mlKemPublicKey: kem};
  });
});

const snode = (n: NodeInfo): Record<string, unknown> => ({
  node_id: n.nodeId,
  pubkey_mldsa: Buffer.from(n.mlDsaPublicKey).toString("base64"),
  pubkey_mlkem: Buffer.from(n.mlKemPublicKey).toString("base64"),
  ip: "127.0.0.1",
  port: new URL(n.url).port,
  port_https: Number(new URL(n.url).port),
});
const swarmBody = (members: NodeInfo[], swarm: string): Record<string, unknown> => ({snodes: members.map(snode), swarm, t: 1, hf: [19, 4]});

/** A transport whose answers a test scripts per node. */
class ScriptedTransport implements RpcTransport {
  readonly calls: Array<{node: string; method: string}> = [];
  constructor(private readonly answer: (node: NodeInfo, body: RpcBody) => RpcAnswer | "fail") {}
  send(node: NodeInfo, body: RpcBody): Promise<RpcAnswer> {
    this.calls.push({node: node.nodeId, method: body.method});
    const a = this.answer(node, body);
    return a === "fail" ? Promise.reject(new TransportFailure(node.nodeId, "refused")) : Promise.resolve(a);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function router(transport: RpcTransport): {r: SwarmRouter; failures: number[]} {
  const failures: number[] = [];
  const directory = {pick: (n: number) => nodes.slice(0, n), get: (id: string) => nodes.find((x) => x.nodeId === id), reportFailure: () => void failures.push(1)};
  const r = new SwarmRouter({swarmCacheMs: 60_000, maxRedirects: 3, maxAttempts: 5}, {directory: directory as unknown as NodeDirectory, transport, clock: new ManualClock(0), random: () => 0.5});
  return {r, failures};
}

const swarm0 = (): NodeInfo[] => nodes.slice(0, 3);
const swarm1 = (): NodeInfo[] => nodes.slice(3);

describe("SwarmRouter", () => {
  it("follows a 421 to the swarm it carries, and remembers it", async () => {
    const t = new ScriptedTransport((node, body) => {
      if (body.method === "get_swarm") return {status: 200, body: swarmBody(swarm0(), "0")};
      if (swarm0().some((n) => n.nodeId === node.nodeId)) return {status: 421, body: swarmBody(swarm1(), "1")};
      return {status: 200, body: {messages: [], more: false}};
    });
    const {r} = router(t);
    const res = await r.toSwarm("05" + "ab".repeat(32), {method: "retrieve", params: {}});
    expect(res.status).toBe(200);
    expect(swarm1().map((n) => n.nodeId)).toContain(res.node.nodeId);
    expect((await r.swarmOf("05" + "ab".repeat(32))).map((n) => n.nodeId)).toEqual(swarm1().map((n) => n.nodeId));
    t.calls.length = 0;
    await r.toSwarm("05" + "ab".repeat(32), {method: "retrieve", params: {}});
    expect(t.calls).toHaveLength(1);
  });

  it("moves to another member when one is unreachable or answers 503, not when the request is refused", async () => {
    let refused = 0;
    const t = new ScriptedTransport((node, body) => {
      if (body.method === "get_swarm") return {status: 200, body: swarmBody(swarm0(), "0")};
      if (node.nodeId === nodes[0]!.nodeId) return "fail";
      if (node.nodeId === nodes[1]!.nodeId) return {status: 503, body: "Service node is not ready: membership not loaded\n"};
      if (body.method === "store") {
        refused++;
        return {status: 401, body: "store signature verification failed"};
      }
      return {status: 200, body: {ok: true}};
    });
    const {r} = router(t);
    const ok = await r.toSwarm("07" + "cd".repeat(32), {method: "retrieve", params: {}});
    expect(ok.node.nodeId).toBe(nodes[2]!.nodeId);
    const refusal = await r.toSwarm("07" + "cd".repeat(32), {method: "store", params: {}});
    expect(refusal.status).toBe(401);
    expect(refused).toBe(1);
  });

  it("gives up with CLIENT_ERROR_TRANSPORT when no member answers, and asks for a fresh node list", async () => {
    const t = new ScriptedTransport((_node, body) => (body.method === "get_swarm" ? {status: 200, body: swarmBody(swarm0(), "0")} : "fail"));
    const {r, failures} = router(t);
    await expect(r.toSwarm("05" + "ef".repeat(32), {method: "retrieve", params: {}})).rejects.toMatchObject({code: "CLIENT_ERROR_TRANSPORT"});
    expect(failures.length).toBeGreaterThan(0);
  });
});

describe("NodeDirectory", () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server === null ? r(null) : server.close(r)));
    server = null;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("bootstraps from a pars:// seed and revalidates with If-None-Match (304 keeps the list)", async () => {
    const seen: Array<string | undefined> = [];
    const list = JSON.stringify({network_id: 7072, mode: "balanced", swarm_count: 2, nodes: nodes.map((n) => ({...snode(n), host: "127.0.0.1", port: Number(new URL(n.url).port), swarm: n.swarm}))});
    const url = await serve((req, res) => {
      seen.push(req.headers["if-none-match"]);
      if (req.headers["if-none-match"] === '"v1"') res.writeHead(304, {etag: '"v1"'}).end();
      else res.writeHead(200, {"content-type": "application/json", etag: '"v1"'}).end(list);
    });
    const http = new HttpClient({timeoutMs: 2_000});
    const d = new NodeDirectory({seeds: [url.replace("http://", "pars://")], refreshIntervalMs: 60_000, minRefreshGapMs: 0}, {http, clock: new ManualClock(0)});
    try {
      await d.start();
      expect(d.nodes.map((n) => n.nodeId).sort()).toEqual(nodes.map((n) => n.nodeId).sort());
      // The list's nodes are unreachable (ports 40000+): a refresh reaches the seed, which answers 304.
      expect(await d.refresh()).toBe(true);
      expect(d.nodes).toHaveLength(6);
      expect(seen).toEqual([undefined, '"v1"']);
    } finally {
      await d.close();
      await http.close();
    }
  });

  it("drops list entries whose node ID is not the hash of their keys", async () => {
    const forged = {...snode(nodes[0]!), node_id: nodes[1]!.nodeId, host: "127.0.0.1", port: 1, swarm: "0"};
    const honest = {...snode(nodes[2]!), host: "127.0.0.1", port: 2, swarm: "0"};
    const url = await serve((_req, res) => res.writeHead(200, {"content-type": "application/json"}).end(JSON.stringify({nodes: [forged, honest]})));
    const http = new HttpClient({timeoutMs: 2_000});
    const d = new NodeDirectory({seeds: [url], refreshIntervalMs: 60_000, minRefreshGapMs: 0}, {http, clock: new ManualClock(0)});
    try {
      await d.start();
      expect(d.nodes.map((n) => n.nodeId)).toEqual([nodes[2]!.nodeId]);
    } finally {
      await d.close();
      await http.close();
    }
  });

  it("a seed without a node list (no membership) is found through get_swarm; no seed at all is CLIENT_ERROR_NO_NODES", async () => {
    const url = await serve((req, res) => {
      if (req.method === "GET") res.writeHead(404).end("Not Found");
      else res.writeHead(200, {"content-type": "application/json"}).end(JSON.stringify(swarmBody([{...nodes[0]!, url: "http://0.0.0.0:1"}], "0")));
    });
    const http = new HttpClient({timeoutMs: 2_000});
    const d = new NodeDirectory({seeds: [url], refreshIntervalMs: 60_000, minRefreshGapMs: 0}, {http, clock: new ManualClock(0)});
    const none = new NodeDirectory({seeds: ["http://127.0.0.1:1"], refreshIntervalMs: 60_000, minRefreshGapMs: 0}, {http, clock: new ManualClock(0)});
    try {
      await d.start();
      expect(d.nodes).toEqual([expect.objectContaining({nodeId: nodes[0]!.nodeId, url})]);
      await expect(none.start()).rejects.toMatchObject({code: "CLIENT_ERROR_NO_NODES"});
    } finally {
      await d.close();
      await none.close();
      await http.close();
    }
  });
});
