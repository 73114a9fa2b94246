import {InvalidArgumentError} from "../util/index.js";
import {assertSafeUint} from "./units.js";

/**
 * Reward epochs (issue #18): the network's time cut into equal epochs counted from its genesis.
 * Reward accounting, epoch reports and penalty reports all name an epoch by this index, so every
 * node must use the same `epochMs` and `genesisMs` (config `rewards.epochMs`, `rewards.genesisMs`).
 * See docs/economics.md "Epochs".
 */

/** How a network cuts its time: epoch 0 is [genesisMs, genesisMs + epochMs). */
export interface EpochSchedule {
  readonly epochMs: number;
  /** Unix ms at which epoch 0 starts. */
  readonly genesisMs: number;
}

/** One epoch: `startMs` inclusive, `endMs` exclusive. */
export interface EpochBounds {
  readonly epoch: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** Throws unless the schedule is usable: `epochMs` ≥ 1 and both safe non-negative integers. */
export function assertEpochSchedule(schedule: EpochSchedule): void {
  assertSafeUint(schedule.epochMs, "epochMs");
  assertSafeUint(schedule.genesisMs, "genesisMs");
  if (schedule.epochMs === 0) throw new InvalidArgumentError("epochMs must be at least 1");
}

/** Index of the epoch containing `nowMs`: floor((nowMs − genesisMs) / epochMs). Throws before genesis. */
export function epochIndex(schedule: EpochSchedule, nowMs: number): number {
  assertEpochSchedule(schedule);
  assertSafeUint(nowMs, "nowMs");
  if (nowMs < schedule.genesisMs) {
    throw new InvalidArgumentError(`nowMs ${nowMs} is before the network genesis ${schedule.genesisMs}`);
  }
  return Math.floor((nowMs - schedule.genesisMs) / schedule.epochMs);
}

/** Start (inclusive) and end (exclusive) of `epoch`, in Unix ms. */
export function epochBounds(schedule: EpochSchedule, epoch: number): EpochBounds {
  assertEpochSchedule(schedule);
  assertSafeUint(epoch, "epoch");
  const startMs = schedule.genesisMs + epoch * schedule.epochMs;
  const endMs = startMs + schedule.epochMs;
  if (!Number.isSafeInteger(endMs)) throw new InvalidArgumentError(`epoch ${epoch} ends past the safe integer range`);
  return {epoch, startMs, endMs};
}

/** The epoch containing `nowMs`, with its bounds. */
export function epochAt(schedule: EpochSchedule, nowMs: number): EpochBounds {
  return epochBounds(schedule, epochIndex(schedule, nowMs));
}

/** The newest epoch that has ended at `nowMs` (its `endMs` ≤ `nowMs`), or null if none has. */
export function lastClosedEpoch(schedule: EpochSchedule, nowMs: number): number | null {
  assertEpochSchedule(schedule);
  assertSafeUint(nowMs, "nowMs");
  if (nowMs < schedule.genesisMs + schedule.epochMs) return null;
  return epochIndex(schedule, nowMs) - 1;
}
