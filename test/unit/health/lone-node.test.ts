import Fastify from "fastify";
import {describe, expect, it} from "vitest";
import {registerNetworkRoutes} from "../../../src/api/http/routes/network.js";
import {BYTES_PER_GB} from "../../../src/economics/index.js";
import {LoneNodeHealth} from "../../../src/health/lone-node.js";
import type {StorageProof} from "../../../src/proofs/storage-proof.js";
import {ManualClock} from "../../../src/util/clock.js";
import {T0, member, proof} from "./helpers.js";

const WINDOW = 30_000;
const rules = {activeWindowMs: WINDOW, capacityBytesPerNode: 10 * BYTES_PER_GB};
const self = member(0);

function setup() {
  const clock = new ManualClock(T0);
  let own: StorageProof | null = null;
  const health = new LoneNodeHealth(rules, {nodeId: self.nodeId, clock, ownProof: () => own});
  return {clock, health, setOwn: (p: StorageProof | null) => (own = p)};
}

describe("LoneNodeHealth (a node without a membership is a network of one)", () => {
  it("counts the node in one swarm, active while its own proof is fresh, and never healthy", async () => {
    const {clock, health, setOwn} = setup();
    const inactive = {totalNodes: 1, activeNodes: 0, swarmCount: 1, avgNodesPerSwarm: 0, minSwarmSize: 0, storageCapacity: 0, storageUsed: 0, replicationOk: false, isHealthy: false};
    expect(health.report()).toEqual(inactive);
    setOwn(await proof(self, {timestamp: T0, usedBytes: BYTES_PER_GB + 1}));
    expect(health.report()).toEqual({...inactive, activeNodes: 1, avgNodesPerSwarm: 1, minSwarmSize: 1, storageCapacity: 10, storageUsed: 2});
    clock.advance(WINDOW + 1);
    expect(health.report()).toEqual(inactive);
  });

  it("is served at GET /network/v1/health without a membership (it answered 404, issue #11 item 9); /network/v1/nodes stays 404", async () => {
    const {health, setOwn} = setup();
    setOwn(await proof(self));
    const app = Fastify();
    registerNetworkRoutes(app, {health, now: () => T0, allow: () => true});
    const res = await app.inject({method: "GET", url: "/network/v1/health"});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      totalNodes: 1,
      activeNodes: 1,
      swarmCount: 1,
      avgNodesPerSwarm: 1,
      minSwarmSize: 1,
      storageCapacity: 10,
      storageUsed: 1,
      replicationOk: false,
      isHealthy: false,
    });
    expect((await app.inject({method: "GET", url: "/network/v1/nodes"})).statusCode).toBe(404);
    await app.close();
  });
});
