/**
 * `npm run sim:swarms`: how PIP-0008's hash-mod node mapping fills swarms, next to the `balanced`
 * mode, over many random node sets. Keys are random 1952-byte strings (SHA-256 of a real ML-DSA key
 * is as uniform as SHA-256 of random bytes, and keygen would dominate the run time).
 *
 * Per (n, mode), over R node sets: swarm count (mean, p5, p95), share of swarms with 0 / < 3 / > 10
 * nodes, share of node sets with at least one swarm < 3, smallest and largest swarm, and churn: the
 * share of the other nodes that change swarm when one random node leaves, and when one joins. For
 * the default sizes (multiples of 5) a leave keeps the swarm count and a join raises it by one.
 */
import {Buffer} from "node:buffer";
import {randomBytes as nodeRandomBytes} from "node:crypto";
import {performance} from "node:perf_hooks";
import {pathToFileURL} from "node:url";
import {SWARM_MODES, assignSwarms, type SwarmMember, type SwarmMode} from "../src/swarm/assignment.js";
import {MAX_NODES_PER_SWARM, MIN_NODES_PER_SWARM} from "../src/swarm/mapping.js";

export interface SimOptions {
  /** Node counts to simulate. */
  sizes: readonly number[];
  /** Node sets per size. */
  runsFor: (n: number) => number;
  modes?: readonly SwarmMode[];
  /** Byte source (tests pass a deterministic one). */
  randomBytes?: (length: number) => Uint8Array;
}

export interface SimRow {
  n: number;
  mode: SwarmMode;
  runs: number;
  swarmCount: {mean: number; p5: number; p95: number};
  emptyShare: number;
  under3Share: number;
  over10Share: number;
  setsWithUnder3Share: number;
  smallest: {mean: number; min: number};
  largest: {mean: number; max: number};
  /** Mean share of the remaining nodes whose swarm changes when one node leaves. */
  churnOnLeave: number;
  /** Mean share of the existing nodes whose swarm changes when one node joins. */
  churnOnJoin: number;
}

interface RunStats {
  count: number;
  sizes: number[];
  churnOnLeave: number;
  churnOnJoin: number;
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  sizes: [15, 50, 100, 1000],
  runsFor: (n) => (n >= 1000 ? 50 : 200),
};

export function simulateSwarms(opts: SimOptions): SimRow[] {
  const random = opts.randomBytes ?? ((length: number): Uint8Array => nodeRandomBytes(length));
  const modes = opts.modes ?? SWARM_MODES;
  const rows: SimRow[] = [];
  for (const n of opts.sizes) {
    const stats = new Map<SwarmMode, RunStats[]>(modes.map((m) => [m, []]));
    for (let run = 0; run < opts.runsFor(n); run++) {
      const members = Array.from({length: n}, () => randomMember(random));
      const joiner = randomMember(random);
      for (const mode of modes) stats.get(mode)?.push(runOnce(members, joiner, mode));
    }
    for (const mode of modes) rows.push(summarise(n, mode, stats.get(mode) ?? []));
  }
  return rows;
}

function randomMember(random: (length: number) => Uint8Array): SwarmMember {
  return {nodeId: Buffer.from(random(32)).toString("hex"), mlDsaPublicKey: random(1952)};
}

function runOnce(members: readonly SwarmMember[], joiner: SwarmMember, mode: SwarmMode): RunStats {
  const base = assignSwarms(members, mode);
  const sizes = new Array<number>(base.count).fill(0);
  for (const swarm of base.swarmOf.values()) sizes[Number(swarm)] = (sizes[Number(swarm)] ?? 0) + 1;
  const afterLeave = assignSwarms(members.slice(1), mode);
  const afterJoin = assignSwarms([...members, joiner], mode);
  return {
    count: base.count,
    sizes,
    churnOnLeave: movedShare(base.swarmOf, afterLeave.swarmOf),
    churnOnJoin: movedShare(base.swarmOf, afterJoin.swarmOf),
  };
}

/** Share of the nodes present in both assignments whose swarm differs. */
function movedShare(before: ReadonlyMap<string, bigint>, after: ReadonlyMap<string, bigint>): number {
  let common = 0;
  let moved = 0;
  for (const [nodeId, swarm] of before) {
    const next = after.get(nodeId);
    if (next === undefined) continue;
    common++;
    if (next !== swarm) moved++;
  }
  return common === 0 ? 0 : moved / common;
}

function summarise(n: number, mode: SwarmMode, runs: readonly RunStats[]): SimRow {
  const allSizes = runs.flatMap((r) => r.sizes);
  const share = (pred: (size: number) => boolean): number => allSizes.filter(pred).length / allSizes.length;
  const counts = runs.map((r) => r.count);
  const smallest = runs.map((r) => Math.min(...r.sizes));
  const largest = runs.map((r) => Math.max(...r.sizes));
  return {
    n,
    mode,
    runs: runs.length,
    swarmCount: {mean: mean(counts), p5: percentile(counts, 5), p95: percentile(counts, 95)},
    emptyShare: share((s) => s === 0),
    under3Share: share((s) => s < MIN_NODES_PER_SWARM),
    over10Share: share((s) => s > MAX_NODES_PER_SWARM),
    setsWithUnder3Share: smallest.filter((s) => s < MIN_NODES_PER_SWARM).length / runs.length,
    smallest: {mean: mean(smallest), min: Math.min(...smallest)},
    largest: {mean: mean(largest), max: Math.max(...largest)},
    churnOnLeave: mean(runs.map((r) => r.churnOnLeave)),
    churnOnJoin: mean(runs.map((r) => r.churnOnJoin)),
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}

export function formatSimTable(rows: readonly SimRow[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const header = [
    "n", "mode", "sets", "swarms mean (p5..p95)", "empty", "<3", ">10", "sets with a swarm <3",
    "smallest mean (min)", "largest mean (max)", "moved on leave", "moved on join",
  ];
  const body = rows.map((r) => [
    String(r.n), r.mode, String(r.runs),
    `${r.swarmCount.mean.toFixed(0)} (${r.swarmCount.p5}..${r.swarmCount.p95})`,
    pct(r.emptyShare), pct(r.under3Share), pct(r.over10Share), pct(r.setsWithUnder3Share),
    `${r.smallest.mean.toFixed(2)} (${r.smallest.min})`, `${r.largest.mean.toFixed(2)} (${r.largest.max})`,
    pct(r.churnOnLeave), pct(r.churnOnJoin),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}

function main(): void {
  const started = performance.now();
  const rows = simulateSwarms(DEFAULT_SIM_OPTIONS);
  console.log("Swarm sizes: PIP-0008 hash-mod vs balanced (count = 1 if n < 3 else ceil(n/5))\n");
  console.log(formatSimTable(rows));
  console.log(
    "\nempty/<3/>10: share of all swarms; moved on leave/join: share of the other nodes that change swarm" +
      "\nwhen one node leaves (count unchanged for these n) or joins (count + 1 for these n).",
  );
  console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
