import {afterEach, describe, expect, it} from "vitest";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import {ACCOUNT_A, ACCOUNT_B, HOUR_MS, T0, msg} from "./helpers.js";
import {memoryStore} from "./helpers.js";

let store: SqliteMessageStore;
afterEach(() => store.close());

/** The trigger-kept totals must equal a full recount after any mix of writes. */
function recount(s: SqliteMessageStore): {messages: number; accounts: number} {
  return s.db.sqlite.prepare("SELECT count(*) AS messages, count(DISTINCT owner) AS accounts FROM messages").get() as {messages: number; accounts: number};
}

describe("store totals", () => {
  it("stay equal to a recount through stores, outbox replacement, eviction, deletes and sweeps", async () => {
    const opened = await memoryStore({mailboxMaxMessages: 3});
    store = opened.store;
    const check = (label: string): void => {
      const s = store.stats();
      expect({messages: s.messageCount, accounts: s.accountCount}, label).toEqual(recount(store));
    };
    check("empty");
    for (let i = 0; i < 5; i++) await store.store(msg(`a${i}`));
    check("after eviction at 3");
    await store.store(msg("b0", {account: ACCOUNT_B, namespace: -1, replaceNamespace: true}));
    await store.store(msg("b1", {account: ACCOUNT_B, namespace: -1, replaceNamespace: true}));
    await store.store(msg("b2", {account: ACCOUNT_B, namespace: 5, expiry: T0 + 1}));
    check("after outbox replacement");
    expect(store.stats().accountCount).toBe(2);
    await store.deleteAll(ACCOUNT_A, "all");
    check("after delete_all");
    expect(store.stats().accountCount).toBe(1);
    opened.clock.advance(HOUR_MS);
    await store.sweepExpired();
    check("after sweep");
    expect(store.stats().messageCount).toBe(0);
    expect(store.stats().accountCount).toBe(0);
  });
});
