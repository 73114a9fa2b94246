import {expect} from "vitest";
import {parsToBase} from "../../../src/economics/index.js";
import {mulberry32} from "../../utils/prng.js";

/** PARS decimal string → base units (keeps the PIP's numbers readable in tests). */
export const P = (pars: string): bigint => parsToBase(pars);

/** Matcher for an `InvalidArgumentError` (matched on its code, not on `instanceof`). */
export const INVALID = expect.objectContaining({code: "INVALID_ARGUMENT"});

/** Seeded PRNG (mulberry32) for the property-style loops: same seed, same cases, on every machine. */
export class Prng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform uint32. */
  nextU32(): number {
    return this.next();
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
