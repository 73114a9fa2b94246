import {describe, expect, it} from "vitest";
import {
  EXTREME_SCARCITY_MULTIPLIER,
  SCARCITY_BANDS,
  calculateStorageFee,
  multiplierForUtilization,
  scarcityMultiplier,
  utilizationPct,
} from "../../../src/economics/index.js";
import {INVALID} from "./helpers.js";

describe("economics/scarcity: §4.2 calculateStorageFee", () => {
  it("has the PIP's bands", () => {
    expect(SCARCITY_BANDS).toEqual([
      {belowPct: 50, multiplier: 1n},
      {belowPct: 70, multiplier: 2n},
      {belowPct: 85, multiplier: 5n},
      {belowPct: 95, multiplier: 10n},
    ]);
    expect(EXTREME_SCARCITY_MULTIPLIER).toBe(50n);
  });

  it.each([
    [0, 1n],
    [49, 1n],
    [50, 2n],
    [69, 2n],
    [70, 5n],
    [84, 5n],
    [85, 10n],
    [94, 10n],
    [95, 50n],
    [100, 50n],
    [250, 50n],
  ])("utilization %i %% → ×%s (both edges of every band)", (pct, multiplier) => {
    expect(multiplierForUtilization(pct)).toBe(multiplier);
    expect(scarcityMultiplier(pct, 100)).toBe(multiplier);
    expect(calculateStorageFee(7n, {storageUsed: pct, storageCapacity: 100})).toBe(7n * multiplier);
  });

  it("uses Go's integer division: 49.99 % is still band 1, 69.99 % band 2", () => {
    expect(utilizationPct(4999, 10000)).toBe(49);
    expect(scarcityMultiplier(4999, 10000)).toBe(1n);
    expect(scarcityMultiplier(5000, 10000)).toBe(2n);
    expect(scarcityMultiplier(6999, 10000)).toBe(2n);
    expect(scarcityMultiplier(9499, 10000)).toBe(10n);
    expect(scarcityMultiplier(9500, 10000)).toBe(50n);
    // 74 of 150 GB = 49.3 % → ×1; 75 of 150 GB = 50 % → ×2.
    expect(calculateStorageFee(100n, {storageUsed: 74, storageCapacity: 150})).toBe(100n);
    expect(calculateStorageFee(100n, {storageUsed: 75, storageCapacity: 150})).toBe(200n);
  });

  it("treats zero capacity as full (×50) where the Go would divide by zero", () => {
    expect(utilizationPct(0, 0)).toBe(100);
    expect(scarcityMultiplier(0, 0)).toBe(50n);
    expect(scarcityMultiplier(5, 0)).toBe(50n);
  });

  it("is exact for byte counts beyond 2^53 / 100", () => {
    const capacity = Number.MAX_SAFE_INTEGER;
    expect(utilizationPct(capacity, capacity)).toBe(100);
    expect(utilizationPct(Math.floor(capacity / 2), capacity)).toBe(49);
  });

  it("rejects negative, fractional or non-finite inputs", () => {
    expect(() => utilizationPct(-1, 10)).toThrow(INVALID);
    expect(() => utilizationPct(1.5, 10)).toThrow(INVALID);
    expect(() => utilizationPct(1, Number.NaN)).toThrow(INVALID);
    expect(() => multiplierForUtilization(49.5)).toThrow(INVALID);
    expect(() => calculateStorageFee(-1n, {storageUsed: 0, storageCapacity: 1})).toThrow(INVALID);
  });
});
