/**
 * WebSocket push latency: a node (child process: SQLite in a temp dir, response signing on a worker,
 * GET /ws) and, in another child process, N `ws` clients each subscribed to its own Session ID.
 * The clients' process POSTs stores to /storage_rpc/v1 at a steady rate for random subscribed
 * accounts and times store-sent → push-received; in the same run, at the same rate, it times an
 * application ping/pong round trip on random connections of the same clients (the baseline: what
 * the WebSocket path alone costs). Median of several runs.
 *
 *   node dist/bench/ws-push.js [--connections 1000] [--rate 500] [--seconds 6] [--runs 3]
 */
import {spawn, type ChildProcess} from "node:child_process";
import {generateKeyPairSync, sign} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createInterface} from "node:readline";
import {fileURLToPath} from "node:url";
import {monitorEventLoopDelay} from "node:perf_hooks";
import {ed25519} from "@noble/curves/ed25519.js";
import pino from "pino";
import {Pool} from "undici";
import WebSocket from "ws";
import {buildHttpApp} from "../src/api/http/app.js";
import {defaultWsOptions, registerWebSocket, type WsStats} from "../src/api/ws/index.js";
import {initHashing} from "../src/crypto/hash.js";
import {generateIdentity} from "../src/crypto/identity.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {RpcHandler} from "../src/rpc/handler.js";
import {RequestPipeline} from "../src/rpc/pipeline.js";
import {SingleNodeRouter} from "../src/swarm/swarm-router.js";
import {InlineSigner, WorkerSigner} from "../src/signer/context-signer.js";
import {ResponseSigner} from "../src/receipts/response-signer.js";
import {SqliteMessageStore} from "../src/storage/index.js";
import {systemClock} from "../src/util/clock.js";

export interface WsPushBenchOptions {
  connections: number;
  /** Stores per second (and, separately, pings per second). */
  rate: number;
  runSeconds: number;
  runs: number;
}

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

export interface WsPushRun {
  push: Latency;
  echo: Latency;
  /** Time until the HTTP store answer (includes the batched ML-DSA receipt signature). */
  storeReply: Latency;
  /** Stores whose push had not arrived 2 s after the run's last store (late or lost). */
  late: number;
}

export interface WsPushBenchResult {
  options: WsPushBenchOptions;
  setupMs: number;
  runs: WsPushRun[];
  /** Medians over the runs. */
  push: Latency;
  echo: Latency;
  storeReply: Latency;
  server: WsStats;
  /** The node's event-loop delay during the runs (warm-up included), in ms. */
  serverLoopDelay: {p99Ms: number; maxMs: number};
}

const defaults: WsPushBenchOptions = {connections: 1000, rate: 500, runSeconds: 6, runs: 3};
const SELF = fileURLToPath(import.meta.url);
const DRAIN_MS = 2_000;
const TICK_MS = 2;
const PAYLOAD_PAD = "x".repeat(64);

const out = (msg: object): void => void process.stdout.write(`${JSON.stringify(msg)}\n`);
const round2 = (x: number): number => Math.round(x * 100) / 100;

function latency(samples: number[]): Latency {
  const s = Float64Array.from(samples).sort();
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
  return {p50Ms: round2(at(0.5)), p99Ms: round2(at(0.99)), samples: s.length};
}

function medianOf(xs: Latency[]): Latency {
  const mid = (k: "p50Ms" | "p99Ms"): number => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
  return {p50Ms: mid("p50Ms"), p99Ms: mid("p99Ms"), samples: xs.reduce((a, x) => a + x.samples, 0)};
}

/** Server child: the node under test. */
async function runServer(): Promise<void> {
  await initHashing();
  const pq = await loadPqBackend("auto");
  const identity = generateIdentity(pq);
  const dir = mkdtempSync(join(tmpdir(), "pars-ws-bench-"));
  const logger = pino({level: "warn"}, pino.destination(2));
  const store = await SqliteMessageStore.open({path: join(dir, "storage.db")}, {clock: systemClock, logger});
  const fallback = new InlineSigner(pq, identity.mlDsa.secretKey);
  const mlDsa = await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback}).catch(() => fallback);
  const signer = new ResponseSigner({maxBatchDelayMs: 2, maxBatchSize: 4096}, {signer: mlDsa, nodeId: identity.nodeId, clock: systemClock});
  const router = new SingleNodeRouter({node_id: identity.nodeId, pubkey_mldsa: "", pubkey_mlkem: "", ip: "127.0.0.1", port: "0", port_https: 0});
  const versions = {version: [2, 8, 0] as [number, number, number], hf: [19, 4] as [number, number], parsVersion: "bench"};
  const rpc = new RpcHandler({store, clock: systemClock, pq, router, signer, nodeId: identity.nodeId, logger, versions, opts: {defaultTtlMs: 86_400_000}});
  const rateLimit = {enabled: false, capacity: 600, refillPerSecond: 300, maxClients: 10_000};
  const pipeline = new RequestPipeline({rpc, router, limiter: null, logger});
  const app = buildHttpApp({bodyLimitBytes: 10 * 1024 * 1024, rateLimit, serverName: "bench", rpcVersion: "2.8.0"}, {pipeline, logger, now: () => Date.now(), health: () => ({})});
  const wsOpts = {...defaultWsOptions, maxConnections: 100_000, maxConnectionsPerIp: 100_000};
  const ws = registerWebSocket(app, wsOpts, {pipeline, store, pq, clock: systemClock, router, logger});
  const url = await app.listen({host: "127.0.0.1", port: 0});
  const loop = monitorEventLoopDelay({resolution: 5});
  loop.enable();
  out({type: "listening", url});
  createInterface({input: process.stdin}).on("line", (line) => {
    const loopDelay = {p99Ms: round2(loop.percentile(99) / 1e6), maxMs: round2(loop.max / 1e6)};
    if (line === "reset") loop.reset();
    if (line === "stats") out({type: "stats", stats: ws.stats(), loopDelay});
    if (line === "exit") void app.close().then(() => signer.close()).then(() => mlDsa.close()).then(() => store.close()).then(() => {
      rmSync(dir, {recursive: true, force: true});
      process.exit(0);
    });
  });
}

interface Client {
  socket: WebSocket;
  account: string;
}

interface Timings {
  stores: Map<number, number>;
  pings: Map<string, number>;
  push: number[];
  echo: number[];
  storeReply: number[];
}

/** A Session ID (05 ‖ X25519 of its Ed25519 key) subscribed with `P` to namespace 0, with data. */
/** One socket (from `localAddress` if given), subscribed with a signed monitor request to a fresh 05 account. */
export async function openSubscribedSocket(wsUrl: string, localAddress?: string): Promise<{socket: WebSocket; account: string}> {
  const {publicKey, privateKey} = generateKeyPairSync("ed25519");
  const pub = publicKey.export({format: "der", type: "spki"}).subarray(-32);
  const account = "05" + Buffer.from(ed25519.utils.toMontgomery(pub)).toString("hex");
  const socket = new WebSocket(wsUrl, localAddress === undefined ? {} : {localAddress});
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const t = Math.floor(Date.now() / 1000);
  const s = sign(null, Buffer.from(`MONITOR${account}${t}10`), privateKey).toString("base64");
  const reply = new Promise<unknown>((resolve) => socket.once("message", (d) => resolve(JSON.parse((d as Buffer).toString()))));
  socket.send(JSON.stringify({id: "sub", type: "subscribe", params: {P: pub.toString("hex"), n: [0], d: 1, t, s}}));
  const r = (await reply) as {success?: boolean};
  if (r.success !== true) throw new Error(`subscribe failed: ${JSON.stringify(r)}`);
  return {socket, account};
}

async function openClient(wsUrl: string, timings: () => Timings): Promise<Client> {
  const {socket, account} = await openSubscribedSocket(wsUrl);
  socket.on("message", (d) => onFrame(JSON.parse((d as Buffer).toString()) as Record<string, unknown>, timings()));
  return {socket, account};
}

function onFrame(f: Record<string, unknown>, t: Timings): void {
  const now = performance.now();
  if (f.type === "message" && typeof f.data === "string") {
    const seq = Number(Buffer.from(f.data, "base64").toString().split(":")[0]);
    const sent = t.stores.get(seq);
    if (sent === undefined) return;
    t.stores.delete(seq);
    t.push.push(now - sent);
  } else if (f.type === "pong" && typeof f.id === "string") {
    const sent = t.pings.get(f.id);
    if (sent === undefined) return;
    t.pings.delete(f.id);
    t.echo.push(now - sent);
  }
}

let seq = 0;

function sendStore(pool: Pool, client: Client, t: Timings): void {
  const n = ++seq;
  const data = Buffer.from(`${n}:${PAYLOAD_PAD}`).toString("base64");
  const body = JSON.stringify({method: "store", params: {pubkey: client.account, timestamp: Date.now(), ttl: 60_000, data}});
  const sent = performance.now();
  t.stores.set(n, sent);
  void pool.request({path: "/storage_rpc/v1", method: "POST", body}).then(async (res) => {
    await res.body.dump();
    t.storeReply.push(performance.now() - sent);
  });
}

/** One measured run: `rate` stores/s and `rate` pings/s for `seconds`, then a drain. */
async function measure(pool: Pool, clients: Client[], o: WsPushBenchOptions, t: Timings): Promise<WsPushRun> {
  const start = performance.now();
  let due = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const target = Math.min(o.rate * o.runSeconds, Math.floor((elapsed / 1000) * o.rate));
      for (; due < target; due++) {
        sendStore(pool, clients[Math.floor(Math.random() * clients.length)] as Client, t);
        const id = `p${seq}`;
        t.pings.set(id, performance.now());
        (clients[Math.floor(Math.random() * clients.length)] as Client).socket.send(JSON.stringify({id, type: "ping"}));
      }
      if (due < o.rate * o.runSeconds) return;
      clearInterval(timer);
      resolve();
    }, TICK_MS);
  });
  await new Promise((r) => setTimeout(r, DRAIN_MS));
  return {push: latency(t.push), echo: latency(t.echo), storeReply: latency(t.storeReply), late: t.stores.size};
}

const freshTimings = (): Timings => ({stores: new Map(), pings: new Map(), push: [], echo: [], storeReply: []});

async function runClients(url: string, o: WsPushBenchOptions): Promise<void> {
  const started = performance.now();
  let timings = freshTimings();
  const clients: Client[] = [];
  for (let i = 0; i < o.connections; i += 50) {
    const batch = Math.min(50, o.connections - i);
    clients.push(...(await Promise.all(Array.from({length: batch}, () => openClient(`${url.replace("http", "ws")}/ws`, () => timings)))));
  }
  const pool = new Pool(url, {connections: 32, pipelining: 1});
  out({type: "ready", setupMs: Math.round(performance.now() - started)});
  await measure(pool, clients, {...o, runSeconds: 1}, timings); // warm-up (JIT, SQLite, signer)
  for (let r = 0; r < o.runs; r++) {
    timings = freshTimings();
    out({type: "run", run: await measure(pool, clients, o, timings)});
  }
  out({type: "measured"});
  await new Promise((resolve) => createInterface({input: process.stdin}).once("line", resolve));
  for (const c of clients) c.socket.terminate();
  await pool.close();
  out({type: "done"});
}

function child(args: string[], onLine: (msg: Record<string, unknown>) => void): ChildProcess {
  const proc = spawn(process.execPath, [SELF, ...args], {stdio: ["pipe", "pipe", "inherit"]});
  createInterface({input: proc.stdout as NodeJS.ReadableStream}).on("line", (line) => {
    if (line.startsWith("{")) onLine(JSON.parse(line) as Record<string, unknown>);
  });
  return proc;
}

function waitFor(proc: ChildProcess, lines: Array<Record<string, unknown>>, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const hit = lines.find((l) => l.type === type);
      if (hit === undefined && proc.exitCode === null) return;
      clearInterval(poll);
      if (hit !== undefined) resolve(hit);
      else reject(new Error(`child exited (${String(proc.exitCode)}) before "${type}"`));
    }, 20);
  });
}

export async function benchWsPush(partial: Partial<WsPushBenchOptions> = {}): Promise<WsPushBenchResult> {
  const o = {...defaults, ...partial};
  const fromServer: Array<Record<string, unknown>> = [];
  const fromClients: Array<Record<string, unknown>> = [];
  const server = child(["--role", "server"], (m) => fromServer.push(m));
  let clients: ChildProcess | null = null;
  try {
    const {url} = (await waitFor(server, fromServer, "listening")) as {url: string};
    clients = child(["--role", "clients", url, JSON.stringify(o)], (m) => fromClients.push(m));
    const {setupMs} = (await waitFor(clients, fromClients, "ready")) as {setupMs: number};
    server.stdin?.write("reset\n"); // event-loop delay from here on: the runs, not the subscribe burst
    await waitFor(clients, fromClients, "measured");
    server.stdin?.write("stats\n");
    const {stats, loopDelay} = (await waitFor(server, fromServer, "stats")) as {stats: WsStats; loopDelay: WsPushBenchResult["serverLoopDelay"]};
    clients.stdin?.write("close\n");
    await waitFor(clients, fromClients, "done");
    const runs = fromClients.filter((m) => m.type === "run").map((m) => m.run as WsPushRun);
    const pick = (k: "push" | "echo" | "storeReply"): Latency => medianOf(runs.map((r) => r[k]));
    return {options: o, setupMs, runs, push: pick("push"), echo: pick("echo"), storeReply: pick("storeReply"), server: stats, serverLoopDelay: loopDelay};
  } finally {
    clients?.kill("SIGKILL");
    server.stdin?.write("exit\n");
    setTimeout(() => server.kill("SIGKILL"), 5_000).unref();
  }
}

function printReport(r: WsPushBenchResult): void {
  const row = (name: string, l: Latency): string => `${name.padEnd(34)} p50 ${String(l.p50Ms).padStart(7)} ms   p99 ${String(l.p99Ms).padStart(7)} ms`;
  console.log(JSON.stringify(r, null, 2));
  console.log(`\n${r.options.connections} subscribed connections, ${r.options.rate} stores/s, ${r.options.runs} × ${r.options.runSeconds} s (median of runs)`);
  console.log(row("push (store sent → push received)", r.push));
  console.log(row("baseline: WS ping → pong", r.echo));
  console.log(row("HTTP store answer (signed)", r.storeReply));
  const sent = r.options.rate * (r.options.runs * r.options.runSeconds + 1);
  console.log(`pushes > 2 s late: ${r.runs.map((x) => x.late).join(", ")}; node pushed ${r.server.pushes} of ${sent} stores; drops ${r.server.drops}`);
  console.log(`setup (connect + subscribe ${r.options.connections}): ${r.setupMs} ms`);
  console.log(`node event-loop delay: p99 ${r.serverLoopDelay.p99Ms} ms, max ${r.serverLoopDelay.maxMs} ms`);
}

async function main(argv: string[]): Promise<void> {
  const role = argv.includes("--role") ? argv[argv.indexOf("--role") + 1] : undefined;
  if (role === "server") return runServer();
  if (role === "clients") return runClients(argv[4] as string, JSON.parse(argv[5] as string) as WsPushBenchOptions);
  const opts: Partial<WsPushBenchOptions> = {};
  for (const [k, f] of [["connections", "--connections"], ["rate", "--rate"], ["runSeconds", "--seconds"], ["runs", "--runs"]] as const) {
    if (argv.includes(f)) opts[k] = Number(argv[argv.indexOf(f) + 1]);
  }
  printReport(await benchWsPush(opts));
}

if (process.argv[1] === SELF) {
  main(process.argv).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
