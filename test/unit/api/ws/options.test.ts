import {describe, expect, it} from "vitest";
import {defaultWsOptions, validateWsOptions} from "../../../../src/api/ws/options.js";

describe("WsOptions", () => {
  it("defaults follow Session where Session has a value", () => {
    expect(defaultWsOptions.subscriptionTtlMs).toBe(65 * 60_000);
    expect(defaultWsOptions.timestampMaxAgeMs).toBe(14 * 86_400_000);
    expect(defaultWsOptions.timestampMaxFutureMs).toBe(86_400_000);
    expect(defaultWsOptions.rateLimit).toEqual({enabled: true, capacity: 600, refillPerSecond: 300, maxClients: 10_000});
    expect(() => validateWsOptions(defaultWsOptions)).not.toThrow();
    expect(Object.isFrozen(defaultWsOptions)).toBe(true);
  });

  it.each([
    [{maxQueuedBytes: 0}, "ws option maxQueuedBytes must be a positive integer, got 0"],
    [{pongTimeoutMs: 1.5}, "ws option pongTimeoutMs must be a positive integer, got 1.5"],
    [{maxConnectionsPerIp: Number.NaN}, "ws option maxConnectionsPerIp must be a positive integer, got NaN"],
    [{rateLimit: {enabled: true, capacity: 0, refillPerSecond: 1, maxClients: 1}}, "ws option rateLimit needs positive capacity, refillPerSecond and maxClients"],
  ])("refuses %j", (patch, message) => {
    expect(() => validateWsOptions({...defaultWsOptions, ...patch})).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT", message}));
  });

  it("ignores the bucket's numbers when it is disabled", () => {
    expect(() => validateWsOptions({...defaultWsOptions, rateLimit: {enabled: false, capacity: 0, refillPerSecond: 0, maxClients: 0}})).not.toThrow();
  });
});
