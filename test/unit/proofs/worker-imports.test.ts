import {readFileSync} from "node:fs";
import {dirname, join, relative, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

/**
 * The modules a module loads at run time, from `src` on: its relative imports and re-exports
 * (`import type` and `export type` are erased), followed to the end; packages by name.
 */
function moduleGraph(entry: string): {files: string[]; packages: Set<string>} {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [resolve(SRC, entry)];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s+"([^"]+)"/g)) {
      if (m[2] !== undefined) continue;
      const spec = m[3] as string;
      if (spec.startsWith(".")) queue.push(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      else packages.add(spec);
    }
  }
  return {files: [...files].map((f) => relative(SRC, f)).sort(), packages};
}

describe("the commitment worker's modules", () => {
  // Each isolate holds its own copy of every module it loads (source, code, shapes): through the
  // storage, crypto and swarm barrels the worker loaded ~400 modules (typebox's schemas, BLS,
  // ML-DSA, undici), ~8 MB of its live heap at 1 M messages (docs/benchmarks.md, "Session 10:
  // memory at 1 M").
  it("are loaded module by module, not through a barrel that pulls in the whole node", () => {
    const {files, packages} = moduleGraph("proofs/engine-worker.ts");
    expect(files).toContain("proofs/engine.ts");
    expect(files).toContain("storage/commitment-store.ts");
    for (const barrel of ["storage/index.ts", "crypto/index.ts", "swarm/index.ts", "config/index.ts", "crypto/pq/index.ts", "signer/index.ts"]) expect(files).not.toContain(barrel);
    for (const heavy of ["@sinclair/typebox", "undici", "@noble/curves/bls12-381.js", "@oqs/liboqs-js", "@noble/post-quantum/ml-dsa.js"]) expect(packages).not.toContain(heavy);
    expect(files.length).toBeLessThan(80);
  });
});

describe("what bucket.ts holds in every isolate that loads it", () => {
  it("no array of every bucket: each build or load gets a new one", async () => {
    const bucket = await import("../../../src/proofs/bucket.js");
    const {BUCKET_COUNT} = await import("../../../src/proofs/constants.js");
    for (const value of Object.values(bucket)) expect(Array.isArray(value) && value.length === BUCKET_COUNT).toBe(false);
    const a = bucket.emptyBuckets();
    const b = bucket.emptyBuckets();
    expect(a).not.toBe(b);
    expect(a.length).toBe(BUCKET_COUNT);
    expect(a.every((x) => x === bucket.EMPTY_BUCKET)).toBe(true);
    a[0] = bucket.packBucket([{raw: Buffer.alloc(32, 1), leaf: Buffer.alloc(32, 2), expiry: 1, size: 1}]);
    expect(b[0]).toBe(bucket.EMPTY_BUCKET);
  });
});
