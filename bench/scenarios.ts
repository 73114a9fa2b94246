/**
 * The HTTP scenarios of `npm run bench` and how one run of each is executed: which server (a
 * fresh child process per run for stores; one prefilled server for all retrieve runs), which
 * workload, and what the orchestrator checks in the responses.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {ChildRegistry, runLoadClient, startServer, type ServerHandle} from "./children.js";
import type {LoadResult, LoadSpec} from "./load-client.js";
import {cpuProbe, processCpuSeconds} from "./cpu.js";
import {startSwarm} from "./swarm.js";
import {median, round} from "./util.js";

export type ScenarioId =
  | "echo"
  | "sqlite-store"
  | "sqlite-store-each"
  | "sqlite-store-signed"
  | "sqlite-store-loops"
  | "sqlite-store-signed-loops"
  | "sqlite-store-workers"
  | "sqlite-store-signed-workers"
  | "node-store"
  | "swarm-store"
  | "swarm-store-open"
  | "node-store-open"
  | "node-store-base"
  | "swarm-store-base"
  | "swarm-store-open-base"
  | "onion-store"
  | "sqlite-retrieve"
  | "sqlite-retrieve-signed"
  | "sqlite-retrieve-signed-worker"
  | "node-retrieve"
  | "node-retrieve-base"
  | "node-retrieve-07";
/** `swarm3`: three nodes in one swarm; the load goes to the first, which replicates to the others. */
type ServerKind =
  | "echo"
  | "sqlite-group"
  | "sqlite-each"
  | SignedBaseline
  | "sqlite-loops"
  | "sqlite-workers"
  | "sqlite-verify"
  | "sqlite-verify-worker"
  | "node"
  | "swarm3";
/** Raw SQLite store servers that answer with the node's signed entry (baseline-wire.ts). */
type SignedBaseline = "sqlite-signed" | "sqlite-signed-loops" | "sqlite-signed-workers";

export interface ScenarioDef {
  id: ScenarioId;
  label: string;
  server: ServerKind;
  workload: "store" | "retrieve";
  /** The raw-SQLite scenario this one is compared with (node scenarios only). */
  rawBaseline: ScenarioId | null;
  /** Whose mailboxes: receive-only keys (stores), `05` Ed25519 or `07` ML-DSA-65 accounts (retrieves). */
  accounts: LoadSpec["accounts"];
  /** Open loop: a fixed offered rate (BenchConfig.rate) instead of back-to-back request loops. */
  openLoop: boolean;
  /** "base": the node of another build (BENCH_BASE_DIST), for before/after figures in one run. */
  build: "this" | "base";
}

const scenario = (
  id: ScenarioId,
  label: string,
  server: ServerKind,
  workload: ScenarioDef["workload"],
  rawBaseline: ScenarioId | null = null,
  opts: {accounts?: LoadSpec["accounts"]; openLoop?: boolean; build?: ScenarioDef["build"]} = {},
): ScenarioDef => ({
  id,
  label,
  server,
  workload,
  rawBaseline,
  accounts: opts.accounts ?? (workload === "store" ? "plain" : "signing"),
  openLoop: opts.openLoop ?? false,
  build: opts.build ?? "this",
});

export const SCENARIOS: readonly ScenarioDef[] = [
  scenario("echo", "bare fastify echo", "echo", "store"),
  scenario("sqlite-store", "raw SQLite store, group commit", "sqlite-group", "store"),
  scenario("sqlite-store-each", "raw SQLite store, insert per request", "sqlite-each", "store"),
  // Issue #15 item 1's bound (baseline-wire.ts): the raw store with the node's signed ~5 KB answer,
  // on two event loops sharing the listening socket, and both.
  scenario("sqlite-store-signed", "raw SQLite store, node's signed answer", "sqlite-signed", "store", "sqlite-store"),
  scenario("sqlite-store-loops", "raw SQLite store, two event loops", "sqlite-loops", "store", "sqlite-store"),
  scenario("sqlite-store-signed-loops", "raw SQLite store, signed answer, two loops", "sqlite-signed-loops", "store", "sqlite-store"),
  // The same with both loops on worker threads, the main thread only writing (and signing).
  scenario("sqlite-store-workers", "raw SQLite store, two worker loops", "sqlite-workers", "store", "sqlite-store"),
  scenario("sqlite-store-signed-workers", "raw SQLite store, signed, two worker loops", "sqlite-signed-workers", "store", "sqlite-store"),
  scenario("node-store", "pars-storage store", "node", "store", "sqlite-store"),
  scenario("swarm-store", "pars-storage store, 3-node swarm", "swarm3", "store", "sqlite-store"),
  // Open loop (issue #15 target 2): BENCH_RATE stores/s offered whatever the answers do.
  scenario("swarm-store-open", "3-node swarm store, open loop", "swarm3", "store", null, {openLoop: true}),
  scenario("node-store-open", "pars-storage store, open loop", "node", "store", null, {openLoop: true}),
  // Before/after in one run: the same scenarios on the build in BENCH_BASE_DIST (e.g. the parent commit's dist/).
  scenario("node-store-base", "pars-storage store, base build", "node", "store", "sqlite-store", {build: "base"}),
  scenario("swarm-store-base", "3-node swarm store, base build", "swarm3", "store", "sqlite-store", {build: "base"}),
  scenario("swarm-store-open-base", "3-node swarm store, open loop, base build", "swarm3", "store", null, {openLoop: true, build: "base"}),
  // The same swarm, each store wrapped for a 3-hop path entry → middle → final (all three nodes).
  scenario("onion-store", "pars-storage store, 3-hop onion, same swarm", "swarm3", "store", "sqlite-store"),
  scenario("sqlite-retrieve", "raw SQLite retrieve 100", "sqlite-group", "retrieve"),
  // Issue #15 item 3's floor (baseline-wire.ts SignedRetrieve): the raw retrieve with the checks a
  // signed retrieve must pass (Ed25519 inline, or on the node's signing worker) and the node's answer.
  scenario("sqlite-retrieve-signed", "raw SQLite retrieve, signature checked, node's answer", "sqlite-verify", "retrieve", "sqlite-retrieve"),
  scenario("sqlite-retrieve-signed-worker", "raw SQLite retrieve, signature checked on a worker", "sqlite-verify-worker", "retrieve", "sqlite-retrieve"),
  scenario("node-retrieve", "pars-storage retrieve 100", "node", "retrieve", "sqlite-retrieve"),
  scenario("node-retrieve-base", "pars-storage retrieve 100, base build", "node", "retrieve", "sqlite-retrieve", {build: "base"}),
  // The same retrieves from 07 accounts: ML-DSA-65 verify and the account-ID derivation per request.
  scenario("node-retrieve-07", "pars-storage retrieve 100, 07 accounts", "node", "retrieve", "sqlite-retrieve", {accounts: "pq"}),
];

export const DEFAULT_SCENARIOS: readonly ScenarioId[] = [
  "echo",
  "sqlite-store",
  "sqlite-store-signed",
  "node-store",
  "swarm-store",
  "swarm-store-open",
  "onion-store",
  "sqlite-retrieve",
  "sqlite-retrieve-signed",
  "node-retrieve",
  "node-retrieve-07",
];

export interface BenchConfig {
  runs: number;
  seconds: number;
  warmupSeconds: number;
  /**
   * Store scenarios: stores sent to a fresh server (closed loop, `connections`) before it settles
   * and the measured run starts (BENCH_WARMUP_REQUESTS; absent or 0: none).
   */
  warmupRequests?: number;
  connections: number;
  /** Open-loop scenarios: offered stores per second (BENCH_RATE). */
  rate: number;
  /** Store scenarios: distinct receiving accounts, round-robin. */
  storeAccounts: number;
  /** Retrieve scenarios: prefilled accounts, each with `messagesPerAccount` messages. */
  retrieveAccounts: number;
  messagesPerAccount: number;
  scenarios: readonly ScenarioDef[];
}

/** One run of one scenario. */
export interface RunSample {
  load: LoadResult;
  /** Server CPU over the measured window, in cores (1.0 = one core busy); null without /proc. */
  serverCpu: number | null;
  /** The same per server process (a swarm: entry node first). */
  serverCpuEach: Array<number | null>;
  /** The (first) server process's main thread alone: the event loop, the node's bottleneck. */
  serverMainCpu: number | null;
  /** CPU used by everything else on the machine (not server, not load client) during the window. */
  otherCpu: number | null;
  /** Problems found in the responses (anything here is a bug or a broken setup). */
  problems: string[];
  /** Node store: receipts per ML-DSA batch signature, median over the sampled responses. */
  signBatch: number | null;
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const SCRIPTS = {
  loadClient: join(HERE, "load-client.js"),
  baseline: join(HERE, "baseline-server.js"),
  node: join(HERE, "..", "src", "cli", "bin.js"),
};
const RETRIEVE_SEED = "retrieve";
/**
 * Sockets of the open-loop client: enough that the pool is not what queues requests at the offered
 * rate (500/s at 50 ms is 25 in flight); when the server falls behind, requests wait for a socket
 * and that wait is counted in their latency, as it would be for real clients.
 */
const OPEN_LOOP_CONNECTIONS = 128;

/** Child processes and temp dirs of one benchmark; `close()` stops and removes all of them. */
export class BenchContext {
  readonly children = new ChildRegistry();
  private readonly dirs = new Set<string>();
  /** Prefilled retrieve servers, by server kind and build (`node` or `node/base`). */
  readonly retrieveServers = new Map<string, ServerHandle>();

  constructor(readonly config: BenchConfig) {}

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "pars-bench-"));
    this.dirs.add(dir);
    return dir;
  }

  removeDir(dir: string): void {
    rmSync(dir, {recursive: true, force: true});
    this.dirs.delete(dir);
  }

  async close(): Promise<void> {
    await this.children.stopAll();
    this.removeDirsSync();
  }

  /** For the process "exit" handler: kill children (SIGKILL) and remove the temp dirs. */
  closeSync(): void {
    this.children.killAll();
    this.removeDirsSync();
  }

  private removeDirsSync(): void {
    for (const dir of this.dirs) rmSync(dir, {recursive: true, force: true});
    this.dirs.clear();
  }
}

// Rate limiting is off: every request comes from 127.0.0.1, far above Session's 300/s per client.
const NODE_FLAGS = ["--log-level", "warn", "--rateLimit.enabled=false"];

/** The node CLI of this build, or of BENCH_BASE_DIST's for "base" scenarios. */
function nodeScript(build: ScenarioDef["build"]): string {
  if (build === "this") return SCRIPTS.node;
  const base = process.env.BENCH_BASE_DIST;
  if (base === undefined || base === "") throw new Error("the *-base scenarios need BENCH_BASE_DIST (another build's dist/ directory)");
  return join(base, "src", "cli", "bin.js");
}

/** The node's CLI on `dataDir`, as every node scenario starts it. */
export function nodeArgs(dataDir: string, build: ScenarioDef["build"] = "this"): string[] {
  // BENCH_NODE_FLAGS (space-separated): CLI flags for this build's nodes only, e.g. an option the base build lacks.
  const own = build === "this" ? (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "") : [];
  return [nodeScript(build), "start", "--data-dir", dataDir, "--http-port", "0", ...NODE_FLAGS, ...own];
}

function serverArgs(kind: ServerKind, dir: string | null, build: ScenarioDef["build"]): string[] {
  if (kind === "echo") return [SCRIPTS.baseline, "echo"];
  if (kind !== "node") return [SCRIPTS.baseline, kind, dir as string];
  return nodeArgs(dir as string, build);
}

type Server = ServerHandle & {pids?: number[]};

async function startFresh(ctx: BenchContext, kind: ServerKind, build: ScenarioDef["build"] = "this"): Promise<{server: Server; dir: string | null}> {
  const dir = kind === "echo" ? null : ctx.tempDir();
  if (kind === "swarm3") return {server: await startSwarm(ctx.children, nodeScript(build), dir as string, 3, NODE_FLAGS), dir};
  const server = await startServer(ctx.children, kind, serverArgs(kind, dir, build));
  return {server, dir};
}

function loadSpec(ctx: BenchContext, def: ScenarioDef, url: string, run: number): LoadSpec {
  const c = ctx.config;
  const retrieve = def.workload === "retrieve";
  return {
    url,
    workload: def.workload,
    accounts: def.accounts,
    accountCount: retrieve ? c.retrieveAccounts : c.storeAccounts,
    seed: retrieve ? RETRIEVE_SEED : `store-${run}`,
    connections: def.openLoop ? OPEN_LOOP_CONNECTIONS : c.connections,
    warmupSeconds: c.warmupSeconds,
    seconds: c.seconds,
    ...(def.id === "onion-store" ? {onion: true} : {}),
    ...(def.openLoop ? {rate: c.rate} : {}),
  };
}

/**
 * Starts the servers the retrieve scenarios share and fills, through the store RPC, the mailboxes
 * of every account kind a retrieve scenario on that server reads (`05`, and `07` for
 * node-retrieve-07).
 */
export async function prepareRetrieveServers(ctx: BenchContext, log: (line: string) => void): Promise<void> {
  const c = ctx.config;
  const retrieves = c.scenarios.filter((s) => s.workload === "retrieve");
  for (const key of new Set(retrieves.map(retrieveServerKey))) {
    const same = retrieves.filter((s) => retrieveServerKey(s) === key);
    const kind = (same[0] as ScenarioDef).server;
    const {server} = await startFresh(ctx, kind, (same[0] as ScenarioDef).build);
    for (const accounts of new Set(same.map((s) => s.accounts))) {
      const spec: LoadSpec = {
        url: server.url,
        workload: "store",
        accounts,
        accountCount: c.retrieveAccounts,
        seed: RETRIEVE_SEED,
        connections: c.connections,
        warmupSeconds: 0,
        seconds: 0,
        totalRequests: c.retrieveAccounts * c.messagesPerAccount,
      };
      const r = await runLoadClient(ctx.children, SCRIPTS.loadClient, spec);
      const failed = r.non2xx + r.errors;
      log(`prefilled ${key} (${accounts} accounts): ${r.requests} stores in ${r.seconds} s (${r.reqPerSec} req/s), ${failed} failed`);
      if (failed > 0) throw new Error(`prefill of ${key} failed: ${r.failures.join(" | ")}`);
    }
    const settled = await settle(server.pid);
    log(`${key} settled after the prefill in ${settled.seconds} s (${settled.cores} cores in the last second)`);
    ctx.retrieveServers.set(key, server);
  }
}

/** Retrieve scenarios share one prefilled server per server kind and build. */
function retrieveServerKey(def: ScenarioDef): string {
  return def.build === "base" ? `${def.server}/base` : def.server;
}

/** A server is idle when it uses less than this many cores over a second. */
const IDLE_CORES = 0.05;
const SETTLE_MAX_SECONDS = 120;

/**
 * Waits until a prefilled server is idle: after 10,000-20,000 stores the node refreshes its
 * storage-proof commitment and checkpoints its WAL, and that background CPU would otherwise land
 * in the first retrieve runs (in their `server` CPU and, on two cores, their throughput), i.e. on
 * whichever scenario comes first. Gives up after SETTLE_MAX_SECONDS (and without /proc).
 */
async function settle(pid: number): Promise<{seconds: number; cores: number | null}> {
  const started = performance.now();
  let cores: number | null = null;
  while ((performance.now() - started) / 1000 < SETTLE_MAX_SECONDS) {
    const before = processCpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = processCpuSeconds(pid);
    if (before === null || after === null) break;
    cores = round(after - before, 2);
    if (cores < IDLE_CORES) break;
  }
  return {seconds: round((performance.now() - started) / 1000, 1), cores};
}

/**
 * Stores `warmupRequests` messages into a fresh store server (closed loop, its own accounts' seed)
 * so the window measures compiled code; a store that fails is reported, as the prefill's are.
 */
async function warmUp(ctx: BenchContext, def: ScenarioDef, url: string, run: number): Promise<void> {
  const c = ctx.config;
  const total = c.warmupRequests ?? 0;
  if (def.workload !== "store" || total <= 0) return;
  const spec: LoadSpec = {
    url,
    workload: "store",
    accounts: def.accounts,
    accountCount: c.storeAccounts,
    seed: `warmup-${run}`,
    connections: c.connections,
    warmupSeconds: 0,
    seconds: 0,
    totalRequests: total,
  };
  const r = await runLoadClient(ctx.children, SCRIPTS.loadClient, spec);
  const failed = r.non2xx + r.errors;
  if (failed > 0) throw new Error(`warm-up of ${def.id} failed: ${failed} of ${r.requests}: ${r.failures.join(" | ")}`);
}

/**
 * Runs one scenario once (fresh server for stores, the prefilled one for retrieves). `onPhase`
 * also sees the measured window open and close, with the server's pids (`loop-threads.ts`).
 */
export async function runScenario(
  ctx: BenchContext,
  def: ScenarioDef,
  run: number,
  onPhase?: (phase: string, pids: readonly number[]) => void,
): Promise<RunSample> {
  const shared = def.workload === "retrieve" ? ctx.retrieveServers.get(retrieveServerKey(def)) : undefined;
  const {server, dir}: {server: Server; dir: string | null} =
    shared !== undefined ? {server: shared, dir: null} : await startFresh(ctx, def.server, def.build);
  try {
    // A fresh server's startup work (module loading, the first storage-proof build on a worker)
    // must not land in the window: it is not per-request work, and a swarm pays it three times.
    // Nor its JIT warm-up: V8 optimises a function after enough calls, i.e. after a number of
    // requests, not of seconds, so an open loop at 500/s was measured while its platform threads
    // compiled (~30 TurboFan jobs a second for > 10 s), at three times a closed loop's CPU per store.
    if (shared === undefined && def.server !== "echo") {
      await warmUp(ctx, def, server.url, run);
      await Promise.all((server.pids ?? [server.pid]).map(settle));
    }
    const probe = cpuProbe(server.pids ?? [server.pid]);
    const spec = loadSpec(ctx, def, server.url, run);
    const pids = server.pids ?? [server.pid];
    const phase = (p: string): void => {
      probe.onPhase(p);
      onPhase?.(p, pids);
    };
    const load = await runLoadClient(ctx.children, SCRIPTS.loadClient, spec, phase);
    const {problems, signBatch} = checkSamples(def, load, ctx.config.messagesPerAccount);
    if (load.non2xx + load.errors > 0) {
      problems.push(`${load.non2xx} non-2xx, ${load.errors} errors: ${load.failures.join(" | ")}`);
    }
    const {server: serverCpu, each: serverCpuEach, main: serverMainCpu, machine} = probe.result();
    const other = serverCpu === null || machine === null ? null : machine - serverCpu - load.clientCpu;
    const otherCpu = other === null ? null : Math.max(0, round(other, 2));
    return {load, serverCpu, serverCpuEach, serverMainCpu, otherCpu, problems, signBatch};
  } finally {
    if (shared === undefined) {
      await server.stop();
      if (dir !== null) ctx.removeDir(dir);
    }
  }
}

type Check = {problem: string | null; signBatch: number | null};

/**
 * Checks one 2xx body: node stores (and the baselines answering as the node does) must be ML-DSA
 * batch-signed, retrieves return every message.
 */
export function checkBody(def: ScenarioDef, text: string, expected: number): Check {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {problem: `response is not JSON: ${text.slice(0, 200)}`, signBatch: null};
  }
  if (def.workload === "retrieve") {
    const n = Array.isArray(body.messages) ? body.messages.length : -1;
    return {problem: n === expected ? null : `retrieve returned ${n} messages, expected ${expected}`, signBatch: null};
  }
  const signedBaseline = def.server === "sqlite-signed" || def.server === "sqlite-signed-loops" || def.server === "sqlite-signed-workers";
  if (def.server !== "node" && def.server !== "swarm3" && !signedBaseline) return {problem: null, signBatch: null};
  type Entry = {signature?: unknown; signature_proof?: {n?: unknown}};
  const entries = Object.values((body.swarm ?? {}) as Record<string, Entry>);
  const members = def.server === "swarm3" ? 3 : 1;
  const proof = entries[0]?.signature_proof;
  const signed = entries.every((e) => typeof e.signature === "string" && typeof e.signature_proof?.n === "number");
  if (entries.length !== members || !signed || typeof proof?.n !== "number") {
    return {problem: `store response lacks ${members} signed swarm entries: ${text.slice(0, 300)}`, signBatch: null};
  }
  return {problem: null, signBatch: proof.n};
}

/** Checks the sampled responses; signBatch is the median batch size among node store samples. */
function checkSamples(
  def: ScenarioDef,
  load: LoadResult,
  expected: number,
): {problems: string[]; signBatch: number | null} {
  if (load.samples.length === 0) return {problems: ["no 2xx response sampled in the measured window"], signBatch: null};
  const checks = load.samples.map((text) => checkBody(def, text, expected));
  const problems = [...new Set(checks.flatMap((c) => (c.problem === null ? [] : [c.problem])))];
  const batches = checks.flatMap((c) => (c.signBatch === null ? [] : [c.signBatch]));
  return {problems, signBatch: batches.length === 0 ? null : median(batches)};
}
