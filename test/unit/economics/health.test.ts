import {describe, expect, it} from "vitest";
import {
  BYTES_PER_GB,
  MINIMUM_NETWORK_REQUIREMENTS,
  MIN_STORAGE_CAPACITY_GB,
  MIN_TOTAL_NODES,
  MIN_TOTAL_STAKE,
  STAKING_REQUIREMENT,
  STORAGE_PER_NODE_GB,
  TARGET_STORAGE_CAPACITY_GB,
  TARGET_TOTAL_NODES,
  TARGET_TOTAL_STAKE,
  checkMinimumRequirements,
  computeNetworkHealth,
  isHealthy,
  type NetworkHealth,
  type SwarmMembership,
} from "../../../src/economics/index.js";
import {INVALID, P} from "./helpers.js";

const GB = BYTES_PER_GB;

const healthy: NetworkHealth = {
  totalNodes: 15,
  activeNodes: 15,
  swarmCount: 5,
  avgNodesPerSwarm: 3,
  minSwarmSize: 3,
  storageCapacity: 150,
  storageUsed: 0,
  replicationOk: true,
};

describe("economics/health: §4.1 NetworkHealth", () => {
  it("computeNetworkHealth produces exactly the PIP's JSON fields", () => {
    const h = computeNetworkHealth({swarms: new Map(), capacityBytesByNode: new Map(), usedBytesByNode: new Map()});
    expect(Object.keys(JSON.parse(JSON.stringify(h))).sort()).toEqual(
      [
        "totalNodes",
        "activeNodes",
        "swarmCount",
        "avgNodesPerSwarm",
        "minSwarmSize",
        "storageCapacity",
        "storageUsed",
        "replicationOk",
      ].sort(),
    );
  });

  // Truth table over the three terms of IsHealthy, each at its edge.
  const swarm = {ok: 3, bad: 2};
  const active = {ok: 80, bad: 79}; // of totalNodes 100 → threshold 100*80/100 = 80
  const used = {ok: 134, bad: 135}; // of capacity 150 → threshold 150*90/100 = 135, strict <
  const cases = [true, false].flatMap((s) =>
    [true, false].flatMap((a) => [true, false].map((u) => [s, a, u] as const)),
  );
  it.each(cases)("truth table: minSwarm ok=%s, active ok=%s, storage ok=%s", (s, a, u) => {
    const h: NetworkHealth = {
      ...healthy,
      totalNodes: 100,
      minSwarmSize: s ? swarm.ok : swarm.bad,
      activeNodes: a ? active.ok : active.bad,
      storageUsed: u ? used.ok : used.bad,
    };
    expect(isHealthy(h)).toBe(s && a && u);
  });

  it("uses Go's integer division in both thresholds", () => {
    // 14 nodes: 14*80/100 = 11 (11.2 rounded down), so 11 active is enough.
    expect(isHealthy({...healthy, totalNodes: 14, activeNodes: 11})).toBe(true);
    expect(isHealthy({...healthy, totalNodes: 14, activeNodes: 10})).toBe(false);
    // capacity 155: 155*90/100 = 139 (139.5 rounded down); 138 is healthy, 139 is not.
    expect(isHealthy({...healthy, storageCapacity: 155, storageUsed: 138})).toBe(true);
    expect(isHealthy({...healthy, storageCapacity: 155, storageUsed: 139})).toBe(false);
    // No capacity: 0 < 0 is false.
    expect(isHealthy({...healthy, storageCapacity: 0, storageUsed: 0})).toBe(false);
  });

  it("rejects non-integer counts", () => {
    expect(() => isHealthy({...healthy, activeNodes: 1.5})).toThrow(INVALID);
    expect(() => isHealthy({...healthy, storageUsed: -1})).toThrow(INVALID);
  });
});

function swarmsOf(...swarms: Array<[string[], string[]]>): Map<bigint, SwarmMembership> {
  return new Map(swarms.map(([nodeIds, activeNodeIds], i) => [BigInt(i), {nodeIds, activeNodeIds}]));
}

describe("economics/health: computeNetworkHealth", () => {
  it("computes the §4.3 minimum network: 5 swarms × 3 nodes × 10 GB", () => {
    const ids = Array.from({length: 15}, (_, i) => `n${i}`);
    const swarms = swarmsOf(...[0, 1, 2, 3, 4].map((s) => {
      const members = ids.slice(3 * s, 3 * s + 3);
      return [members, members] as [string[], string[]];
    }));
    const capacity = new Map(ids.map((id) => [id, 10 * GB]));
    const used = new Map(ids.map((id) => [id, 0]));
    const h = computeNetworkHealth({swarms, capacityBytesByNode: capacity, usedBytesByNode: used});
    expect(h).toEqual({...healthy});
    expect(isHealthy(h)).toBe(true);
  });

  it("counts swarm sizes, capacity and usage over active nodes only", () => {
    const swarms = swarmsOf([["a", "b", "c", "d"], ["a", "b", "c"]], [["e", "f", "g"], ["e", "f", "g"]]);
    const capacity = new Map(["a", "b", "c", "d", "e", "f", "g"].map((id) => [id, 10 * GB]));
    const used = new Map([
      ["a", 1],
      ["d", 5 * GB],
    ]);
    const h = computeNetworkHealth({swarms, capacityBytesByNode: capacity, usedBytesByNode: used});
    expect(h).toEqual({
      totalNodes: 7,
      activeNodes: 6,
      swarmCount: 2,
      avgNodesPerSwarm: 3,
      minSwarmSize: 3,
      storageCapacity: 60,
      storageUsed: 1, // one byte on an active node rounds up to 1 GB; inactive "d" is not counted
      replicationOk: true,
    });
  });

  it("rounds capacity down and usage up", () => {
    const swarms = swarmsOf([["a", "b", "c"], ["a", "b", "c"]]);
    const capacity = new Map([["a", 10 * GB - 1], ["b", 10 * GB], ["c", 10 * GB]]);
    const used = new Map([["a", GB + 1]]);
    const h = computeNetworkHealth({swarms, capacityBytesByNode: capacity, usedBytesByNode: used});
    expect(h.storageCapacity).toBe(29);
    expect(h.storageUsed).toBe(2);
  });

  it("flags a swarm with fewer than 3 active nodes", () => {
    const swarms = swarmsOf([["a", "b", "c"], ["a", "b"]], [["d", "e", "f", "g", "h"], ["d", "e", "f", "g", "h"]]);
    const h = computeNetworkHealth({swarms, capacityBytesByNode: new Map(), usedBytesByNode: new Map()});
    expect(h).toMatchObject({minSwarmSize: 2, replicationOk: false, avgNodesPerSwarm: 3.5, activeNodes: 7});
    expect(isHealthy(h)).toBe(false);
  });

  it("counts a node listed in two swarms once", () => {
    const swarms = swarmsOf([["a", "b", "c"], ["a", "b", "c"]], [["c", "d", "e"], ["c", "d", "e"]]);
    const capacity = new Map(["a", "b", "c", "d", "e"].map((id) => [id, GB]));
    const h = computeNetworkHealth({swarms, capacityBytesByNode: capacity, usedBytesByNode: new Map()});
    expect(h).toMatchObject({totalNodes: 5, activeNodes: 5, storageCapacity: 5});
  });

  it("handles an empty network and rejects active nodes outside their swarm", () => {
    const empty = computeNetworkHealth({swarms: new Map(), capacityBytesByNode: new Map(), usedBytesByNode: new Map()});
    expect(empty).toEqual({
      totalNodes: 0,
      activeNodes: 0,
      swarmCount: 0,
      avgNodesPerSwarm: 0,
      minSwarmSize: 0,
      storageCapacity: 0,
      storageUsed: 0,
      replicationOk: false,
    });
    const swarms = swarmsOf([["a"], ["b"]]);
    expect(() => computeNetworkHealth({swarms, capacityBytesByNode: new Map(), usedBytesByNode: new Map()})).toThrow(
      INVALID,
    );
  });
});

describe("economics/health: §4.3 Minimum Network Requirements", () => {
  it("reproduces the table and its arithmetic", () => {
    expect(MIN_TOTAL_NODES).toBe(5 * 3);
    expect(TARGET_TOTAL_NODES).toBe(100);
    expect(MIN_TOTAL_STAKE).toBe(15n * STAKING_REQUIREMENT);
    expect(MIN_TOTAL_STAKE).toBe(P("225000"));
    expect(TARGET_TOTAL_STAKE).toBe(P("1500000"));
    expect(STORAGE_PER_NODE_GB).toBe(10);
    expect(MIN_STORAGE_CAPACITY_GB).toBe(15 * 10);
    expect(TARGET_STORAGE_CAPACITY_GB).toBe(1024);
    expect(MINIMUM_NETWORK_REQUIREMENTS.map((r) => [r.metric, r.minimum, r.target])).toEqual([
      ["Total Nodes", 15, 100],
      ["Nodes per Swarm", 3, [5, 7]],
      ["Total Stake", P("225000"), P("1500000")],
      ["Storage Capacity", 150, 1024],
    ]);
  });

  it("the minimum network meets every minimum and misses every target", () => {
    const report = checkMinimumRequirements(healthy, P("225000"));
    expect(report.meetsMinimum).toBe(true);
    expect(report.meetsTarget).toBe(false);
    expect(report.belowMinimum).toEqual([]);
    expect(report.belowTarget).toEqual([
      "totalNodes 15 outside target 100+",
      "nodesPerSwarm min 3 avg 3 outside target 5-7",
      "totalStake 225000 PARS outside target 1500000 PARS+",
      "storageCapacity 150 GB outside target 1024+ GB",
    ]);
    expect(report.unchecked).toEqual([]);
  });

  it("lists each shortfall below the minimum", () => {
    const h: NetworkHealth = {...healthy, totalNodes: 14, minSwarmSize: 2, storageCapacity: 149};
    const report = checkMinimumRequirements(h, P("224999.999999999999999999"));
    expect(report.meetsMinimum).toBe(false);
    expect(report.belowMinimum).toEqual([
      "totalNodes 14 below minimum 15",
      "nodesPerSwarm min 2 avg 3 below minimum 3",
      "totalStake 224999.999999999999999999 PARS below minimum 225000 PARS",
      "storageCapacity 149 GB below minimum 150 GB",
    ]);
    expect(report.belowTarget).toHaveLength(4);
  });

  it("meets every target at 100 nodes, 5–7 per swarm, 1.5M PARS, 1 TB", () => {
    const h: NetworkHealth = {
      ...healthy,
      totalNodes: 100,
      activeNodes: 100,
      swarmCount: 20,
      avgNodesPerSwarm: 5,
      minSwarmSize: 5,
      storageCapacity: 1024,
    };
    expect(checkMinimumRequirements(h, P("1500000"))).toMatchObject({meetsMinimum: true, meetsTarget: true});
    expect(checkMinimumRequirements({...h, avgNodesPerSwarm: 7.5}, P("1500000")).belowTarget).toEqual([
      "nodesPerSwarm min 5 avg 7.5 outside target 5-7",
    ]);
  });

  it("reports the stake as unchecked when it is not given", () => {
    const report = checkMinimumRequirements(healthy);
    expect(report.unchecked).toEqual(["totalStake"]);
    expect(report.checks.map((c) => c.metric)).toEqual(["totalNodes", "nodesPerSwarm", "storageCapacity"]);
    expect(report.meetsMinimum).toBe(true);
  });
});
