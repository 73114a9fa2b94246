import {describe, expect, it} from "vitest";
import {
  CLAIM_CYCLE_MS,
  CLAIM_PARAMS,
  CLAIM_THRESHOLD,
  SIGNATURE_EXPIRY_MS,
  claimCycleIndex,
  claimableNow,
  isClaimSignatureValid,
} from "../../../src/economics/index.js";
import {INVALID, P, Prng} from "./helpers.js";

const HOUR = 3_600_000;
const MINUTE = 60_000;
// 2026-01-23T00:00:00Z, the PIP's date: a cycle boundary (divisible by 12 h).
const T0 = Date.UTC(2026, 0, 23);

describe("economics/claims: §2.3 table", () => {
  it("reproduces the Claim Mechanics table", () => {
    expect(CLAIM_THRESHOLD).toBe(P("1000000"));
    expect(CLAIM_CYCLE_MS).toBe(12 * HOUR);
    expect(SIGNATURE_EXPIRY_MS).toBe(10 * MINUTE);
    expect(CLAIM_PARAMS).toEqual({claimThreshold: P("1000000"), claimCycleMs: 43_200_000, signatureExpiryMs: 600_000});
  });
});

describe("economics/claims: cycles", () => {
  it("cycles are 12 h, aligned to the Unix epoch", () => {
    expect(T0 % CLAIM_CYCLE_MS).toBe(0);
    expect(claimCycleIndex(0)).toBe(0);
    expect(claimCycleIndex(12 * HOUR - 1)).toBe(0);
    expect(claimCycleIndex(12 * HOUR)).toBe(1);
    expect(claimCycleIndex(T0 + 12 * HOUR - 1)).toBe(claimCycleIndex(T0));
    expect(claimCycleIndex(T0 + 12 * HOUR)).toBe(claimCycleIndex(T0) + 1);
    expect(() => claimCycleIndex(-1)).toThrow(INVALID);
  });

  it("allows claims up to exactly 1,000,000 PARS per cycle", () => {
    const history = [
      {atMs: T0 + HOUR, amount: P("400000")},
      {atMs: T0 + 2 * HOUR, amount: P("500000")},
    ];
    const now = T0 + 3 * HOUR;
    expect(claimableNow(history, now, P("100000"))).toEqual({
      allowed: true,
      cycle: claimCycleIndex(now),
      claimedInCycle: P("900000"),
      remaining: P("100000"),
      cycleEndsAtMs: T0 + 12 * HOUR,
    });
    expect(claimableNow(history, now, P("100000") + 1n).allowed).toBe(false);
    expect(claimableNow([], now, P("1000000")).allowed).toBe(true);
    expect(claimableNow([], now, P("1000000") + 1n).allowed).toBe(false);
  });

  it("resets at the cycle boundary", () => {
    const history = [{atMs: T0 + 12 * HOUR - 1, amount: P("1000000")}];
    expect(claimableNow(history, T0 + 12 * HOUR - 1, 1n)).toMatchObject({allowed: false, remaining: 0n});
    expect(claimableNow(history, T0 + 12 * HOUR, P("1000000"))).toMatchObject({
      allowed: true,
      claimedInCycle: 0n,
      remaining: P("1000000"),
      cycleEndsAtMs: T0 + 24 * HOUR,
    });
  });

  it("never reports a negative remainder for an over-full history", () => {
    const history = [{atMs: T0, amount: P("1500000")}];
    expect(claimableNow(history, T0, 0n)).toMatchObject({allowed: true, remaining: 0n, claimedInCycle: P("1500000")});
  });

  it("matches a running per-cycle total (seeded)", () => {
    const prng = new Prng(0x5eed0008);
    const history: Array<{atMs: number; amount: bigint}> = [];
    let now = T0;
    let cycleTotal = 0n;
    for (let i = 0; i < 1000; i++) {
      const before = claimCycleIndex(now);
      now += prng.int(2 * HOUR);
      if (claimCycleIndex(now) !== before) cycleTotal = 0n;
      const requested = P(String(prng.int(300_000)));
      const decision = claimableNow(history, now, requested);
      expect(decision.claimedInCycle, `iteration ${i}: claimed`).toBe(cycleTotal);
      expect(decision.allowed, `iteration ${i}: allowed`).toBe(cycleTotal + requested <= CLAIM_THRESHOLD);
      if (decision.allowed) {
        history.push({atMs: now, amount: requested});
        cycleTotal += requested;
      }
    }
  });

  it("rejects negative amounts", () => {
    expect(() => claimableNow([], T0, -1n)).toThrow(INVALID);
    expect(() => claimableNow([{atMs: T0, amount: -1n}], T0, 0n)).toThrow(INVALID);
  });
});

describe("economics/claims: signature expiry", () => {
  it("is valid through exactly 10 minutes and expired strictly after", () => {
    expect(isClaimSignatureValid(T0, T0)).toBe(true);
    expect(isClaimSignatureValid(T0, T0 + 10 * MINUTE - 1)).toBe(true);
    expect(isClaimSignatureValid(T0, T0 + 10 * MINUTE)).toBe(true);
    expect(isClaimSignatureValid(T0, T0 + 10 * MINUTE + 1)).toBe(false);
  });

  it("refuses signatures from the future beyond the allowed skew", () => {
    expect(isClaimSignatureValid(T0 + 1, T0)).toBe(false);
    expect(isClaimSignatureValid(T0 + 5000, T0, 5000)).toBe(true);
    expect(isClaimSignatureValid(T0 + 5001, T0, 5000)).toBe(false);
    expect(() => isClaimSignatureValid(T0, T0, 10 * MINUTE + 1)).toThrow(INVALID);
    expect(() => isClaimSignatureValid(Number.NaN, T0)).toThrow(INVALID);
  });
});

describe("economics/claims: configured limits", () => {
  it("applies a network's own threshold and cycle length", () => {
    const limits = {threshold: 100n, cycleMs: 60_000};
    const history = [{atMs: 120_000, amount: 60n}];
    expect(claimableNow(history, 150_000, 40n, limits)).toEqual({
      allowed: true,
      cycle: 2,
      claimedInCycle: 60n,
      remaining: 40n,
      cycleEndsAtMs: 180_000,
    });
    expect(claimableNow(history, 150_000, 41n, limits).allowed).toBe(false);
    expect(claimableNow(history, 180_000, 100n, limits).allowed).toBe(true);
    expect(() => claimableNow([], 0, 1n, {threshold: 1n, cycleMs: 0})).toThrow(INVALID);
    expect(() => claimableNow([], 0, 1n, {threshold: -1n, cycleMs: 1})).toThrow(INVALID);
  });
});
