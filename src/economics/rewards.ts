import {InvalidArgumentError} from "../util/index.js";
import {apportion} from "./distribution.js";
import {BPS_DENOMINATOR, DAY_MS, assertNonNegativeAmount, assertSafeUint} from "./units.js";

/**
 * PIP-0008 §2.2 "Reward Distribution": inflation schedule and stake-proportional block rewards.
 * See docs/economics.md "Rewards".
 */

/** §2.2 Block Rewards: year 1 → 8 %, year 2 → 6 %, year 3 and later → 4 % (terminal rate). */
export const INFLATION_SCHEDULE_BPS: readonly bigint[] = Object.freeze([800n, 600n]);
/** §2.2: the terminal rate, from year 3 on. */
export const TERMINAL_INFLATION_BPS = 400n;
/** Length of an inflation year: 365 days (the PIP does not define it). */
export const YEAR_MS = 365 * DAY_MS;

/** Solidity's `uint256` range: `calculateReward` reverts (throws) outside it, like checked 0.8 math. */
const UINT256_MAX = (1n << 256n) - 1n;

/** Annual inflation rate in basis points for a 1-based `year` (1 → 800, 2 → 600, ≥ 3 → 400). */
export function inflationRateBps(year: number): bigint {
  if (!Number.isSafeInteger(year) || year < 1) {
    throw new InvalidArgumentError(`year must be an integer ≥ 1, got ${String(year)}`);
  }
  return INFLATION_SCHEDULE_BPS[year - 1] ?? TERMINAL_INFLATION_BPS;
}

/** PARS minted in `year`: floor(totalSupply × rate), totalSupply being the supply at the start of that year. */
export function annualInflation(totalSupply: bigint, year: number): bigint {
  assertNonNegativeAmount(totalSupply, "totalSupply");
  return (totalSupply * inflationRateBps(year)) / BPS_DENOMINATOR;
}

/** 1-based inflation year containing `nowMs`, for a network whose year 1 starts at `genesisMs`. */
export function inflationYear(genesisMs: number, nowMs: number): number {
  assertSafeUint(genesisMs, "genesisMs");
  assertSafeUint(nowMs, "nowMs");
  if (nowMs < genesisMs) throw new InvalidArgumentError("nowMs is before genesisMs");
  return Math.floor((nowMs - genesisMs) / YEAR_MS) + 1;
}

/**
 * Inflation for a period of `periodMs` inside `year` (e.g. one reward epoch):
 * floor(totalSupply × rate × periodMs / YEAR_MS), rounded once, at the end.
 */
export function periodInflation(totalSupply: bigint, year: number, periodMs: number): bigint {
  assertNonNegativeAmount(totalSupply, "totalSupply");
  assertSafeUint(periodMs, "periodMs");
  return (totalSupply * inflationRateBps(year) * BigInt(periodMs)) / (BPS_DENOMINATOR * BigInt(YEAR_MS));
}

/**
 * §2.2 `calculateReward`, exactly the PIP's Solidity: `(stakedAmount * blockReward) / totalStaked`
 * with integer division. Throws where the Solidity reverts: `totalStaked == 0`, or a value or the
 * product outside uint256.
 */
export function calculateReward(stakedAmount: bigint, totalStaked: bigint, blockReward: bigint): bigint {
  const inputs = {stakedAmount, totalStaked, blockReward};
  for (const [name, value] of Object.entries(inputs)) {
    if (value < 0n || value > UINT256_MAX) throw new InvalidArgumentError(`${name} is outside uint256`);
  }
  if (totalStaked === 0n) throw new InvalidArgumentError("totalStaked is zero (division by zero)");
  const product = stakedAmount * blockReward;
  if (product > UINT256_MAX) throw new InvalidArgumentError("stakedAmount * blockReward overflows uint256");
  return product / totalStaked;
}

export interface RewardShare {
  address: string;
  reward: bigint;
}

/**
 * Splits `blockReward` among stakers in proportion to their stake. Each staker gets at least
 * `calculateReward(amount, total, blockReward)`; the few leftover base units go by largest
 * remainder, ties by ascending address (see `apportion`), so the rewards sum to `blockReward`
 * exactly. Addresses must be unique (compared as given: normalize them first). Input order is kept.
 */
export function distributeRewards(
  stakes: ReadonlyArray<{address: string; amount: bigint}>,
  blockReward: bigint,
): RewardShare[] {
  const shares = apportion(blockReward, stakes.map((s) => ({key: s.address, weight: s.amount})));
  return stakes.map((s, i) => ({address: s.address, reward: shares[i] ?? 0n}));
}
