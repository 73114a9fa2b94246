/**
 * PeerClient against real node:http servers on 127.0.0.1 (no mocks): retries, timeouts, broken
 * sockets, refused connections, size caps, pool life cycle, and a channel handshake over HTTP.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, beforeAll, describe, expect, it} from "vitest";
import {initHashing} from "../../../src/crypto/hash.js";
import {ChannelManager} from "../../../src/peer/channel/manager.js";
import {PeerClient, type PeerAddress, type PeerClientOptions} from "../../../src/peer/peer-client.js";
import {PeerClientError, type PeerRetryPolicy} from "../../../src/peer/peer-retry.js";
import {ManualClock} from "../../../src/util/clock.js";
import {keysOf, nobleBackend, T0, testIdentity} from "./channel/helpers.js";

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number, body: Buffer) => void;

interface TestServer {
  readonly port: number;
  hits: number;
  connections: number;
  readonly server: Server;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function serve(handler: Handler): Promise<TestServer> {
  const state = {hits: 0, connections: 0} as TestServer;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, ++state.hits, Buffer.concat(chunks)));
  });
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  Object.assign(state, {server, port: (server.address() as AddressInfo).port});
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

const FAST_RETRY: PeerRetryPolicy = {maxAttempts: 3, baseDelayMs: 10, factor: 2, maxDelayMs: 40, maxRetryAfterMs: 1_000};

/** The test's membership: where each node ID is. */
const directory = new Map<string, PeerAddress>();

function client(opts: Partial<PeerClientOptions> = {}, retries: string[] = []): PeerClient {
  const c = new PeerClient({retry: FAST_RETRY, ...opts}, {directory: {addressOf: (id) => directory.get(id) ?? null}, onRetry: (i) => retries.push(i.reason)});
  cleanup.push(() => c.close());
  return c;
}

/** Puts `nodeId` at 127.0.0.1:`port` in the directory and returns the ID. */
function peer(port: number, nodeId = "aa".repeat(32)): string {
  directory.set(nodeId, {nodeId, host: "127.0.0.1", port});
  return nodeId;
}
const body = Buffer.from("frame bytes");

async function failure(promise: Promise<unknown>): Promise<PeerClientError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PeerClientError);
  return err as PeerClientError;
}

describe("PeerClient", () => {
  it("posts bytes and reuses one keep-alive connection", async () => {
    const s = await serve((req, res, _hit, b) => res.end(Buffer.concat([Buffer.from(`${req.method} ${req.url} `), b])));
    const c = client();
    for (let i = 0; i < 20; i++) {
      const r = await c.post(peer(s.port), "/replication/v1/frame", body);
      expect(r, `request ${i}`).toMatchObject({status: 200, attempts: 1});
      expect(r.body.toString()).toBe("POST /replication/v1/frame frame bytes");
    }
    // undici may open a second socket while the first is being released; never one per request.
    expect(s.connections).toBeLessThanOrEqual(2);
  });

  it("retries 503 twice and succeeds, even for a non-idempotent body (refused before processing)", async () => {
    const s = await serve((_req, res, hit) => {
      res.statusCode = hit <= 2 ? 503 : 200;
      res.end(hit <= 2 ? "not ready" : "ok");
    });
    const retries: string[] = [];
    const r = await client({}, retries).post(peer(s.port), "/x", body);
    expect(r).toMatchObject({status: 200, attempts: 3});
    expect(r.body.toString()).toBe("ok");
    expect(retries).toEqual(["HTTP 503", "HTTP 503"]);
  });

  it("returns the last response when every attempt is refused", async () => {
    const s = await serve((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    expect(await client().post(peer(s.port), "/x", body)).toMatchObject({status: 503, attempts: 3});
    expect(s.hits).toBe(3);
  });

  it("retries 502/504 only when the request is idempotent; never other statuses", async () => {
    const s = await serve((req, res) => {
      res.statusCode = Number(req.url!.slice(1));
      res.end();
    });
    const c = client();
    expect(await c.post(peer(s.port), "/502", body)).toMatchObject({status: 502, attempts: 1});
    expect(await c.post(peer(s.port), "/504", body, {idempotent: true})).toMatchObject({status: 504, attempts: 3});
    expect(await c.post(peer(s.port), "/500", body, {idempotent: true})).toMatchObject({status: 500, attempts: 1});
    expect(await c.post(peer(s.port), "/409", body, {idempotent: true})).toMatchObject({status: 409, attempts: 1});
  });

  it("honours a short Retry-After and gives up on a long one", async () => {
    const s = await serve((req, res, hit) => {
      res.statusCode = req.url === "/long" || hit === 1 ? 429 : 200;
      res.setHeader("retry-after", req.url === "/long" ? "60" : "0");
      res.end();
    });
    const c = client();
    expect(await c.post(peer(s.port), "/short", body)).toMatchObject({status: 200, attempts: 2});
    expect(await c.post(peer(s.port), "/long", body)).toMatchObject({status: 429, attempts: 1});
  });

  it("times out on a server that never answers; retries only idempotent requests", async () => {
    const s = await serve(() => undefined);
    const c = client({headersTimeoutMs: 150});
    const once = await failure(c.post(peer(s.port), "/hang", body));
    expect(once.type).toMatchObject({code: "PEER_CLIENT_ERROR_TIMEOUT", attempts: 1, cause: "UND_ERR_HEADERS_TIMEOUT"});
    expect(s.hits).toBe(1);
    const thrice = await failure(c.post(peer(s.port), "/hang", body, {idempotent: true}));
    expect(thrice.type).toMatchObject({code: "PEER_CLIENT_ERROR_TIMEOUT", attempts: 3});
    expect(s.hits).toBe(4);
  });

  it("fails on a server that closes the socket; retries only idempotent requests", async () => {
    const s = await serve((req) => req.socket.destroy());
    const c = client();
    expect((await failure(c.post(peer(s.port), "/close", body))).type).toMatchObject({code: "PEER_CLIENT_ERROR_SOCKET", attempts: 1});
    const thrice = await failure(c.post(peer(s.port), "/close", body, {idempotent: true}));
    expect(thrice.type).toMatchObject({code: "PEER_CLIENT_ERROR_SOCKET", attempts: 3});
    expect(s.hits).toBe(4);
  });

  it("retries a refused connection even for a non-idempotent request (nothing was sent)", async () => {
    const s = await serve(() => undefined);
    const port = s.port;
    await cleanup.pop()!(); // close it: the port now refuses
    const retries: string[] = [];
    const err = await failure(client({}, retries).post(peer(port), "/x", body));
    expect(err.type).toMatchObject({code: "PEER_CLIENT_ERROR_CONNECT", attempts: 3, cause: "ECONNREFUSED"});
    expect(retries).toEqual(["ECONNREFUSED", "ECONNREFUSED"]);
  });

  it("refuses responses larger than maxResponseBytes without retrying", async () => {
    const s = await serve((_req, res) => res.end(Buffer.alloc(5_000)));
    const err = await failure(client({maxResponseBytes: 1_000}).post(peer(s.port), "/big", body, {idempotent: true}));
    expect(err.type).toMatchObject({code: "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE", attempts: 1});
  });

  it("stops when the caller aborts", async () => {
    const s = await serve(() => undefined);
    const err = await failure(client().post(peer(s.port), "/hang", body, {signal: AbortSignal.timeout(50), idempotent: true}));
    expect(err.type).toMatchObject({code: "PEER_CLIENT_ERROR_ABORTED", attempts: 1});
  });

  it("request(): a peer named by node ID gets a GET or a JSON POST; any status is a response, never an error", async () => {
    const s = await serve((req, res, _hit, b) => res.writeHead(req.url === "/missing" ? 404 : 200).end(`${req.method} ${req.headers["content-type"] ?? "-"} ${req.headers.accept ?? "-"} ${b.toString()}`));
    const c = client();
    const id = peer(s.port, "ab".repeat(32));
    const get = await c.request(id, {method: "GET", path: "/proof/v1/latest", accept: "application/json"});
    expect(get).toMatchObject({ok: true, status: 200, attempts: 1});
    expect(get.ok && get.body.toString()).toBe("GET - application/json ");
    const post = await c.request(id, {path: "/onion", json: {hop: 1}});
    expect(post.ok && post.body.toString()).toBe('POST application/json - {"hop":1}');
    expect(await c.request(id, {path: "/missing", body})).toMatchObject({ok: true, status: 404});
  });

  it("request(): maxAttempts caps the policy's retries for one request", async () => {
    const s = await serve((_req, res) => res.writeHead(503).end("busy"));
    const c = client();
    const id = peer(s.port, "ba".repeat(32));
    expect(await c.request(id, {method: "GET", path: "/x", maxAttempts: 1})).toMatchObject({ok: true, status: 503, attempts: 1});
    expect(await c.request(id, {method: "GET", path: "/x"})).toMatchObject({ok: true, status: 503, attempts: 3});
    expect(s.hits).toBe(4);
  });

  it("request(): an unknown node, a passed deadline and an oversized answer are typed failures", async () => {
    const s = await serve((req, res) => {
      if (req.url === "/big") res.end("x".repeat(10_000));
      // "/hang": never answers
    });
    const c = client();
    const id = peer(s.port, "cd".repeat(32));
    const unknown = await c.request("ef".repeat(32), {path: "/x", body});
    expect(unknown.ok ? null : unknown.error.type).toEqual({code: "PEER_CLIENT_ERROR_UNKNOWN_PEER", peer: "ef".repeat(32), attempts: 0, cause: null});
    const started = Date.now();
    const slow = await c.request(id, {path: "/hang", body, timeoutMs: 100, idempotent: true});
    expect(slow.ok ? null : slow.error.type).toMatchObject({code: "PEER_CLIENT_ERROR_TIMEOUT", cause: "no answer within 100 ms"});
    expect(Date.now() - started).toBeLessThan(1_500);
    const big = await c.request(id, {path: "/big", body, maxResponseBytes: 1_000});
    expect(big.ok ? null : big.error.type).toMatchObject({code: "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE", attempts: 1});
    expect(await c.request(id, {path: "/big", body})).toMatchObject({ok: true, status: 200});
  });

  it("keeps one pool per peer, replaces it when the address changes, closes pools of departed peers", async () => {
    const s1 = await serve((_req, res) => res.end("one"));
    const s2 = await serve((_req, res) => res.end("two"));
    const c = client();
    const [p, q] = ["11".repeat(32), "22".repeat(32)];
    await c.post(peer(s1.port, p), "/", body);
    await c.post(peer(s2.port, q), "/", body);
    expect(c.peers().sort()).toEqual([p, q]);
    expect((await c.post(peer(s2.port, p), "/", body)).body.toString()).toBe("two"); // p moved
    await c.retainPeers([p]);
    expect(c.peers()).toEqual([p]);
    await c.close();
    expect((await failure(c.post(peer(s1.port, p), "/", body))).code).toBe("PEER_CLIENT_ERROR_CLOSED");
  });

  it("validates options and paths", async () => {
    expect(() => client({connections: 0})).toThrow(/connections/);
    expect(() => client({headersTimeoutMs: -1})).toThrow(/headersTimeoutMs/);
    expect(() => client({retry: {...FAST_RETRY, maxAttempts: 0}})).toThrow(/maxAttempts/);
    await expect(client().post(peer(1), "relative", body)).rejects.toThrow(/path/);
  });
});

describe("a channel over HTTP (PeerClient + node:http)", () => {
  beforeAll(async () => {
    await initHashing();
  });

  it("handshakes and exchanges frames through real sockets", async () => {
    const [a, b] = [testIdentity("a"), testIdentity("b")];
    const membership = new Map([a, b].map((id) => [id.nodeId, keysOf(id)]));
    const clock = new ManualClock(T0);
    const http = client();
    let bAddress = peer(0, b.nodeId);
    const common = {pq: nobleBackend, clock, lookupPeer: (id: string) => membership.get(id) ?? null};
    const sendHandshake = async (_peer: string, init: Uint8Array): Promise<Uint8Array> => {
      const r = await http.post(bAddress, "/replication/v1/handshake", init);
      if (r.status !== 200) throw new Error(`handshake refused: HTTP ${r.status} ${r.body.toString()}`);
      return r.body;
    };
    const bm = new ChannelManager({}, {...common, identity: b, sendHandshake: () => Promise.reject(new Error("unused"))});
    const am = new ChannelManager({}, {...common, identity: a, sendHandshake});
    const s = await serve((req, res, _hit, reqBody) => {
      const reply = (status: number, bytes: Uint8Array): void => void res.writeHead(status).end(bytes);
      if (req.url === "/replication/v1/handshake") {
        bm.acceptHandshake(reqBody).then((resp) => reply(200, resp), (err: Error) => reply(403, Buffer.from(err.message)));
        return;
      }
      const opened = bm.open(reqBody);
      reply(200, bm.sealOn(opened.channelId, Buffer.from(`ack ${Buffer.from(opened.plaintext).toString()}`)));
    });
    bAddress = peer(s.port, b.nodeId);
    for (let i = 0; i < 3; i++) {
      const frame = await am.seal(b.nodeId, Buffer.from(`msg ${i}`));
      const r = await http.post(bAddress, "/replication/v1/frame", frame, {idempotent: true});
      expect(Buffer.from(am.open(r.body).plaintext).toString()).toBe(`ack msg ${i}`);
    }
    expect(am.stats()).toMatchObject({handshakesCompleted: 1, framesOpened: 3});
    expect(s.connections).toBeLessThanOrEqual(2);
  });
});
