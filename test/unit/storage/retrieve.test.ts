import {afterEach, describe, expect, it} from "vitest";
import {RETRIEVE_CHUNK_ROWS} from "../../../src/storage/message-reads.js";
import {ACCOUNT_A, ACCOUNT_B, HOUR_MS, T0, expectThrowsCode, fakeHash, memoryStore, msg, query, type TestStore} from "./helpers.js";

describe("SqliteMessageStore reads", () => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  async function fill(n: number, over: Parameters<typeof msg>[1] = {}): Promise<string[]> {
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      const m = msg(`r${i}`, over);
      await t.store.store(m);
      hashes.push(m.hash);
    }
    return hashes;
  }

  it("pages by insertion order after afterHash and reports more", async () => {
    t = await memoryStore();
    const hashes = await fill(5);
    const page1 = t.store.retrieve(query({maxCount: 2}));
    expect(page1.messages.map((m) => m.hash)).toEqual(hashes.slice(0, 2));
    expect(page1.more).toBe(true);
    const page2 = t.store.retrieve(query({maxCount: 2, afterHash: hashes[1] ?? null}));
    expect(page2.messages.map((m) => m.hash)).toEqual(hashes.slice(2, 4));
    expect(page2.more).toBe(true);
    const page3 = t.store.retrieve(query({maxCount: 2, afterHash: hashes[3] ?? null}));
    expect(page3).toMatchObject({more: false});
    expect(page3.messages.map((m) => m.hash)).toEqual(hashes.slice(4));
    expect(t.store.retrieve(query({afterHash: hashes[4] ?? null}))).toEqual({messages: [], more: false});
  });

  it("an exactly-full last page reports more: false", async () => {
    t = await memoryStore();
    await fill(3);
    expect(t.store.retrieve(query({maxCount: 3})).more).toBe(false);
  });

  it("an unknown afterHash, or one from another mailbox, starts from the beginning", async () => {
    t = await memoryStore();
    const hashes = await fill(3);
    const other = msg("elsewhere", {namespace: 5});
    await t.store.store(other);
    expect(t.store.retrieve(query({afterHash: fakeHash("nope")})).messages.map((m) => m.hash)).toEqual(hashes);
    expect(t.store.retrieve(query({afterHash: other.hash})).messages.map((m) => m.hash)).toEqual(hashes);
  });

  it("honours maxSize via sizeOf but always returns at least one message", async () => {
    t = await memoryStore();
    await fill(4, {data: Buffer.alloc(100)});
    const sized = t.store.retrieve(query({maxSize: 250}));
    expect(sized.messages).toHaveLength(2);
    expect(sized.more).toBe(true);
    const tiny = t.store.retrieve(query({maxSize: 1}));
    expect(tiny.messages).toHaveLength(1);
    expect(tiny.more).toBe(true);
    const exact = t.store.retrieve(query({maxSize: 400}));
    expect(exact).toMatchObject({more: false});
    expect(exact.messages).toHaveLength(4);
    const calls: string[] = [];
    t.store.retrieve(query({maxCount: 2, sizeOf: (m) => (calls.push(m.hash), 1)}));
    expect(calls).toHaveLength(2);
  });

  it("a mailbox longer than one statement chunk pages exactly as one read would", async () => {
    t = await memoryStore();
    const n = RETRIEVE_CHUNK_ROWS * 2 + 5;
    const all = Array.from({length: n}, (_, i) => msg(`c${i}`));
    // Expired rows and another mailbox's rows interleaved: neither may count towards a chunk's rows.
    const noise = all.flatMap((_, i) => (i % 7 === 0 ? [msg(`x${i}`, {expiry: T0 + 1_000}), msg(`o${i}`, {namespace: 3})] : []));
    await Promise.all([...all, ...noise].sort((a, b) => (a.hash < b.hash ? -1 : 1)).map((m) => t.store.store(m)));
    t.clock.advance(1_000);
    const visible = t.store.retrieve(query({maxCount: n + 50})).messages.map((m) => m.hash);
    // Stored in hash order, so insertion order is hash order.
    expect(visible).toEqual(all.map((m) => m.hash).sort());
    for (const maxCount of [1, RETRIEVE_CHUNK_ROWS - 1, RETRIEVE_CHUNK_ROWS, RETRIEVE_CHUNK_ROWS + 1, 2 * RETRIEVE_CHUNK_ROWS, n - 1, n, n + 1]) {
      const page = t.store.retrieve(query({maxCount}));
      expect(page.messages.map((m) => m.hash)).toEqual(visible.slice(0, maxCount));
      expect(page.more).toBe(maxCount < n);
    }
    const unlimited = t.store.retrieve(query({maxCount: Number.MAX_SAFE_INTEGER}));
    expect(unlimited).toMatchObject({more: false});
    expect(unlimited.messages.map((m) => m.hash)).toEqual(visible);
    const sized = t.store.retrieve(query({maxCount: Number.MAX_SAFE_INTEGER, maxSize: 200, sizeOf: () => 1}));
    expect(sized.messages.map((m) => m.hash)).toEqual(visible.slice(0, 200));
    expect(sized.more).toBe(true);
    const after = t.store.retrieve(query({maxCount: Number.MAX_SAFE_INTEGER, afterHash: visible[100] ?? null}));
    expect(after.messages.map((m) => m.hash)).toEqual(visible.slice(101));
    expect(after.messages.every((m) => m.account === ACCOUNT_A && m.namespace === 0 && Buffer.isBuffer(m.data))).toBe(true);
  });

  it("expired messages (expiry <= now) are invisible before the sweeper runs", async () => {
    t = await memoryStore();
    const short = msg("short", {expiry: T0 + 1_000});
    const long = msg("long", {expiry: T0 + HOUR_MS});
    await t.store.store(short);
    await t.store.store(long);
    t.clock.advance(999);
    expect(t.store.retrieve(query()).messages).toHaveLength(2);
    t.clock.advance(1);
    expect(t.store.retrieve(query()).messages.map((m) => m.hash)).toEqual([long.hash]);
    expect([...t.store.getExpiries(ACCOUNT_A, [short.hash, long.hash])]).toEqual([[long.hash, long.expiry]]);
    expect(t.store.hashesInRange("", "~")).toEqual([long.hash]);
    // Still physically present until swept.
    expect(t.store.stats().messageCount).toBe(2);
  });

  it("retrieve of an unknown account or empty namespace returns nothing", async () => {
    t = await memoryStore();
    expect(t.store.retrieve(query({account: ACCOUNT_B}))).toEqual({messages: [], more: false});
  });

  it("getExpiries covers any namespace of the account and ignores other accounts' hashes", async () => {
    t = await memoryStore();
    const a0 = msg("a0");
    const a9 = msg("a9", {namespace: 9, expiry: T0 + 5_000});
    const b = msg("b", {account: ACCOUNT_B});
    await Promise.all([t.store.store(a0), t.store.store(a9), t.store.store(b)]);
    const expiries = t.store.getExpiries(ACCOUNT_A, [a0.hash, a9.hash, b.hash, fakeHash("missing")]);
    expect(Object.fromEntries(expiries)).toEqual({[a0.hash]: a0.expiry, [a9.hash]: a9.expiry});
    expect(t.store.getExpiries(ACCOUNT_B, [])).toEqual(new Map());
  });

  it("hashesInRange returns ascii-sorted hashes in [lo, hi) up to limit", async () => {
    t = await memoryStore();
    const hashes = await fill(20);
    const sorted = [...hashes].sort();
    expect(t.store.hashesInRange("", "\u007f")).toEqual(sorted);
    const lo = sorted[5] ?? "";
    const hi = sorted[10] ?? "";
    expect(t.store.hashesInRange(lo, hi)).toEqual(sorted.slice(5, 10));
    expect(t.store.hashesInRange("", "\u007f", 3)).toEqual(sorted.slice(0, 3));
  });

  it("validates retrieve parameters", async () => {
    t = await memoryStore();
    expectThrowsCode(() => t.store.retrieve(query({maxCount: 0})), "STORAGE_ERROR_INVALID_INPUT");
    expectThrowsCode(() => t.store.retrieve(query({account: "zz"})), "STORAGE_ERROR_INVALID_INPUT");
    expectThrowsCode(() => t.store.retrieve(query({namespace: 0.5})), "STORAGE_ERROR_INVALID_INPUT");
    expectThrowsCode(() => t.store.getExpiries(ACCOUNT_A, [""]), "STORAGE_ERROR_INVALID_INPUT");
    expectThrowsCode(() => t.store.hashesInRange("a", "b", 0), "STORAGE_ERROR_INVALID_INPUT");
  });

  it("stats counts messages and accounts with messages", async () => {
    t = await memoryStore();
    expect(t.store.stats()).toMatchObject({messageCount: 0, accountCount: 0});
    await Promise.all([t.store.store(msg("1")), t.store.store(msg("2", {namespace: 4})), t.store.store(msg("3", {account: ACCOUNT_B}))]);
    const stats = t.store.stats();
    expect(stats).toMatchObject({messageCount: 3, accountCount: 2, sizeLimitBytes: 10 * 1024 ** 3});
    expect(stats.usedBytes).toBeGreaterThan(0);
  });
});
