/**
 * What the in-node traces (stage-trace.ts, store-trace.ts, retrieve-trace.ts) share: their samples
 * and summaries, per-thread CPU from /proc, and the modules of the traced node's own build. A module
 * of its own, without side effects: importing a trace module installs its trace, so the traces
 * cannot share code by importing each other.
 */
import {readdirSync, readFileSync} from "node:fs";
import {IncomingMessage} from "node:http";
import {pathToFileURL} from "node:url";

export type Summary = {n: number; p50: number; p90: number; p99: number; max: number; mean: number};

/** Values recorded per stage, in arrival order. */
export class StageSamples {
  readonly #byStage = new Map<string, number[]>();

  record(stage: string, value: number): void {
    let list = this.#byStage.get(stage);
    if (list === undefined) this.#byStage.set(stage, (list = []));
    list.push(value);
  }

  /** Every stage's summary, values rounded to `decimals`. */
  summaries(decimals = 2): Record<string, Summary> {
    const out: Record<string, Summary> = {};
    for (const [stage, list] of this.#byStage) out[stage] = summarize(list, decimals);
    return out;
  }
}

/** Count, nearest-rank p50 / p90 / p99, max and mean of `values`, rounded to `decimals`. */
export function summarize(values: readonly number[], decimals = 2): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const scale = 10 ** decimals;
  const round = (x: number): number => Math.round(x * scale) / scale;
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return {n: sorted.length, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(at(1)), mean: round(mean)};
}

/** One thread's CPU ticks (utime + stime, 1/100 s) from /proc, with its id and /proc's name. */
export interface TaskTicks {
  tid: number;
  name: string;
  ticks: number;
}

/**
 * Every thread of process `pid` ("self": this one) from /proc/<pid>/task; what was read so far if
 * the process ended meanwhile, nothing where /proc is missing (not Linux).
 */
export function taskTicks(pid: number | "self"): TaskTicks[] {
  const out: TaskTicks[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.push({tid: Number(tid), name, ticks: Number(fields[11]) + Number(fields[12])});
    }
  } catch {
    // The process ended, or not Linux.
  }
  return out;
}

/**
 * CPU ticks per thread of this process, keyed `main` for the main thread and `<name>/<tid>` for
 * the others (the name is /proc's, "node" for most of Node's threads). Empty where /proc is missing.
 */
export function threadTicks(): Map<string, number> {
  return new Map(taskTicks("self").map((t) => [t.tid === process.pid ? "main" : `${t.name}/${t.tid}`, t.ticks]));
}

/**
 * One interval's CPU seconds of [the main thread, all other threads] between two `threadTicks`
 * snapshots, rounded to 0.01 s: whether the others' share is a warm-up, in time.
 */
export function mainAndOthers(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): [number, number] {
  let main = 0;
  let others = 0;
  for (const [key, t] of after) {
    const d = (t - (before.get(key) ?? 0)) / 100;
    if (key === "main") main += d;
    else others += d;
  }
  return [Math.round(main * 100) / 100, Math.round(others * 100) / 100];
}

/** The measured window of a trace, from its per-second series (see `windowTotals`). */
export interface WindowTotals {
  seconds: number;
  /** Requests the RPC handled (`rpc_entry` + `rpc_peer`) in the window. */
  requests: number;
  /** CPU ms per request of the main thread and of all other threads. */
  mainMsPerRequest: number;
  othersMsPerRequest: number;
  /** Each counted stage's samples per request (frames, commits, sign batches…): the batches' fixed costs. */
  perRequest: Record<string, number>;
}

/**
 * Totals of the seconds after the last second in which this process handled no request: a bench
 * run's warm-up (5,000 stores) settles before the measured window, so that second splits them.
 * Null when no second after it handled a request.
 */
export function windowTotals(cpu: ReadonlyArray<[number, number]>, counts: ReadonlyArray<Record<string, number>>): WindowTotals | null {
  const requestsIn = (c: Record<string, number> | undefined): number => (c?.rpc_entry ?? 0) + (c?.rpc_peer ?? 0);
  let start = 0;
  counts.forEach((c, i) => {
    if (requestsIn(c) === 0) start = i + 1;
  });
  let requests = 0;
  let main = 0;
  let others = 0;
  const sums: Record<string, number> = {};
  for (let i = start; i < counts.length; i++) {
    requests += requestsIn(counts[i]);
    main += cpu[i]?.[0] ?? 0;
    others += cpu[i]?.[1] ?? 0;
    for (const [k, v] of Object.entries(counts[i] ?? {})) sums[k] = (sums[k] ?? 0) + v;
  }
  if (requests === 0) return null;
  const per = (x: number): number => Math.round((x / requests) * 1e4) / 1e4;
  const perRequest: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) if (!k.startsWith("rpc_")) perRequest[k] = per(v);
  return {seconds: counts.length - start, requests, mainMsPerRequest: per(main * 1000), othersMsPerRequest: per(others * 1000), perRequest};
}

/** CPU seconds per thread between two `threadTicks` snapshots: `main` first, then the others, busiest first. */
export function ticksBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Record<string, number> {
  const rows: [string, number][] = [];
  for (const [key, t] of after) {
    const d = t - (before.get(key) ?? 0);
    if (d > 0) rows.push([key, d / 100]);
  }
  rows.sort((a, b) => (a[0] === "main" ? -1 : b[0] === "main" ? 1 : b[1] - a[1]));
  return Object.fromEntries(rows);
}

/**
 * Imports modules of the build whose CLI this process runs (`<dist>/src/cli/bin.js`), by paths below
 * its `src/` (e.g. "rpc/index.js"), so a trace loaded into another build's node patches that build's
 * classes; null when this process runs another script.
 */
export async function importTracedBuild(paths: readonly string[]): Promise<Array<Record<string, unknown>> | null> {
  const script = process.argv[1] ?? "";
  const at = script.lastIndexOf("/src/cli/bin.js");
  if (at < 0) return null;
  const src = pathToFileURL(`${script.slice(0, at)}/src/`);
  return Promise.all(paths.map((path) => import(new URL(path, src).href) as Promise<Record<string, unknown>>));
}

export type Method = (...args: unknown[]) => unknown;

/** Replaces `proto[name]` by `wrap(original)`; throws if there is no such method (the traced build changed). */
export function patch<T extends object>(proto: T, name: string, wrap: (original: Method) => (this: unknown, ...args: unknown[]) => unknown): void {
  const original = (proto as Record<string, unknown>)[name] as Method;
  if (typeof original !== "function") throw new Error(`trace: no method ${name}`);
  Object.defineProperty(proto, name, {configurable: true, writable: true, value: wrap(original)});
}

/**
 * Tracks the IncomingMessage whose "end" is being emitted: fastify runs a route from that event, so
 * a dispatch that starts meanwhile is that request's. `onEnd` is told of each request as its end
 * begins. Returns the getter (null outside such an event).
 */
export function trackEndingRequest(onEnd?: (req: IncomingMessage) => void): () => IncomingMessage | null {
  let ending: IncomingMessage | null = null;
  patch(IncomingMessage.prototype, "emit", (original) =>
    function emit(this: unknown, event: unknown, ...args: unknown[]): unknown {
      if (event !== "end") return original.call(this, event, ...args);
      onEnd?.(this as IncomingMessage);
      const outer = ending;
      ending = this as IncomingMessage;
      try {
        return original.call(this, event, ...args);
      } finally {
        ending = outer;
      }
    },
  );
  return () => ending;
}
