/**
 * The seeded fault schedule: a sequence of faults, one at a time, each with its node and how long
 * it holds. The same seed and options give the same schedule on every machine (mulberry32).
 */
import {uniform} from "../../test/utils/prng.js";

export type FaultKind = "kill" | "stop" | "freeze" | "disk";

export interface Fault {
  /** Nominal start, ms after the load starts (a fault never starts before the previous one healed). */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** 0-based node index. */
  readonly node: number;
  /** freeze / stop / disk: how long the fault holds; kill: 0 (the devnet restarts the node itself). */
  readonly holdMs: number;
}

export interface ScheduleOptions {
  readonly nodes: number;
  readonly windowMs: number;
  /** The node whose data dir is a small tmpfs, or null without the disk fault. */
  readonly diskNode: number | null;
}

const WARMUP_MS = 2_000;

export function faultSchedule(seed: number, opts: ScheduleOptions): Fault[] {
  const rand = uniform(seed);
  const between = (lo: number, hi: number): number => Math.round(lo + rand() * (hi - lo));
  const faults: Fault[] = [];
  let t = WARMUP_MS;
  let disks = 0;
  while (t < opts.windowMs) {
    const roll = rand();
    let kind: FaultKind = roll < 0.35 ? "kill" : roll < 0.55 ? "stop" : roll < 0.85 ? "freeze" : "disk";
    if (kind === "disk" && (opts.diskNode === null || disks >= 2)) kind = "freeze";
    const node = kind === "disk" && opts.diskNode !== null ? opts.diskNode : Math.floor(rand() * opts.nodes);
    const holdMs = kind === "kill" ? 0 : kind === "disk" ? between(4_000, 7_000) : between(1_500, 4_000);
    if (kind === "disk") disks++;
    faults.push({atMs: t, kind, node, holdMs});
    t += holdMs + between(1_500, 3_500);
  }
  return faults;
}

export function describeFault(f: Fault): string {
  const at = `+${(f.atMs / 1000).toFixed(1)}s`;
  const node = `node-${f.node + 1}`;
  switch (f.kind) {
    case "kill":
      return `${at} kill -9 ${node} (the devnet restarts it with back-off)`;
    case "stop":
      return `${at} stop ${node} (devnet --stop-node), start it again after ${f.holdMs} ms`;
    case "freeze":
      return `${at} freeze ${node} (SIGSTOP) for ${f.holdMs} ms, then SIGCONT`;
    case "disk":
      return `${at} fill ${node}'s disk for ${f.holdMs} ms, then free it`;
  }
}
