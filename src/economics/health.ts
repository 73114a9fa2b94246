import {InvalidArgumentError} from "../util/index.js";
import {STAKING_REQUIREMENT} from "./staking.js";
import {BASE_UNITS_PER_PARS, BYTES_PER_GB, assertSafeUint, formatPars} from "./units.js";

/**
 * PIP-0008 §4.1 "Network Health Metrics" and §4.3 "Minimum Network Requirements".
 * Swarm sizes count active members only; see docs/economics.md "Health".
 */

/** §4.1 `NetworkHealth`, with exactly the PIP's JSON field names. Sizes are in GB = 2^30 bytes. */
export interface NetworkHealth {
  totalNodes: number;
  activeNodes: number;
  swarmCount: number;
  /** Not money: a plain float64 as in the PIP. 0 when there is no swarm. */
  avgNodesPerSwarm: number;
  /** Active members of the smallest swarm; 0 when there is no swarm. */
  minSwarmSize: number;
  /** Total GB (2^30 bytes), rounded down. */
  storageCapacity: number;
  /** Used GB (2^30 bytes), rounded up. */
  storageUsed: number;
  /** "All swarms have 3+ nodes": at least one swarm and every swarm has ≥ 3 active members. */
  replicationOk: boolean;
}

/** §3.2 `replicationFactor` and §4.1 `MinSwarmSize >= 3`. */
export const REPLICATION_FACTOR = 3;

/**
 * §4.1 `IsHealthy`, exactly: `MinSwarmSize >= 3 && ActiveNodes >= TotalNodes*80/100 &&
 * StorageUsed < StorageCapacity*90/100`, with Go's integer division.
 */
export function isHealthy(h: NetworkHealth): boolean {
  for (const key of ["totalNodes", "activeNodes", "minSwarmSize", "storageCapacity", "storageUsed"] as const) {
    assertSafeUint(h[key], key);
  }
  return (
    h.minSwarmSize >= REPLICATION_FACTOR &&
    BigInt(h.activeNodes) >= (BigInt(h.totalNodes) * 80n) / 100n &&
    BigInt(h.storageUsed) < (BigInt(h.storageCapacity) * 90n) / 100n
  );
}

/** One swarm: its registered members and those of them currently active. */
export interface SwarmMembership {
  nodeIds: readonly string[];
  activeNodeIds: readonly string[];
}

export interface NetworkSnapshot<SwarmId> {
  swarms: ReadonlyMap<SwarmId, SwarmMembership>;
  /** Storage capacity per node in bytes; nodes missing here add nothing. */
  capacityBytesByNode: ReadonlyMap<string, number>;
  /** Storage used per node in bytes; nodes missing here add nothing. */
  usedBytesByNode: ReadonlyMap<string, number>;
}

/**
 * Builds §4.1 `NetworkHealth` from swarm membership and per-node storage. Nodes are counted once
 * even if listed in several swarms; capacity and usage are summed over active nodes only.
 */
export function computeNetworkHealth<SwarmId>(snapshot: NetworkSnapshot<SwarmId>): NetworkHealth {
  const all = new Set<string>();
  const active = new Set<string>();
  const activePerSwarm: number[] = [];
  for (const [swarmId, swarm] of snapshot.swarms) {
    const members = new Set(swarm.nodeIds);
    const activeHere = new Set(swarm.activeNodeIds);
    for (const id of activeHere) {
      if (!members.has(id)) {
        throw new InvalidArgumentError(`active node ${id} is not a member of swarm ${String(swarmId)}`);
      }
      active.add(id);
    }
    members.forEach((id) => all.add(id));
    activePerSwarm.push(activeHere.size);
  }
  const swarmCount = activePerSwarm.length;
  const minSwarmSize = swarmCount === 0 ? 0 : activePerSwarm.reduce((a, b) => Math.min(a, b));
  return {
    totalNodes: all.size,
    activeNodes: active.size,
    swarmCount,
    avgNodesPerSwarm: swarmCount === 0 ? 0 : activePerSwarm.reduce((a, b) => a + b, 0) / swarmCount,
    minSwarmSize,
    storageCapacity: Number(sumBytes(snapshot.capacityBytesByNode, active, "capacity") / BigInt(BYTES_PER_GB)),
    storageUsed: Number(ceilDiv(sumBytes(snapshot.usedBytesByNode, active, "used"), BigInt(BYTES_PER_GB))),
    replicationOk: swarmCount > 0 && minSwarmSize >= REPLICATION_FACTOR,
  };
}

function sumBytes(byNode: ReadonlyMap<string, number>, nodes: ReadonlySet<string>, what: string): bigint {
  let sum = 0n;
  for (const id of nodes) {
    const bytes = byNode.get(id) ?? 0;
    assertSafeUint(bytes, `${what} bytes of ${id}`);
    sum += BigInt(bytes);
  }
  return sum;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

// §4.3 "Minimum Network Requirements".

/** §3.2 `SIZE_LIMIT`: 10 GB of storage per node. */
export const STORAGE_PER_NODE_GB = 10;
/** §4.3: the minimum network is 5 swarms ... */
export const MIN_SWARMS = 5;
/** ... of 3 nodes each (§3.3 `MinNodesPerSwarm`). */
export const MIN_NODES_PER_SWARM = 3;
/** §4.3 Nodes per Swarm target: 5–7. */
export const TARGET_NODES_PER_SWARM_MIN = 5;
export const TARGET_NODES_PER_SWARM_MAX = 7;
/** §4.3 Total Nodes: minimum 15 (5 swarms × 3), target 100+. */
export const MIN_TOTAL_NODES = MIN_SWARMS * MIN_NODES_PER_SWARM;
export const TARGET_TOTAL_NODES = 100;
/** §4.3 Total Stake: minimum 225,000 PARS (15 nodes × 15K), target 1.5M+ PARS. */
export const MIN_TOTAL_STAKE = BigInt(MIN_TOTAL_NODES) * STAKING_REQUIREMENT;
export const TARGET_TOTAL_STAKE = 1_500_000n * BASE_UNITS_PER_PARS;
/** §4.3 Storage Capacity in GB: minimum 150 (15 nodes × 10 GB), target 1+ TB = 1,024 GB. */
export const MIN_STORAGE_CAPACITY_GB = MIN_TOTAL_NODES * STORAGE_PER_NODE_GB;
export const TARGET_STORAGE_CAPACITY_GB = 1024;

/** The §4.3 table, row by row, in the PIP's order and words (GB = 2^30 bytes, stake in base units). */
export const MINIMUM_NETWORK_REQUIREMENTS = Object.freeze([
  {
    metric: "Total Nodes",
    minimum: MIN_TOTAL_NODES,
    target: TARGET_TOTAL_NODES,
    description: "For 5 swarms with 3 nodes each",
  },
  {
    metric: "Nodes per Swarm",
    minimum: MIN_NODES_PER_SWARM,
    target: [TARGET_NODES_PER_SWARM_MIN, TARGET_NODES_PER_SWARM_MAX],
    description: "For adequate replication",
  },
  {metric: "Total Stake", minimum: MIN_TOTAL_STAKE, target: TARGET_TOTAL_STAKE, description: "15 nodes × 15K PARS"},
  {
    metric: "Storage Capacity",
    minimum: MIN_STORAGE_CAPACITY_GB,
    target: TARGET_STORAGE_CAPACITY_GB,
    description: "15 nodes × 10 GB",
  },
] as const);

/** One metric of §4.3 measured against its minimum and target. */
export interface RequirementCheck {
  metric: "totalNodes" | "nodesPerSwarm" | "totalStake" | "storageCapacity";
  value: string;
  minimum: string;
  target: string;
  meetsMinimum: boolean;
  meetsTarget: boolean;
}

export interface RequirementsReport {
  /** True when every checked metric meets its minimum. */
  meetsMinimum: boolean;
  /** True when every checked metric meets its target. */
  meetsTarget: boolean;
  checks: RequirementCheck[];
  /** One line per metric below its minimum, e.g. "totalNodes 12 below minimum 15". */
  belowMinimum: string[];
  /** One line per metric outside its target; a metric below its minimum is listed here too. */
  belowTarget: string[];
  /** Metrics not checked: "totalStake" when no stake was given (NetworkHealth does not carry it). */
  unchecked: string[];
}

/**
 * Compares a `NetworkHealth`, and the network's total stake when given, with the §4.3 table.
 * Nodes per swarm: the smallest swarm against 3 (minimum) and 5 (target), and the average against
 * 7 (target maximum), since `NetworkHealth` has no largest-swarm field.
 */
export function checkMinimumRequirements(h: NetworkHealth, totalStake?: bigint): RequirementsReport {
  const checks = requirementChecks(h, totalStake);
  const belowMinimum = checks
    .filter((c) => !c.meetsMinimum)
    .map((c) => `${c.metric} ${c.value} below minimum ${c.minimum}`);
  const belowTarget = checks
    .filter((c) => !c.meetsTarget)
    .map((c) => `${c.metric} ${c.value} outside target ${c.target}`);
  return {
    meetsMinimum: belowMinimum.length === 0,
    meetsTarget: belowTarget.length === 0,
    checks,
    belowMinimum,
    belowTarget,
    unchecked: totalStake === undefined ? ["totalStake"] : [],
  };
}

function requirementChecks(h: NetworkHealth, totalStake: bigint | undefined): RequirementCheck[] {
  const pars = (v: bigint): string => `${formatPars(v)} PARS`;
  const checks: RequirementCheck[] = [
    row("totalNodes", `${h.totalNodes}`, `${MIN_TOTAL_NODES}`, `${TARGET_TOTAL_NODES}+`, [
      h.totalNodes >= MIN_TOTAL_NODES,
      h.totalNodes >= TARGET_TOTAL_NODES,
    ]),
    row("nodesPerSwarm", `min ${h.minSwarmSize} avg ${h.avgNodesPerSwarm}`, `${MIN_NODES_PER_SWARM}`,
      `${TARGET_NODES_PER_SWARM_MIN}-${TARGET_NODES_PER_SWARM_MAX}`, [
        h.minSwarmSize >= MIN_NODES_PER_SWARM,
        h.minSwarmSize >= TARGET_NODES_PER_SWARM_MIN && h.avgNodesPerSwarm <= TARGET_NODES_PER_SWARM_MAX,
      ]),
  ];
  if (totalStake !== undefined) {
    checks.push(row("totalStake", pars(totalStake), pars(MIN_TOTAL_STAKE), `${pars(TARGET_TOTAL_STAKE)}+`, [
      totalStake >= MIN_TOTAL_STAKE,
      totalStake >= TARGET_TOTAL_STAKE,
    ]));
  }
  checks.push(row("storageCapacity", `${h.storageCapacity} GB`, `${MIN_STORAGE_CAPACITY_GB} GB`,
    `${TARGET_STORAGE_CAPACITY_GB}+ GB`, [
      h.storageCapacity >= MIN_STORAGE_CAPACITY_GB,
      h.storageCapacity >= TARGET_STORAGE_CAPACITY_GB,
    ]));
  return checks;
}

function row(
  metric: RequirementCheck["metric"],
  value: string,
  minimum: string,
  target: string,
  [meetsMinimum, meetsTarget]: [boolean, boolean],
): RequirementCheck {
  return {metric, value, minimum, target, meetsMinimum, meetsTarget};
}
