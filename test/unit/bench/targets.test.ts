import {describe, expect, it} from "vitest";
import type {ScenarioSummary} from "../../../bench/report.js";
import type {ScenarioId} from "../../../bench/scenarios.js";
import {formatTargetTable, issue15Targets, meets} from "../../../bench/targets.js";
import {scenarioSummary} from "./helpers.js";

/** A scenario summary with the figures the target table reads. */
function scenario(id: ScenarioId, reqPerSec: number, serverCpu: number | null, mainMs: number | null): ScenarioSummary {
  return scenarioSummary(id, {reqPerSec, reqPerSecRuns: [reqPerSec], p50Ms: 1, p99Ms: 2, serverCpu, mainThreadCpuMsPerRequest: mainMs, clientCpu: 0.3, otherCpu: 0});
}

describe("issue #15 target table", () => {
  // The session-7 quiet run's figures: the store ratio equals the inverse ratio of main-thread CPU.
  const http = [
    scenario("sqlite-store", 9962, 0.78, 0.074),
    scenario("node-store", 4397, 1.03, 0.168),
    scenario("sqlite-store-signed", 7011, 0.99, 0.105),
    scenario("sqlite-retrieve", 1578, 0.99, 0.57),
    scenario("sqlite-retrieve-signed", 1262, 0.99, 0.76),
    scenario("node-retrieve", 1022, 1.11, null),
  ];
  const rows = issue15Targets(http, {cpuRatio: 4.59, throughputRatio: 0.32, openLoop: {offered: 500, p99Ms: 83.53}});

  it("divides throughput, throughput per server core and main-thread CPU of the same run", () => {
    const store = rows.find((r) => r.what.startsWith("single-node store"));
    expect(store).toMatchObject({item: 1, value: 0.44, perCpu: 0.33, perMainCpu: 0.44});
    expect(meets(store!)).toBe(false);
  });

  it("leaves the main-thread ratio out when a scenario has no main-thread figure", () => {
    const retrieve = rows.find((r) => r.item === 3 && !r.what.startsWith("bound:"));
    expect(retrieve).toMatchObject({value: 0.65, perMainCpu: null});
    const signed = rows.find((r) => r.item === 5);
    expect(signed).toMatchObject({value: null, perCpu: null, perMainCpu: null, note: "needs node-retrieve-07 and node-retrieve"});
    expect(meets(signed!)).toBeNull();
  });

  it("prints item 1's floor of the wire beside its target, as no target of its own", () => {
    const bound = rows.find((r) => r.item === 1 && r.what.startsWith("bound:"));
    expect(bound).toMatchObject({item: 1, value: 0.7, perMainCpu: 0.7, target: null, note: "sqlite-store-signed ÷ sqlite-store"});
    expect(meets(bound!)).toBeNull();
    expect(rows.map((r) => r.item)).toEqual([1, 1, 2, 2, 2, 3, 3, 5]);
    const line = formatTargetTable(rows).split("\n").find((l) => l.startsWith("1 ") && l.includes("bound:"));
    expect(line).toMatch(/0\.7\s+\(no target\)\s+–\s+0\.55\s+0\.7\s+sqlite-store-signed ÷ sqlite-store/);
  });

  it("prints item 3's floor of a signed retrieve under item 3, as no target of its own", () => {
    const bound = rows.find((r) => r.item === 3 && r.what.startsWith("bound:"));
    expect(bound).toMatchObject({value: 0.8, perMainCpu: 0.75, target: null, note: "sqlite-retrieve-signed ÷ sqlite-retrieve"});
    expect(meets(bound!)).toBeNull();
    const lines = formatTargetTable(rows).split("\n");
    const at = lines.findIndex((l) => l.startsWith("3 ") && l.includes("bound:"));
    expect(lines[at - 1]).toMatch(/^3 .*retrieve ÷ raw SQLite retrieve/);
  });

  it("prints the main-thread column beside the per-core one", () => {
    const lines = formatTargetTable(rows).split("\n");
    expect(lines[0]).toContain("per main-thread CPU-s");
    const storeLine = lines.find((l) => l.includes("single-node store"));
    expect(storeLine).toMatch(/0\.44\s+≥ 0\.9\s+NOT met\s+0\.33\s+0\.44\s+node-store ÷ sqlite-store/);
    const openLine = lines.find((l) => l.includes("open-loop"));
    expect(openLine).toMatch(/83\.5 ms\s+≤ 50 ms\s+NOT met\s+–\s+–\s+swarm-store-open/);
  });
});
