import {InvalidArgumentError} from "../util/index.js";
import {BASE_UNITS_PER_PARS, HOUR_MS, MINUTE_MS, assertNonNegativeAmount, assertSafeUint} from "./units.js";

/**
 * PIP-0008 §2.3 "Claim Mechanics": a cap on rewards claimed per cycle and the validity window of
 * the network's claim signatures. Semantics follow Session's ServiceNodeRewards.sol
 * (`_claimRewards`, `signatureTimestampHasExpired`); see docs/economics.md "Claims".
 */

/** §2.3 `claimThreshold`: at most 1,000,000 PARS claimed per cycle. */
export const CLAIM_THRESHOLD = 1_000_000n * BASE_UNITS_PER_PARS;
/** §2.3 `claimCycle`: 12 hours, aligned to the Unix epoch (cycles start 00:00 and 12:00 UTC). */
export const CLAIM_CYCLE_MS = 12 * HOUR_MS;
/** §2.3 `signatureExpiry`: a claim signature is valid for 10 minutes after its timestamp. */
export const SIGNATURE_EXPIRY_MS = 10 * MINUTE_MS;

/** The §2.3 table under its PIP field names, with units: base units and milliseconds. */
export const CLAIM_PARAMS = Object.freeze({
  claimThreshold: CLAIM_THRESHOLD,
  claimCycleMs: CLAIM_CYCLE_MS,
  signatureExpiryMs: SIGNATURE_EXPIRY_MS,
});

/** A past claim: when it was made and how much it paid out (base units). */
export interface Claim {
  atMs: number;
  amount: bigint;
}

export interface ClaimDecision {
  /** True when `requested` fits in what is left of the current cycle's threshold. */
  allowed: boolean;
  cycle: number;
  /** Sum of the history's claims that fall in `cycle`. */
  claimedInCycle: bigint;
  /** claimThreshold − claimedInCycle, never below 0. */
  remaining: bigint;
  /** First millisecond of the next cycle, when `remaining` resets to the full threshold. */
  cycleEndsAtMs: number;
}

/**
 * The cap and the cycle `claimableNow` applies: PIP-0008's by default; a network (a devnet) may
 * configure others (config `rewards.claimThreshold`, `rewards.claimCycleMs`).
 */
export interface ClaimLimits {
  threshold: bigint;
  cycleMs: number;
}

export const DEFAULT_CLAIM_LIMITS: Readonly<ClaimLimits> = Object.freeze({threshold: CLAIM_THRESHOLD, cycleMs: CLAIM_CYCLE_MS});

/** Index of the claim cycle containing `nowMs`: floor(nowMs / 12 h), like `block.timestamp / claimCycle`. */
export function claimCycleIndex(nowMs: number): number {
  assertSafeUint(nowMs, "nowMs");
  return Math.floor(nowMs / CLAIM_CYCLE_MS);
}

/**
 * Whether `requested` may be claimed at `nowMs`, given the claims that share the cap (`limits`,
 * PIP-0008's 1,000,000 PARS per 12 h by default). Only claims in
 * the current cycle count. A claim is all or nothing: it is refused when it would take the cycle's
 * total past the threshold (reaching it exactly is allowed), as Session's contract reverts.
 */
export function claimableNow(
  history: readonly Claim[],
  nowMs: number,
  requested: bigint,
  limits: ClaimLimits = DEFAULT_CLAIM_LIMITS,
): ClaimDecision {
  assertNonNegativeAmount(requested, "requested");
  assertNonNegativeAmount(limits.threshold, "threshold");
  assertSafeUint(limits.cycleMs, "cycleMs");
  if (limits.cycleMs === 0) throw new InvalidArgumentError("cycleMs must be at least 1");
  const cycleOf = (atMs: number): number => (assertSafeUint(atMs, "atMs"), Math.floor(atMs / limits.cycleMs));
  const cycle = cycleOf(nowMs);
  let claimedInCycle = 0n;
  for (const claim of history) {
    assertNonNegativeAmount(claim.amount, "claim.amount");
    if (cycleOf(claim.atMs) === cycle) claimedInCycle += claim.amount;
  }
  const remaining = claimedInCycle >= limits.threshold ? 0n : limits.threshold - claimedInCycle;
  const cycleEndsAtMs = (cycle + 1) * limits.cycleMs;
  return {allowed: requested <= remaining, cycle, claimedInCycle, remaining, cycleEndsAtMs};
}

/**
 * §2.3 `signatureExpiry`: valid while `nowMs <= signedAtMs + 10 min` (expired strictly after, as
 * Session's `block.timestamp > timestamp + signatureExpiry`). Unlike Session, a signature dated
 * more than `maxFutureSkewMs` (default 0) after `nowMs` is refused, so it cannot outlive 10 minutes.
 */
export function isClaimSignatureValid(signedAtMs: number, nowMs: number, maxFutureSkewMs: number = 0): boolean {
  assertSafeUint(signedAtMs, "signedAtMs");
  assertSafeUint(nowMs, "nowMs");
  assertSafeUint(maxFutureSkewMs, "maxFutureSkewMs");
  if (maxFutureSkewMs > SIGNATURE_EXPIRY_MS) {
    throw new InvalidArgumentError("maxFutureSkewMs must not exceed the 10-minute signature expiry");
  }
  return nowMs <= signedAtMs + SIGNATURE_EXPIRY_MS && signedAtMs <= nowMs + maxFutureSkewMs;
}
