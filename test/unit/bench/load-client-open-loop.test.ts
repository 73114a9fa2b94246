import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import {runLoad, type LoadSpec} from "../../../bench/load-client.js";
import {compareReplication} from "../../../bench/run.js";
import type {ScenarioSummary} from "../../../bench/report.js";
import {scenarioSummary} from "./helpers.js";

/** A server that answers every request `delayMs` late, one at a time (a queue of one worker). */
function slowServer(delayMs: number): Promise<Server> {
  let busyUntil = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const start = Math.max(Date.now(), busyUntil);
      busyUntil = start + delayMs;
      setTimeout(() => res.writeHead(200, {"content-type": "application/json"}).end("{}"), busyUntil - Date.now());
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("load client, open loop", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

  it("sends on its schedule whatever the answers do, and counts the queueing in the latency", async () => {
    // 20 ms per answer, served one at a time: the server manages 50/s; 100/s are offered.
    server = await slowServer(20);
    const {port} = server.address() as AddressInfo;
    const spec: LoadSpec = {
      url: `http://127.0.0.1:${port}`,
      workload: "store",
      accounts: "plain",
      accountCount: 10,
      seed: "open-loop-test",
      connections: 64,
      warmupSeconds: 0,
      seconds: 0.5,
      rate: 100,
    };
    const r = await runLoad(spec);
    // ~50 arrivals scheduled in the window, all sent although the server falls behind.
    expect(r.requests).toBeGreaterThanOrEqual(48);
    expect(r.requests).toBeLessThanOrEqual(51);
    expect(r.offeredRate).toBe(100);
    // A closed loop would see ~20 ms each; measured from the schedule, the queue grows to ~25
    // waiting requests, i.e. ~500 ms for the last ones.
    expect(r.p99Ms).toBeGreaterThan(300);
    expect(r.non2xx + r.errors).toBe(0);
  });
});

describe("compareReplication", () => {
  const summary = (id: ScenarioSummary["id"], reqPerSec: number, cpuMs: number | null, p99Ms = 0): ScenarioSummary =>
    scenarioSummary(id, {reqPerSec, reqPerSecRuns: [reqPerSec], p99Ms, cpuMsPerRequest: cpuMs, cpuMsPerRequestEach: [cpuMs]});

  it("divides the swarm's CPU per store and throughput by the single node's of the same run", () => {
    const c = compareReplication([summary("node-store", 1000, 0.2), summary("swarm-store", 450, 0.7), summary("swarm-store-open", 498, null, 30)], 500);
    expect(c?.cpuRatio).toBe(3.5);
    expect(c?.throughputRatio).toBe(0.45);
    expect(c?.openLoop).toEqual({offered: 500, achieved: 498, p50Ms: 0, p99Ms: 30});
  });

  it("is null without both closed-loop store scenarios", () => {
    expect(compareReplication([summary("swarm-store", 450, 0.7)], 500)).toBeNull();
  });
});
