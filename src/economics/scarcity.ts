import {InvalidArgumentError} from "../util/index.js";
import {assertNonNegativeAmount, assertSafeUint} from "./units.js";

/**
 * PIP-0008 §4.2 "Dynamic Fee Adjustment": the storage fee multiplier by network utilization.
 * See docs/economics.md "Scarcity".
 */

/** §4.2 bands in order: utilization below `belowPct` → `multiplier`. */
export const SCARCITY_BANDS: ReadonlyArray<{readonly belowPct: number; readonly multiplier: bigint}> = Object.freeze([
  {belowPct: 50, multiplier: 1n},
  {belowPct: 70, multiplier: 2n},
  {belowPct: 85, multiplier: 5n},
  {belowPct: 95, multiplier: 10n},
]);
/** §4.2 `default`: utilization ≥ 95 % (or no capacity at all) → ×50, "Extreme scarcity". */
export const EXTREME_SCARCITY_MULTIPLIER = 50n;

/** The two `NetworkHealth` fields §4.2 reads, in one consistent unit (GB in `NetworkHealth`, bytes also work). */
export interface StorageLoad {
  storageUsed: number;
  storageCapacity: number;
}

/**
 * `storageUsed * 100 / storageCapacity` with integer division, as the PIP's Go. The Go divides by
 * zero when capacity is 0; here no capacity counts as full (100), so the price is ×50.
 * May exceed 100 when used > capacity.
 */
export function utilizationPct(storageUsed: number, storageCapacity: number): number {
  assertSafeUint(storageUsed, "storageUsed");
  assertSafeUint(storageCapacity, "storageCapacity");
  if (storageCapacity === 0) return 100;
  return Number((BigInt(storageUsed) * 100n) / BigInt(storageCapacity));
}

/** §4.2 `switch`: <50 ×1, <70 ×2, <85 ×5, <95 ×10, else ×50. `pct` is an integer percentage. */
export function multiplierForUtilization(pct: number): bigint {
  if (!Number.isSafeInteger(pct) || pct < 0) {
    throw new InvalidArgumentError(`utilization must be a non-negative integer percentage, got ${String(pct)}`);
  }
  return SCARCITY_BANDS.find((band) => pct < band.belowPct)?.multiplier ?? EXTREME_SCARCITY_MULTIPLIER;
}

/** The §4.2 multiplier for `used` of `capacity` (same unit for both). */
export function scarcityMultiplier(storageUsed: number, storageCapacity: number): bigint {
  return multiplierForUtilization(utilizationPct(storageUsed, storageCapacity));
}

/** §4.2 `calculateStorageFee(baseRate, networkHealth)`: `baseRate` times the scarcity multiplier. */
export function calculateStorageFee(baseRate: bigint, networkHealth: StorageLoad): bigint {
  assertNonNegativeAmount(baseRate, "baseRate");
  return baseRate * scarcityMultiplier(networkHealth.storageUsed, networkHealth.storageCapacity);
}
