import type {ClaimLimits, EpochSchedule} from "../economics/index.js";

export interface RewardServiceOptions {
  readonly networkId: number;
  readonly schedule: EpochSchedule;
  /** config `rewards.settleMs`: reports are collected this long after an epoch ends, then it is final. */
  readonly settleMs: number;
  /** config `rewards.totalSupply`, base units. */
  readonly totalSupply: bigint;
  readonly claimLimits: ClaimLimits;
  /** Deadline of one report fetch from a peer. */
  readonly requestTimeoutMs: number;
}

/** A report fetch: one member's answer is tiny (a few hundred bytes per report it holds). */
export const DEFAULT_REPORT_REQUEST_TIMEOUT_MS = 5_000;
/** Reports are kept this long after their epoch (a node back from a week offline can still account it). */
export const REPORT_KEEP_MS = 7 * 86_400_000;
/** A node down longer than this many epochs accounts only the newest ones when it is back. */
export const MAX_BACKFILL_EPOCHS = 1_000;

/** How often the loop runs: a quarter of the shorter of the epoch and the settle window, within [250 ms, 60 s]. */
export function rewardTickMs(o: Pick<RewardServiceOptions, "schedule" | "settleMs">): number {
  const base = Math.min(o.schedule.epochMs, o.settleMs > 0 ? o.settleMs : o.schedule.epochMs);
  return Math.min(60_000, Math.max(250, Math.floor(base / 4)));
}
