import {afterEach, describe, expect, it} from "vitest";
import {prepareStatements, type Statements} from "../../../src/storage/statements.js";
import {sqliteSweepBatches, TtlSweeper} from "../../../src/storage/ttl-sweeper.js";
import {ACCOUNT_A, ACCOUNT_B, T0, fakeHash, memoryStore, msg, query, silentLogger, type TestStore} from "./helpers.js";

describe("TTL sweeper", () => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  const count = (sql: string): number => (t.store.db.sqlite.prepare(sql).get() as {n: number}).n;

  it("deletes expired rows (expiry <= now) in bounded batches and emits removed per batch", async () => {
    t = await memoryStore({sweepBatchSize: 10});
    await Promise.all(Array.from({length: 35}, (_, i) => t.store.store(msg(`e${i}`, {expiry: T0 + 100 + (i % 3)}))));
    await t.store.store(msg("keep", {expiry: T0 + 103}));
    const batches: number[] = [];
    t.store.on("removed", (h) => batches.push(h.length));
    t.clock.set(T0 + 102);
    const result = await t.store.sweepExpired();
    expect(result.expired).toBe(35);
    expect(batches).toEqual([10, 10, 10, 5]);
    expect(result.batches).toBeGreaterThanOrEqual(4);
    expect(t.store.stats().messageCount).toBe(1);
    expect(t.store.retrieve(query()).messages.map((m) => m.hash)).toEqual([fakeHash("keep")]);
    expect((await t.store.sweepExpired()).expired).toBe(0);
  });

  it("yields between batches: a store made during a sweep commits before the sweep ends", async () => {
    t = await memoryStore({sweepBatchSize: 5});
    await Promise.all(Array.from({length: 30}, (_, i) => t.store.store(msg(`y${i}`, {expiry: T0 + 1}))));
    t.clock.set(T0 + 1);
    const order: string[] = [];
    const sweep = t.store.sweepExpired().then(() => order.push("sweep"));
    const store = t.store.store(msg("during", {expiry: T0 + 10_000})).then(() => order.push("store"));
    await Promise.all([sweep, store]);
    expect(order).toEqual(["store", "sweep"]);
    expect(t.store.stats().messageCount).toBe(1);
  });

  it("concurrent sweep calls share one run", async () => {
    t = await memoryStore();
    await t.store.store(msg("x", {expiry: T0 + 1}));
    t.clock.set(T0 + 1);
    const [a, b] = await Promise.all([t.store.sweepExpired(), t.store.sweepExpired()]);
    expect(a).toBe(b);
    expect(a.expired).toBe(1);
  });

  it("deletes owners left without messages and revocations, keeps owners with revocation records", async () => {
    t = await memoryStore();
    await t.store.store(msg("a", {expiry: T0 + 1}));
    await t.store.store(msg("b", {account: ACCOUNT_B, expiry: T0 + 1}));
    await t.store.revokeSubaccounts(ACCOUNT_B, [Buffer.alloc(36, 1)]);
    t.clock.set(T0 + 1);
    const result = await t.store.sweepExpired();
    expect(result).toMatchObject({expired: 2, owners: 1});
    expect(count("SELECT count(*) AS n FROM owners")).toBe(1);
    // Unlike Session, the revocation survives the account's last message going away.
    expect(t.store.isRevoked(ACCOUNT_B, Buffer.alloc(36, 1))).toBe(true);
    expect(await t.store.unrevokeSubaccounts(ACCOUNT_B, [Buffer.alloc(36, 1)])).toBe(1);
    // The unrevoke is a durable record too (migration 0007: it must outlive stale copies of the
    // revocation), so the owner stays until its records are handed over by a relocation.
    expect((await t.store.sweepExpired()).owners).toBe(0);
    expect(await t.store.revocations.deleteAccounts([ACCOUNT_B])).toEqual([ACCOUNT_B]);
    expect((await t.store.sweepExpired()).owners).toBe(1);
    expect(count("SELECT count(*) AS n FROM owners")).toBe(0);
    expect(count("SELECT count(*) AS n FROM owner_gc")).toBe(0);
  });

  it("owners emptied by deletes are collected too, and reused owners are kept", async () => {
    t = await memoryStore();
    await t.store.store(msg("a"));
    await t.store.deleteAll(ACCOUNT_A, "all");
    await t.store.store(msg("a2", {namespace: 3})); // same owner, queued for GC but in use again
    expect((await t.store.sweepExpired()).owners).toBe(0);
    expect(t.store.retrieve(query({namespace: 3})).messages).toHaveLength(1);
    await t.store.deleteByHashes(ACCOUNT_A, [fakeHash("a2")]);
    expect((await t.store.sweepExpired()).owners).toBe(1);
  });

  it("the timer sweeps at start and then every sweepIntervalMs", async () => {
    t = await memoryStore({sweepIntervalMs: 20});
    await t.store.store(msg("t", {expiry: T0 + 1}));
    t.clock.set(T0 + 1);
    const removed = await new Promise<string[]>((resolve) => t.store.on("removed", resolve));
    expect(removed).toEqual([fakeHash("t")]);
  });

  describe("on a full disk (SQLITE_FULL)", () => {
    const diskFull = (): Error => Object.assign(new Error("database or disk is full"), {code: "SQLITE_FULL"});

    /** A sweeper whose expired-row batches fail with SQLITE_FULL while `failing(limit)` says so. */
    function sweeperOn(failing: (limit: number) => boolean, relieveFull: () => boolean): {sweeper: TtlSweeper; limits: number[]} {
      const st = prepareStatements(t.store.db.sqlite);
      const real = st.deleteExpired;
      const limits: number[] = [];
      const deleteExpired = {
        all: (cutoff: number, limit: number) => {
          limits.push(limit);
          if (failing(limit)) throw diskFull();
          return real.all(cutoff, limit);
        },
      } as unknown as Statements["deleteExpired"];
      const sweeper = new TtlSweeper(
        {intervalMs: 0, batchSize: 256},
        {batches: sqliteSweepBatches(t.store.db.sqlite, {...st, deleteExpired}), clock: t.clock, logger: silentLogger, onRemoved: () => {}, onSwept: () => {}, relieveFull},
      );
      return {sweeper, limits};
    }

    it("frees what it can and retries in smaller batches until the batches fit", async () => {
      t = await memoryStore();
      await Promise.all(Array.from({length: 100}, (_, i) => t.store.store(msg(`f${i}`, {expiry: T0 + 1}))));
      t.clock.set(T0 + 1);
      let relieved = 0;
      const {sweeper, limits} = sweeperOn((limit) => limit > 16, () => ++relieved === 1);
      const result = await sweeper.sweep();
      expect(result.expired).toBe(100);
      expect(limits.slice(0, 4)).toEqual([256, 64, 16, 16]);
      expect(relieved).toBe(2);
      expect(t.store.stats().messageCount).toBe(0);
    });

    it("gives up until the next sweep when nothing frees room and the batch is already small", async () => {
      t = await memoryStore();
      await t.store.store(msg("stuck", {expiry: T0 + 1}));
      t.clock.set(T0 + 1);
      const {sweeper, limits} = sweeperOn(() => true, () => false);
      await expect(sweeper.sweep()).rejects.toMatchObject({code: "SQLITE_FULL"});
      expect(limits).toEqual([256, 64, 16]);
      expect(t.store.stats().messageCount).toBe(1);
    });
  });
});
