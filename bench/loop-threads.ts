/**
 * CPU per store per thread of the store servers, over HTTP, for issue #15 item 1's bound
 * (docs/benchmarks.md "Session 9: item 1's bound"). `npm run bench` reads a server's main thread
 * and its whole process; this reads every thread of the server (/proc/<pid>/task) and the load
 * client, so a server on two event loops shows what each loop costs per store, and what the
 * signing worker, the writer and V8's helpers add.
 *
 *   node dist/bench/loop-threads.js [rounds=3] [seconds=5] [scenario,…] [open]
 *
 * Scenarios (default `sqlite-store,sqlite-store-signed,sqlite-store-loops,sqlite-store-signed-loops,node-store`)
 * are `npm run bench`'s, run the same way (a fresh server, BENCH_WARMUP_REQUESTS stores first, then
 * until it is idle, 50 connections), interleaved round by round. Per scenario it prints the median
 * over rounds of: stores/s, CPU ms per store for each of the server's threads that used ≥ 2 % of
 * the window (the main thread first, the others by their id's rank in the process, which is their
 * start order), the server's total, the load client's, and the machine's (everything, /proc/stat),
 * and the load average at the end of each round.
 *
 * `open`: every scenario as an open loop at BENCH_RATE stores/s (default 500) instead of 50 closed
 * loops, so that all servers run at the same rate and their CPU per store is compared at the same
 * batch sizes; on a machine shared with other work, closed loops ran the servers at rates 3-10x
 * apart, and CPU per store grows as the rate falls (smaller group commits and sign batches).
 */
import {loadavg} from "node:os";
import {pathToFileURL} from "node:url";
import {machineBusySeconds} from "./cpu.js";
import {benchConfig} from "./run.js";
import {BenchContext, runScenario, SCENARIOS, type ScenarioDef} from "./scenarios.js";
import {taskTicks} from "./trace-common.js";
import {median, round} from "./util.js";

const DEFAULT = "sqlite-store,sqlite-store-signed,sqlite-store-loops,sqlite-store-signed-loops,node-store";
/** Threads below this share of one core over the window are left out of the table. */
const MIN_CORES = 0.02;

/** CPU seconds per thread of `pid`, keyed by thread id (the main thread's id is the pid). */
export function processThreadSeconds(pid: number): Map<number, number> {
  return new Map(taskTicks(pid).map((t) => [t.tid, t.ticks / 100]));
}

/**
 * CPU ms per request of each thread between two readings, the main thread first ("main"), then the
 * others named by their start order ("t1" is the first thread started after main), busy ones only.
 */
export function perThreadMs(
  pid: number,
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  seconds: number,
  requests: number,
): Record<string, number> {
  const tids = [...after.keys()].sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const tid of tids) {
    const used = (after.get(tid) ?? 0) - (before.get(tid) ?? 0);
    if (tid !== pid && used / seconds < MIN_CORES) continue;
    out[tid === pid ? "main" : `t${tids.indexOf(tid)}`] = round((used / requests) * 1000, 4);
  }
  return out;
}

interface Round {
  reqPerSec: number;
  threads: Record<string, number>;
  serverMs: number;
  clientMs: number;
  machineMs: number | null;
  load1: number;
}

/** One measured run of `def`, as `runScenario` does it, with every server thread read. */
async function measure(ctx: BenchContext, def: ScenarioDef, run: number): Promise<Round> {
  type Reading = {at: number; threads: Map<number, number>; machine: number | null};
  let pid = 0;
  let start: Reading | null = null;
  let end: Reading | null = null;
  const read = (): Reading => ({at: performance.now(), threads: processThreadSeconds(pid), machine: machineBusySeconds()});
  const sample = await runScenario(ctx, def, run, (phase, pids) => {
    pid = pids[0] ?? 0;
    if (phase === "measure") start = read();
    if (phase === "done" && start !== null) end = read();
  });
  if (start === null || end === null) throw new Error(`${def.id}: no CPU reading`);
  const [a, b]: [Reading, Reading] = [start, end];
  const requests = Math.max(1, sample.load.requests);
  const perReq = (s: number): number => round((s / requests) * 1000, 4);
  const sum = (m: ReadonlyMap<number, number>): number => [...m.values()].reduce((x, y) => x + y, 0);
  const seconds = (b.at - a.at) / 1000;
  return {
    reqPerSec: sample.load.reqPerSec,
    threads: perThreadMs(pid, a.threads, b.threads, seconds, requests),
    serverMs: perReq(sum(b.threads) - sum(a.threads)),
    clientMs: perReq(sample.load.clientCpu * sample.load.seconds),
    machineMs: a.machine === null || b.machine === null ? null : perReq(b.machine - a.machine),
    load1: round(loadavg()[0] ?? 0, 2),
  };
}

function medianOf(rounds: readonly Round[], pick: (r: Round) => number | null | undefined): string {
  const v = rounds.map(pick).filter((x): x is number => typeof x === "number");
  return v.length === 0 ? "–" : median(v).toFixed(3);
}

async function main(rounds: number, seconds: number, ids: string[], open: boolean): Promise<void> {
  const defs = ids.map((id) => {
    const d = SCENARIOS.find((s) => s.id === id);
    if (d === undefined || d.workload !== "store" || d.openLoop || d.server === "swarm3") throw new Error(`loop-threads: not a single-server store scenario: ${id}`);
    return open ? {...d, openLoop: true} : d;
  });
  const config = {...benchConfig(), seconds, scenarios: defs};
  const ctx = new BenchContext(config);
  process.on("exit", () => ctx.closeSync());
  const results = new Map<string, Round[]>(defs.map((d) => [d.id, []]));
  try {
    for (let run = 1; run <= rounds; run++) {
      for (const def of defs) {
        const r = await measure(ctx, def, run);
        results.get(def.id)?.push(r);
        process.stdout.write(`[${run}/${rounds}] ${def.id.padEnd(26)} ${JSON.stringify(r)}\n`);
      }
    }
  } finally {
    await ctx.close();
  }
  process.stdout.write("\nmedian over rounds, CPU ms per store: server threads (main, then by start order), server, client, machine\n");
  for (const [id, rs] of results) {
    const names = [...new Set(rs.flatMap((r) => Object.keys(r.threads)))];
    const threads = names.map((n) => `${n} ${medianOf(rs, (r) => r.threads[n])}`).join(", ");
    const load = rs.map((r) => r.load1).join("/");
    process.stdout.write(
      `${id.padEnd(26)} ${medianOf(rs, (r) => r.reqPerSec).padStart(10)} stores/s; ${threads}; server ${medianOf(rs, (r) => r.serverMs)}, client ${medianOf(rs, (r) => r.clientMs)}, machine ${medianOf(rs, (r) => r.machineMs)} (load ${load})\n`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 5), (process.argv[4] ?? DEFAULT).split(","), process.argv[5] === "open");
}
