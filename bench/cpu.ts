/**
 * CPU accounting for the HTTP benchmark, from /proc (Linux; every figure is null elsewhere): the
 * server process's CPU and the whole machine's busy time over the measured window, so a run can be
 * read as "server saturated" or "something else on the shared machine took the cores".
 */
import {readFileSync} from "node:fs";
import {round} from "./util.js";

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat;
 * null where /proc is unavailable. USER_HZ is 100 on every Linux architecture Node supports.
 */
export function processCpuSeconds(pid: number): number | null {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** The same for a process's main thread alone (its task whose id is the pid): the event loop. */
export function mainThreadCpuSeconds(pid: number): number | null {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuSeconds(path: string): number | null {
  try {
    const stat = readFileSync(path, "utf8");
    // The command name (field 2) may contain spaces: fields are counted after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return (utime + stime) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds all processes on the machine have used since boot (busy time summed over cores). */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal …
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? NaN), 0);
    return Number.isFinite(busy) ? busy / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

interface CpuReading {
  at: number;
  each: Array<number | null>;
  server: number | null;
  main: number | null;
  machine: number | null;
}

function readCpu(pids: readonly number[]): CpuReading {
  const each = pids.map(processCpuSeconds);
  const server = each.some((s) => s === null) ? null : each.reduce<number>((sum, s) => sum + (s ?? 0), 0);
  const main = pids[0] === undefined ? null : mainThreadCpuSeconds(pids[0]);
  return {at: performance.now(), each, server, main, machine: machineBusySeconds()};
}

/** Cores used per wall-clock second between two readings; null when /proc was unreadable. */
function coresBetween(a: number | null, b: number | null, seconds: number): number | null {
  return a === null || b === null ? null : round((b - a) / seconds, 2);
}

export interface CpuCores {
  /** Cores the server processes used (all their threads). */
  server: number | null;
  /** The same per process, in the order of the pids given (a swarm: the entry node first). */
  each: Array<number | null>;
  /** Cores the first server process's main thread (its event loop) used. */
  main: number | null;
  /** Cores all processes on the machine used. */
  machine: number | null;
}

/**
 * Samples server and machine CPU when the load client opens ("measure") and closes ("done") its
 * window. With several server processes (a swarm), `server` is their sum.
 */
export function cpuProbe(pids: number | readonly number[]): {onPhase: (phase: string) => void; result: () => CpuCores} {
  const list = typeof pids === "number" ? [pids] : pids;
  let start: CpuReading | null = null;
  let result: CpuCores = {server: null, each: list.map(() => null), main: null, machine: null};
  const onPhase = (phase: string): void => {
    const now = readCpu(list);
    if (phase === "measure") start = now;
    if (phase !== "done" || start === null) return;
    const seconds = (now.at - start.at) / 1000;
    result = {
      server: coresBetween(start.server, now.server, seconds),
      each: now.each.map((v, i) => coresBetween(start?.each[i] ?? null, v, seconds)),
      main: coresBetween(start.main, now.main, seconds),
      machine: coresBetween(start.machine, now.machine, seconds),
    };
  };
  return {onPhase, result: () => result};
}
