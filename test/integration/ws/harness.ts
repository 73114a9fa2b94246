/**
 * A listening node (rpcHarness + one RequestPipeline + buildHttpApp + registerWebSocket on
 * 127.0.0.1, port 0) and a
 * small `ws` client that matches replies to request IDs, for the WebSocket integration tests.
 */
import type {FastifyInstance} from "fastify";
import WebSocket, {type ClientOptions} from "ws";
import {buildHttpApp} from "../../../src/api/http/app.js";
import {defaultWsOptions, registerWebSocket, type WsHandle, type WsModules, type WsOptions} from "../../../src/api/ws/index.js";
import {CTX} from "../../../src/crypto/contexts.js";
import type {RequestPipelineModules} from "../../../src/rpc/pipeline.js";
import type {SwarmRouter} from "../../../src/swarm/swarm-router.js";
import type {NewMessage} from "../../../src/storage/interface.js";
import {sessionHash, type Ed25519Key, type PqAccount, type SessionAccount} from "../../utils/keys.js";
import {RateLimiter, type RateLimiterOptions} from "../../../src/util/rate-limiter.js";
import {harnessPipeline, rpcHarness, type HarnessOptions, type RpcHarness} from "../../utils/rpc-harness.js";
import {silentLogger} from "../../utils/logger.js";

export interface WsTestNode {
  h: RpcHarness;
  app: FastifyInstance;
  ws: WsHandle;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  ws?: Partial<WsOptions>;
  harness?: HarnessOptions;
  modules?: Partial<WsModules>;
  /** The per-IP bucket HTTP and WebSocket share (none by default). */
  rateLimit?: RateLimiterOptions;
  /** Replaces pipeline modules (its `rpc`, its `limiter`). */
  pipeline?: Partial<RequestPipelineModules>;
  /** Readiness reasons the router reports (RPC 503, subscribe errcode 6). */
  notReady?: () => string[];
}

export async function startWsNode(o: StartOptions = {}): Promise<WsTestNode> {
  const h = await rpcHarness(o.harness);
  const notReady = o.notReady ?? ((): string[] => []);
  const router: SwarmRouter = Object.assign(Object.create(h.ctx.router) as SwarmRouter, {notReadyReasons: notReady});
  const logger = silentLogger;
  const limiter = o.rateLimit === undefined ? null : new RateLimiter(o.rateLimit, () => h.clock.now());
  const pipeline = harnessPipeline(h, {router, limiter, ...o.pipeline});
  const app = buildHttpApp(
    {
      bodyLimitBytes: 10 * 1024 * 1024,
      rateLimit: {enabled: o.rateLimit !== undefined, capacity: 600, refillPerSecond: 300, maxClients: 10_000},
      serverName: "test",
      rpcVersion: "2.8.0",
    },
    {pipeline, logger, now: () => h.clock.now(), health: () => ({})},
  );
  const ws = registerWebSocket(
    app,
    {...defaultWsOptions, ...o.ws},
    {pipeline, store: h.store, pq: h.ctx.pq, clock: h.clock, router, logger, ...o.modules},
  );
  const address = await app.listen({host: "127.0.0.1", port: 0});
  return {
    h,
    app,
    ws,
    url: `${address.replace("http://", "ws://")}/ws`,
    close: async () => {
      await app.close();
      await h.close();
    },
  };
}

/** `{"type": "message", …}` as the node pushes it. */
export interface PushFrame {
  type: "message";
  account: string;
  hash: string;
  namespace: number;
  timestamp: number;
  expiry: number;
  data?: string;
}

export interface Closed {
  code: number;
  reason: string;
}

/** A `ws` client that keeps every frame and resolves requests by ID. */
export class TestClient {
  readonly frames: any[] = [];
  readonly closed: Promise<Closed>;
  #nextId = 1;
  #waiters: Array<{match: (f: any) => boolean; resolve: (f: any) => void}> = [];

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.once("close", (code, reason) => resolve({code, reason: reason.toString()})));
    socket.on("message", (data) => this.#onFrame(JSON.parse((data as Buffer).toString("utf8"))));
  }

  static connect(url: string, opts: ClientOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(url, opts);
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(client));
      socket.once("error", reject);
    });
  }

  send(frame: object | string): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends `{id, type, …rest}` and resolves with the frame that carries the same id. */
  request(type: string, rest: object = {}): Promise<any> {
    const id = `r${this.#nextId++}`;
    const reply = this.waitFor((f) => f.id === id);
    this.send({id, type, ...rest});
    return reply;
  }

  rpc(method: string, params: object): Promise<any> {
    return this.request("rpc", {method, params});
  }

  subscribe(params: object | object[]): Promise<any> {
    return this.request("subscribe", {params});
  }

  /** A round trip: every frame the node queued before answering has arrived once this resolves. */
  async sync(): Promise<void> {
    await this.request("ping");
  }

  /** The first frame (already received or still to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (f: any) => boolean, timeoutMs = 5_000): Promise<any> {
    const seen = this.frames.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({match, resolve: (f) => (clearTimeout(timer), resolve(f))});
    });
  }

  /** Push frames received so far. */
  pushes(): PushFrame[] {
    return this.frames.filter((f) => f.type === "message") as PushFrame[];
  }

  close(): void {
    this.socket.close();
  }

  #onFrame(frame: any): void {
    this.frames.push(frame);
    const hit = this.#waiters.filter((w) => w.match(frame));
    this.#waiters = this.#waiters.filter((w) => !w.match(frame));
    for (const w of hit) w.resolve(frame);
  }
}

export const seconds = (ms: number): number => Math.floor(ms / 1000);

const monitorMsg = (account: string, t: number, d: boolean, n: number[]): string => `MONITOR${account}${t}${d ? 1 : 0}${n.join(",")}`;

/** `P` form: a Session ID (05) subscribing with its Ed25519 key. */
export function sub05(acc: SessionAccount, n: number[], d: boolean, t: number): Record<string, unknown> {
  return {P: acc.ed.pub.toString("hex"), n, d, t, s: acc.ed.sign(monitorMsg(acc.hex, t, d, n)).toString("base64")};
}

/** `p` form: an account whose 32 bytes are its Ed25519 key (03 groups, …). */
export function subP(acc: SessionAccount, n: number[], d: boolean, t: number): Record<string, unknown> {
  return {p: acc.hex, n, d: d ? 1 : 0, t, s: acc.ed.sign(monitorMsg(acc.hex, t, d, n)).toString("base64")};
}

/** `07` form: ML-DSA-65 with the request context and both public keys. */
export function subPq(acc: PqAccount, n: number[], d: boolean, t: number): Record<string, unknown> {
  return {
    p: acc.hex,
    n,
    d,
    t,
    pubkey_mldsa: Buffer.from(acc.dsa.publicKey).toString("base64"),
    pubkey_mlkem: Buffer.from(acc.kem.publicKey).toString("hex"),
    s: acc.sign(monitorMsg(acc.hex, t, d, n), CTX.REQUEST_AUTH).toString("base64"),
  };
}

/** A subaccount token for `owner` (prefix ‖ flags ‖ 0 0 ‖ subkey) and the owner's signature over it. */
export function token(owner: SessionAccount, flags: number, sub: Ed25519Key): {token: Buffer; sig: Buffer} {
  const t = Buffer.concat([Buffer.from([Number.parseInt(owner.hex.slice(0, 2), 16), flags, 0, 0]), sub.pub]);
  return {token: t, sig: owner.ed.sign(t)};
}

/** `p` + `S`/`T`: a subaccount of a 03 account signs the subscription with its own key. */
export function subToken(owner: SessionAccount, sub: Ed25519Key, flags: number, n: number[], t: number): Record<string, unknown> {
  const tok = token(owner, flags, sub);
  return {p: owner.hex, S: tok.sig.toString("base64"), T: tok.token.toString("hex"), n, t, s: sub.sign(monitorMsg(owner.hex, t, false, n)).toString("base64")};
}

/** A message as replication or catch-up would hand it to the store (no RPC involved). */
export function message(account: string, namespace: number, text: string, nowMs: number): NewMessage {
  const data = Buffer.from(text);
  return {account, namespace, data, hash: sessionHash(account, namespace, data), timestamp: nowMs, expiry: nowMs + 3_600_000, replaceNamespace: false};
}
