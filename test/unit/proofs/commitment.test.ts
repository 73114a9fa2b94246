import {beforeAll, describe, expect, it} from "vitest";
import {randomBytes} from "node:crypto";
import {BUCKET_COUNT, bucketOf, bucketOfPrefix, bucketRange, buildBucket, ChangeTracker, decodeMessageHash, EMPTY_BUCKET, EMPTY_ROOT, encodeMessageHash, leafHash} from "../../../src/proofs/index.js";
import {PAGE_ROWS, planRefresh, refreshCommitment, rootOf, updateBucket, type Bucket, type Commitment} from "../../../src/proofs/index.js";
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

describe("buckets", () => {
  it("a stored message lies in the string range of its bucket", () => {
    const m = message(1);
    const b = bucketOf(decodeMessageHash(m.hash)!);
    const {lo, hi} = bucketRange(b);
    expect(lo).toBe(m.hash.slice(0, 3));
    expect(m.hash >= lo && m.hash < hi).toBe(true);
  });
});

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
  it("is the empty root of empty roots for an empty store, and answers locate() with nothing", async () => {
    const s = await proofStore();
    const c = await build(s.tables, null, FULL, T0);
    expect(c.messageCount).toBe(0);
    expect(c.buckets.every((b) => b.root.equals(EMPTY_ROOT))).toBe(true);
    expect([...c.locate(decodeMessageHash(message(0).hash)!)]).toEqual([]);
    await s.store.close();
  });

  it("leaves out messages expired at the proof timestamp, and rows with non-canonical hashes", async () => {
    const s = await proofStore();
    await s.store.storeBulk([message(0, {expiry: T0 + 5}), message(1, {expiry: T0 + HOUR_MS}), {...message(2), hash: "not-a-session-hash"}]);
    expect((await build(s.tables, null, FULL, T0)).messageCount).toBe(2);
    expect((await build(s.tables, null, FULL, T0 + 5)).messageCount).toBe(1);
    await s.store.close();
  });

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

  it("rebuilds only changed buckets and buckets with expired leaves, re-reading only changed messages", async () => {
    const s = await proofStore();
    const tracker = tracked(s);
    await s.store.storeBulk(Array.from({length: 100}, (_, i) => message(i, {expiry: T0 + HOUR_MS * (2 + i)})));
    const c = await build(s.tables, null, FULL, T0);
    tracker.take();
    expect(nextPlan(s, tracker, c, T0)).toMatchObject({full: false, buckets: []});
    const m = message(1000);
    await s.store.storeBulk([m]);
    const b = bucketOf(decodeMessageHash(m.hash)!);
    const plan = nextPlan(s, tracker, c, T0);
    expect(plan).toMatchObject({full: false, buckets: [b]});
    expect(plan.changed.get(b)).toEqual([m.hash]);
    // Time alone: the message expiring first (i = 0, at T0 + 2 h) leaves the commitment at T0 + 2 h.
    const first = message(0, {expiry: T0 + 2 * HOUR_MS});
    expect(planRefresh([], c, T0 + 2 * HOUR_MS).buckets).toEqual([bucketOf(decodeMessageHash(first.hash)!)]);
    const stats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
    const later = await refreshCommitment(s.tables.reader, c, planRefresh([], c, T0 + 2 * HOUR_MS), {timestamp: T0 + 2 * HOUR_MS, sliceBudgetMs: 100}, stats);
    expect(later?.messageCount).toBe(99);
    expect(stats).toMatchObject({rebuilt: 1, reread: 0});
    await s.store.close();
  });

  it("expiry updates reach the refresh through the trigger log, even when made by hand in SQL", async () => {
    const s = await proofStore();
    const tracker = tracked(s);
    const m = message(7);
    await s.store.storeBulk([m]);
    const c = await build(s.tables, null, FULL, T0);
    tracker.take();
    s.store.db.sqlite.prepare("UPDATE messages SET expiry = expiry + 5 WHERE hash = ?").run(m.hash);
    const plan = nextPlan(s, tracker, c, T0);
    expect(plan.changed.get(bucketOf(decodeMessageHash(m.hash)!))).toEqual([m.hash]);
    const after = await build(s.tables, c, plan, T0);
    expect(after.buckets[bucketOf(decodeMessageHash(m.hash)!)]!.expiry(0)).toBe(m.expiry + 5);
    expect(after.root.equals((await build(s.tables, null, FULL, T0)).root)).toBe(true);
    await s.store.close();
  });

  it("updateBucket asks for a re-read when a key prefix ties", () => {
    const raw = Buffer.alloc(32, 1);
    const other = Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(16, 2)]);
    const leaf = Buffer.alloc(32, 3);
    const one = updateBucket(updateBucket(EMPTY_BUCKET, [], [{raw, leaf, expiry: T0 + 1, size: 1}], T0)!, [], [{raw: other, leaf, expiry: T0 + 1, size: 1}], T0);
    expect(one).toBeNull();
  });

  it("yields between slices and can be abandoned", async () => {
    const s = await proofStore();
    await s.store.storeBulk(Array.from({length: 500}, (_, i) => message(i)));
    let yields = 0;
    let t = 0;
    const stats = {rebuilt: 0, reread: 0, slices: 0, longestSliceMs: 0};
    const opts = {timestamp: T0, sliceBudgetMs: 1, pageRows: 2, now: () => (t += 0.6), yieldFn: () => Promise.resolve(void yields++)};
    const c = await refreshCommitment(s.tables.reader, null, FULL, opts, stats);
    expect(c?.messageCount).toBe(500);
    expect(yields).toBeGreaterThan(100);
    expect(stats.slices).toBe(yields + 1);
    const aborted = await refreshCommitment(s.tables.reader, null, FULL, {...opts, aborted: () => true});
    expect(aborted).toBeNull();
    await s.store.close();
  });
});

describe("ChangeTracker", () => {
  it("collects added and removed hashes from the store, and gives up past its cap (full rebuild)", async () => {
    const s = await proofStore();
    const tracker = new ChangeTracker(5);
    tracker.attach(s.store);
    const ms = Array.from({length: 3}, (_, i) => message(i));
    await s.store.storeBulk(ms);
    await s.store.deleteByHashes(ms[0]!.account, [ms[0]!.hash]);
    expect([...tracker.take().hashes].sort()).toEqual(ms.map((m) => m.hash).sort());
    await s.store.storeBulk(Array.from({length: 6}, (_, i) => message(100 + i)));
    expect(tracker.take()).toMatchObject({overflow: true});
    expect(tracker.take()).toMatchObject({overflow: false});
    tracker.detach();
    await s.store.storeBulk([message(200)]);
    expect(tracker.take().hashes.size).toBe(0);
    await s.store.close();
  });
});
