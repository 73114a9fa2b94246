/**
 * `sha256Into` (crypto/hash.ts): node:crypto before `initHashing()`, hash-wasm after, the same
 * digest either way, written in place without touching the bytes around it. Its own file: the
 * hash-wasm hashers are loaded once per module instance, so "before" needs a fresh one.
 */
import {createHash} from "node:crypto";
import {describe, expect, it} from "vitest";
import {initHashing, sha256Into} from "../../../src/crypto/hash.js";

const inputs = [Buffer.alloc(0), Buffer.from([1]), Buffer.alloc(65, 0xab), Buffer.from(Array.from({length: 1000}, (_, i) => i & 0xff))];
const sha = (b: Buffer): Buffer => createHash("sha256").update(b).digest();

function into(input: Buffer): Buffer {
  const out = Buffer.alloc(40, 0xee);
  sha256Into(input, out, 3);
  expect(out.subarray(0, 3).equals(Buffer.alloc(3, 0xee)) && out.subarray(35).equals(Buffer.alloc(5, 0xee))).toBe(true);
  return out.subarray(3, 35);
}

describe("sha256Into", () => {
  it("gives SHA-256 before initHashing (node:crypto) and after it (hash-wasm)", async () => {
    for (const input of inputs) expect(into(input).equals(sha(input))).toBe(true);
    await initHashing();
    for (const input of inputs) expect(into(input).equals(sha(input))).toBe(true);
    // A view into a larger buffer, as bucket roots hash their pair slots.
    const big = Buffer.alloc(200, 7);
    expect(into(big.subarray(10, 75)).equals(sha(big.subarray(10, 75)))).toBe(true);
  });
});
