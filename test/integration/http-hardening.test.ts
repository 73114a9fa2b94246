/**
 * HTTP hardening against a real listening node on 127.0.0.1 (issue #11 items 1, 3, 4, 5): slow
 * and stalled bodies are cut within the configured timeouts, connections per IP are capped,
 * bodies in transit share a node-wide budget, every client route takes a rate-limit token, HTTP
 * and WebSocket draw from one bucket per IP, and an early 413 reaches an uploading client.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {request as httpRequest} from "node:http";
import {connect, type Socket} from "node:net";
import {Readable} from "node:stream";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {FastifyInstance} from "fastify";
import {request} from "undici";
import {afterEach, describe, expect, it, vi} from "vitest";
import {buildHttpApp, type HttpAppOptions} from "../../src/api/http/app.js";
import {defaultConfig} from "../../src/config/index.js";
import type {PeerEndpoint} from "../../src/peer/envelope.js";
import {PEER_MAX_FRAME_BYTES} from "../../src/peer/envelope.js";
import {SESSION_RPC_VERSION, StorageNode} from "../../src/node/index.js";
import {RateLimiter} from "../../src/util/rate-limiter.js";
import {harnessPipeline, rpcHarness, type RpcHarness} from "../utils/rpc-harness.js";
import {silentLogger} from "../utils/logger.js";
import {TestClient} from "./ws/harness.js";

const MIB = 1024 * 1024;
const NO_LIMIT = {enabled: false, capacity: 600, refillPerSecond: 300, maxClients: 10_000};

let h: RpcHarness | null = null;
let app: FastifyInstance | null = null;
const sockets: Socket[] = [];
/** The node's side of those connections. */
const accepted: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  accepted.length = 0;
  await app?.close();
  await h?.close();
  app = null;
  h = null;
});

const limiterFor = (o: HttpAppOptions["rateLimit"]): RateLimiter | null => (o.enabled ? new RateLimiter(o, () => Date.now()) : null);

async function start(
  opts: Partial<HttpAppOptions>,
  peer?: PeerEndpoint,
  extra: {isMemberAddress?: (ip: string) => boolean} = {},
): Promise<{host: string; port: number}> {
  h = await rpcHarness();
  app = buildHttpApp(
    {bodyLimitBytes: 10 * MIB, rateLimit: NO_LIMIT, serverName: "test", rpcVersion: "2.8.0", ...opts},
    {pipeline: harnessPipeline(h, {limiter: limiterFor(opts.rateLimit ?? NO_LIMIT)}), logger: silentLogger, now: () => Date.now(), health: () => ({}), ...(peer ? {peer} : {}), ...extra},
  );
  const address = await app.listen({host: "127.0.0.1", port: 0});
  app.server.on("connection", (s: Socket) => accepted.push(s));
  const url = new URL(address);
  return {host: url.hostname, port: Number(url.port)};
}

/** A raw client socket that records what it read and when it closed. */
interface Raw {
  socket: Socket;
  data: () => string;
  closed: Promise<void>;
}

function open(addr: {host: string; port: number}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(addr.port, addr.host);
    sockets.push(socket);
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("error", () => {});
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.once("connect", () => resolve({socket, data: () => text, closed}));
    socket.once("error", reject);
  });
}

function head(declared: number, path = "/storage_rpc/v1"): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`;
}

/** Until the node has read `bytes` from its clients in all. */
async function nodeHasRead(bytes: number): Promise<void> {
  await vi.waitFor(() => expect(accepted.reduce((n, s) => n + s.bytesRead, 0)).toBeGreaterThanOrEqual(bytes), {timeout: 10_000, interval: 10});
}

/** Resolves with what the socket read once a whole answer head has arrived. */
function answerHead(c: Raw, ms: number, what: string): Promise<string> {
  const seen = new Promise<string>((resolve) => {
    const poll = setInterval(() => c.data().includes("\r\n\r\n") && (clearInterval(poll), resolve(c.data())), 20);
  });
  return within(seen, ms, what);
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

describe("slow and stalled request bodies", () => {
  it("cuts 200 sockets trickling a body within the request timeout, answering 408", async () => {
    const addr = await start({requestTimeoutMs: 1500, bodyIdleTimeoutMs: 1000, maxConnectionsPerIp: 1000});
    const clients = await Promise.all(Array.from({length: 200}, () => open(addr)));
    for (const c of clients) c.socket.write(`${head(1000)}{`);
    // One byte every 300 ms: never idle long enough for the idle timeout, only the whole-request deadline cuts it.
    const trickle = setInterval(() => {
      for (const c of clients) if (!c.socket.destroyed) c.socket.write(" ");
    }, 300);
    try {
      await within(Promise.all(clients.map((c) => c.closed)), 6000, "all trickling sockets closed");
    } finally {
      clearInterval(trickle);
    }
    for (const c of clients) expect(c.data()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("cuts a body that stops arriving after the idle timeout", async () => {
    const addr = await start({requestTimeoutMs: 60_000, bodyIdleTimeoutMs: 500});
    const c = await open(addr);
    const t0 = Date.now();
    c.socket.write(`${head(100)}{"method"`);
    await within(c.closed, 4000, "stalled socket closed");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(c.data()).toMatch(/^HTTP\/1\.1 408 [\s\S]*no request body bytes for 500 ms/);
  });
});

describe("connections per IP", () => {
  it("closes connections over the cap unanswered and admits again once one closes", async () => {
    const addr = await start({maxConnectionsPerIp: 5});
    const first = await Promise.all(Array.from({length: 5}, () => open(addr)));
    const over = await Promise.all(Array.from({length: 3}, () => open(addr)));
    await within(Promise.all(over.map((c) => c.closed)), 3000, "connections over the cap closed");
    for (const c of over) expect(c.data()).toBe("");
    first[0]!.socket.destroy();
    await first[0]!.closed;
    // The node sees the close asynchronously: retry until a new connection is served.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const res = await request(`http://${addr.host}:${addr.port}/health`, {reset: true}).catch(() => null);
      status = res?.statusCode ?? 0;
      await res?.body.dump();
    }
    expect(status).toBe(200);
  });
});

describe("member nodes and the per-IP connection cap", () => {
  it("does not cap a member node's address (its peer pools), and still caps everyone else", async () => {
    const seen: string[] = [];
    const addr = await start({maxConnectionsPerIp: 2}, undefined, {
      isMemberAddress: (ip) => (seen.push(ip), ip === "127.0.0.1" || ip === "::ffff:127.0.0.1"),
    });
    const member = await Promise.all(Array.from({length: 6}, () => open(addr)));
    for (const c of member) c.socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const answers = await Promise.all(member.map((c) => answerHead(c, 3000, "a member connection answered")));
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 200/);
    expect(seen.length).toBeGreaterThanOrEqual(6);
  });

  it("caps the same address when it is not a member's", async () => {
    const addr = await start({maxConnectionsPerIp: 2}, undefined, {isMemberAddress: () => false});
    const conns = await Promise.all(Array.from({length: 4}, () => open(addr)));
    await within(Promise.all(conns.slice(2).map((c) => c.closed)), 3000, "connections over the cap closed");
  });
});

describe("node-wide body budget", () => {
  it("answers 503 when the bodies in transit fill the budget, and releases it when they close", async () => {
    const addr = await start({bodyBudgetBytes: 1 * MIB, maxConnectionsPerIp: 100});
    const part = Buffer.alloc(400 * 1024, 0x20);
    const a = await open(addr);
    const b = await open(addr);
    a.socket.write(head(MIB));
    a.socket.write(part);
    b.socket.write(head(MIB));
    b.socket.write(part);
    // Let the node take both parts before the third arrives.
    await nodeHasRead(2 * (head(MIB).length + part.length));
    const c = await open(addr);
    c.socket.write(head(MIB));
    c.socket.write(part);
    const res503 = await within(
      new Promise<string>((resolve) => {
        const poll = setInterval(() => c.data().includes("\r\n\r\n") && (clearInterval(poll), resolve(c.data())), 20);
      }),
      3000,
      "503 for the third body",
    );
    expect(res503).toMatch(/^HTTP\/1\.1 503 [\s\S]*too many request bodies in transit/);
    a.socket.destroy();
    b.socket.destroy();
    c.socket.destroy();
    await Promise.all([a.closed, b.closed, c.closed]);
    const body = JSON.stringify({method: "info", params: {}}).padEnd(900 * 1024, " ");
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const res = await request(`http://${addr.host}:${addr.port}/storage_rpc/v1`, {method: "POST", body});
      status = res.statusCode;
      await res.body.dump();
    }
    expect(status).toBe(200);
  });
});

describe("peer routes (/peer/v1/handshake, /peer/v1/frame)", () => {
  /** Answers a frame with its length; records what arrived. */
  function echoPeer(): PeerEndpoint & {frames: number[]} {
    const frames: number[] = [];
    const answer = (b: Uint8Array): Promise<Uint8Array> => {
      frames.push(b.length);
      return Promise.resolve(Buffer.from(String(b.length)));
    };
    return {frames, acceptHandshake: answer, handleFrame: answer};
  }

  it("read frames whole, and cut a stalled frame after the idle timeout with 408", async () => {
    const peer = echoPeer();
    const addr = await start({requestTimeoutMs: 60_000, bodyIdleTimeoutMs: 500}, peer);
    const ok = await request(`http://${addr.host}:${addr.port}/peer/v1/frame`, {method: "POST", body: Buffer.alloc(300_000, 1)});
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe("300000");
    for (const path of ["/peer/v1/frame", "/peer/v1/handshake"]) {
      const c = await open(addr);
      c.socket.write(`${head(4096, path)}partial`);
      await within(c.closed, 4000, `stalled ${path} closed`);
      expect(c.data()).toMatch(/^HTTP\/1\.1 408 [\s\S]*no request body bytes for 500 ms/);
    }
    expect(peer.frames).toEqual([300_000]);
  });

  it("charge frames to the node-wide body budget: 503 when it is full", async () => {
    const peer = echoPeer();
    const addr = await start({bodyBudgetBytes: 1 * MIB, maxConnectionsPerIp: 100}, peer);
    const a = await open(addr);
    a.socket.write(head(MIB, "/peer/v1/frame"));
    a.socket.write(Buffer.alloc(800 * 1024, 1));
    await nodeHasRead(head(MIB, "/peer/v1/frame").length + 800 * 1024);
    const b = await open(addr);
    b.socket.write(head(MIB, "/peer/v1/frame"));
    b.socket.write(Buffer.alloc(400 * 1024, 1));
    expect(await answerHead(b, 3000, "503 for the second frame")).toMatch(/^HTTP\/1\.1 503 [\s\S]*too many request bodies in transit/);
    expect(peer.frames).toEqual([]);
  });

  it("are capped at the frame size, not the client body limit: 413 at once", async () => {
    const peer = echoPeer();
    const addr = await start({}, peer);
    const c = await open(addr);
    c.socket.write(head(PEER_MAX_FRAME_BYTES + 1024, "/peer/v1/frame"));
    expect(await answerHead(c, 3000, "413 for an oversized frame")).toMatch(/^HTTP\/1\.1 413 /);
    expect(peer.frames).toEqual([]);
  });
});

describe("rate limits", () => {
  it("/health, /get_stats/v1 and 404s take a token", async () => {
    const addr = await start({rateLimit: {enabled: true, capacity: 6, refillPerSecond: 0.001, maxClients: 10}});
    const base = `http://${addr.host}:${addr.port}`;
    const statuses: number[] = [];
    for (const path of ["/health", "/get_stats/v1", "/nope", "/health", "/get_stats/v1", "/nope", "/health", "/get_stats/v1", "/nope"]) {
      const res = await request(base + path);
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    expect(statuses).toEqual([200, 200, 404, 200, 200, 404, 429, 429, 429]);
  });
});

describe("early 413", () => {
  const CHUNK = 128 * 1024;
  const TOTAL = 11 * MIB;

  /** 11 MiB in 128 KiB chunks, 5 ms apart: a client on a real link is still sending when the 413 is written. */
  async function* upload(): AsyncGenerator<Buffer> {
    for (let off = 0; off < TOTAL; off += CHUNK) {
      yield Buffer.alloc(CHUNK, 0x20);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it("reaches an undici client uploading 11 MiB", async () => {
    const addr = await start({});
    const res = await request(`http://${addr.host}:${addr.port}/storage_rpc/v1`, {
      method: "POST",
      body: Readable.from(upload()),
      headers: {"content-length": String(TOTAL)},
    });
    expect(res.statusCode).toBe(413);
    expect(await res.body.text()).toBe("Request body too large");
  });

  it("reaches a node:http client uploading 11 MiB in chunks (no Content-Length)", async () => {
    const addr = await start({});
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({host: addr.host, port: addr.port, method: "POST", path: "/storage_rpc/v1"}, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      void (async () => {
        for await (const chunk of upload()) {
          if (req.destroyed) return;
          req.write(chunk);
        }
        req.end();
      })();
    });
    expect(status).toBe(413);
  });
});

describe("one rate-limit bucket per IP for HTTP and WebSocket (StorageNode)", () => {
  it("WS rpc frames get 429 once HTTP used the bucket, with rateLimit.* from the config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pars-http-hard-"));
    const config = defaultConfig();
    config.dataDir = dir;
    config.network = "devnet";
    config.networkId = 7072;
    config.http.port = 0;
    config.proofs.enabled = false;
    config.rateLimit = {enabled: true, capacity: 4, refillPerSecond: 0.001, maxClients: 100};
    const node = await StorageNode.init(config, {logger: silentLogger});
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await request(`${node.httpUrl}/get_stats/v1`);
        statuses.push(res.statusCode);
        // The node's Session RPC level, the one `info` reports.
        if (i === 0) expect(await res.body.json()).toEqual({version: SESSION_RPC_VERSION.join(".")});
        else await res.body.dump();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
      const ws = await TestClient.connect(`${node.httpUrl.replace("http://", "ws://")}/ws`);
      try {
        const reply = await ws.rpc("info", {});
        expect(reply.code).toBe(429);
      } finally {
        ws.socket.close();
      }
    } finally {
      await node.close();
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
