/**
 * Tombstones in the message store (migration 0004): which writes create and lift them, how pushed
 * messages and peers' tombstones are applied, and the tables replication reads.
 */
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {ReplicationTables} from "../../../src/storage/replication-tables.js";
import type {StoredMessage, TombstoneChange} from "../../../src/storage/interface.js";
import {ACCOUNT_A, HOUR_MS, T0, memoryStore, msg, type TestStore} from "../storage/helpers.js";

let t: TestStore;
let tables: ReplicationTables;
let changes: TombstoneChange[];

beforeEach(async () => {
  t = await memoryStore({mailboxMaxMessages: 3});
  tables = new ReplicationTables(t.store.db);
  changes = [];
  t.store.on("tombstones", (c) => changes.push(c));
});
afterEach(() => t.store.close());

const stored = (seed: string, over: Partial<StoredMessage> = {}): StoredMessage => {
  const {replaceNamespace: _r, ...m} = msg(seed, over);
  return m;
};
const tombstoneOf = (hash: string) => tables.bucketTombstones(hash, `${hash}~`, T0)[0];

describe("tombstones", () => {
  it("authenticated deletes bury what they deleted until its original expiry", async () => {
    for (const s of ["a", "b", "c"]) await t.store.store(msg(s));
    await t.store.deleteByHashes(ACCOUNT_A, [msg("a").hash]);
    await t.store.deleteAll(ACCOUNT_A, 0);
    expect(changes.flatMap((c) => c.added).sort()).toEqual(["a", "b", "c"].map((s) => msg(s).hash).sort());
    expect(tombstoneOf(msg("a").hash)).toEqual({hash: msg("a").hash, account: ACCOUNT_A, cap: 0, until: T0 + HOUR_MS});
  });

  it("a pushed copy of a buried message is not stored; a client store lifts the tombstone", async () => {
    await t.store.store(msg("x"));
    await t.store.deleteBefore(ACCOUNT_A, "all", T0);
    expect(await t.store.storeBulk([stored("x")])).toEqual([]);
    expect(t.store.getExpiries(ACCOUNT_A, [msg("x").hash]).size).toBe(0);
    expect((await t.store.store(msg("x"))).status).toBe("new");
    expect(tombstoneOf(msg("x").hash)).toBeUndefined();
    expect(changes.at(-1)).toEqual({added: [], removed: [msg("x").hash]});
  });

  it("rolling-buffer evictions and outbox replacements are buried too", async () => {
    for (const s of ["1", "2", "3", "4"]) await t.store.store(msg(s));
    expect(tombstoneOf(msg("1").hash)?.cap).toBe(0);
    await t.store.store(msg("o1", {namespace: -21, replaceNamespace: true}));
    await t.store.store(msg("o2", {namespace: -21, replaceNamespace: true}));
    expect(tombstoneOf(msg("o1", {namespace: -21}).hash)?.cap).toBe(0);
  });

  it("a shortened expiry leaves a cap; a pushed longer copy is stored with the cap; an extension lifts it", async () => {
    const m = msg("s", {expiry: T0 + 3 * HOUR_MS});
    await t.store.store(m);
    await t.store.expire({account: ACCOUNT_A, hashes: [m.hash], expiries: [T0 + HOUR_MS], mode: "shorten"});
    expect(tombstoneOf(m.hash)).toMatchObject({cap: T0 + HOUR_MS, until: T0 + 3 * HOUR_MS});
    await t.store.deleteMoved([m.hash]);
    expect(tombstoneOf(m.hash)).toBeDefined(); // moved, not deleted: the cap stays
    await t.store.storeBulk([stored("s", {expiry: T0 + 3 * HOUR_MS})]);
    expect(t.store.getExpiries(ACCOUNT_A, [m.hash]).get(m.hash)).toBe(T0 + HOUR_MS);
    await t.store.expire({account: ACCOUNT_A, hashes: [m.hash], expiries: [T0 + 2 * HOUR_MS], mode: "extend"});
    expect(tombstoneOf(m.hash)).toBeUndefined();
  });

  it("expire_all caps every shortened message", async () => {
    await t.store.store(msg("e1", {expiry: T0 + 2 * HOUR_MS}));
    await t.store.expireAll(ACCOUNT_A, 0, T0 + HOUR_MS);
    expect(tombstoneOf(msg("e1").hash)?.cap).toBe(T0 + HOUR_MS);
  });

  it("applyTombstones deletes dead messages, caps live ones, merges to the lowest cap", async () => {
    await t.store.store(msg("d"));
    await t.store.store(msg("c", {expiry: T0 + 3 * HOUR_MS}));
    const removed: string[] = [];
    t.store.on("removed", (h) => removed.push(...h));
    const r = await t.store.applyTombstones([
      {hash: msg("d").hash, account: ACCOUNT_A, cap: 0, until: T0 + HOUR_MS},
      {hash: msg("c").hash, account: ACCOUNT_A, cap: T0 + 2 * HOUR_MS, until: T0 + 3 * HOUR_MS},
    ]);
    expect(r).toEqual({merged: 2, deleted: 1});
    expect(removed).toEqual([msg("d").hash]);
    expect(t.store.getExpiries(ACCOUNT_A, [msg("c").hash]).get(msg("c").hash)).toBe(T0 + 2 * HOUR_MS);
    const again = await t.store.applyTombstones([{hash: msg("c").hash, account: ACCOUNT_A, cap: T0 + 3 * HOUR_MS, until: T0 + 4 * HOUR_MS}]);
    expect(again.merged).toBe(0);
    expect(tombstoneOf(msg("c").hash)).toMatchObject({cap: T0 + 2 * HOUR_MS, until: T0 + 4 * HOUR_MS});
  });

  it("storeBulk with mergeExpiry raises a known message's expiry (a missed extension)", async () => {
    await t.store.store(msg("x"));
    await t.store.storeBulk([stored("x", {expiry: T0 + 5 * HOUR_MS})]);
    expect(t.store.getExpiries(ACCOUNT_A, [msg("x").hash]).get(msg("x").hash)).toBe(T0 + HOUR_MS);
    await t.store.storeBulk([stored("x", {expiry: T0 + 5 * HOUR_MS})], {mergeExpiry: true});
    expect(t.store.getExpiries(ACCOUNT_A, [msg("x").hash]).get(msg("x").hash)).toBe(T0 + 5 * HOUR_MS);
  });

  it("replication tables: settled, messages by hash, account pages, sweep", async () => {
    await t.store.store(msg("k"));
    await t.store.store(msg("gone"));
    await t.store.deleteByHashes(ACCOUNT_A, [msg("gone").hash]);
    expect(tables.settled([msg("k").hash, msg("gone").hash, msg("never").hash], T0).sort()).toEqual([msg("k").hash, msg("gone").hash].sort());
    expect(tables.messagesByHash([msg("k").hash, msg("never").hash], T0)).toEqual([stored("k")]);
    const [owner] = tables.accounts(0, 10);
    expect(owner?.account).toBe(ACCOUNT_A);
    expect(tables.accountMessages(owner!.id, 0, T0, 10).map((r) => r.message.hash)).toEqual([msg("k").hash]);
    expect(tables.sweepTombstones(T0 + HOUR_MS, 10)).toEqual([msg("gone").hash]);
  });
});
