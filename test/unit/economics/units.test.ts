import {describe, expect, it} from "vitest";
import {BASE_UNITS_PER_PARS, PARS_DECIMALS, formatPars, parsToBase} from "../../../src/economics/index.js";
import {INVALID, Prng} from "./helpers.js";

describe("economics/units", () => {
  it("PARS has 18 decimals, like the C-Chain's native token", () => {
    expect(PARS_DECIMALS).toBe(18);
    expect(BASE_UNITS_PER_PARS).toBe(1_000_000_000_000_000_000n);
  });

  it("parses the PIP's amounts exactly", () => {
    expect(parsToBase("0.001")).toBe(10n ** 15n);
    expect(parsToBase("0.0001")).toBe(10n ** 14n);
    expect(parsToBase("15000")).toBe(15_000n * 10n ** 18n);
    expect(parsToBase("3750")).toBe(3_750n * 10n ** 18n);
    expect(parsToBase("1000000")).toBe(10n ** 24n);
    expect(parsToBase("0")).toBe(0n);
    expect(parsToBase("0.000000000000000001")).toBe(1n);
    expect(parsToBase("1.50")).toBe(15n * 10n ** 17n);
    expect(parsToBase("123456789012345678901234567890.123456789012345678")).toBe(
      123456789012345678901234567890123456789012345678n,
    );
  });

  it.each([
    "",
    " 1",
    "1 ",
    "-1",
    "+1",
    "1e3",
    "1E3",
    "0x10",
    "1,000",
    "1_000",
    ".5",
    "5.",
    "007",
    "00.1",
    "0.0000000000000000001",
    "0.0000000000000000010",
    "NaN",
    "Infinity",
    "1.2.3",
    "١",
  ])("rejects %j with INVALID_ARGUMENT", (input) => {
    expect(() => parsToBase(input)).toThrow(INVALID);
  });

  it("formats without trailing zeros", () => {
    expect(formatPars(10n ** 14n)).toBe("0.0001");
    expect(formatPars(10n ** 15n)).toBe("0.001");
    expect(formatPars(15_000n * 10n ** 18n)).toBe("15000");
    expect(formatPars(0n)).toBe("0");
    expect(formatPars(1n)).toBe("0.000000000000000001");
    expect(formatPars(-15n * 10n ** 17n)).toBe("-1.5");
  });

  it("formatPars and parsToBase round-trip (seeded)", () => {
    const prng = new Prng(0x5eed0001);
    for (let i = 0; i < 2000; i++) {
      const amount = prng.bigint(160);
      expect(parsToBase(formatPars(amount)), `iteration ${i}: ${amount}`).toBe(amount);
    }
  });
});
