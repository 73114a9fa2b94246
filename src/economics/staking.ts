import {InvalidArgumentError} from "../util/index.js";
import {BASE_UNITS_PER_PARS, BPS_DENOMINATOR, DAY_MS, assertSafeUint, formatPars} from "./units.js";

/**
 * PIP-0008 §2.2 "Staking Requirements": who may run a node, and when a stake may leave.
 * Interpretations (operator share, contributor count, delayed exit) follow Session's
 * ServiceNodeRewards.sol, which this table copies; see docs/economics.md "Staking".
 */

/** §2.2 `stakingRequirement`: minimum stake to run a node (15,000 PARS). */
export const STAKING_REQUIREMENT = 15_000n * BASE_UNITS_PER_PARS;
/** §2.2 `minOperatorStake`: 25 %. */
export const MIN_OPERATOR_STAKE_BPS = 2_500n;
/** §2.2 `minOperatorStake`: "(3,750 PARS)" = 25 % of `stakingRequirement`. */
export const MIN_OPERATOR_STAKE = (STAKING_REQUIREMENT * MIN_OPERATOR_STAKE_BPS) / BPS_DENOMINATOR;
/** §2.2 `maxContributors`: at most 10 stakers per node, the operator included. */
export const MAX_CONTRIBUTORS = 10;
/** §2.2 `smallContributorThreshold`: a staker below 25 % of the node's total stake is "small". */
export const SMALL_CONTRIBUTOR_THRESHOLD_BPS = 2_500n;
/** §2.2 `lockPeriod`: 30 days between an exit request and the release of the stake. */
export const LOCK_PERIOD_MS = 30 * DAY_MS;
/**
 * "Delayed exit" of small contributors: no exit request during the first 30 days after staking.
 * The PIP gives no value; 30 days is `lockPeriod` and Session's SMALL_CONTRIBUTOR_LEAVE_DELAY.
 */
export const SMALL_CONTRIBUTOR_EXIT_DELAY_MS = LOCK_PERIOD_MS;

/** The §2.2 table under its PIP field names, with units: base units, bps, milliseconds. */
export const STAKING_PARAMS = Object.freeze({
  stakingRequirement: STAKING_REQUIREMENT,
  minOperatorStake: MIN_OPERATOR_STAKE,
  minOperatorStakeBps: MIN_OPERATOR_STAKE_BPS,
  maxContributors: MAX_CONTRIBUTORS,
  smallContributorThresholdBps: SMALL_CONTRIBUTOR_THRESHOLD_BPS,
  lockPeriodMs: LOCK_PERIOD_MS,
  xchainBridge: true,
});

export interface StakeEntry {
  address: string;
  /** Base units. */
  amount: bigint;
}

/** One node's stake: its operator and the other contributors (the operator is not repeated). */
export interface NodeStake {
  operator: {address: string; amount: bigint};
  contributors: Array<{address: string; amount: bigint}>;
}

/**
 * Every reason starts with a stable code followed by ": " and a human-readable detail, e.g.
 * "TOTAL_BELOW_REQUIREMENT: total 14999 PARS < stakingRequirement 15000 PARS".
 */
export type StakeEligibility =
  | {eligible: true; totalStake: bigint}
  | {eligible: false; reasons: string[]; totalStake: bigint};

export type StakeViolationCode =
  | "NON_POSITIVE_AMOUNT"
  | "EMPTY_ADDRESS"
  | "DUPLICATE_ADDRESS"
  | "TOTAL_BELOW_REQUIREMENT"
  | "OPERATOR_BELOW_MINIMUM"
  | "OPERATOR_BELOW_SHARE"
  | "TOO_MANY_CONTRIBUTORS";

/**
 * Checks a node's stake against every §2.2 rule and lists every violated one. The operator must hold
 * both ≥ `minOperatorStake` (3,750 PARS) and ≥ 25 % of the node's total; the operator counts toward
 * `maxContributors`. Addresses compare case-insensitively (hex and bech32 are case-insensitive).
 */
export function checkStakeEligibility(stake: NodeStake): StakeEligibility {
  const all: StakeEntry[] = [stake.operator, ...stake.contributors];
  const totalStake = all.reduce((sum, entry) => sum + entry.amount, 0n);
  const reasons = [...entryViolations(all), ...sizeViolations(stake, all.length, totalStake)];
  return reasons.length === 0 ? {eligible: true, totalStake} : {eligible: false, reasons, totalStake};
}

function reason(code: StakeViolationCode, detail: string): string {
  return `${code}: ${detail}`;
}

function label(index: number, entry: StakeEntry): string {
  return index === 0 ? `operator ${entry.address}` : `contributor #${index} ${entry.address}`;
}

function entryViolations(all: StakeEntry[]): string[] {
  const reasons: string[] = [];
  const seen = new Map<string, number>();
  all.forEach((entry, index) => {
    if (entry.amount <= 0n) {
      reasons.push(reason("NON_POSITIVE_AMOUNT", `${label(index, entry)} stakes ${formatPars(entry.amount)} PARS`));
    }
    if (entry.address === "") reasons.push(reason("EMPTY_ADDRESS", `${label(index, entry)} has no address`));
    const key = entry.address.toLowerCase();
    seen.set(key, (seen.get(key) ?? 0) + 1);
  });
  for (const [address, count] of seen) {
    if (count > 1) reasons.push(reason("DUPLICATE_ADDRESS", `${address} appears ${count} times`));
  }
  return reasons;
}

function sizeViolations(stake: NodeStake, stakers: number, total: bigint): string[] {
  const reasons: string[] = [];
  const op = `operator ${formatPars(stake.operator.amount)} PARS`;
  const totalText = `total ${formatPars(total)} PARS`;
  if (total < STAKING_REQUIREMENT) {
    const required = `stakingRequirement ${formatPars(STAKING_REQUIREMENT)} PARS`;
    reasons.push(reason("TOTAL_BELOW_REQUIREMENT", `${totalText} < ${required}`));
  }
  if (stake.operator.amount < MIN_OPERATOR_STAKE) {
    reasons.push(reason("OPERATOR_BELOW_MINIMUM", `${op} < minOperatorStake ${formatPars(MIN_OPERATOR_STAKE)} PARS`));
  }
  if (stake.operator.amount * BPS_DENOMINATOR < total * MIN_OPERATOR_STAKE_BPS) {
    reasons.push(reason("OPERATOR_BELOW_SHARE", `${op} < 25% of ${totalText}`));
  }
  if (stakers > MAX_CONTRIBUTORS) {
    const detail = `${stakers} stakers (operator included) > maxContributors ${MAX_CONTRIBUTORS}`;
    reasons.push(reason("TOO_MANY_CONTRIBUTORS", detail));
  }
  return reasons;
}

/**
 * §2.2 `smallContributorThreshold`: true when `amount` < 25 % of `nodeTotalStake` (strict, as
 * Session's `SMALL_CONTRIBUTOR_DIVISOR * stakedAmount < deposit`). Exactly 25 % is not small.
 */
export function isSmallContributor(amount: bigint, nodeTotalStake: bigint): boolean {
  if (nodeTotalStake <= 0n) throw new InvalidArgumentError("nodeTotalStake must be > 0");
  return amount * BPS_DENOMINATOR < nodeTotalStake * SMALL_CONTRIBUTOR_THRESHOLD_BPS;
}

/** Earliest moment a staker may file an exit request: small contributors wait 30 days. */
export function exitRequestAllowedAtMs(stakedAtMs: number, isSmall: boolean): number {
  assertSafeUint(stakedAtMs, "stakedAtMs");
  return isSmall ? stakedAtMs + SMALL_CONTRIBUTOR_EXIT_DELAY_MS : stakedAtMs;
}

/** Whether an exit request filed at `nowMs` is accepted (the boundary instant is accepted). */
export function canRequestExit(stakedAtMs: number, isSmall: boolean, nowMs: number): boolean {
  assertSafeUint(nowMs, "nowMs");
  return nowMs >= exitRequestAllowedAtMs(stakedAtMs, isSmall);
}

/**
 * When the stake becomes withdrawable: `lockPeriod` after the exit request, where a request made
 * before `exitRequestAllowedAtMs` counts from that moment. Without `exitRequestedAtMs` this is the
 * earliest possible unlock: staked + 30 days, or staked + 60 days for a small contributor.
 * The stake is unlocked at any `nowMs >= unlockTimeMs(...)`.
 */
export function unlockTimeMs(stakedAtMs: number, isSmall: boolean, exitRequestedAtMs: number = stakedAtMs): number {
  assertSafeUint(exitRequestedAtMs, "exitRequestedAtMs");
  if (exitRequestedAtMs < stakedAtMs) throw new InvalidArgumentError("exitRequestedAtMs is before stakedAtMs");
  return Math.max(exitRequestedAtMs, exitRequestAllowedAtMs(stakedAtMs, isSmall)) + LOCK_PERIOD_MS;
}
