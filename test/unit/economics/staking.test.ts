import {describe, expect, it} from "vitest";
import {
  LOCK_PERIOD_MS,
  MAX_CONTRIBUTORS,
  MIN_OPERATOR_STAKE,
  MIN_OPERATOR_STAKE_BPS,
  SMALL_CONTRIBUTOR_THRESHOLD_BPS,
  STAKING_PARAMS,
  STAKING_REQUIREMENT,
  canRequestExit,
  checkStakeEligibility,
  exitRequestAllowedAtMs,
  isSmallContributor,
  unlockTimeMs,
  type NodeStake,
  type StakeEligibility,
} from "../../../src/economics/index.js";
import {INVALID, P, Prng} from "./helpers.js";

const DAY = 86_400_000;

function node(operator: string, ...contributors: string[]): NodeStake {
  return {
    operator: {address: "0xop", amount: P(operator)},
    contributors: contributors.map((amount, i) => ({address: `0xc${i}`, amount: P(amount)})),
  };
}

function codes(result: StakeEligibility): string[] {
  return result.eligible ? [] : result.reasons.map((r) => r.split(":")[0] ?? "");
}

describe("economics/staking: §2.2 table", () => {
  it("reproduces the Staking Requirements table", () => {
    expect(STAKING_REQUIREMENT).toBe(P("15000"));
    expect(MIN_OPERATOR_STAKE_BPS).toBe(2500n);
    expect(MIN_OPERATOR_STAKE).toBe(P("3750"));
    expect(MAX_CONTRIBUTORS).toBe(10);
    expect(SMALL_CONTRIBUTOR_THRESHOLD_BPS).toBe(2500n);
    expect(LOCK_PERIOD_MS).toBe(30 * DAY);
    expect(STAKING_PARAMS).toEqual({
      stakingRequirement: P("15000"),
      minOperatorStake: P("3750"),
      minOperatorStakeBps: 2500n,
      maxContributors: 10,
      smallContributorThresholdBps: 2500n,
      lockPeriodMs: 2_592_000_000,
      xchainBridge: true,
    });
    expect(Object.isFrozen(STAKING_PARAMS)).toBe(true);
  });
});

describe("economics/staking: checkStakeEligibility", () => {
  it("accepts a solo operator with exactly 15,000 PARS", () => {
    expect(checkStakeEligibility(node("15000"))).toEqual({eligible: true, totalStake: P("15000")});
  });

  it("accepts 3,750 operator + contributors up to 15,000", () => {
    expect(checkStakeEligibility(node("3750", "11250"))).toEqual({eligible: true, totalStake: P("15000")});
  });

  it("rejects a total of 14,999.999999999999999999 PARS", () => {
    const result = checkStakeEligibility(node("14999.999999999999999999"));
    expect(result.eligible).toBe(false);
    expect(result.totalStake).toBe(P("15000") - 1n);
    expect(codes(result)).toEqual(["TOTAL_BELOW_REQUIREMENT"]);
  });

  it("operator below 3,750 PARS violates both operator rules at a total of 15,000", () => {
    const result = checkStakeEligibility(node("3749.999999999999999999", "11250.000000000000000001"));
    expect(codes(result)).toEqual(["OPERATOR_BELOW_MINIMUM", "OPERATOR_BELOW_SHARE"]);
  });

  it("an over-staked node needs the operator at 25 % of the total, not only 3,750", () => {
    expect(codes(checkStakeEligibility(node("3750", "16250")))).toEqual(["OPERATOR_BELOW_SHARE"]);
    expect(checkStakeEligibility(node("5000", "15000")).eligible).toBe(true);
  });

  it("the operator counts toward maxContributors: 1 + 9 is fine, 1 + 10 is not", () => {
    const nine = node("6000", ...Array<string>(9).fill("1000"));
    expect(checkStakeEligibility(nine)).toEqual({eligible: true, totalStake: P("15000")});
    const ten = node("5000", ...Array<string>(10).fill("1000"));
    const result = checkStakeEligibility(ten);
    expect(codes(result)).toEqual(["TOO_MANY_CONTRIBUTORS"]);
    expect(result.eligible ? "" : result.reasons[0]).toContain("11 stakers");
  });

  it("rejects zero and negative amounts, one reason each", () => {
    const stake: NodeStake = {
      operator: {address: "0xop", amount: P("15000") + 1n},
      contributors: [
        {address: "0xa", amount: 0n},
        {address: "0xb", amount: -1n},
      ],
    };
    const result = checkStakeEligibility(stake);
    expect(codes(result)).toEqual(["NON_POSITIVE_AMOUNT", "NON_POSITIVE_AMOUNT"]);
    // The total is the plain sum of the amounts as given.
    expect(result.totalStake).toBe(P("15000"));
  });

  it("rejects duplicate addresses case-insensitively, including the operator's own", () => {
    const stake: NodeStake = {
      operator: {address: "0xAbC", amount: P("10000")},
      contributors: [
        {address: "0xabc", amount: P("2500")},
        {address: "0xdef", amount: P("1250")},
        {address: "0xDEF", amount: P("1250")},
      ],
    };
    const result = checkStakeEligibility(stake);
    expect(codes(result)).toEqual(["DUPLICATE_ADDRESS", "DUPLICATE_ADDRESS"]);
  });

  it("rejects an empty address", () => {
    const stake: NodeStake = {operator: {address: "", amount: P("15000")}, contributors: []};
    expect(codes(checkStakeEligibility(stake))).toEqual(["EMPTY_ADDRESS"]);
  });

  it("lists every violated rule at once", () => {
    const stake: NodeStake = {
      operator: {address: "0xop", amount: 0n},
      contributors: Array.from({length: 10}, (_, i) => ({address: i < 2 ? "0xsame" : `0x${i}`, amount: P("1")})),
    };
    expect(codes(checkStakeEligibility(stake))).toEqual([
      "NON_POSITIVE_AMOUNT",
      "DUPLICATE_ADDRESS",
      "TOTAL_BELOW_REQUIREMENT",
      "OPERATOR_BELOW_MINIMUM",
      "OPERATOR_BELOW_SHARE",
      "TOO_MANY_CONTRIBUTORS",
    ]);
  });

  it("eligibility equals the rules written out (seeded)", () => {
    const prng = new Prng(0x5eed0002);
    for (let i = 0; i < 1000; i++) {
      const operator = P(String(prng.int(20_000)));
      const contributors = Array.from({length: prng.int(12)}, (_, j) => ({
        address: `0x${j}`,
        amount: P(String(1 + prng.int(5_000))),
      }));
      const total = contributors.reduce((s, c) => s + c.amount, operator);
      const expected =
        operator > 0n &&
        total >= P("15000") &&
        operator >= P("3750") &&
        operator * 4n >= total &&
        contributors.length + 1 <= 10;
      const result = checkStakeEligibility({operator: {address: "0xop", amount: operator}, contributors});
      expect(result.eligible, `iteration ${i}`).toBe(expected);
      expect(result.totalStake, `iteration ${i}`).toBe(total);
    }
  });
});

describe("economics/staking: small contributors and delayed exit", () => {
  it("small means strictly below 25 % of the node's total", () => {
    expect(isSmallContributor(P("3749.999999999999999999"), P("15000"))).toBe(true);
    expect(isSmallContributor(P("3750"), P("15000"))).toBe(false);
    expect(isSmallContributor(P("4999"), P("20000"))).toBe(true);
    expect(isSmallContributor(P("5000"), P("20000"))).toBe(false);
    expect(() => isSmallContributor(1n, 0n)).toThrow(INVALID);
  });

  it("small contributors may request exit only 30 days after staking (boundary accepted)", () => {
    const staked = 1_700_000_000_000;
    expect(exitRequestAllowedAtMs(staked, false)).toBe(staked);
    expect(exitRequestAllowedAtMs(staked, true)).toBe(staked + 30 * DAY);
    expect(canRequestExit(staked, true, staked + 30 * DAY - 1)).toBe(false);
    expect(canRequestExit(staked, true, staked + 30 * DAY)).toBe(true);
    expect(canRequestExit(staked, false, staked)).toBe(true);
  });

  it("the stake unlocks lockPeriod (30 days) after the exit request", () => {
    const staked = 1_700_000_000_000;
    expect(unlockTimeMs(staked, false)).toBe(staked + 30 * DAY);
    expect(unlockTimeMs(staked, true)).toBe(staked + 60 * DAY);
    expect(unlockTimeMs(staked, false, staked + 5 * DAY)).toBe(staked + 35 * DAY);
    expect(unlockTimeMs(staked, true, staked + 40 * DAY)).toBe(staked + 70 * DAY);
    // A small contributor's early request counts from the end of the delay.
    expect(unlockTimeMs(staked, true, staked + 1)).toBe(staked + 60 * DAY);
  });

  it("rejects an exit request before the stake and bad times", () => {
    expect(() => unlockTimeMs(1000, false, 999)).toThrow(INVALID);
    expect(() => exitRequestAllowedAtMs(-1, false)).toThrow(INVALID);
    expect(() => canRequestExit(0, false, Number.NaN)).toThrow(INVALID);
  });
});
