/**
 * The WebAssembly batch hasher (crypto/sha256-batch.ts) against node:crypto: RFC 6962 leaf
 * entries, inner nodes and whole roots over random inputs, at offsets, across its internal batch
 * size, and in place.
 */
import {createHash} from "node:crypto";
import {describe, expect, it} from "vitest";
import {sha256EntriesInto, sha256ParentsInto, sha256RootInto} from "../../../src/crypto/hash.js";
import {LEAF_INPUT_BYTES, sha256LeavesInto} from "../../../src/crypto/sha256-batch.js";
import {rootOf} from "../../../src/crypto/merkle.js";
import {uniform} from "../../utils/prng.js";

const next = uniform(20261207);
const random = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(next() * 256)));
const sha = (prefix: number, data: Uint8Array): Buffer => createHash("sha256").update(Buffer.from([prefix])).update(data).digest();

describe("sha256 batch hasher", () => {
  it("hashes entries (0x00 ‖ value) and parents (0x01 ‖ left ‖ right) as node:crypto does, past a batch of 1,024", () => {
    for (const count of [1, 2, 7, 1023, 1024, 1025, 2500]) {
      const src = random(5 + 64 * count);
      const out = Buffer.alloc(3 + 32 * count + 3, 0xee);
      sha256EntriesInto(src, 5, count, out, 3);
      for (let i = 0; i < count; i++) expect(out.subarray(3 + 32 * i, 35 + 32 * i)).toEqual(sha(0x00, src.subarray(5 + 32 * i, 37 + 32 * i)));
      sha256ParentsInto(src, 5, count, out, 3);
      for (let i = 0; i < count; i++) expect(out.subarray(3 + 32 * i, 35 + 32 * i)).toEqual(sha(0x01, src.subarray(5 + 64 * i, 69 + 64 * i)));
      expect(out.subarray(0, 3)).toEqual(Buffer.alloc(3, 0xee));
      expect(out.subarray(3 + 32 * count)).toEqual(Buffer.alloc(3, 0xee));
    }
  });

  it("hashes 137-byte leaf entries (0x00 ‖ entry: three blocks, the last word masked) as node:crypto does, past a batch of 1,024", () => {
    expect(LEAF_INPUT_BYTES).toBe(137);
    for (const count of [1, 2, 5, 1023, 1024, 1025, 2100]) {
      const src = random(7 + 137 * count + 3);
      const out = Buffer.alloc(2 + 32 * count + 2, 0xee);
      sha256LeavesInto(src, 7, count, out, 2);
      for (let i = 0; i < count; i++) expect(out.subarray(2 + 32 * i, 34 + 32 * i)).toEqual(sha(0x00, src.subarray(7 + 137 * i, 144 + 137 * i)));
      expect(out.subarray(0, 2)).toEqual(Buffer.alloc(2, 0xee));
      expect(out.subarray(2 + 32 * count)).toEqual(Buffer.alloc(2, 0xee));
    }
  });

  it("hashes a level in place (parents written over their children)", () => {
    const src = random(64 * 3000);
    const expected = Array.from({length: 3000}, (_, i) => sha(0x01, src.subarray(64 * i, 64 * i + 64)));
    sha256ParentsInto(src, 0, 3000, src, 0);
    expect(src.subarray(0, 32 * 3000)).toEqual(Buffer.concat(expected));
  });

  it("gives merkle.ts rootOf's root for 1 to 80 nodes and for large trees, leaving the input as it was", () => {
    for (const n of [...Array.from({length: 80}, (_, i) => i + 1), 255, 256, 257, 5000]) {
      const nodes = random(9 + 32 * n);
      const copy = Buffer.from(nodes);
      const out = Buffer.alloc(32);
      sha256RootInto(nodes, 9, n, out, 0);
      expect(out).toEqual(rootOf(nodes.subarray(9), n));
      expect(nodes).toEqual(copy);
    }
  });
});
