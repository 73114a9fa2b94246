/** The commitment tests that are slow by design: thousands of messages, random rounds. */
import {beforeAll, describe, expect, it} from "vitest";
import {randomBytes} from "node:crypto";
import {BUCKET_COUNT, bucketOf, bucketOfPrefix, bucketRange, buildBucket, ChangeTracker, decodeMessageHash, EMPTY_BUCKET, encodeMessageHash, leafHash} from "../../../src/proofs/index.js";
import {PAGE_ROWS, refreshCommitment, rootOf, type Bucket, type Commitment} from "../../../src/proofs/index.js";
import {FULL, build, HOUR_MS, message, nextPlan, proofStore, T0, type ProofStore} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";
import {uniform as rng} from "../../utils/prng.js";

beforeAll(async () => {
  await testPq();
});



async function incremental(s: ProofStore, tracker: ChangeTracker, previous: Commitment, timestamp: number): Promise<Commitment> {
  return build(s.tables, previous, nextPlan(s, tracker, previous, timestamp), timestamp);
}

function tracked(s: ProofStore): ChangeTracker {
  const tracker = new ChangeTracker(1_000_000);
  tracker.attach(s.store);
  return tracker;
}

describe("full build", () => {
  /** Hashes made to share a 3-character prefix (the store does not check hashes against data). */
  let next = 10_000;
  const crafted = (prefix: string, n: number): ReturnType<typeof message>[] =>
    Array.from({length: n}, () => ({...message(next++), hash: prefix + encodeMessageHash(randomBytes(32)).slice(3)}));

  it("reads pages spanning many buckets and equals a build of every bucket from its own range", async () => {
    const s = await proofStore();
    // Random hashes, two large buckets that every small page cuts, buckets at the alphabet's ASCII
    // gaps, and rows with hashes no bucket holds.
    const stored = [
      ...Array.from({length: 2000}, (_, i) => message(i)),
      ...crafted("Zz9", 40),
      ...crafted("+/A", 25),
      ...["AAZ", "AAa", "AA9", "AA+", "AA/", "AA0", "//z", "+++", "zzz"].flatMap((p) => crafted(p, 2)),
      {...message(5000), hash: "not-a-session-hash"},
      {...message(5001), hash: "=".repeat(43)},
    ];
    await s.store.storeBulk(stored);
    const reader = s.tables.reader;
    let pages = 0;
    let ranges = 0;
    const counting = {
      rowsInRange: (lo: string, hi: string, min: number) => (ranges++, reader.rowsInRange(lo, hi, min)),
      rowsAfter: (after: string, min: number, limit: number) => (pages++, reader.rowsAfter(after, min, limit)),
      rowsByHashes: (hashes: readonly string[], min: number) => reader.rowsByHashes(hashes, min),
      dataByHash: (hash: string) => reader.dataByHash(hash),
    };
    const opts = {timestamp: T0, sliceBudgetMs: 1_000, yieldFn: () => Promise.resolve()};
    const byDefault = await refreshCommitment(counting, null, FULL, opts);
    expect(pages).toBe(Math.floor(stored.length / PAGE_ROWS) + 1);
    const small = await refreshCommitment(counting, null, FULL, {...opts, pageRows: 7});
    expect(ranges).toBe(0);

    // The reference: each bucket built alone from its string range.
    const canonical = new Set(stored.flatMap((m) => (decodeMessageHash(m.hash) === null ? [] : [bucketOf(decodeMessageHash(m.hash)!)])));
    const reference: Bucket[] = Array.from({length: BUCKET_COUNT}, () => EMPTY_BUCKET);
    for (const b of canonical) {
      const {lo, hi} = bucketRange(b);
      reference[b] = buildBucket(reader.rowsInRange(lo, hi, T0), (h) => reader.dataByHash(h));
    }
    expect(reference.reduce((n, b) => n + b.count, 0)).toBe(stored.length - 2);
    expect(reference[bucketOfPrefix("Zz9")!]!.count).toBe(40);
    for (const c of [byDefault!, small!]) {
      expect(c.messageCount).toBe(stored.length - 2);
      c.buckets.forEach((b, i) => {
        const r = reference[i]!;
        if (b.count !== r.count || !b.root.equals(r.root) || !b.record.equals(r.record)) expect({bucket: i, count: b.count}).toEqual({bucket: i, count: r.count});
      });
      expect(c.root.equals(rootOf(Buffer.concat(reference.map((b) => leafHash(b.root))), BUCKET_COUNT))).toBe(true);
    }
    await s.store.close();
  });
});

describe("Commitment", () => {
  it("an incremental refresh equals a full rebuild after random adds, deletes, expiry changes and time", async () => {
    const s = await proofStore();
    const random = rng(42);
    const live = new Map<string, ReturnType<typeof message>>();
    let next = 0;
    const add = async (n: number): Promise<void> => {
      const batch = Array.from({length: n}, () => message(next++, {expiry: T0 + Math.floor(random() * 40 * HOUR_MS) + 60_000}));
      await s.store.storeBulk(batch);
      for (const m of batch) live.set(m.hash, m);
    };
    const tracker = tracked(s);
    await add(3000);
    let timestamp = T0;
    let c = await build(s.tables, null, FULL, timestamp);
    tracker.take();
    for (let round = 0; round < 6; round++) {
      await add(200);
      const victims = [...live.values()].filter(() => random() < 0.03);
      for (const v of victims) {
        await s.store.deleteByHashes(v.account, [v.hash]);
        live.delete(v.hash);
      }
      const changed = [...live.values()].filter(() => random() < 0.02);
      for (const m of changed) {
        const {updated} = await s.store.expire({account: m.account, hashes: [m.hash], expiries: [m.expiry + HOUR_MS], mode: "set"});
        for (const u of updated) live.set(u.hash, {...m, expiry: u.expiry});
      }
      timestamp += 2 * HOUR_MS;
      s.clock.set(timestamp);
      c = await incremental(s, tracker, c, timestamp);
      const full = await build(s.tables, null, FULL, timestamp);
      expect(c.root.toString("hex"), `round ${round}`).toBe(full.root.toString("hex"));
      expect(c.messageCount, `round ${round}`).toBe(full.messageCount);
      expect(c.usedBytes, `round ${round}`).toBe(full.usedBytes);
      expect(c.messageCount, `round ${round}`).toBe([...live.values()].filter((m) => m.expiry > timestamp).length);
    }
    await s.store.close();
  });
});
