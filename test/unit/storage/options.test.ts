import {describe, expect, it} from "vitest";
import {defaultStorageOptions, hardLimitBytesOf, resolveStorageOptions} from "../../../src/storage/options.js";

describe("storage options", () => {
  it("defaults follow PIP-0008 and Session", () => {
    expect(defaultStorageOptions).toMatchObject({
      sizeLimitBytes: 10 * 1024 ** 3,
      mailboxMaxMessages: 10_000,
      sweepIntervalMs: 10_000,
      synchronous: "normal",
    });
  });

  it("fills unset and undefined settings from the defaults", () => {
    const resolved = resolveStorageOptions({path: "x.db", sizeLimitBytes: undefined, mailboxMaxMessages: 5});
    expect(resolved).toEqual({...defaultStorageOptions, path: "x.db", mailboxMaxMessages: 5});
  });

  it("puts the backstop above the soft limit", () => {
    const small = resolveStorageOptions({path: "x", sizeLimitBytes: 1024 ** 2});
    expect(hardLimitBytesOf(small)).toBe(1024 ** 2 + 128 * 1024 ** 2);
    const big = resolveStorageOptions({path: "x"});
    expect(hardLimitBytesOf(big)).toBe(10 * 1024 ** 3 + (10 * 1024 ** 3) / 16);
    expect(hardLimitBytesOf(resolveStorageOptions({path: "x", hardLimitBytes: 5000}))).toBe(5000);
  });

  it("rejects bad settings with INVALID_ARGUMENT", () => {
    const bad = [
      {path: ""},
      {path: "x", sizeLimitBytes: 0},
      {path: "x", mailboxMaxMessages: 1.5},
      {path: "x", synchronous: "FULL" as "full"},
      {path: "x", sweepIntervalMs: -1},
      {path: "x", sweepBatchSize: 0},
      {path: "x", maxBatchWrites: 0},
      {path: "x", hardLimitBytes: -1},
      {path: "x", commitDelayMs: -1},
      {path: "x", commitDelayMs: Number.NaN},
    ];
    for (const opts of bad) {
      expect(() => resolveStorageOptions(opts), JSON.stringify(opts)).toThrow(
        expect.objectContaining({code: "INVALID_ARGUMENT"}) as unknown as Error,
      );
    }
  });
});
