/**
 * The relay's forward over the real peer client: it reaches only addresses the membership gives,
 * sends the relay headers, makes one attempt, reports timeouts, unreachable hops and oversized
 * answers, and passes the status, body and Content-Type through.
 */
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {peerForward} from "../../../src/onion-relay/index.js";
import {PeerClient, type PeerAddress} from "../../../src/peer/index.js";

const MEMBER = "aa".repeat(32);
let server: Server;
let port = 0;
let connections = 0;
const received: Array<{path: string | undefined; headers: Record<string, unknown>; body: string}> = [];
const DOWN = "dd".repeat(32);
const peers = new PeerClient(
  {keepAliveTimeoutMs: 10},
  {directory: {addressOf: (id): PeerAddress | null => (id === MEMBER ? {nodeId: id, host: "127.0.0.1", port} : id === DOWN ? {nodeId: id, host: "127.0.0.1", port: 1} : null)}},
);
const forward = peerForward(peers);
const opts = {timeoutMs: 2_000, maxResponseBytes: 1024, headers: {"x-pars-relay-from": "bb".repeat(32)}};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      received.push({path: req.url, headers: req.headers, body});
      if (body === "hang") return;
      if (body === "big") return void res.end("x".repeat(4096));
      res.writeHead(418, {"content-type": "text/plain"}).end("teapot");
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await peers.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("peerForward", () => {
  it("POSTs the blob to /onion_req/v2 at the member's address and returns the answer as is", async () => {
    const before = received.length;
    expect(await forward(MEMBER, Buffer.from("blob"), opts)).toEqual({kind: "response", status: 418, body: Buffer.from("teapot"), contentType: "text/plain"});
    expect(received.length, "one attempt, no retry of a 418").toBe(before + 1);
    expect(received.at(-1)).toMatchObject({path: "/onion_req/v2", body: "blob", headers: {"x-pars-relay-from": "bb".repeat(32)}});
  });

  it("a node the membership does not know is not contacted", async () => {
    const before = connections;
    expect(await forward("cc".repeat(32), Buffer.from("blob"), opts)).toEqual({kind: "unknown_node"});
    expect(connections).toBe(before);
  });

  it("reports a timeout, an oversized answer and a refused connection", async () => {
    expect(await forward(MEMBER, Buffer.from("hang"), {...opts, timeoutMs: 200})).toEqual({kind: "timeout"});
    expect(await forward(MEMBER, Buffer.from("big"), opts)).toEqual({kind: "too_large"});
    expect((await forward(DOWN, Buffer.from("blob"), opts)).kind).toBe("unreachable");
  });
});
