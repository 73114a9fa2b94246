import {InvalidArgumentError} from "../util/index.js";

/**
 * Units shared by every economics rule. Amounts of PARS are always `bigint` base units; no
 * floating-point value ever holds money (see docs/economics.md "Amounts").
 */

/**
 * PARS has 18 decimals: it is the native token of the Pars C-Chain (EVM, chain ID 7070), and an
 * EVM chain's native token is accounted in 10^-18 units (wei), so 18 is the only choice that lets
 * C-Chain balances and these amounts be the same integers.
 */
export const PARS_DECIMALS = 18;
/** 1 PARS in base units (10^18). */
export const BASE_UNITS_PER_PARS = 10n ** BigInt(PARS_DECIMALS);

/** Denominator of basis points: 10,000 bps = 100 %. */
export const BPS_DENOMINATOR = 10_000n;

/** 1 KB = 1,024 bytes (binary, like the storage limits; see docs/economics.md "Byte units"). */
export const BYTES_PER_KB = 1024;
/** 1 GB = 2^30 bytes (binary: the upstream per-node SIZE_LIMIT is 10 GiB). */
export const BYTES_PER_GB = 1024 ** 3;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

// Digits only, no sign, no exponent, no separators; integer part without leading zeros; at most
// PARS_DECIMALS fraction digits.
const PARS_STRING_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,18}))?$/;

/**
 * Parses a decimal PARS amount ("15000", "0.0001") into base units, exactly.
 * Throws `InvalidArgumentError` on anything else: signs, exponents, spaces, "5.", ".5", leading
 * zeros ("007") or more than 18 fraction digits.
 */
export function parsToBase(pars: string): bigint {
  const match = PARS_STRING_RE.exec(pars);
  if (match === null) {
    throw new InvalidArgumentError(`invalid PARS amount ${JSON.stringify(pars)}`);
  }
  const whole = BigInt(match[1] ?? "0");
  const fraction = (match[2] ?? "").padEnd(PARS_DECIMALS, "0");
  return whole * BASE_UNITS_PER_PARS + BigInt(fraction);
}

/** Formats base units as a decimal PARS string without trailing zeros: 10^14 → "0.0001". */
export function formatPars(amount: bigint): string {
  const sign = amount < 0n ? "-" : "";
  const abs = amount < 0n ? -amount : amount;
  const whole = abs / BASE_UNITS_PER_PARS;
  const fraction = (abs % BASE_UNITS_PER_PARS).toString().padStart(PARS_DECIMALS, "0").replace(/0+$/, "");
  return fraction === "" ? `${sign}${whole}` : `${sign}${whole}.${fraction}`;
}

/** Throws unless `amount` is a non-negative bigint. */
export function assertNonNegativeAmount(amount: bigint, name: string): void {
  if (typeof amount !== "bigint" || amount < 0n) {
    throw new InvalidArgumentError(`${name} must be a non-negative bigint, got ${String(amount)}`);
  }
}

/** Throws unless `value` is a non-negative safe integer (counts, bytes, GB, Unix ms). */
export function assertSafeUint(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}
