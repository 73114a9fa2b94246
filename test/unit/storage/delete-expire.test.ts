import {afterEach, describe, expect, it} from "vitest";
import {ACCOUNT_A, ACCOUNT_B, HOUR_MS, T0, expectCode, fakeHash, storeFor, WRITE_MODES, msg, query, type TestStore} from "./helpers.js";

const byHash = (a: {hash: string}, b: {hash: string}): number => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);

describe.each(WRITE_MODES)("SqliteMessageStore deletes (%s writes)", (mode) => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  async function seed(): Promise<void> {
    await Promise.all([
      t.store.store(msg("n0-a", {timestamp: T0 - 3_000})),
      t.store.store(msg("n0-b", {timestamp: T0 - 1_000})),
      t.store.store(msg("n5-a", {namespace: 5, timestamp: T0 - 2_000})),
      t.store.store(msg("n5-b", {namespace: 5, timestamp: T0})),
      t.store.store(msg("other", {account: ACCOUNT_B, timestamp: T0 - 5_000})),
    ]);
  }

  it("deleteByHashes deletes only the account's messages and returns them ascii-sorted", async () => {
    t = await storeFor(mode);
    await seed();
    const removed: string[] = [];
    t.store.on("removed", (h) => removed.push(...h));
    const asked = [fakeHash("n5-b"), fakeHash("n0-a"), fakeHash("other"), fakeHash("missing"), fakeHash("n0-a")];
    const deleted = await t.store.deleteByHashes(ACCOUNT_A, asked);
    expect(deleted).toEqual([fakeHash("n5-b"), fakeHash("n0-a")].sort());
    expect(removed.sort()).toEqual(deleted);
    expect(t.store.getExpiries(ACCOUNT_B, [fakeHash("other")]).size).toBe(1);
    expect(await t.store.deleteByHashes(ACCOUNT_A, [])).toEqual([]);
    expect(await t.store.deleteByHashes(`05${"cc".repeat(32)}`, [fakeHash("n0-b")])).toEqual([]);
  });

  it("deleteByHashes does not report already-expired messages (but removes them)", async () => {
    t = await storeFor(mode);
    const m = msg("soon", {expiry: T0 + 10});
    await t.store.store(m);
    t.clock.advance(10);
    expect(await t.store.deleteByHashes(ACCOUNT_A, [m.hash])).toEqual([]);
    expect(t.store.stats().messageCount).toBe(0);
  });

  it("deleteAll with one namespace and with all", async () => {
    t = await storeFor(mode);
    await seed();
    expect(await t.store.deleteAll(ACCOUNT_A, 5)).toEqual(
      [{namespace: 5, hash: fakeHash("n5-a")}, {namespace: 5, hash: fakeHash("n5-b")}].sort(byHash),
    );
    await t.store.store(msg("n7", {namespace: 7}));
    const all = await t.store.deleteAll(ACCOUNT_A, "all");
    expect(all).toEqual(
      [
        {namespace: 0, hash: fakeHash("n0-a")},
        {namespace: 0, hash: fakeHash("n0-b")},
        {namespace: 7, hash: fakeHash("n7")},
      ].sort(byHash),
    );
    expect(t.store.retrieve(query())).toEqual({messages: [], more: false});
    expect(t.store.retrieve(query({account: ACCOUNT_B})).messages).toHaveLength(1);
    expect(await t.store.deleteAll(ACCOUNT_A, "all")).toEqual([]);
  });

  it("deleteBefore deletes timestamp <= before, in one namespace or all (Session 2.8's broken variant)", async () => {
    t = await storeFor(mode);
    await seed();
    expect(await t.store.deleteBefore(ACCOUNT_A, 0, T0 - 3_001)).toEqual([]);
    expect(await t.store.deleteBefore(ACCOUNT_A, 0, T0 - 3_000)).toEqual([{namespace: 0, hash: fakeHash("n0-a")}]);
    const all = await t.store.deleteBefore(ACCOUNT_A, "all", T0 - 1_000);
    expect(all).toEqual([{namespace: 0, hash: fakeHash("n0-b")}, {namespace: 5, hash: fakeHash("n5-a")}].sort(byHash));
    expect(t.store.retrieve(query({namespace: 5})).messages.map((m) => m.hash)).toEqual([fakeHash("n5-b")]);
    expect(t.store.retrieve(query({account: ACCOUNT_B})).messages).toHaveLength(1);
  });

  it("validates selectors", async () => {
    t = await storeFor(mode);
    await expectCode(t.store.deleteAll(ACCOUNT_A, 1.5), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.deleteBefore(ACCOUNT_A, "all", Number.NaN), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.deleteByHashes("nope", [fakeHash("x")]), "STORAGE_ERROR_INVALID_INPUT");
  });
});

describe.each(WRITE_MODES)("SqliteMessageStore expiry changes (%s writes)", (mode) => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("expireAll only shortens, per namespace or all, and returns the updated", async () => {
    t = await storeFor(mode);
    await Promise.all([
      t.store.store(msg("late", {expiry: T0 + 3 * HOUR_MS})),
      t.store.store(msg("early", {expiry: T0 + 1_000})),
      t.store.store(msg("ns2", {namespace: 2, expiry: T0 + 3 * HOUR_MS})),
      t.store.store(msg("b", {account: ACCOUNT_B, expiry: T0 + 3 * HOUR_MS})),
    ]);
    const target = T0 + HOUR_MS;
    expect(await t.store.expireAll(ACCOUNT_A, 0, target)).toEqual([{namespace: 0, hash: fakeHash("late")}]);
    expect(t.store.getExpiries(ACCOUNT_A, [fakeHash("late"), fakeHash("early")])).toEqual(
      new Map([
        [fakeHash("late"), target],
        [fakeHash("early"), T0 + 1_000],
      ]),
    );
    expect(await t.store.expireAll(ACCOUNT_A, "all", target)).toEqual([{namespace: 2, hash: fakeHash("ns2")}]);
    expect(await t.store.expireAll(ACCOUNT_A, "all", target)).toEqual([]);
    expect(t.store.getExpiries(ACCOUNT_B, [fakeHash("b")]).get(fakeHash("b"))).toBe(T0 + 3 * HOUR_MS);
  });

  it("expireAll to the past makes messages invisible at once", async () => {
    t = await storeFor(mode);
    await t.store.store(msg("x"));
    expect(await t.store.expireAll(ACCOUNT_A, "all", T0 - 1)).toHaveLength(1);
    expect(t.store.retrieve(query()).messages).toEqual([]);
  });

  it("expire: extend only raises, shorten only lowers, set sets; unknown and expired hashes are ignored", async () => {
    t = await storeFor(mode);
    const [a, b, c] = ["a", "b", "c"].map((s) => msg(s, {expiry: T0 + HOUR_MS}));
    const gone = msg("gone", {expiry: T0});
    await Promise.all([a, b, c, gone].map((m) => t.store.store(m!)));
    const hashes = [a!.hash, b!.hash, c!.hash, gone.hash, fakeHash("unknown")];

    const extend = await t.store.expire({
      account: ACCOUNT_A,
      hashes,
      expiries: [T0 + 2 * HOUR_MS, T0 + HOUR_MS, T0 + 1, T0 + 5 * HOUR_MS, T0 + 5 * HOUR_MS],
      mode: "extend",
    });
    expect(extend.updated).toEqual([{hash: a!.hash, expiry: T0 + 2 * HOUR_MS}]);
    expect(extend.unchanged).toEqual(
      [{hash: b!.hash, expiry: T0 + HOUR_MS}, {hash: c!.hash, expiry: T0 + HOUR_MS}].sort(byHash),
    );
    expect(t.store.getExpiries(ACCOUNT_A, [gone.hash]).size).toBe(0);

    const shorten = await t.store.expire({
      account: ACCOUNT_A,
      hashes: [a!.hash, b!.hash],
      expiries: [T0 + 3 * HOUR_MS, T0 + 1_000],
      mode: "shorten",
    });
    expect(shorten).toEqual({
      updated: [{hash: b!.hash, expiry: T0 + 1_000}],
      unchanged: [{hash: a!.hash, expiry: T0 + 2 * HOUR_MS}],
    });

    const set = await t.store.expire({account: ACCOUNT_A, hashes: [a!.hash, c!.hash], expiries: [T0 + 7, T0 + HOUR_MS], mode: "set"});
    expect(set.updated).toEqual([{hash: a!.hash, expiry: T0 + 7}, {hash: c!.hash, expiry: T0 + HOUR_MS}].sort(byHash));
    expect(set.unchanged).toEqual([]);
    expect(t.store.getExpiries(ACCOUNT_A, [a!.hash]).get(a!.hash)).toBe(T0 + 7);
  });

  it("expire does not touch another account's message and validates its request", async () => {
    t = await storeFor(mode);
    const b = msg("b", {account: ACCOUNT_B});
    await t.store.store(b);
    expect(await t.store.expire({account: ACCOUNT_A, hashes: [b.hash], expiries: [T0 + 1], mode: "set"})).toEqual({
      updated: [],
      unchanged: [],
    });
    expect(t.store.getExpiries(ACCOUNT_B, [b.hash]).get(b.hash)).toBe(b.expiry);
    await expectCode(
      t.store.expire({account: ACCOUNT_A, hashes: [b.hash], expiries: [], mode: "set"}),
      "STORAGE_ERROR_INVALID_INPUT",
    );
    await expectCode(
      t.store.expire({account: ACCOUNT_A, hashes: [b.hash], expiries: [1], mode: "grow" as "set"}),
      "STORAGE_ERROR_INVALID_INPUT",
    );
  });
});
