/**
 * Issue #15's targets next to what this run measured: every ratio divides two medians of the same
 * `npm run bench` run, so drift on the shared machine cancels out as far as it can.
 *
 * The single-node rows (store, retrieve, 07 ÷ 05) are computed here; the replication rows come
 * from run.ts' `compareReplication` (swarm-store, swarm-store-open against node-store).
 */
import type {ScenarioSummary} from "./report.js";
import type {ScenarioId} from "./scenarios.js";
import {textTable} from "./report.js";
import {round} from "./util.js";

/** The replication figures this table needs (run.ts' ReplicationComparison). */
export interface ReplicationFigures {
  cpuRatio: number;
  throughputRatio: number;
  openLoop: {offered: number; p99Ms: number} | null;
}

export interface TargetRow {
  /** Issue #15 item number. */
  item: number;
  what: string;
  /** The measured value, or null when a scenario it needs did not run. */
  value: number | null;
  /**
   * The same ratio of requests per second of server CPU (req/s ÷ server cores): what the ratio
   * would be if both servers had the same CPU. On a shared machine, where the servers get
   * whatever the other work leaves them, this is the steadier figure; the target is on `value`.
   */
  perCpu: number | null;
  /**
   * The same ratio of main-thread CPU per request, inverted (baseline's ÷ the node's): the ratio of
   * the two servers' throughputs if each ran its main thread flat out. Both servers answer on one
   * event loop, so when both are bound by it (a quiet machine), `value` lands near this figure; a
   * value well below it means the node waited rather than worked.
   */
  perMainCpu: number | null;
  /**
   * "≥ 0.9" etc.: the comparison and the bound. Null for a row printed beside a target for what it
   * explains, not as one: item 1's floor of the wire (docs/benchmarks.md "Session 9: item 1's
   * bound"), item 3's floor of a signed retrieve ("Session 10: retrieve").
   */
  target: {op: ">=" | "<="; bound: number} | null;
  unit: string;
  /** Why the value is missing, or how it was obtained. */
  note: string;
}

function rateOf(http: readonly ScenarioSummary[], id: ScenarioId): number | null {
  const s = http.find((x) => x.id === id);
  return s === undefined || s.reqPerSec === 0 ? null : s.reqPerSec;
}

function ratio(http: readonly ScenarioSummary[], num: ScenarioId, den: ScenarioId): number | null {
  const a = rateOf(http, num);
  const b = rateOf(http, den);
  return a === null || b === null ? null : round(a / b, 2);
}

/** Requests per second of server CPU; null without /proc or when the scenario did not run. */
function perCpuOf(http: readonly ScenarioSummary[], id: ScenarioId): number | null {
  const s = http.find((x) => x.id === id);
  return s === undefined || s.serverCpu === null || s.serverCpu <= 0 || s.reqPerSec === 0 ? null : s.reqPerSec / s.serverCpu;
}

function cpuRatio(http: readonly ScenarioSummary[], num: ScenarioId, den: ScenarioId): number | null {
  const a = perCpuOf(http, num);
  const b = perCpuOf(http, den);
  return a === null || b === null ? null : round(a / b, 2);
}

/** `den`'s main-thread CPU per request ÷ `num`'s: null without /proc or when either did not run. */
function mainCpuRatio(http: readonly ScenarioSummary[], num: ScenarioId, den: ScenarioId): number | null {
  const a = http.find((x) => x.id === num)?.mainThreadCpuMsPerRequest ?? null;
  const b = http.find((x) => x.id === den)?.mainThreadCpuMsPerRequest ?? null;
  return a === null || b === null || a <= 0 ? null : round(b / a, 2);
}

const needs = (ids: readonly ScenarioId[]): string => `needs ${ids.join(" and ")}`;

/** Items 1, 3 and 5: single-node store and retrieve against their same-run baselines. */
export function singleNodeTargets(http: readonly ScenarioSummary[]): TargetRow[] {
  const row = (item: number, what: string, num: ScenarioId, den: ScenarioId, bound: number | null): TargetRow => {
    const value = ratio(http, num, den);
    const perCpu = cpuRatio(http, num, den);
    const perMainCpu = mainCpuRatio(http, num, den);
    const target = bound === null ? null : {op: ">=" as const, bound};
    return {item, what, value, perCpu, perMainCpu, target, unit: "×", note: value === null ? needs([num, den]) : `${num} ÷ ${den}`};
  };
  return [
    row(1, "single-node store ÷ raw SQLite store", "node-store", "sqlite-store", 0.9),
    // No node code at all, only the answer Session's wire makes every store carry: what item 1's
    // ratio can reach on one event loop.
    row(1, "bound: raw store with the node's signed answer ÷ raw store", "sqlite-store-signed", "sqlite-store", null),
    row(3, "retrieve ÷ raw SQLite retrieve", "node-retrieve", "sqlite-retrieve", 1.0),
    // The same for retrieves: the raw read plus the signature check and answer a signed retrieve
    // must have (docs/benchmarks.md "Session 10: retrieve"): what item 3's ratio can reach.
    row(3, "bound: raw retrieve with the signature check and the node's answer ÷ raw retrieve", "sqlite-retrieve-signed", "sqlite-retrieve", null),
    row(5, "07 retrieve ÷ 05 retrieve (signed)", "node-retrieve-07", "node-retrieve", 0.8),
  ];
}

/** Item 2: replication, from the same run's swarm-store, swarm-store-open and node-store. */
export function replicationTargets(r: ReplicationFigures | null): TargetRow[] {
  const missing = needs(["node-store", "swarm-store"]);
  const open = r?.openLoop ?? null;
  return [
    {item: 2, what: "swarm CPU per store ÷ single-node store", value: r?.cpuRatio ?? null, perCpu: null, perMainCpu: null, target: {op: "<=", bound: 4}, unit: "×", note: r === null ? missing : "swarm-store ÷ node-store CPU per store"},
    {item: 2, what: "swarm store ÷ single-node store throughput", value: r?.throughputRatio ?? null, perCpu: null, perMainCpu: null, target: {op: ">=", bound: 0.4}, unit: "×", note: r === null ? missing : "swarm-store ÷ node-store"},
    {
      item: 2,
      what: `open-loop ${open?.offered ?? 500} stores/s into 3 nodes, p99`,
      value: open === null ? null : round(open.p99Ms, 1),
      perCpu: null,
      perMainCpu: null,
      target: {op: "<=", bound: 50},
      unit: "ms",
      note: open === null ? needs(["swarm-store-open"]) : "swarm-store-open",
    },
  ];
}

/** Whether a measured row meets its target (null when not measured or not a target). */
export function meets(r: TargetRow): boolean | null {
  if (r.value === null || r.target === null) return null;
  return r.target.op === ">=" ? r.value >= r.target.bound : r.value <= r.target.bound;
}

export function issue15Targets(http: readonly ScenarioSummary[], replication: ReplicationFigures | null): TargetRow[] {
  return [...singleNodeTargets(http), ...replicationTargets(replication)].sort((a, b) => a.item - b.item);
}

export function formatTargetTable(rows: readonly TargetRow[]): string {
  const suffix = (r: TargetRow): string => (r.unit === "×" ? "" : ` ${r.unit}`);
  const target = (r: TargetRow): string => (r.target === null ? "(no target)" : `${r.target.op === ">=" ? "≥" : "≤"} ${r.target.bound}${suffix(r)}`);
  const body = rows.map((r) => {
    const ok = meets(r);
    return [
      String(r.item),
      r.what,
      r.value === null ? "–" : `${r.value}${suffix(r)}`,
      target(r),
      ok === null ? "–" : ok ? "met" : "NOT met",
      r.perCpu === null ? "–" : String(r.perCpu),
      r.perMainCpu === null ? "–" : String(r.perMainCpu),
      r.note,
    ];
  });
  return textTable(["#", "issue #15 target", "this run", "target", "", "per server CPU-s", "per main-thread CPU-s", "from"], body, 2);
}
