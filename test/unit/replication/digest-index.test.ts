import {createHash} from "node:crypto";
import {describe, expect, it} from "vitest";
import {DigestIndex, bucketOf, bucketRange} from "../../../src/replication/digest-index.js";
import {DIGEST_BUCKETS} from "../../../src/replication/wire.js";

const hashOf = (seed: string): string => createHash("sha256").update(seed).digest("base64").replace(/=+$/, "");

describe("digest buckets", () => {
  it("number buckets in hash (ascii) order and bound them by [lo, hi)", () => {
    const hashes = Array.from({length: 2000}, (_, i) => hashOf(`h${i}`)).sort();
    const buckets = hashes.map(bucketOf);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!, `bucket order at ${i}`).toBeGreaterThanOrEqual(buckets[i - 1]!);
    for (const h of hashes) {
      const {lo, hi} = bucketRange(bucketOf(h));
      expect(h >= lo && h < hi, `${h} in its range`).toBe(true);
    }
    expect(bucketOf("++AAAA")).toBe(0);
    expect(bucketOf("zzAAAA")).toBe(DIGEST_BUCKETS - 1);
  });
});

describe("DigestIndex", () => {
  it("is independent of insertion order and returns to its start after removals", () => {
    const a = new DigestIndex();
    const b = new DigestIndex();
    const empty = a.digest();
    const hashes = Array.from({length: 500}, (_, i) => hashOf(`m${i}`));
    hashes.forEach((h) => a.addMessage(h));
    [...hashes].reverse().forEach((h) => b.addMessage(h));
    a.addTombstone(hashOf("t"));
    b.addTombstone(hashOf("t"));
    expect(a.differing(b.digest())).toEqual([]);
    hashes.forEach((h) => a.removeMessage(h));
    a.removeTombstone(hashOf("t"));
    expect(a.digest()).toEqual(empty);
  });

  it("reports exactly the buckets that differ; a message and its tombstone are different items", () => {
    const a = new DigestIndex();
    const b = new DigestIndex();
    const shared = Array.from({length: 300}, (_, i) => hashOf(`s${i}`));
    shared.forEach((h) => {
      a.addMessage(h);
      b.addMessage(h);
    });
    const onlyA = hashOf("only-a");
    const buried = hashOf("buried");
    a.addMessage(onlyA);
    a.addMessage(buried);
    b.addTombstone(buried);
    expect(a.differing(b.digest())).toEqual([...new Set([bucketOf(onlyA), bucketOf(buried)])].sort((x, y) => x - y));
    expect(a.count(bucketOf(onlyA))).toBeGreaterThan(0);
  });
});
