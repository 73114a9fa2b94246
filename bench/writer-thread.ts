/**
 * The message store's writes inline vs on the writer thread (storage.writerThread), in one process:
 * bursts of `burst` stores per event-loop turn (as the HTTP server's group commit sees them), each
 * burst awaited, on a database file. Reports per store the CPU of the main thread alone (Linux
 * /proc/thread-self/schedstat, ns), of the whole process (process.cpuUsage: main + writer thread +
 * V8's helpers) and the wall time; the modes alternate round by round and the medians are printed.
 * Every 20 ms during a round, one autocommit write goes through the main thread's connection (as
 * the fee ledger's flush, retries and rewards do): with the writer thread it waits on SQLite's busy
 * timeout while the worker holds a transaction; its p50 and max time are printed too.
 *
 *   node dist/bench/writer-thread.js [stores per round = 20000] [rounds per mode = 5] [burst = 50]
 */
import {createHash} from "node:crypto";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {NewMessage} from "../src/storage/interface.js";
import {SqliteMessageStore} from "../src/storage/sqlite-message-store.js";
import {systemClock} from "../src/util/clock.js";

const ACCOUNTS = 1_000;
const DATA_BYTES = 642;

function mainThreadCpuNs(): number {
  return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
}

function messages(round: number, count: number): NewMessage[] {
  const now = Date.now();
  return Array.from({length: count}, (_, i) => {
    const data = Buffer.alloc(DATA_BYTES, i & 0xff);
    data.writeUInt32BE(round, 0);
    data.writeUInt32BE(i, 4);
    const account = `05${createHash("sha256").update(`acct${i % ACCOUNTS}`).digest("hex")}`;
    const hash = createHash("sha256").update(data).digest("base64").replace(/=+$/, "");
    return {account, hash, namespace: 0, timestamp: now, expiry: now + 86_400_000, data, replaceNamespace: false};
  });
}

interface Round {
  mainUs: number;
  processUs: number;
  wallUs: number;
  /** Main-connection autocommit writes during the round, ms each. */
  sideMs: number[];
}

/** One autocommit write on the main thread's connection every 20 ms, timed. */
function sideWrites(store: SqliteMessageStore): {stop: () => number[]} {
  const times: number[] = [];
  let i = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    store.setState("bench_side_write", i++);
    times.push(performance.now() - t0);
  }, 20);
  return {stop: () => (clearInterval(timer), times)};
}

async function round(writerThread: boolean, n: number, burst: number, index: number): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), "bench-writer-"));
  const store = await SqliteMessageStore.open({path: join(dir, "s.db"), writerThread, sweepIntervalMs: 0, diskReserveBytes: 0}, {clock: systemClock});
  try {
    const list = messages(index, n);
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuNs();
    const side = sideWrites(store);
    const t0 = performance.now();
    for (let i = 0; i < n; i += burst) await Promise.all(list.slice(i, i + burst).map((m) => store.store(m)));
    const wall = performance.now() - t0;
    const sideMs = side.stop();
    const main = mainThreadCpuNs() - main0;
    const cpu = process.cpuUsage(cpu0);
    return {mainUs: main / 1000 / n, processUs: (cpu.user + cpu.system) / n, wallUs: (wall * 1000) / n, sideMs};
  } finally {
    await store.close();
    rmSync(dir, {recursive: true, force: true});
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const [n = 20_000, rounds = 5, burst = 50] = process.argv.slice(2).map(Number);
  const results: Record<"inline" | "thread", Round[]> = {inline: [], thread: []};
  await round(false, 2_000, burst, 0);
  await round(true, 2_000, burst, 0);
  for (let r = 1; r <= rounds; r++) {
    for (const mode of r % 2 === 1 ? (["inline", "thread"] as const) : (["thread", "inline"] as const)) {
      const x = await round(mode === "thread", n, burst, r);
      results[mode].push(x);
      const side = `side writes ${x.sideMs.length}: p50 ${median(x.sideMs).toFixed(2)} ms, max ${Math.max(...x.sideMs).toFixed(2)} ms`;
      console.log(`round ${r} ${mode.padEnd(6)} main ${x.mainUs.toFixed(1)} µs  process ${x.processUs.toFixed(1)} µs  wall ${x.wallUs.toFixed(1)} µs per store; ${side}`);
    }
  }
  for (const mode of ["inline", "thread"] as const) {
    const rs = results[mode];
    const f = (k: "mainUs" | "processUs" | "wallUs"): string => median(rs.map((x) => x[k])).toFixed(1);
    const side = rs.flatMap((x) => x.sideMs);
    console.log(
      `${mode.padEnd(6)} median per store: main thread ${f("mainUs")} µs, process ${f("processUs")} µs, wall ${f("wallUs")} µs; ` +
        `main-connection writes: ${side.length}, p50 ${median(side).toFixed(2)} ms, p99 ${quantile(side, 0.99).toFixed(2)} ms, max ${Math.max(...side).toFixed(2)} ms`,
    );
  }
}

await main();
