/**
 * mulberry32: the one seeded PRNG of the test suite, so randomized tests reproduce from a seed on
 * every machine. Not for anything that needs unpredictability.
 */
import {createHash} from "node:crypto";

/** A generator of uniform uint32 values from `seed`. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A generator of uniform values in [0, 1) from `seed`. */
export function uniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/** Deterministic pseudo-random bytes: SHA-256(label ‖ "/" ‖ counter) blocks (fixed keys and seeds). */
export function detBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0, counter = 0; offset < length; offset += 32, counter++) {
    const block = createHash("sha256").update(`${label}/${counter}`).digest();
    out.set(block.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}
