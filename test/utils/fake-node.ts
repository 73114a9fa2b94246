/**
 * A scripted stand-in for a node, for client unit tests: real keys (so its node ID checks out), a
 * compact node list naming itself, `get_swarm` naming itself, other RPCs answered by the test's
 * `rpc` function, and a WebSocket endpoint at /ws whose frames the test sees and answers.
 */
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {WebSocketServer, type WebSocket} from "ws";
import {initHashing, nobleBackend, pqKeysHash} from "../../src/crypto/index.js";
import {toHex} from "../../src/protocol/index.js";

export interface FakeNode {
  url: string;
  nodeId: string;
  /** RPC methods received, in order. */
  calls: string[];
  /** Frames received on /ws, parsed, with the socket they came on. */
  frames: Array<{socket: WebSocket; frame: Record<string, unknown>}>;
  sockets: WebSocket[];
  close(): Promise<void>;
}

export type RpcScript = (method: string, params: Record<string, unknown>) => {status: number; body: unknown};

export async function fakeNode(rpc: RpcScript, seed = 1): Promise<FakeNode> {
  await initHashing();
  const dsa = nobleBackend.mlDsa65.keygen(new Uint8Array(32).fill(seed)).publicKey;
  const kem = nobleBackend.mlKem768.keygen(new Uint8Array(64).fill(seed)).publicKey;
  const nodeId = toHex(pqKeysHash(kem, dsa));
  const calls: string[] = [];
  const frames: FakeNode["frames"] = [];
  const sockets: WebSocket[] = [];
  let port = 0;
  const keys = {node_id: nodeId, pubkey_mldsa: Buffer.from(dsa).toString("base64"), pubkey_mlkem: Buffer.from(kem).toString("base64")};
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, {"content-type": typeof body === "string" ? "text/plain" : "application/json"}).end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (req.method === "GET") return json(200, {nodes: [{...keys, host: "127.0.0.1", port, swarm: "0"}]});
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      const {method, params} = JSON.parse(text) as {method: string; params: Record<string, unknown>};
      calls.push(method);
      if (method === "get_swarm") return json(200, {snodes: [{...keys, ip: "127.0.0.1", port: String(port), port_https: port}], swarm: "0", t: 1, hf: [19, 4]});
      const answer = rpc(method, params);
      return json(answer.status, answer.body);
    });
  });
  const wss = new WebSocketServer({server, path: "/ws"});
  wss.on("connection", (socket) => {
    sockets.push(socket);
    socket.on("message", (data: Buffer) => frames.push({socket, frame: JSON.parse(data.toString()) as Record<string, unknown>}));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    nodeId,
    calls,
    frames,
    sockets,
    close: async () => {
      for (const s of wss.clients) s.terminate();
      await new Promise((r) => wss.close(r));
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
