import {describe, expect, it} from "vitest";
import {benchConfig} from "../../../bench/run.js";

describe("bench config", () => {
  it("warms each fresh store server with 5,000 stores unless BENCH_WARMUP_REQUESTS says otherwise", () => {
    expect(benchConfig({}).warmupRequests).toBe(5_000);
    expect(benchConfig({BENCH_WARMUP_REQUESTS: "1200"}).warmupRequests).toBe(1_200);
    // 0 turns it off: the runs recorded before the warm-up existed are reproducible.
    expect(benchConfig({BENCH_WARMUP_REQUESTS: "0"}).warmupRequests).toBe(0);
    expect(() => benchConfig({BENCH_WARMUP_REQUESTS: "-5"})).toThrow(/BENCH_WARMUP_REQUESTS/);
  });
});
