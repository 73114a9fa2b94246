/**
 * `npm run bench`: single-node store and retrieve throughput of pars-storage next to a bare-fastify
 * echo server and a raw better-sqlite3 server measured in the same run, replicated store throughput
 * on a local 3-node swarm (swarm-store) and the same stores over 3-hop onion paths through that swarm
 * (onion-store, compared with swarm-store: throughput ratio and server CPU added per hop), then the storage and crypto micro-benchmarks. Prints tables and writes the JSON summary to ./bench-results.json.
 *
 * Every server and the load generator are separate child processes on 127.0.0.1 (OS-chosen ports).
 * The scenarios are interleaved run by run (echo, raw SQLite, node, …, then again), so drift on a
 * noisy machine hits all of them alike; each figure is the median of BENCH_RUNS runs. Knobs:
 *
 *   BENCH_RUNS (3)  BENCH_SECONDS (5)  BENCH_WARMUP_SECONDS (1)  BENCH_CONNECTIONS (50)
 *   BENCH_WARMUP_REQUESTS (5000; stores sent to each fresh store server before it settles and is measured; 0: none)
 *   BENCH_SCENARIOS (echo,sqlite-store,node-store,swarm-store,swarm-store-open,onion-store,sqlite-retrieve,node-retrieve,
 *     node-retrieve-07; also sqlite-store-each, node-store-open)
 *   BENCH_RATE (500; offered stores/s of the open-loop scenarios)
 *   BENCH_BASE_DIST (another build's dist/, for node-store-base, swarm-store-base, swarm-store-open-base and node-retrieve-base:
 *     before/after in one run)
 *   BENCH_NODE_ARGS (node flags for the server processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
 *   BENCH_SERVER_STDOUT_DIR (keep each server's stdout after its "listening" line in <dir>/<pid>.out, e.g. --trace-gc-nvp)
 *   BENCH_MICRO (1; 0 skips the micro-benchmarks)
 *   BENCH_MEMORY (1; 0 skips the node's RSS after 1 M messages and per WebSocket subscriber, bench/memory.ts)
 *   BENCH_WS (0; 1 adds WebSocket push latency with 1,000 subscribers, ~35 s)
 *   BENCH_PROOFS (0; 1 adds storage proofs at 100 k and 1 M messages, bench/proofs.ts, ~5 min)
 *
 * The node child inherits the environment, so PARS_STORAGE_* variables (e.g.
 * PARS_STORAGE_CRYPTO_PQ_BACKEND=noble) change the node under test. Exit code 1 if any request
 * failed or a response check did not pass.
 */
import {writeFileSync} from "node:fs";
import {loadavg} from "node:os";
import {pathToFileURL} from "node:url";
import {describeEnvironment, type MachineInfo} from "./machine.js";
import {runMicroBenchmarks, type MicroResults} from "./micro.js";
import {benchMemory, formatMemory, memoryOptions, type MemoryBenchResult} from "./memory.js";
import {benchProofs, formatProofTable, type ProofBenchResult} from "./proofs.js";
import {benchWsPush, type WsPushBenchResult} from "./ws-push.js";
import {formatHttpTable, summarize, type ScenarioSummary} from "./report.js";
import {formatTargetTable, issue15Targets, type TargetRow} from "./targets.js";
import {
  BenchContext,
  DEFAULT_SCENARIOS,
  prepareRetrieveServers,
  runScenario,
  SCENARIOS,
  type BenchConfig,
  type RunSample,
  type ScenarioId,
} from "./scenarios.js";
import {envNumber, formatInt, round} from "./util.js";

const RESULTS_FILE = "bench-results.json";
/** A run is "noisy" when other processes used more than this many cores during its window. */
const NOISY_OTHER_CORES = 0.25;

export interface BenchSummary {
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  config: Omit<BenchConfig, "scenarios"> & {scenarios: ScenarioId[]; micro: boolean};
  http: ScenarioSummary[];
  runs: Record<string, Array<Omit<RunSample["load"], "samples"> & {serverCpu: number | null; serverMainCpu: number | null; otherCpu: number | null}>>;
  micro: MicroResults | null;
  /** onion-store next to swarm-store (both scenarios run): ratio and server CPU added per hop. */
  onion: OnionComparison | null;
  /** Issue #15's ratios with their targets (bench/targets.ts). */
  targets: TargetRow[];
  /** Node RSS after 1 M stored messages and per idle WebSocket subscriber (BENCH_MEMORY, default on). */
  memory: MemoryBenchResult | null;
  /** Issue #15 target 2: swarm-store (and swarm-store-open) against node-store. */
  replication: ReplicationComparison | null;
  /** WebSocket push latency with 1,000 subscribers (BENCH_WS=1), next to a WS ping baseline. */
  ws: WsPushBenchResult | null;
  /** Storage-proof build, refresh and answer times at 100 k and 1 M messages (BENCH_PROOFS=1). */
  proofs: ProofBenchResult[] | null;
  /** Runs in which other processes used more than NOISY_OTHER_CORES cores (see the "other" column). */
  noisyRuns: number;
  problems: string[];
}

export interface OnionComparison {
  /** onion-store req/s ÷ swarm-store req/s. */
  throughputRatio: number;
  /** Server CPU (all three nodes) per request, in ms: direct store, onion store. */
  cpuMsPerRequest: {direct: number; onion: number};
  /** (onion − direct) ÷ 3 hops. */
  addedCpuMsPerHop: number;
  p50Ms: {direct: number; onion: number};
  p99Ms: {direct: number; onion: number};
}

/** The onion cost: both scenarios ran on the same 3-node swarm, so the difference is the hops. */
export function compareOnion(http: readonly ScenarioSummary[]): OnionComparison | null {
  const direct = http.find((s) => s.id === "swarm-store");
  const onion = http.find((s) => s.id === "onion-store");
  if (direct === undefined || onion === undefined || direct.reqPerSec === 0 || onion.reqPerSec === 0) return null;
  if (direct.serverCpu === null || onion.serverCpu === null) return null;
  const perReq = (s: ScenarioSummary): number => round(((s.serverCpu ?? 0) / s.reqPerSec) * 1000, 3);
  const cpu = {direct: perReq(direct), onion: perReq(onion)};
  return {
    throughputRatio: round(onion.reqPerSec / direct.reqPerSec, 2),
    cpuMsPerRequest: cpu,
    addedCpuMsPerHop: round((cpu.onion - cpu.direct) / 3, 3),
    p50Ms: {direct: direct.p50Ms, onion: onion.p50Ms},
    p99Ms: {direct: direct.p99Ms, onion: onion.p99Ms},
  };
}

/** Issue #15 target 2, the replicated store against one node in the same run. */
export interface ReplicationComparison {
  /** Server CPU per store (ms): one node; the whole swarm, and each of its processes (entry first). */
  cpuMsPerStore: {node: number; swarm: number; swarmEach: Array<number | null>};
  /** swarm ÷ node CPU per store (target ≤ 4; 3 copies is the floor). */
  cpuRatio: number;
  /** swarm-store ÷ node-store req/s (target ≥ 0.4). */
  throughputRatio: number;
  /** swarm-store-open, if it ran: offered and achieved stores/s, latency from the scheduled send. */
  openLoop: {offered: number; achieved: number; p50Ms: number; p99Ms: number} | null;
  /** The same ratios for the BENCH_BASE_DIST build (node-store-base, swarm-store-base), if they ran. */
  base: {cpuMsPerStore: {node: number; swarm: number}; cpuRatio: number; throughputRatio: number} | null;
}

export const REPLICATION_TARGETS = {cpuRatio: 4, throughputRatio: 0.4, openLoopP99Ms: 50} as const;

export function compareReplication(http: readonly ScenarioSummary[], rate: number): ReplicationComparison | null {
  const node = http.find((s) => s.id === "node-store");
  const swarm = http.find((s) => s.id === "swarm-store");
  if (node === undefined || swarm === undefined || node.reqPerSec === 0 || swarm.reqPerSec === 0) return null;
  if (node.cpuMsPerRequest === null || swarm.cpuMsPerRequest === null) return null;
  const open = http.find((s) => s.id === "swarm-store-open");
  const baseNode = http.find((s) => s.id === "node-store-base");
  const baseSwarm = http.find((s) => s.id === "swarm-store-base");
  const base =
    baseNode?.cpuMsPerRequest == null || baseSwarm?.cpuMsPerRequest == null || baseNode.reqPerSec === 0
      ? null
      : {
          cpuMsPerStore: {node: baseNode.cpuMsPerRequest, swarm: baseSwarm.cpuMsPerRequest},
          cpuRatio: round(baseSwarm.cpuMsPerRequest / baseNode.cpuMsPerRequest, 2),
          throughputRatio: round(baseSwarm.reqPerSec / baseNode.reqPerSec, 2),
        };
  return {
    base,
    cpuMsPerStore: {node: node.cpuMsPerRequest, swarm: swarm.cpuMsPerRequest, swarmEach: swarm.cpuMsPerRequestEach},
    cpuRatio: round(swarm.cpuMsPerRequest / node.cpuMsPerRequest, 2),
    throughputRatio: round(swarm.reqPerSec / node.reqPerSec, 2),
    openLoop: open === undefined ? null : {offered: rate, achieved: open.reqPerSec, p50Ms: open.p50Ms, p99Ms: open.p99Ms},
  };
}

function printReplication(c: ReplicationComparison | null): void {
  if (c === null) return;
  const t = REPLICATION_TARGETS;
  const mark = (ok: boolean): string => (ok ? "met" : "NOT met");
  const each = c.cpuMsPerStore.swarmEach.map((v) => (v === null ? "–" : v.toFixed(3))).join(" + ");
  console.log("\nReplicated store (issue #15 target 2; ratios within this run)\n");
  console.log(`server CPU per store           node ${c.cpuMsPerStore.node} ms, swarm ${c.cpuMsPerStore.swarm} ms (entry + peers: ${each})`);
  console.log(`swarm ÷ node CPU per store     ${c.cpuRatio.toFixed(2)}   target ≤ ${t.cpuRatio} (${mark(c.cpuRatio <= t.cpuRatio)})`);
  console.log(`swarm ÷ node throughput        ${c.throughputRatio.toFixed(2)}   target ≥ ${t.throughputRatio} (${mark(c.throughputRatio >= t.throughputRatio)})`);
  const b = c.base;
  if (b !== null) {
    console.log(`base build (BENCH_BASE_DIST)     CPU per store node ${b.cpuMsPerStore.node} ms, swarm ${b.cpuMsPerStore.swarm} ms;`);
    console.log(`                               swarm ÷ node CPU ${b.cpuRatio.toFixed(2)}, throughput ${b.throughputRatio.toFixed(2)}`);
  }
  const o = c.openLoop;
  if (o === null) return;
  const p99 = `target p99 ≤ ${t.openLoopP99Ms} ms (${mark(o.p99Ms <= t.openLoopP99Ms && o.achieved >= o.offered * 0.95)})`;
  console.log(`open loop, ${o.offered}/s offered      achieved ${o.achieved}/s, p50 ${o.p50Ms} ms, p99 ${o.p99Ms} ms   ${p99}`);
}

function printOnion(c: OnionComparison | null): void {
  if (c === null) return;
  console.log("\nOnion (3 hops on one box, same 3-node swarm as swarm-store)\n");
  console.log(`throughput onion ÷ direct      ${c.throughputRatio.toFixed(2)}`);
  console.log(`p50 / p99 direct               ${c.p50Ms.direct} / ${c.p99Ms.direct} ms`);
  console.log(`p50 / p99 onion                ${c.p50Ms.onion} / ${c.p99Ms.onion} ms`);
  console.log(`server CPU per store           direct ${c.cpuMsPerRequest.direct} ms, onion ${c.cpuMsPerRequest.onion} ms`);
  console.log(`added server CPU per hop       ${c.addedCpuMsPerHop} ms`);
}

function scenarioList(env: NodeJS.ProcessEnv): BenchConfig["scenarios"] {
  const raw = env.BENCH_SCENARIOS;
  const ids = raw === undefined || raw === "" ? DEFAULT_SCENARIOS : raw.split(",").map((s) => s.trim());
  return ids.map((id) => {
    const def = SCENARIOS.find((s) => s.id === id);
    if (def === undefined) {
      throw new Error(`BENCH_SCENARIOS: unknown scenario "${id}" (known: ${SCENARIOS.map((s) => s.id).join(", ")})`);
    }
    return def;
  });
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  return {
    runs: Math.round(envNumber("BENCH_RUNS", 3, env)),
    seconds: envNumber("BENCH_SECONDS", 5, env),
    warmupSeconds: envNumber("BENCH_WARMUP_SECONDS", 1, env),
    // "0" turns the warm-up off (the runs before it had none).
    warmupRequests: env.BENCH_WARMUP_REQUESTS === "0" ? 0 : Math.round(envNumber("BENCH_WARMUP_REQUESTS", 5_000, env)),
    connections: Math.round(envNumber("BENCH_CONNECTIONS", 50, env)),
    rate: envNumber("BENCH_RATE", 500, env),
    storeAccounts: 1_000,
    retrieveAccounts: 100,
    messagesPerAccount: 100,
    scenarios: scenarioList(env),
  };
}

function describeRun(id: string, run: number, total: number, s: RunSample): string {
  const l = s.load;
  const other = String(s.otherCpu);
  const each = s.serverCpuEach.length > 1 ? ` (${s.serverCpuEach.map(String).join(" + ")})` : "";
  const main = s.serverMainCpu === null ? "" : ` (main thread ${s.serverMainCpu})`;
  const cpu = s.serverCpu === null ? "" : `  CPU server ${s.serverCpu}${each}${main} client ${l.clientCpu} other ${other}`;
  const late = (l.unanswered ?? 0) > 0 ? `, ${l.unanswered} unanswered` : "";
  const open = l.offeredRate === undefined ? "" : `  offered ${l.offeredRate}/s, send lag ≤ ${l.maxSendLagMs} ms${late}`;
  const batch = s.signBatch === null ? "" : `  sign batch ${s.signBatch}`;
  const bad = l.non2xx + l.errors > 0 ? `  !!! ${l.non2xx} non-2xx, ${l.errors} errors` : "";
  const rate = `${formatInt(l.reqPerSec).padStart(7)} req/s  p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms`;
  return `[run ${run}/${total}] ${id.padEnd(17)} ${rate}${open}${cpu}${batch}${bad}`;
}

/** All HTTP scenarios, interleaved run by run. */
async function runHttp(ctx: BenchContext): Promise<Map<ScenarioId, RunSample[]>> {
  const {config} = ctx;
  const samples = new Map<ScenarioId, RunSample[]>(config.scenarios.map((s) => [s.id, []]));
  await prepareRetrieveServers(ctx, (line) => console.log(line));
  for (let run = 1; run <= config.runs; run++) {
    for (const def of config.scenarios) {
      const sample = await runScenario(ctx, def, run);
      samples.get(def.id)?.push(sample);
      console.log(describeRun(def.id, run, config.runs, sample));
      for (const p of sample.problems) console.log(`    !!! ${def.id}: ${p}`);
    }
  }
  return samples;
}

function runDetails(samples: ReadonlyMap<ScenarioId, RunSample[]>): BenchSummary["runs"] {
  const out: BenchSummary["runs"] = {};
  for (const [id, runs] of samples) {
    out[id] = runs.map(({load: {samples: _s, ...rest}, serverCpu, serverMainCpu, otherCpu}) => ({...rest, serverCpu, serverMainCpu, otherCpu}));
  }
  return out;
}

function noisyRuns(samples: ReadonlyMap<ScenarioId, RunSample[]>): number {
  return [...samples.values()].flat().filter((s) => (s.otherCpu ?? 0) > NOISY_OTHER_CORES).length;
}

/** Server CPU per request, all threads and the (entry) server's main thread: the event loop is the node's bottleneck. */
function printCpuPerRequest(http: readonly ScenarioSummary[]): void {
  const rows = http.filter((s) => s.cpuMsPerRequest !== null);
  if (rows.length === 0) return;
  console.log("\nserver CPU per request, ms (median of runs): all threads / main thread");
  for (const s of rows) console.log(`  ${s.id.padEnd(20)} ${s.cpuMsPerRequest} / ${s.mainThreadCpuMsPerRequest ?? "–"}`);
}

function printNoise(noisy: number, total: number): void {
  if (noisy === 0) return;
  console.log(`\nNOTE: in ${noisy} of ${total} runs, other processes used > ${NOISY_OTHER_CORES} cores ("other"):`);
  console.log("the machine was shared; compare ratios, and prefer runs with other ≈ 0 (see bench-results.json).");
}

function printProblems(problems: readonly string[]): void {
  if (problems.length === 0) return;
  const bar = "!".repeat(78);
  console.log(`\n${bar}\n!!! ${problems.length} PROBLEM(S): failed requests or failed response checks`);
  console.log("!!! (any failure against the node is a bug; against a baseline, a broken setup)");
  for (const p of problems) console.log(`!!! ${p}`);
  console.log(bar);
}

async function runWsPush(): Promise<WsPushBenchResult> {
  console.log("\nWebSocket push (1,000 subscribed connections; store sent → push received)\n");
  const r = await benchWsPush();
  const row = (name: string, l: {p50Ms: number; p99Ms: number}): string =>
    `${name.padEnd(28)} p50 ${l.p50Ms.toFixed(2).padStart(7)} ms   p99 ${l.p99Ms.toFixed(2).padStart(7)} ms`;
  console.log(row("push (store → frame)", r.push));
  console.log(row("ws ping → pong (baseline)", r.echo));
  console.log(row("store reply (HTTP)", r.storeReply));
  return r;
}

async function runMemory(ctx: BenchContext): Promise<MemoryBenchResult> {
  const o = memoryOptions();
  console.log(`\nMemory (issue #15 item 6): ${formatInt(o.messages)} messages, ${formatInt(o.sockets)} WebSocket subscribers\n`);
  const r = await benchMemory(ctx, o, (line) => console.log(line));
  console.log(`\n${formatMemory(r)}`);
  return r;
}

async function runProofs(): Promise<ProofBenchResult[]> {
  const results = await benchProofs((line) => console.log(line));
  console.log("\nStorage proofs (bench/proofs.ts; medians of 3 runs, one full build from 1 M up)\n");
  console.log(formatProofTable(results));
  return results;
}

async function runAll(ctx: BenchContext, micro: boolean, machine: MachineInfo): Promise<BenchSummary> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const samples = await runHttp(ctx);
  await ctx.close();
  const http = summarize(ctx.config.scenarios, samples);
  const {runs, seconds, connections} = ctx.config;
  console.log(`\nHTTP (median of ${runs} runs of ${seconds} s, ${connections} connections; CPU in cores)\n`);
  console.log(formatHttpTable(http));
  printCpuPerRequest(http);
  const onion = compareOnion(http);
  printOnion(onion);
  const replication = compareReplication(http, ctx.config.rate);
  const targets = issue15Targets(http, replication);
  console.log("\nIssue #15 targets (same-run ratios of the medians above)\n");
  console.log(formatTargetTable(targets));
  printReplication(replication);
  const noisy = noisyRuns(samples);
  printNoise(noisy, [...samples.values()].flat().length);
  const microResults = micro ? await runMicroBenchmarks((line) => console.log(line)) : null;
  const memory = process.env.BENCH_MEMORY === "0" ? null : await runMemory(ctx);
  const ws = process.env.BENCH_WS === "1" ? await runWsPush() : null;
  const proofs = process.env.BENCH_PROOFS === "1" ? await runProofs() : null;
  const problems = http.flatMap((s) => s.problems.map((p) => `${s.id} ${p}`));
  const {scenarios, ...rest} = ctx.config;
  return {
    startedAt,
    durationSeconds: round((performance.now() - started) / 1000, 1),
    machine,
    config: {...rest, scenarios: scenarios.map((s) => s.id), micro},
    http,
    runs: runDetails(samples),
    micro: microResults,
    onion,
    targets,
    memory,
    replication,
    ws,
    proofs,
    noisyRuns: noisy,
    problems,
  };
}

async function main(): Promise<number> {
  const config = benchConfig();
  const micro = process.env.BENCH_MICRO !== "0";
  const machine = await describeEnvironment();
  const m = machine;
  console.log(`pars-storage bench: Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.platform}, commit ${m.commit}`);
  console.log(`load average at start: ${m.loadAvg.join(" ")}; node PQ backend: ${m.pqBackend}`);
  const c = config;
  console.log(`runs ${c.runs} × ${c.seconds} s (+${c.warmupSeconds} s warm-up; ${c.warmupRequests ?? 0} stores into each fresh store server first), ${c.connections} connections\n`);
  const ctx = new BenchContext(config);
  const onExit = (): void => ctx.closeSync();
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping child processes`);
    void ctx.close().finally(() => process.exit(130));
  };
  process.on("exit", onExit).once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const summary = await runAll(ctx, micro, machine);
    writeFileSync(RESULTS_FILE, `${JSON.stringify(summary, null, 2)}\n`);
    const load = loadavg().map((v) => v.toFixed(2)).join(" ");
    console.log(`\nJSON summary written to ${RESULTS_FILE} (load average now ${load})`);
    printProblems(summary.problems);
    return summary.problems.length === 0 ? 0 : 1;
  } finally {
    await ctx.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
