import {describe, expect, it} from "vitest";
import {RateLimiter} from "../../../src/util/rate-limiter.js";

describe("RateLimiter", () => {
  it("refills over time and bounds the clients it tracks", () => {
    let now = 0;
    const rl = new RateLimiter({capacity: 2, refillPerSecond: 1, maxClients: 2}, () => now);
    expect([rl.take("a"), rl.take("a"), rl.take("a")]).toEqual([true, true, false]);
    now += 1000;
    expect(rl.take("a")).toBe(true);
    expect(rl.take("b")).toBe(true);
    expect(rl.take("c")).toBe(false);
    now += 10_000;
    expect(rl.take("c")).toBe(true);
    expect(rl.size).toBeLessThanOrEqual(2);
  });
});
