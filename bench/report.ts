/**
 * Turns the runs of `npm run bench` into per-scenario medians, ratios to the baselines measured in
 * the same run, and the printed tables.
 */
import type {RunSample, ScenarioDef, ScenarioId} from "./scenarios.js";
import {formatInt, median, round} from "./util.js";

export interface ScenarioSummary {
  id: ScenarioId;
  label: string;
  /** Median over runs, and every run in order. */
  reqPerSec: number;
  reqPerSecRuns: number[];
  p50Ms: number;
  p99Ms: number;
  /** Cores the server / the load client used during the window (medians). */
  serverCpu: number | null;
  /**
   * Server CPU per completed request in ms (the median of the runs' cpu ÷ req/s), all processes and
   * per process (a swarm: entry node first).
   */
  cpuMsPerRequest: number | null;
  cpuMsPerRequestEach: Array<number | null>;
  /** The same for the (entry) server's main thread alone, the event loop (median of the runs). */
  mainThreadCpuMsPerRequest: number | null;
  clientCpu: number;
  /** Cores other processes on the machine used during the window (noise indicator). */
  otherCpu: number | null;
  non2xx: number;
  errors: number;
  /** reqPerSec ÷ the echo median; ÷ the matching raw-SQLite median (node scenarios). */
  ratioToEcho: number | null;
  ratioToRawSqlite: number | null;
  /** Node store: receipts per ML-DSA signature in the sampled responses (median). */
  signBatch: number | null;
  problems: string[];
}

function medianOrNull(values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : median(present);
}

/** ms of CPU per request in one run, from cores used and requests per second. */
function msPerRequest(cores: number | null | undefined, reqPerSec: number): number | null {
  return cores === null || cores === undefined || reqPerSec <= 0 ? null : (cores / reqPerSec) * 1000;
}

function cpuPerRequest(
  runs: readonly RunSample[],
): Pick<ScenarioSummary, "cpuMsPerRequest" | "cpuMsPerRequestEach" | "mainThreadCpuMsPerRequest"> {
  const total = medianOrNull(runs.map((r) => msPerRequest(r.serverCpu, r.load.reqPerSec)));
  const processes = Math.max(0, ...runs.map((r) => r.serverCpuEach.length));
  const each = Array.from({length: processes}, (_, i) => medianOrNull(runs.map((r) => msPerRequest(r.serverCpuEach[i], r.load.reqPerSec))));
  const r3 = (v: number | null): number | null => (v === null ? null : round(v, 3));
  const main = medianOrNull(runs.map((r) => msPerRequest(r.serverMainCpu, r.load.reqPerSec)));
  return {cpuMsPerRequest: r3(total), cpuMsPerRequestEach: each.map(r3), mainThreadCpuMsPerRequest: r3(main)};
}

function summarizeOne(def: ScenarioDef, runs: readonly RunSample[]): ScenarioSummary {
  return {
    ...cpuPerRequest(runs),
    id: def.id,
    label: def.label,
    reqPerSec: median(runs.map((r) => r.load.reqPerSec)),
    reqPerSecRuns: runs.map((r) => r.load.reqPerSec),
    p50Ms: median(runs.map((r) => r.load.p50Ms)),
    p99Ms: median(runs.map((r) => r.load.p99Ms)),
    serverCpu: medianOrNull(runs.map((r) => r.serverCpu)),
    clientCpu: median(runs.map((r) => r.load.clientCpu)),
    otherCpu: medianOrNull(runs.map((r) => r.otherCpu)),
    non2xx: runs.reduce((n, r) => n + r.load.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.load.errors, 0),
    ratioToEcho: null,
    ratioToRawSqlite: null,
    signBatch: medianOrNull(runs.map((r) => r.signBatch)),
    problems: runs.flatMap((r, i) => r.problems.map((p) => `run ${i + 1}: ${p}`)),
  };
}

/** Per-scenario medians; ratios divide medians measured in this same benchmark. */
export function summarize(
  defs: readonly ScenarioDef[],
  samples: ReadonlyMap<ScenarioId, RunSample[]>,
): ScenarioSummary[] {
  const out = defs.map((def) => summarizeOne(def, samples.get(def.id) ?? []));
  const byId = new Map(out.map((s) => [s.id, s]));
  const echo = byId.get("echo")?.reqPerSec;
  for (const [i, s] of out.entries()) {
    if (echo !== undefined && echo > 0) s.ratioToEcho = round(s.reqPerSec / echo, 2);
    const raw = defs[i]?.rawBaseline;
    const rawRate = raw === null || raw === undefined ? undefined : byId.get(raw)?.reqPerSec;
    if (rawRate !== undefined && rawRate > 0) s.ratioToRawSqlite = round(s.reqPerSec / rawRate, 2);
  }
  return out;
}

function pad(cells: readonly string[], widths: readonly number[], alignLeft: number): string {
  return cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
}

/** A plain-text table: the first `alignLeft` columns left-aligned, the rest right-aligned. */
export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, alignLeft = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [pad(header, widths, alignLeft), rule, ...rows.map((r) => pad(r, widths, alignLeft))].join("\n");
}

const dash = (v: number | null, f: (n: number) => string): string => (v === null ? "–" : f(v));

/** The HTTP results table. */
export function formatHttpTable(summaries: readonly ScenarioSummary[]): string {
  const header = ["scenario", "req/s", "runs", "p50 ms", "p99 ms", "server", "client", "other"];
  header.push("÷ echo", "÷ raw SQLite", "failed");
  const rows = summaries.map((s) => [
    s.label,
    formatInt(s.reqPerSec),
    s.reqPerSecRuns.map(formatInt).join(" / "),
    s.p50Ms.toFixed(1),
    s.p99Ms.toFixed(1),
    dash(s.serverCpu, (v) => v.toFixed(2)),
    s.clientCpu.toFixed(2),
    dash(s.otherCpu, (v) => v.toFixed(2)),
    dash(s.ratioToEcho, (v) => v.toFixed(2)),
    dash(s.ratioToRawSqlite, (v) => v.toFixed(2)),
    String(s.non2xx + s.errors),
  ]);
  return textTable(header, rows);
}

/** Micro-benchmark rows: name and ops/s (and a ratio where the bench gives one). */
export function formatOpsTable(rows: ReadonlyArray<{name: string; opsPerSec: number; ratio?: number}>): string {
  const withRatio = rows.some((r) => r.ratio !== undefined);
  const header = withRatio ? ["operation", "ops/s", "ratio"] : ["operation", "ops/s"];
  const body = rows.map((r) => {
    const cells = [r.name, formatInt(r.opsPerSec)];
    return withRatio ? [...cells, r.ratio === undefined ? "" : r.ratio.toFixed(2)] : cells;
  });
  return textTable(header, body);
}
