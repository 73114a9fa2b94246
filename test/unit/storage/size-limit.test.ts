import {afterEach, describe, expect, it} from "vitest";
import {ACCOUNT_A, expectCode, msg, query, type TestStore, memoryStore} from "./helpers.js";

const SIZE_LIMIT_BYTES = 512 * 1024;
const MESSAGE_BYTES = 16 * 1024;

describe("size limit", () => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  async function fillUntilFull(max: number): Promise<number> {
    let stored = 0;
    while (!t.store.isFull() && stored < max) {
      await t.store.store(msg(`big${stored}`, {data: Buffer.alloc(MESSAGE_BYTES, stored % 256)}));
      stored++;
    }
    return stored;
  }

  it("refuses stores with STORAGE_ERROR_FULL once full; reads, deletes and expire still work; deleting frees it", async () => {
    t = await memoryStore({sizeLimitBytes: SIZE_LIMIT_BYTES});
    expect(t.store.isFull()).toBe(false);
    const stored = await fillUntilFull(1_000);
    expect(t.store.isFull()).toBe(true);
    expect(stored).toBeGreaterThan(10);
    expect(t.store.stats().usedBytes).toBeGreaterThanOrEqual(SIZE_LIMIT_BYTES);

    await expectCode(t.store.store(msg("refused")), "STORAGE_ERROR_FULL");
    await expectCode(t.store.storeBulk([msg("refused-bulk")]), "STORAGE_ERROR_FULL");
    expect(t.store.retrieve(query({maxCount: 5})).messages).toHaveLength(5);
    const some = t.store.retrieve(query({maxCount: 3})).messages;
    const ex = await t.store.expire({account: ACCOUNT_A, hashes: [some[0]!.hash], expiries: [some[0]!.expiry + 1], mode: "extend"});
    expect(ex.updated).toHaveLength(1);
    await t.store.revokeSubaccounts(ACCOUNT_A, [Buffer.alloc(36, 7)]);

    const half = t.store.retrieve(query({maxCount: Math.ceil(stored / 2)})).messages.map((m) => m.hash);
    expect(await t.store.deleteByHashes(ACCOUNT_A, half)).toHaveLength(half.length);
    expect(t.store.isFull()).toBe(false);
    expect(await t.store.store(msg("accepted-again"))).toMatchObject({status: "new"});
  });

  it("holds a burst of stores queued in one turn to the limit together", async () => {
    t = await memoryStore({sizeLimitBytes: SIZE_LIMIT_BYTES});
    const burst = await Promise.allSettled(
      Array.from({length: 100}, (_, i) => t.store.store(msg(`burst${i}`, {data: Buffer.alloc(MESSAGE_BYTES, i)}))),
    );
    const accepted = burst.filter((r) => r.status === "fulfilled").length;
    expect(accepted).toBeGreaterThan(10);
    expect(accepted).toBeLessThanOrEqual(SIZE_LIMIT_BYTES / MESSAGE_BYTES);
    for (const r of burst.filter((r) => r.status === "rejected")) expect(r.reason).toMatchObject({code: "STORAGE_ERROR_FULL"});
    // Without the queued bytes counted, all 100 (1.6 MB) went into one commit.
    expect(t.store.stats().usedBytes).toBeLessThan(SIZE_LIMIT_BYTES + 2 * MESSAGE_BYTES);
  });

  it("SQLITE_FULL from the max_page_count backstop maps to STORAGE_ERROR_FULL and deletes still work", async () => {
    t = await memoryStore({sizeLimitBytes: 1024 ** 3, hardLimitBytes: SIZE_LIMIT_BYTES});
    let error: unknown = null;
    for (let i = 0; i < 1_000 && error === null; i++) {
      await t.store.store(msg(`hard${i}`, {data: Buffer.alloc(MESSAGE_BYTES)})).catch((err: unknown) => (error = err));
    }
    expect(error).toMatchObject({code: "STORAGE_ERROR_FULL"});
    expect(t.store.isFull()).toBe(false); // the soft limit was not the cause
    const all = await t.store.deleteAll(ACCOUNT_A, "all");
    expect(all.length).toBeGreaterThan(0);
    expect(await t.store.store(msg("after"))).toMatchObject({status: "new"});
  });
});
