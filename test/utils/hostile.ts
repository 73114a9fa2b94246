/**
 * Building blocks for seeded hostile-input tests: a small PRNG (mulberry32) whose seed is printed
 * so a failure reproduces (`PARS_FUZZ_SEED=<n>`), raw JSON fragments (`Raw`: deep nesting, NaN,
 * 1e999 — things JSON.stringify cannot produce), a serializer that keeps own `__proto__` keys,
 * and pools of hostile values.
 */
import {randomInt} from "node:crypto";
import {mulberry32} from "./prng.js";

export class Prng {
  readonly #next: () => number;

  constructor(readonly seed: number) {
    this.#next = mulberry32(seed);
  }

  /** A uint32 (mulberry32). */
  next(): number {
    return this.#next();
  }

  /** 0 ≤ n < max. */
  int(max: number): number {
    return Math.floor((this.next() / 2 ** 32) * max);
  }

  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A printable ASCII string of `n` characters. */
  ascii(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + this.int(94));
    return s;
  }
}

/** The seed of this run: `PARS_FUZZ_SEED` if set, else a fresh one. Printed by the caller. */
/** The seed CI runs with: the suite stays deterministic. */
export const DEFAULT_FUZZ_SEED = 20_261_121;

/** PARS_FUZZ_SEED=<n> reruns a seed, PARS_FUZZ_SEED=random explores a new one; else the fixed default. */
export function fuzzSeed(): number {
  const env = process.env.PARS_FUZZ_SEED;
  if (env === "random") return randomInt(2 ** 31);
  if (env !== undefined && env !== "") return Number(env) >>> 0;
  return DEFAULT_FUZZ_SEED;
}

/** A JSON fragment inserted verbatim by `serialize`. */
export class Raw {
  constructor(readonly text: string) {}
}

/** `[[[…1…]]]` nested `depth` times. */
export const deepArray = (depth: number): Raw => new Raw(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
/** `{"a":{"a":…}}` nested `depth` times. */
export const deepObject = (depth: number): Raw => new Raw(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);

/** JSON text of `v`, with `Raw` fragments verbatim and every own enumerable key (`__proto__` too). */
export function serialize(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(serialize).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${serialize((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Sets an own enumerable property, even `__proto__` (which plain assignment would turn into a prototype). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, {value, enumerable: true, writable: true, configurable: true});
}

/** A deep copy of JSON-like data (Raw fragments are shared, they are immutable). */
export function clone<T>(v: T): T {
  if (v instanceof Raw) return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setOwn(out, k, clone((v as Record<string, unknown>)[k]));
    return out as T;
  }
  return v;
}

export const ONE_MB = 1024 * 1024;

/** Keys that are dangerous in JavaScript objects or odd in other ways. */
export const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "", " ", "\u0000", "é", "💥", "pubkey ", "PUBKEY"];

/** Any JSON value a client could send, hostile ones included (`deep` adds nesting up to 100k levels). */
export function hostileValue(rng: Prng, deep = true): unknown {
  const pool: Array<() => unknown> = [
    () => null,
    () => true,
    () => false,
    () => 0,
    () => -1,
    () => 1.5,
    () => -0.25,
    () => 2 ** 53,
    () => -(2 ** 53),
    () => 1e308,
    () => -1e308,
    () => Number.MAX_SAFE_INTEGER,
    () => new Raw("1e999"),
    () => new Raw("-1e999"),
    () => new Raw("-0"),
    () => new Raw("123456789012345678901234567890"),
    () => "",
    () => "NaN",
    () => "Infinity",
    () => "\u0000",
    () => "\ud800", // lone surrogate (escaped by JSON.stringify)
    () => "💥".repeat(rng.int(40) + 1),
    () => "é".repeat(33),
    () => rng.ascii(rng.int(100)),
    () => rng.bytes(rng.int(80)).toString("base64"),
    () => rng.bytes(rng.int(80)).toString("hex"),
    () => "x".repeat(ONE_MB),
    () => [],
    () => {
      const a: unknown[] = [];
      for (let i = rng.int(4); i > 0; i--) a.push(hostileValue(rng, false));
      return a;
    },
    () => ({}),
    () => {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(3) + 1; i > 0; i--) setOwn(o, rng.pick(HOSTILE_KEYS), hostileValue(rng, false));
      return o;
    },
  ];
  if (deep && rng.chance(0.05)) return rng.chance(0.5) ? deepArray(10 ** (2 + rng.int(4))) : deepObject(10 ** (2 + rng.int(4)));
  return rng.pick(pool)();
}
