/**
 * What keeps the commitment small and fast at a full node's scale (issue #16): bucket records in
 * arenas that are compacted, changed messages read in batches, and the progress a long refresh
 * reports (logs and /health).
 */
import {beforeAll, describe, expect, it} from "vitest";
import {SLAB_BYTES} from "../../../src/proofs/bucket.js";
import {BUCKET_COUNT, BucketArena, ChangeTracker, LocalEngine, LOOKUP_BATCH, progressFacts, refreshCommitment, type RefreshProgress} from "../../../src/proofs/index.js";
import {build, FULL, HOUR_MS, message, nextPlan, proofStore, T0} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";

beforeAll(async () => {
  await testPq();
});

describe("incremental refreshes at scale", () => {
  it("read changed messages in batches of LOOKUP_BATCH, not one statement each, and keep the arenas compact", async () => {
    const s = await proofStore();
    const tracker = new ChangeTracker(100_000);
    tracker.attach(s.store);
    const n = 2 * LOOKUP_BATCH + 50;
    const messages = Array.from({length: n + 300}, (_, i) => message(i));
    await s.store.storeBulk(messages.slice(0, n));
    const reader = s.tables.reader;
    const batches: number[] = [];
    const counting = {
      rowsInRange: (lo: string, hi: string, min: number) => reader.rowsInRange(lo, hi, min),
      rowsAfter: (after: string, min: number, limit: number) => reader.rowsAfter(after, min, limit),
      rowsByHashes: (hashes: readonly string[], min: number) => (batches.push(hashes.length), reader.rowsByHashes(hashes, min)),
      dataByHash: (hash: string) => reader.dataByHash(hash),
    };
    const opts = {timestamp: T0, sliceBudgetMs: 1_000, yieldFn: () => Promise.resolve(), compactSlackBytes: 0};
    let c = (await refreshCommitment(counting, null, FULL, opts))!;
    tracker.take();
    let timestamp = T0;
    for (let round = 0; round < 6; round++) {
      await s.store.storeBulk(messages.slice(n + round * 50, n + (round + 1) * 50));
      const expired = messages.slice(round * 60, round * 60 + 60);
      for (const m of expired) await s.store.expire({account: m.account, hashes: [m.hash], expiries: [timestamp + HOUR_MS], mode: "set"});
      timestamp += 2 * HOUR_MS;
      s.clock.set(timestamp);
      batches.length = 0;
      c = (await refreshCommitment(counting, c, nextPlan(s, tracker, c, timestamp), {...opts, timestamp}))!;
      const full = await build(s.tables, null, FULL, timestamp);
      expect(c.root.toString("hex"), `round ${round}`).toBe(full.root.toString("hex"));
      expect(c.messageCount, `round ${round}`).toBe(full.messageCount);
      // At most 110 changed messages a round: one statement (a bucket's hashes are never split).
      expect(batches.length, `round ${round}`).toBeLessThanOrEqual(Math.ceil(110 / LOOKUP_BATCH) + 1);
      let live = 0;
      for (const b of c.buckets) if (b.count > 0) live += b.length;
      // Every refresh writes a new 64 KB chunk; compaction keeps them within twice what is live
      // and one chunk (without it: 64 KB more each round).
      expect(c.arenaBytes, `round ${round}`).toBeLessThanOrEqual(2 * live + 64 * 1024);
    }
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await s.store.close();
  });
});

describe("bucket arena", () => {
  it("gives a record of ~20 leaves or more an allocation of its own, freed with its bucket, and counts only shared chunks", () => {
    const arena = new BucketArena();
    const small = arena.alloc(48 + 4 * 52);
    const beside = arena.alloc(48 + 4 * 52);
    // Small records share one chunk (a 1 M node's ~4 leaves a bucket).
    expect(beside.chunk).toBe(small.chunk);
    expect(small.chunk.length).toBe(64 * 1024);
    expect(arena.allocatedBytes).toBe(64 * 1024);
    // A 10 M node's ~40 leaves a bucket: no chunk that a single kept record would keep alive.
    const large = arena.alloc(48 + 40 * 52);
    expect(large).toMatchObject({at: 0});
    expect(large.chunk.length).toBe(48 + 40 * 52);
    expect(arena.allocatedBytes).toBe(64 * 1024);
  });

  it("in slabs, shares 64 KB chunks among records of any size up to a quarter of one, and counts them", () => {
    expect(SLAB_BYTES).toBe(64 * 1024);
    const arena = BucketArena.slabs();
    const a = arena.alloc(48 + 40 * 52);
    const b = arena.alloc(48 + 40 * 52);
    // A refresh's rebuilt records at 10 M (~40 leaves): one slab, not an allocation each.
    expect(b.chunk).toBe(a.chunk);
    expect(b.at).toBe(48 + 40 * 52);
    expect(a.chunk.length).toBe(SLAB_BYTES);
    expect(arena.allocatedBytes).toBe(SLAB_BYTES);
    const huge = arena.alloc(SLAB_BYTES / 4 + 1);
    expect(huge).toMatchObject({at: 0});
    expect(huge.chunk.length).toBe(SLAB_BYTES / 4 + 1);
    // A record that no longer fits starts the next slab.
    let last = b;
    while (last.chunk === a.chunk) last = arena.alloc(48 + 40 * 52);
    expect(last.at).toBe(0);
    expect(arena.allocatedBytes).toBe(2 * SLAB_BYTES);
  });
});

describe("refresh progress", () => {
  it("a full build reports buckets done in hash order up to all of them, then the top tree; none once finished", async () => {
    const s = await proofStore();
    await s.store.storeBulk(Array.from({length: 1_000}, (_, i) => message(i)));
    const seen: RefreshProgress[] = [];
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 0, onProgress: (p) => seen.push(p)});
    const during: Array<RefreshProgress | null> = [];
    const refreshing = engine.refresh({timestamp: T0, changed: null});
    await new Promise((resolve) => setImmediate(resolve));
    during.push(engine.progress());
    await refreshing;
    expect(during[0]).toMatchObject({full: true, total: BUCKET_COUNT});
    expect(engine.progress()).toBeNull();
    const reads = seen.filter((p) => p.phase === "read");
    expect(reads.length).toBeGreaterThan(1);
    for (let i = 1; i < reads.length; i++) expect(reads[i]!.done).toBeGreaterThanOrEqual(reads[i - 1]!.done);
    expect(reads.some((p) => p.done > 0 && p.done < BUCKET_COUNT)).toBe(true);
    expect(seen.at(-1)).toMatchObject({full: true, phase: "tree", done: BUCKET_COUNT, total: BUCKET_COUNT, messages: 1_000});
    await s.store.close();
  });

  it("progressFacts gives percent, rates and the ETA at the rate so far", () => {
    const p: RefreshProgress = {full: true, phase: "read", done: 65_536, total: BUCKET_COUNT, messages: 250_000, elapsedMs: 10_000};
    expect(progressFacts(p)).toEqual({
      full: true,
      phase: "read",
      done: 65_536,
      total: BUCKET_COUNT,
      percent: 25,
      messagesRead: 250_000,
      messagesPerSecond: 25_000,
      elapsedSeconds: 10,
      etaSeconds: 30,
    });
    expect(progressFacts({...p, done: 0, messages: 0, elapsedMs: 0})).toMatchObject({etaSeconds: null, messagesPerSecond: 0, percent: 0});
  });
});
