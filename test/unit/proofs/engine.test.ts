import {beforeAll, describe, expect, it} from "vitest";
import {BUCKET_COUNT, ChangeTracker, LocalEngine, committedLeaf, dataDigest, decodeMessageHash} from "../../../src/proofs/index.js";
import {pickCandidate} from "../../../src/proofs/candidates.js";
import {build, FULL, HOUR_MS, message, proofStore, T0} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";

beforeAll(async () => {
  await testPq();
});

const liveOf = (m: {account: string; namespace: number; data: Buffer}) => ({account: m.account, namespace: m.namespace, dataDigest: dataDigest(m.data)});

describe("message digests (migration 0006)", () => {
  it("the store writes SHA-256(data) with every message, and rows without one commit the same leaves", async () => {
    const s = await proofStore();
    const messages = Array.from({length: 40}, (_, i) => message(i));
    await s.store.storeBulk(messages.slice(0, 20));
    await s.store.store({...messages[20]!, replaceNamespace: false});
    const rows = s.store.db.sqlite.prepare("SELECT hash, data, data_digest FROM messages").all() as Array<{hash: string; data: Buffer; data_digest: Buffer}>;
    expect(rows).toHaveLength(21);
    for (const r of rows) expect(r.data_digest.equals(dataDigest(r.data)), r.hash).toBe(true);
    await s.store.storeBulk(messages.slice(21));
    const withDigests = await build(s.tables, null, FULL, T0);
    // Rows from before the migration have no digest: the commitment hashes their data instead.
    s.store.db.sqlite.prepare("UPDATE messages SET data_digest = NULL WHERE rowid % 2 = 0").run();
    const legacy = await build(s.tables, null, FULL, T0);
    expect(legacy.messageCount).toBe(40);
    expect(legacy.root.equals(withDigests.root)).toBe(true);
    // A digest that does not match its data is what the commitment binds (possession catches it).
    s.store.db.sqlite.prepare("UPDATE messages SET data_digest = zeroblob(32) WHERE hash = ?").run(messages[3]!.hash);
    expect((await build(s.tables, null, FULL, T0)).root.equals(withDigests.root)).toBe(false);
    await s.store.close();
  });
});

describe("LocalEngine", () => {
  it("refreshes incrementally to the same root as a full build, and finds leaves only in the published commitment", async () => {
    const s = await proofStore();
    const tracker = new ChangeTracker(1_000);
    tracker.attach(s.store);
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000});
    const messages = Array.from({length: 60}, (_, i) => message(i));
    await s.store.storeBulk(messages.slice(0, 50));
    const first = await engine.refresh({timestamp: T0, changed: null});
    expect(first).toMatchObject({timestamp: T0, messageCount: 50, stats: {rebuilt: BUCKET_COUNT, reread: BUCKET_COUNT}});
    expect(first!.bucketCounts.reduce((a, b) => a + b, 0)).toBe(50);
    const m = messages[7]!;
    expect(await engine.find(T0, m.hash, liveOf(m))).toBeNull(); // built, not published yet
    await engine.publish(T0);
    const found = await engine.find(T0, m.hash, liveOf(m));
    expect(found).toEqual(committedLeaf(engine.published!, m.hash, liveOf(m)));
    expect(found?.leaf).toMatchObject({messageHash: m.hash, expiry: m.expiry, size: m.data.length});
    expect(await engine.find(T0 + 1, m.hash, liveOf(m))).toBeNull(); // no commitment for that T

    tracker.take();
    await s.store.storeBulk(messages.slice(50));
    await s.store.deleteByHashes(messages[0]!.account, [messages[0]!.hash]);
    const second = await engine.refresh({timestamp: T0 + 2 * HOUR_MS, changed: [...tracker.take().hashes]});
    const full = await build(s.tables, null, FULL, T0 + 2 * HOUR_MS);
    expect(second!.root.equals(full.root)).toBe(true);
    expect(second!.messageCount).toBe(full.messageCount);
    expect(second!.stats.reread).toBe(0);
    // The old commitment answers until the new one is published.
    expect(await engine.find(T0, m.hash, liveOf(m))).not.toBeNull();
    await engine.publish(T0 + 2 * HOUR_MS);
    expect(await engine.find(T0, m.hash, liveOf(m))).toBeNull();
    await engine.close();
    await s.store.close();
  });

  it("a refresh that fails leaves no base: the next one is a full build", async () => {
    const s = await proofStore();
    await s.store.storeBulk([message(1), message(2)]);
    let failures = 1;
    const reader = s.tables.reader;
    const flaky = {
      rowsInRange: (lo: string, hi: string, min: number) => reader.rowsInRange(lo, hi, min),
      rowsAfter: (after: string, min: number, limit: number) => {
        if (failures > 0 && failures-- > 0) throw new Error("disk I/O error");
        return reader.rowsAfter(after, min, limit);
      },
      rowsByHashes: (hashes: readonly string[], min: number) => reader.rowsByHashes(hashes, min),
      dataByHash: (hash: string) => reader.dataByHash(hash),
    };
    const engine = new LocalEngine(flaky, {sliceBudgetMs: 1_000});
    await expect(engine.refresh({timestamp: T0, changed: null})).rejects.toThrow("disk I/O error");
    const next = await engine.refresh({timestamp: T0, changed: []});
    expect(next).toMatchObject({messageCount: 2, stats: {reread: BUCKET_COUNT}});
    const after = await engine.refresh({timestamp: T0, changed: []});
    expect(after).toMatchObject({messageCount: 2, stats: {reread: 0, rebuilt: 0}});
    await s.store.close();
  });
});

describe("pickCandidate", () => {
  it("never picks a message that changed since the previous refresh took its changes", async () => {
    const s = await proofStore();
    const messages = Array.from({length: 30}, (_, i) => message(i, {expiry: T0 + 100 * HOUR_MS}));
    await s.store.storeBulk(messages);
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000});
    const summary = (await engine.refresh({timestamp: T0, changed: null}))!;
    const recent = new Set(messages.slice(0, 25).map((m) => m.hash));
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const picked = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const c = pickCandidate(s.tables, {bucketCounts: summary.bucketCounts, changedSince: (h) => recent.has(h), committedBy: T0 + 5, nowMs: T0, expiryMarginMs: HOUR_MS, random});
      if (c === null) continue;
      expect(c.committedBy).toBe(T0 + 5);
      expect(Buffer.from(c.message.data).equals(messages.find((m) => m.hash === c.messageHash)!.data)).toBe(true);
      picked.add(c.messageHash);
    }
    expect([...picked].every((h) => !recent.has(h))).toBe(true);
    expect(picked.size).toBeGreaterThan(1); // the five unchanged messages do come up
    // Nothing qualifies when everything changed, or when every message expires within the margin.
    expect(pickCandidate(s.tables, {bucketCounts: summary.bucketCounts, changedSince: () => true, committedBy: 0, nowMs: T0, expiryMarginMs: 0, random})).toBeNull();
    expect(pickCandidate(s.tables, {bucketCounts: summary.bucketCounts, changedSince: () => false, committedBy: 0, nowMs: T0, expiryMarginMs: 200 * HOUR_MS, random})).toBeNull();
    expect(decodeMessageHash([...picked][0])).not.toBeNull();
    await s.store.close();
  });
});

describe("the commitment worker's young generation (engine-host.ts)", () => {
  it("is small where memory is the constraint and larger for a large node, kept near the line by a node already large", async () => {
    const {youngGenerationMb} = await import("../../../src/proofs/engine-host.js");
    expect(youngGenerationMb(0)).toBe(4);
    expect(youngGenerationMb(1_000_000)).toBe(4);
    expect(youngGenerationMb(1_999_999)).toBe(4);
    expect(youngGenerationMb(2_000_000)).toBe(32);
    expect(youngGenerationMb(10_000_000)).toBe(32);
    // A large node that shrinks a little keeps its worker (no swap back and forth at the line) …
    expect(youngGenerationMb(1_600_000, 32)).toBe(32);
    expect(youngGenerationMb(1_600_000, 4)).toBe(4);
    // … and gets the small one well below it.
    expect(youngGenerationMb(1_400_000, 32)).toBe(4);
    expect(youngGenerationMb(100, 4, 100)).toBe(32);
  });
});
