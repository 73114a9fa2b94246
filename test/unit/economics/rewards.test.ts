import {describe, expect, it} from "vitest";
import {
  YEAR_MS,
  annualInflation,
  calculateReward,
  distributeRewards,
  inflationRateBps,
  inflationYear,
  periodInflation,
} from "../../../src/economics/index.js";
import {INVALID, P, Prng} from "./helpers.js";

describe("economics/rewards: §2.2 inflation", () => {
  it("8 % in year 1, 6 % in year 2, 4 % terminal from year 3", () => {
    expect(inflationRateBps(1)).toBe(800n);
    expect(inflationRateBps(2)).toBe(600n);
    expect(inflationRateBps(3)).toBe(400n);
    expect(inflationRateBps(4)).toBe(400n);
    expect(inflationRateBps(100)).toBe(400n);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects year %s", (year) => {
    expect(() => inflationRateBps(year)).toThrow(INVALID);
  });

  it("annual inflation of 1,000,000,000 PARS is 80M / 60M / 40M", () => {
    const supply = P("1000000000");
    expect(annualInflation(supply, 1)).toBe(P("80000000"));
    expect(annualInflation(supply, 2)).toBe(P("60000000"));
    expect(annualInflation(supply, 3)).toBe(P("40000000"));
  });

  it("compounds on the supply at the start of each year", () => {
    let supply = P("1000000000");
    for (const year of [1, 2, 3]) supply += annualInflation(supply, year);
    // 1e9 × 1.08 × 1.06 × 1.04 = 1,190,592,000 exactly.
    expect(supply).toBe(P("1190592000"));
  });

  it("rounds down to the base unit", () => {
    expect(annualInflation(12_345n, 1)).toBe(987n); // 987.6
    expect(annualInflation(1n, 1)).toBe(0n);
    expect(() => annualInflation(-1n, 1)).toThrow(INVALID);
  });

  it("maps time to the 1-based inflation year (365-day years)", () => {
    const genesis = 1_800_000_000_000;
    expect(inflationYear(genesis, genesis)).toBe(1);
    expect(inflationYear(genesis, genesis + YEAR_MS - 1)).toBe(1);
    expect(inflationYear(genesis, genesis + YEAR_MS)).toBe(2);
    expect(inflationYear(genesis, genesis + 2 * YEAR_MS)).toBe(3);
    expect(() => inflationYear(genesis, genesis - 1)).toThrow(INVALID);
  });

  it("a full year of periods never exceeds the annual amount", () => {
    const supply = P("1000000000");
    expect(periodInflation(supply, 1, YEAR_MS)).toBe(annualInflation(supply, 1));
    const day = 86_400_000;
    const daily = periodInflation(supply, 1, day);
    expect(daily).toBe((P("80000000") * 1n) / 365n);
    expect(daily * 365n <= annualInflation(supply, 1)).toBe(true);
  });
});

describe("economics/rewards: calculateReward (the PIP's Solidity)", () => {
  it("(stakedAmount * blockReward) / totalStaked with integer division", () => {
    expect(calculateReward(P("15000"), P("225000"), P("10"))).toBe(P("10") / 15n);
    expect(calculateReward(1n, 3n, 10n)).toBe(3n);
    expect(calculateReward(2n, 3n, 10n)).toBe(6n);
    expect(calculateReward(0n, 3n, 10n)).toBe(0n);
    expect(calculateReward(P("3750"), P("15000"), P("100"))).toBe(P("25"));
  });

  it("throws where Solidity reverts: division by zero, negative, uint256 overflow", () => {
    const max = (1n << 256n) - 1n;
    expect(() => calculateReward(1n, 0n, 1n)).toThrow(INVALID);
    expect(() => calculateReward(-1n, 1n, 1n)).toThrow(INVALID);
    expect(() => calculateReward(1n, max + 1n, 1n)).toThrow(INVALID);
    expect(() => calculateReward(1n << 128n, 1n, 1n << 128n)).toThrow(INVALID);
    expect(calculateReward(1n << 127n, 1n, 1n << 128n)).toBe(1n << 255n);
  });
});

describe("economics/rewards: distributeRewards", () => {
  it("splits proportionally; leftovers by largest remainder, ties by address", () => {
    const stakes = [
      {address: "0xc", amount: 1n},
      {address: "0xa", amount: 1n},
      {address: "0xb", amount: 1n},
    ];
    // 10 / 3 = 3 each, 1 left: all remainders equal, so the smallest address "0xa" gets it.
    expect(distributeRewards(stakes, 10n)).toEqual([
      {address: "0xc", reward: 3n},
      {address: "0xa", reward: 4n},
      {address: "0xb", reward: 3n},
    ]);
  });

  it("the largest remainder wins before the address order", () => {
    // 100 × {1,2,4}/7 = 14.28, 28.57, 57.14 → floors 14, 28, 57 (sum 99); 28.57 has the largest remainder.
    const result = distributeRewards(
      [
        {address: "0xa", amount: 1n},
        {address: "0xb", amount: 2n},
        {address: "0xc", amount: 4n},
      ],
      100n,
    );
    expect(result.map((r) => r.reward)).toEqual([14n, 29n, 57n]);
  });

  it("sums exactly and never pays below calculateReward or above it + 1 (seeded)", () => {
    const prng = new Prng(0x5eed0003);
    for (let i = 0; i < 500; i++) {
      const stakes = Array.from({length: 1 + prng.int(40)}, (_, j) => ({
        address: `0x${prng.hex(8)}${j}`,
        amount: prng.bigint(90),
      }));
      if (stakes.every((s) => s.amount === 0n)) stakes[0]!.amount = 1n;
      const reward = prng.bigint(100);
      const total = stakes.reduce((s, x) => s + x.amount, 0n);
      const result = distributeRewards(stakes, reward);
      const sum = result.reduce((s, r) => s + r.reward, 0n);
      expect(sum, `iteration ${i}: sum`).toBe(reward);
      result.forEach((r, j) => {
        const floor = (stakes[j]!.amount * reward) / total;
        expect(r.address, `iteration ${i}, staker ${j}: order`).toBe(stakes[j]!.address);
        expect(r.reward - floor >= 0n && r.reward - floor <= 1n, `iteration ${i}, staker ${j}: bound`).toBe(true);
      });
    }
  });

  it("does not depend on the input order (seeded)", () => {
    const prng = new Prng(0x5eed0004);
    for (let i = 0; i < 200; i++) {
      const stakes = Array.from({length: 2 + prng.int(10)}, (_, j) => ({
        address: `a${j}`,
        amount: 1n + prng.bigint(20),
      }));
      const reward = prng.bigint(30);
      const forward = new Map(distributeRewards(stakes, reward).map((r) => [r.address, r.reward]));
      const backward = new Map(distributeRewards([...stakes].reverse(), reward).map((r) => [r.address, r.reward]));
      expect(backward, `iteration ${i}`).toEqual(forward);
    }
  });

  it("rejects no stakers, zero total stake and duplicate addresses", () => {
    expect(() => distributeRewards([], 1n)).toThrow(INVALID);
    expect(() => distributeRewards([{address: "a", amount: 0n}], 1n)).toThrow(INVALID);
    const dup = [
      {address: "a", amount: 1n},
      {address: "a", amount: 1n},
    ];
    expect(() => distributeRewards(dup, 1n)).toThrow(INVALID);
  });
});
