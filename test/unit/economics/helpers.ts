import {expect} from "vitest";
import {parsToBase} from "../../../src/economics/index.js";

/** PARS decimal string → base units (keeps the PIP's numbers readable in tests). */
export const P = (pars: string): bigint => parsToBase(pars);

/** Matcher for an `InvalidArgumentError` (matched on its code, not on `instanceof`). */
export const INVALID = expect.objectContaining({code: "INVALID_ARGUMENT"});

/** Seeded PRNG (mulberry32) for the property-style loops: same seed, same cases, on every machine. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform uint32. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return this.nextU32() % n;
  }

  /** Non-negative bigint of at most `bits` bits, with a random bit length so small values occur too. */
  bigint(bits: number): bigint {
    const length = 1 + this.int(bits);
    let value = 0n;
    for (let i = 0; i < length; i += 32) value = (value << 32n) | BigInt(this.nextU32());
    return value & ((1n << BigInt(length)) - 1n);
  }

  /** Random lowercase hex string of `n` characters. */
  hex(n: number): string {
    let out = "";
    while (out.length < n) out += this.nextU32().toString(16).padStart(8, "0");
    return out.slice(0, n);
  }
}
