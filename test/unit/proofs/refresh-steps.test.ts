/**
 * How long an inclusion request can wait inside an incremental refresh (issue #16 item 3): the
 * commitment worker answers finds after every step (`poll`), so no step may do work proportional
 * to all 262,144 buckets or to all the buckets a refresh rebuilds.
 */
import {afterEach, beforeAll, describe, expect, it} from "vitest";
import {Bucket, BUCKET_COUNT, LocalEngine, type RefreshProgress} from "../../../src/proofs/index.js";
import {HOUR_MS, message, proofStore, T0} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";

beforeAll(async () => {
  await testPq();
});

/** Counts reads of a Bucket getter (the per-bucket work of a pass over the commitment). */
function countGetter(name: "count" | "minExpiry" | "bytes", counter: {reads: number}): () => void {
  const original = Object.getOwnPropertyDescriptor(Bucket.prototype, name)!;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- a getter, called with its bucket below
  const get = original.get as (this: Bucket) => number;
  Object.defineProperty(Bucket.prototype, name, {
    ...original,
    get(this: Bucket): number {
      counter.reads++;
      return get.call(this);
    },
  });
  return () => Object.defineProperty(Bucket.prototype, name, original);
}

const restores: Array<() => void> = [];
afterEach(() => {
  for (const restore of restores.splice(0)) restore();
});

describe("incremental refresh steps", () => {
  it("no step reads more than a quarter of the buckets: planning, sums and the summary are split", async () => {
    const s = await proofStore();
    const messages = Array.from({length: 200}, (_, i) => message(i));
    await s.store.storeBulk(messages);
    const counter = {reads: 0};
    let longest = 0;
    const poll = (): void => {
      longest = Math.max(longest, counter.reads);
      counter.reads = 0;
    };
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000, poll});
    await engine.refresh({timestamp: T0, changed: null});
    await s.store.storeBulk([message(1_000)]);

    for (const name of ["count", "minExpiry", "bytes"] as const) restores.push(countGetter(name, counter));
    counter.reads = 0;
    longest = 0;
    const summary = await engine.refresh({timestamp: T0 + 1, changed: [message(1_000).hash]});
    poll();
    expect(summary!.messageCount).toBe(201);
    // Before: the expired-leaf scan, the commitment's sums and the summary each read all 262,144
    // buckets in one step (and the sums twice).
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThanOrEqual(BUCKET_COUNT / 4);
    await s.store.close();
  });

  it("buckets rebuilt only because leaves expired are merged a bounded number at a time, not all in one step", async () => {
    const s = await proofStore();
    // 5,000 messages in ~5,000 buckets, all expired at T0 + 2 h: a refresh with no changed message
    // rebuilds every one of them.
    const n = 5_000;
    await s.store.storeBulk(Array.from({length: n}, (_, i) => message(i, {expiry: T0 + HOUR_MS})));
    await s.store.storeBulk([message(n, {expiry: T0 + 10 * HOUR_MS})]);
    const seen: RefreshProgress[] = [];
    // A zero budget makes every step its own slice, so progress is reported after each.
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 0, onProgress: (p) => seen.push(p)});
    await engine.refresh({timestamp: T0, changed: null});
    seen.length = 0;
    const summary = await engine.refresh({timestamp: T0 + 2 * HOUR_MS, changed: []});
    expect(summary!.messageCount).toBe(1);
    const reads = seen.filter((p) => p.phase === "read");
    const total = reads[0]!.total;
    expect(total).toBeGreaterThan(4_000);
    let previous = 0;
    let largest = 0;
    for (const p of reads) {
      largest = Math.max(largest, p.done - previous);
      previous = p.done;
    }
    expect(previous).toBe(total);
    // Before: one step merged every expired bucket (no changed hash ever filled a lookup batch).
    expect(largest).toBeLessThan(total / 2);
    await s.store.close();
  });
});
