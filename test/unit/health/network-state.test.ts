import {describe, expect, it} from "vitest";
import {BYTES_PER_GB} from "../../../src/economics/index.js";
import {networkState} from "../../../src/health/network-state.js";
import type {StorageProof} from "../../../src/proofs/storage-proof.js";
import {nodeSwarm} from "../../../src/swarm/mapping.js";
import {buildSwarmView} from "../../../src/swarm/view.js";
import {fakeMember} from "../swarm/helpers.js";

const NOW = 1_767_225_600_000;
const WINDOW = 30_000;
const GB10 = 10 * BYTES_PER_GB;
const rules = {activeWindowMs: WINDOW, capacityBytesPerNode: GB10};
const members = Array.from({length: 6}, (_, i) => fakeMember(`n${i}`));
/** Six nodes in balanced mode: two swarms of three. */
const view = buildSwarmView(members, "balanced");

function proofs(stamps: Record<string, number>, usedBytes = 1): (id: string) => StorageProof | null {
  return (id) => {
    const timestamp = stamps[id];
    if (timestamp === undefined) return null;
    return {nodeId: id, swarmId: 0, merkleRoot: new Uint8Array(32), messageCount: 1, usedBytes, timestamp, signature: new Uint8Array(0)};
  };
}

const all = (at: number): Record<string, number> => Object.fromEntries(members.map((m) => [m.nodeId, at]));

describe("networkState", () => {
  it("counts every member with a recent proof as active: 2 swarms of 3 are healthy", () => {
    expect(view.swarmCount).toBe(2);
    const s = networkState(view, proofs(all(NOW - 1_000), 3 * BYTES_PER_GB), NOW, rules);
    expect(s.health).toEqual({
      totalNodes: 6,
      activeNodes: 6,
      swarmCount: 2,
      avgNodesPerSwarm: 3,
      minSwarmSize: 3,
      storageCapacity: 60,
      storageUsed: 18,
      replicationOk: true,
    });
    expect(s.load).toEqual({storageUsed: 18 * BYTES_PER_GB, storageCapacity: 6 * GB10});
    expect(s.validUntilMs).toBe(NOW - 1_000 + WINDOW);
  });

  it("a stale proof makes its node inactive: its swarm drops to 2 and replication is not ok", () => {
    const stale = members[0]!.nodeId;
    const stamps = {...all(NOW), [stale]: NOW - WINDOW - 1};
    const s = networkState(view, proofs(stamps), NOW, rules);
    expect(s.health).toMatchObject({totalNodes: 6, activeNodes: 5, minSwarmSize: 2, avgNodesPerSwarm: 2.5, replicationOk: false, storageCapacity: 50});
    // Exactly at the window's edge the node is still active.
    expect(networkState(view, proofs({...stamps, [stale]: NOW - WINDOW}), NOW, rules).health.minSwarmSize).toBe(3);
    expect(networkState(view, proofs({...stamps, [stale]: NOW - WINDOW}), NOW, rules).validUntilMs).toBe(NOW);
  });

  it("a node without a proof is inactive; no proof at all gives zero load and no active node", () => {
    const missing = members[5]!.nodeId;
    const stamps = all(NOW);
    delete stamps[missing];
    const s = networkState(view, proofs(stamps), NOW, rules);
    expect(s.health.activeNodes).toBe(5);
    expect(s.health.minSwarmSize).toBe(2);
    const none = networkState(view, () => null, NOW, rules);
    expect(none.health).toMatchObject({totalNodes: 6, activeNodes: 0, swarmCount: 2, minSwarmSize: 0, storageCapacity: 0, replicationOk: false});
    expect(none.load).toBeNull();
    expect(none.validUntilMs).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("does not count empty swarm IDs as swarms", () => {
    // PIP-0008 mode with 6 members: 2 swarm IDs; find a membership where one of them is empty.
    const lopsided = Array.from({length: 200}, (_, i) => fakeMember(`p${i}`)).filter((m) => nodeSwarm(m.mlDsaPublicKey, 2) === 0n);
    const v = buildSwarmView(lopsided.slice(0, 6), "pip0008");
    expect(v.swarmCount).toBe(2);
    expect(v.emptySwarmIds()).toEqual([1n]);
    const s = networkState(v, proofs(Object.fromEntries(lopsided.slice(0, 6).map((m) => [m.nodeId, NOW]))), NOW, rules);
    expect(s.health).toMatchObject({swarmCount: 1, minSwarmSize: 6, replicationOk: true});
  });

  it("keeps the load's ratio when the byte sums exceed 2^53", () => {
    const huge = Number.MAX_SAFE_INTEGER;
    const s = networkState(view, proofs(all(NOW), huge), NOW, {...rules, capacityBytesPerNode: huge});
    expect(Number.isSafeInteger(s.load!.storageUsed)).toBe(true);
    expect(Number.isSafeInteger(s.load!.storageCapacity)).toBe(true);
    expect(s.load!.storageUsed).toBe(s.load!.storageCapacity);
  });
});
