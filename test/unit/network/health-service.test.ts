import {EventEmitter} from "node:events";
import Fastify from "fastify";
import {describe, expect, it} from "vitest";
import {registerNetworkRoutes} from "../../../src/api/http/routes/network.js";
import {BYTES_PER_GB} from "../../../src/economics/index.js";
import {NetworkHealthService} from "../../../src/network/health-service.js";
import type {StorageProof} from "../../../src/proofs/storage-proof.js";
import {MembershipService} from "../../../src/swarm/membership-service.js";
import {ManualClock} from "../../../src/util/clock.js";
import {signedRecord} from "../swarm/helpers.js";
import {T0, json, member, nobleBackend, proof, silent} from "./helpers.js";

const records = Array.from({length: 6}, (_, i) => signedRecord(i));
const members = records.map((_, i) => member(i));
const WINDOW = 30_000;
const opts = {pollIntervalMs: 60_000, requestTimeoutMs: 1_000, concurrency: 4, maxClockSkewMs: 1_000, activeWindowMs: WINDOW, capacityBytesPerNode: 10 * BYTES_PER_GB};

function setup() {
  const clock = new ManualClock(T0);
  const source = Object.assign(new EventEmitter(), {description: "test", start() {}, close: () => Promise.resolve()});
  const membership = new MembershipService(
    {networkId: 7070, mode: "balanced", ourNodeId: records[0]!.nodeId},
    {source: source as never, pq: nobleBackend, clock, logger: silent},
  );
  /** What each node's GET /proof/v1/latest answers, by node ID. */
  const served = new Map<string, unknown>();
  const polled: string[] = [];
  let own: StorageProof | null = null;
  const service = new NetworkHealthService(opts, {
    membership,
    pq: nobleBackend,
    clock,
    logger: silent,
    ownProof: () => own,
    peers: {request: () => Promise.reject(new Error("fetch replaces the peer client here"))},
    fetch: (nodeId) => {
      polled.push(nodeId);
      return served.has(nodeId) ? Promise.resolve(served.get(nodeId)) : Promise.reject(new Error("down"));
    },
  });
  const serve = async (i: number, timestamp: number, usedBytes = BYTES_PER_GB): Promise<void> => {
    served.set(records[i]!.nodeId, json(await proof(members[i]!, {timestamp, usedBytes})));
  };
  const load = () => membership.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records}), origin: "t"});
  const setOwn = async (timestamp: number): Promise<void> => void (own = await proof(members[0]!, {timestamp, usedBytes: BYTES_PER_GB}));
  return {clock, membership, service, serve, load, setOwn, polled};
}

describe("NetworkHealthService", () => {
  it("is null before the membership, then healthy once every node has a recent proof", async () => {
    const s = setup();
    expect(s.service.report()).toBeNull();
    expect(s.service.load()).toBeNull();
    s.load();
    expect(s.service.report()).toMatchObject({totalNodes: 6, activeNodes: 0, minSwarmSize: 0, isHealthy: false});
    for (let i = 1; i < 6; i++) await s.serve(i, T0);
    await s.setOwn(T0);
    expect(await s.service.poller.round()).toMatchObject({polled: 5, accepted: 5});
    expect(s.polled).not.toContain(records[0]!.nodeId);
    const report = s.service.report();
    expect(report).toEqual({
      totalNodes: 6,
      activeNodes: 6,
      swarmCount: 2,
      avgNodesPerSwarm: 3,
      minSwarmSize: 3,
      storageCapacity: 60,
      storageUsed: 6,
      replicationOk: true,
      isHealthy: true,
    });
    expect(s.service.report()).toBe(report);
    expect(s.service.load()).toEqual({storageUsed: 6 * BYTES_PER_GB, storageCapacity: 60 * BYTES_PER_GB});
  });

  it("flips to unhealthy when a node's newest proof leaves the activity window, and back with a new proof", async () => {
    const s = setup();
    s.load();
    s.clock.set(T0 + 20_000);
    await s.setOwn(T0 + 20_000);
    for (let i = 1; i < 6; i++) await s.serve(i, i === 3 ? T0 : T0 + 20_000);
    await s.service.poller.round();
    expect(s.service.report()?.isHealthy).toBe(true);
    s.clock.set(T0 + WINDOW + 1);
    expect(s.service.report()).toMatchObject({activeNodes: 5, minSwarmSize: 2, replicationOk: false, isHealthy: false});
    expect(s.service.load()?.storageCapacity).toBe(50 * BYTES_PER_GB);
    await s.serve(3, T0 + WINDOW);
    await s.service.poller.round();
    expect(s.service.report()).toMatchObject({activeNodes: 6, minSwarmSize: 3, isHealthy: true});
  });

  it("takes proofs pushed by peers and drops nodes that leave the membership", async () => {
    const s = setup();
    s.load();
    await s.setOwn(T0);
    for (let i = 1; i < 6; i++) expect(s.service.notePeerProof(await proof(members[i]!, {timestamp: T0})).kind).toBe("accepted");
    expect(s.service.report()?.activeNodes).toBe(6);
    s.membership.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records.slice(0, 5)}), origin: "t2"});
    expect(s.service.view.get(members[5]!.nodeId)).toBeNull();
    expect(s.service.report()).toMatchObject({totalNodes: 5, activeNodes: 5, swarmCount: 1, minSwarmSize: 5, isHealthy: true});
  });
});

describe("GET /network/v1/health", () => {
  it("answers 503 before the membership, 429 when rate limited, else the report with exactly the PIP's fields and isHealthy", async () => {
    const s = setup();
    let allow = true;
    const app = Fastify();
    registerNetworkRoutes(app, {membership: s.membership, health: s.service, now: () => 1, allow: () => allow});
    const early = await app.inject("/network/v1/health");
    expect(early.statusCode).toBe(503);
    expect(early.body).toBe("Service node is not ready: membership not loaded\n");
    s.load();
    const res = await app.inject("/network/v1/health");
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(
      ["activeNodes", "avgNodesPerSwarm", "isHealthy", "minSwarmSize", "replicationOk", "storageCapacity", "storageUsed", "swarmCount", "totalNodes"],
    );
    expect(res.json()).toMatchObject({totalNodes: 6, activeNodes: 0, isHealthy: false});
    allow = false;
    expect((await app.inject("/network/v1/health")).statusCode).toBe(429);
  });
});
