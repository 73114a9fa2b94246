import {describe, expect, it} from "vitest";
import {defaultWsOptions, validateWsOptions} from "../../../../src/api/ws/options.js";
import {defaultConfig} from "../../../../src/config/index.js";

describe("WsOptions", () => {
  it("defaults follow Session where Session has a value", () => {
    expect(defaultWsOptions.subscriptionTtlMs).toBe(65 * 60_000);
    expect(defaultWsOptions.timestampMaxAgeMs).toBe(14 * 86_400_000);
    expect(defaultWsOptions.timestampMaxFutureMs).toBe(86_400_000);
    expect(() => validateWsOptions(defaultWsOptions)).not.toThrow();
    expect(Object.isFrozen(defaultWsOptions)).toBe(true);
  });

  it.each([
    [{maxQueuedBytes: 0}, "ws option maxQueuedBytes must be a positive integer, got 0"],
    [{queueBudgetBytes: -1}, "ws option queueBudgetBytes must be a positive integer, got -1"],
    [{pongTimeoutMs: 1.5}, "ws option pongTimeoutMs must be a positive integer, got 1.5"],
    [{maxConnectionsPerIp: Number.NaN}, "ws option maxConnectionsPerIp must be a positive integer, got NaN"],
  ])("refuses %j", (patch, message) => {
    expect(() => validateWsOptions({...defaultWsOptions, ...patch})).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT", message}));
  });

  it("the node-wide outbound budget defaults to 64 MiB, in the config schema too (the node passes config.ws)", () => {
    expect(defaultWsOptions.queueBudgetBytes).toBe(64 * 1024 * 1024);
    expect(defaultConfig().ws).toEqual({queueBudgetBytes: defaultWsOptions.queueBudgetBytes});
  });
});
