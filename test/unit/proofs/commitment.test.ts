import {beforeAll, describe, expect, it} from "vitest";
import {bucketOf, bucketRange, ChangeTracker, decodeMessageHash, EMPTY_BUCKET, EMPTY_ROOT} from "../../../src/proofs/index.js";
import {packBucket, planRefresh, refreshCommitment, rootOf, updateBucket, type LeafEntry} from "../../../src/proofs/index.js";
import {sha256RootInto} from "../../../src/crypto/index.js";
import {uniform} from "../../utils/prng.js";
import {FULL, build, HOUR_MS, message, nextPlan, proofStore, T0, type ProofStore} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";

beforeAll(async () => {
  await testPq();
});



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

  it("the bucket root (sha256RootInto) gives rootOf's root for 1 to 80 leaves, in place beside other bytes", () => {
    const next = uniform(16);
    for (let n = 1; n <= 80; n++) {
      const leaves = Buffer.from(Array.from({length: 7 + n * 32}, () => Math.floor(next() * 256)));
      const out = Buffer.alloc(40, 0xee);
      sha256RootInto(leaves, 7, n, out, 5);
      expect(out.subarray(5, 37).equals(rootOf(leaves.subarray(7), n))).toBe(true);
      expect(out.subarray(0, 5).equals(Buffer.alloc(5, 0xee)) && out.subarray(37).equals(Buffer.alloc(3, 0xee))).toBe(true);
    }
  });

  it("updateBucket, copying kept leaves in runs, gives the record a bucket packed from the result gives, for random drops, expiries and adds", () => {
    const next = uniform(7);
    // One bucket's hashes: the first 18 bits shared, so keys (bytes 2–9) order them as raw hashes do.
    const entry = (): LeafEntry => ({
      raw: Buffer.from(Array.from({length: 32}, (_, i) => (i < 2 ? 0x55 : (i === 2 ? 0x3f : 0xff) & Math.floor(next() * 256)))),
      leaf: Buffer.from(Array.from({length: 32}, () => Math.floor(next() * 256))),
      expiry: T0 + (next() < 0.2 ? -Math.floor(next() * 10) : 1 + Math.floor(next() * 1_000)),
      size: Math.floor(next() * 5_000),
    });
    const byRaw = (x: LeafEntry, y: LeafEntry): number => Buffer.compare(x.raw, y.raw);
    for (let round = 0; round < 300; round++) {
      const old = Array.from({length: Math.floor(next() * 90)}, entry).sort(byRaw);
      const prev = packBucket(old.map((e) => ({...e, expiry: Math.max(e.expiry, T0 - 20)})));
      const removed = old.filter(() => next() < 0.15);
      const added = Array.from({length: Math.floor(next() * 6)}, entry);
      const updated = updateBucket(prev, removed.map((e) => e.raw), added, T0);
      const kept = old.filter((e) => !removed.includes(e) && Math.max(e.expiry, T0 - 20) > T0).map((e) => ({...e}));
      const expected = packBucket([...kept, ...added.filter((e) => e.expiry > T0)].sort(byRaw));
      expect(updated!.record.equals(expected.record)).toBe(true);
    }
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
