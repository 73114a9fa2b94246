import {afterEach, describe, expect, it} from "vitest";
import type {StoredMessage} from "../../../src/storage/interface.js";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  HOUR_MS,
  T0,
  expectCode,
  fakeHash,
  storeFor,
  WRITE_MODES,
  msg,
  query,
  type TestStore,
} from "./helpers.js";

describe.each(WRITE_MODES)("SqliteMessageStore.store (%s writes)", (mode) => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("stores a new message and retrieves it with all fields", async () => {
    t = await storeFor(mode);
    const m = msg("one", {namespace: 42, data: Buffer.from([0, 1, 2, 255])});
    expect(await t.store.store(m)).toEqual({status: "new", expiry: m.expiry, newMailbox: true});
    expect(await t.store.store(msg("two", {namespace: 42}))).toMatchObject({status: "new", newMailbox: false});
    expect(await t.store.store(msg("three", {namespace: 43}))).toMatchObject({status: "new", newMailbox: true});
    const {messages, more} = t.store.retrieve(query({namespace: 42, maxCount: 1}));
    expect(more).toBe(true);
    expect(messages).toEqual([
      {account: ACCOUNT_A, hash: m.hash, namespace: 42, timestamp: T0, expiry: m.expiry, data: m.data},
    ]);
    expect(t.store.retrieve(query({namespace: 0})).messages).toEqual([]);
  });

  it("dedupes by hash: a later expiry extends, an equal or earlier one reports exists", async () => {
    t = await storeFor(mode);
    const m = msg("dup");
    await t.store.store(m);
    expect(await t.store.store({...m, expiry: m.expiry - 1})).toEqual({status: "exists", expiry: m.expiry});
    expect(await t.store.store(m)).toEqual({status: "exists", expiry: m.expiry});
    expect(await t.store.store({...m, expiry: m.expiry + 5})).toEqual({status: "extended", expiry: m.expiry + 5});
    expect(t.store.getExpiries(ACCOUNT_A, [m.hash]).get(m.hash)).toBe(m.expiry + 5);
    expect(t.store.stats().messageCount).toBe(1);
  });

  it("treats an expired but unswept copy as absent: stored again as new, at the end of the mailbox", async () => {
    t = await storeFor(mode);
    const old = msg("old", {expiry: T0 + 1_000});
    await t.store.store(old);
    await t.store.store(msg("other"));
    t.clock.advance(1_000);
    const result = await t.store.store({...old, expiry: T0 + HOUR_MS});
    expect(result).toEqual({status: "new", expiry: T0 + HOUR_MS, newMailbox: false});
    const hashes = t.store.retrieve(query()).messages.map((m) => m.hash);
    expect(hashes).toEqual([fakeHash("other"), old.hash]);
  });

  it("public outbox: storing replaces the account's other messages in that namespace only", async () => {
    t = await storeFor(mode);
    const removed: string[][] = [];
    t.store.on("removed", (h) => removed.push(h));
    await t.store.store(msg("a", {namespace: -1, replaceNamespace: true}));
    await t.store.store(msg("b", {namespace: -1}));
    await t.store.store(msg("keep-other-ns", {namespace: -21}));
    await t.store.store(msg("keep-other-account", {namespace: -1, account: ACCOUNT_B}));
    expect(await t.store.store(msg("c", {namespace: -1, replaceNamespace: true}))).toMatchObject({status: "new"});
    expect(t.store.retrieve(query({namespace: -1})).messages.map((m) => m.hash)).toEqual([fakeHash("c")]);
    expect(t.store.retrieve(query({namespace: -21})).messages).toHaveLength(1);
    expect(t.store.retrieve(query({namespace: -1, account: ACCOUNT_B})).messages).toHaveLength(1);
    expect(removed.flat().sort()).toEqual([fakeHash("a"), fakeHash("b")].sort());
    // Re-storing the current outbox message keeps it.
    expect(await t.store.store(msg("c", {namespace: -1, replaceNamespace: true}))).toMatchObject({status: "exists"});
    expect(t.store.retrieve(query({namespace: -1})).messages).toHaveLength(1);
  });

  it("mailbox rolling buffer evicts the oldest beyond mailboxMaxMessages, per (account, namespace)", async () => {
    t = await storeFor(mode, {mailboxMaxMessages: 3});
    const removed: string[] = [];
    t.store.on("removed", (h) => removed.push(...h));
    for (let i = 0; i < 5; i++) await t.store.store(msg(`m${i}`));
    await Promise.all([0, 1, 2].map((i) => t.store.store(msg(`n${i}`, {namespace: 7}))));
    const hashes = t.store.retrieve(query()).messages.map((m) => m.hash);
    expect(hashes).toEqual(["m2", "m3", "m4"].map(fakeHash));
    expect(removed).toEqual(["m0", "m1"].map(fakeHash));
    expect(t.store.retrieve(query({namespace: 7})).messages).toHaveLength(3);
    expect(t.store.stats()).toMatchObject({messageCount: 6, accountCount: 1});
  });

  it("evicts within the same transaction: concurrent stores never leave more than the limit", async () => {
    t = await storeFor(mode, {mailboxMaxMessages: 10});
    await Promise.all(Array.from({length: 50}, (_, i) => t.store.store(msg(`c${i}`))));
    const hashes = t.store.retrieve(query()).messages.map((m) => m.hash);
    expect(hashes).toEqual(Array.from({length: 10}, (_, i) => fakeHash(`c${40 + i}`)));
  });

  it("a full mailbox stays at the limit when a store replaces an expired copy or an outbox", async () => {
    t = await storeFor(mode, {mailboxMaxMessages: 3});
    await t.store.store(msg("old", {expiry: T0 + 1_000}));
    for (let i = 0; i < 2; i++) await t.store.store(msg(`m${i}`));
    t.clock.advance(1_000);
    // The expired copy is deleted and re-inserted: the count is 3 again, nothing to evict.
    await t.store.store(msg("old", {expiry: T0 + HOUR_MS}));
    expect(t.store.stats().messageCount).toBe(3);
    await t.store.store(msg("m2"));
    expect(t.store.retrieve(query()).messages.map((m) => m.hash)).toEqual(["m1", "old", "m2"].map(fakeHash));
    // An outbox store deletes the others first, then inserts: one message left.
    await t.store.store(msg("out", {replaceNamespace: true}));
    expect(t.store.retrieve(query()).messages.map((m) => m.hash)).toEqual([fakeHash("out")]);
  });

  it("emits added only for genuinely new messages, after commit", async () => {
    t = await storeFor(mode);
    const added: StoredMessage[] = [];
    t.store.on("added", (ms) => {
      // Listeners run after COMMIT: the message is already readable.
      for (const m of ms) expect(t.store.getExpiries(m.account, [m.hash]).has(m.hash)).toBe(true);
      added.push(...ms);
    });
    const m = msg("x");
    await t.store.store(m);
    await t.store.store(m);
    await t.store.store({...m, expiry: m.expiry + 1});
    expect(added.map((a) => a.hash)).toEqual([m.hash]);
    expect(added[0]).toMatchObject({account: ACCOUNT_A, namespace: 0, data: m.data});
  });

  it("a throwing listener is isolated and off() unsubscribes", async () => {
    t = await storeFor(mode);
    const seen: string[] = [];
    const bad = (): void => {
      throw new Error("listener bug");
    };
    const good = (ms: StoredMessage[]): void => void seen.push(...ms.map((m) => m.hash));
    t.store.on("added", bad);
    t.store.on("added", good);
    await expect(t.store.store(msg("1"))).resolves.toMatchObject({status: "new"});
    t.store.off("added", good);
    await t.store.store(msg("2"));
    expect(seen).toEqual([fakeHash("1")]);
  });

  it("rejects malformed input with STORAGE_ERROR_INVALID_INPUT before queueing", async () => {
    t = await storeFor(mode);
    await expectCode(t.store.store(msg("a", {account: "05abc"})), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.store(msg("a", {account: ACCOUNT_A.toUpperCase()})), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.store(msg("a", {hash: ""})), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.store(msg("a", {expiry: 1.5})), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.store(msg("a", {data: "nope" as unknown as Buffer})), "STORAGE_ERROR_INVALID_INPUT");
    expect(t.store.writeStats().commits).toBe(0);
  });

  it("accepts a plain Uint8Array as data", async () => {
    t = await storeFor(mode);
    await t.store.store(msg("u8", {data: new Uint8Array([9, 8, 7]) as Buffer}));
    expect([...(t.store.retrieve(query()).messages[0]?.data ?? [])]).toEqual([9, 8, 7]);
  });

  it("keeps node metadata through getState/setState", async () => {
    t = await storeFor(mode);
    expect(t.store.getState("network_id")).toBeNull();
    t.store.setState("network_id", "1");
    expect(t.store.getState("network_id")).toBe("1");
  });

  it("refuses writes after close with STORAGE_ERROR_CLOSED; reads throw the same code", async () => {
    t = await storeFor(mode);
    await t.store.close();
    await expectCode(t.store.store(msg("late")), "STORAGE_ERROR_CLOSED");
    await expectCode(t.store.deleteAll(ACCOUNT_A, "all"), "STORAGE_ERROR_CLOSED");
    expect(() => t.store.retrieve(query())).toThrow(expect.objectContaining({code: "STORAGE_ERROR_CLOSED"}) as Error);
    await t.store.close(); // idempotent
  });
});

describe.each(WRITE_MODES)("SqliteMessageStore.storeBulk (replication) (%s writes)", (mode) => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("inserts new messages, ignores known ones without extending, skips expired, emits added for new", async () => {
    t = await storeFor(mode);
    const added: string[] = [];
    t.store.on("added", (ms) => added.push(...ms.map((m) => m.hash)));
    const known = msg("known");
    await t.store.store(known);
    const fresh = msg("fresh", {account: ACCOUNT_B, namespace: 3});
    const expired = msg("expired", {expiry: T0});
    const result = await t.store.storeBulk([{...known, expiry: known.expiry + 99}, fresh, expired]);
    expect(result.map((m) => m.hash)).toEqual([fresh.hash]);
    expect(added).toEqual([known.hash, fresh.hash]);
    expect(t.store.getExpiries(ACCOUNT_A, [known.hash]).get(known.hash)).toBe(known.expiry);
    expect(t.store.retrieve(query({account: ACCOUNT_B, namespace: 3})).messages).toHaveLength(1);
    expect(t.store.getExpiries(ACCOUNT_A, [expired.hash]).size).toBe(0);
  });

  it("applies the rolling buffer and does not announce messages evicted by the same bulk", async () => {
    t = await storeFor(mode, {mailboxMaxMessages: 2});
    const added: string[] = [];
    const removed: string[] = [];
    t.store.on("added", (ms) => added.push(...ms.map((m) => m.hash)));
    t.store.on("removed", (h) => removed.push(...h));
    await t.store.store(msg("first"));
    const bulk = ["b0", "b1", "b2"].map((s) => msg(s));
    const result = await t.store.storeBulk(bulk);
    expect(result.map((m) => m.hash)).toEqual(["b1", "b2"].map(fakeHash));
    expect(added).toEqual(["first", "b1", "b2"].map(fakeHash));
    expect(removed).toEqual([fakeHash("first")]);
  });
});
