import {describe, expect, it} from "vitest";
import {StageSamples, mainAndOthers, summarize, threadTicks, ticksBetween, windowTotals} from "../../../bench/trace-common.js";

describe("trace samples", () => {
  it("summarises nearest-rank percentiles, max and mean, rounded as asked", () => {
    const values = Array.from({length: 100}, (_, i) => (100 - i) / 3); // 33.33… down to 0.33…
    expect(summarize(values)).toEqual({n: 100, p50: 17, p90: 30.33, p99: 33.33, max: 33.33, mean: 16.83});
    expect(summarize(values, 3)).toMatchObject({p90: 30.333, mean: 16.833});
    expect(summarize([])).toEqual({n: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0});
  });

  it("keeps each stage's values apart", () => {
    const s = new StageSamples();
    for (const v of [3, 1, 2]) s.record("a", v);
    s.record("b", 0.12345);
    expect(s.summaries(3)).toEqual({a: {n: 3, p50: 2, p90: 3, p99: 3, max: 3, mean: 2}, b: {n: 1, p50: 0.123, p90: 0.123, p99: 0.123, max: 0.123, mean: 0.123}});
  });

  it("gives each thread's CPU seconds between two snapshots, main first, then the busiest", () => {
    const before = new Map([["main", 100], ["node/12", 5], ["V8Worker/13", 40]]);
    const after = new Map([["main", 150], ["node/12", 85], ["V8Worker/13", 41], ["libuv-worker/14", 3], ["idle/15", 0]]);
    expect(Object.entries(ticksBetween(before, after))).toEqual([["main", 0.5], ["node/12", 0.8], ["libuv-worker/14", 0.03], ["V8Worker/13", 0.01]]);
  });

  it("splits one interval's CPU seconds into the main thread and all others", () => {
    // threadTicks keys the main thread "main" (the per-second series once compared it with the pid
    // and so counted the main thread among the others, its own column always 0).
    const before = new Map([["main", 100], ["node/12", 5]]);
    const after = new Map([["main", 163], ["node/12", 25], ["node/14", 2]]);
    expect(mainAndOthers(before, after)).toEqual([0.63, 0.22]);
  });

  it("totals the seconds after the last one without a request, per request", () => {
    const cpu: Array<[number, number]> = [[0.5, 0.1], [0.01, 0], [0.2, 0.1], [0.3, 0.1]];
    const counts: Array<Record<string, number>> = [{rpc_entry: 900, sign_batch: 30}, {}, {rpc_peer: 100, peer_frame: 50, sign_batch: 20}, {rpc_peer: 150, peer_frame: 50, sign_batch: 30}];
    expect(windowTotals(cpu, counts)).toEqual({
      seconds: 2,
      requests: 250,
      mainMsPerRequest: 2,
      othersMsPerRequest: 0.8,
      perRequest: {peer_frame: 0.4, sign_batch: 0.2},
    });
    expect(windowTotals(cpu, [{rpc_entry: 5}, {}, {}, {}])).toBeNull();
  });

  it.runIf(process.platform === "linux")("reads this process's threads from /proc, the main thread as main", () => {
    const ticks = threadTicks();
    expect(ticks.has("main")).toBe(true);
    for (const key of ticks.keys()) if (key !== "main") expect(key).toMatch(/^.+\/\d+$/);
  });
});
