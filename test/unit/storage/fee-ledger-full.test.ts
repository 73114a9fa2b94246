/**
 * The fee ledger on a full disk: the fee service flushes it from a timer, where a throw would kill
 * the node, so a row SQLite cannot save (SQLITE_FULL, here from the max_page_count backstop) is
 * kept in memory, read back from there, and saved once there is room.
 */
import {afterEach, describe, expect, it} from "vitest";
import {SqliteFeeLedger, type FeeLedgerRow} from "../../../src/storage/fee-ledger.js";
import {memoryStore, type TestStore} from "./helpers.js";

const row = (epoch: number, stores: number, members = 1): FeeLedgerRow => ({
  epoch,
  epochMs: 3_600_000,
  feesTotal: BigInt(stores) * 10n ** 18n,
  stores,
  newMailboxes: 0,
  bytes: stores * 100,
  // Long member lists make a row need new pages.
  swarmMembers: Array.from({length: members}, (_, i) => `${i}`.padStart(64, "a")),
  updatedAt: epoch,
});

describe("fee ledger on a full disk", () => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("keeps unsaved rows in memory without throwing, and saves them once there is room", async () => {
    t = await memoryStore();
    const warnings: string[] = [];
    const ledger = new SqliteFeeLedger(t.store.db, {logger: {debug() {}, info() {}, warn: (_o: unknown, m: string) => void warnings.push(m), error() {}}});
    ledger.save(row(1, 1));
    const sqlite = t.store.db.sqlite;
    const pages = sqlite.pragma("page_count", {simple: true}) as number;
    sqlite.pragma(`max_page_count = ${pages}`);

    expect(() => ledger.save(row(2, 5, 200))).not.toThrow();
    expect(warnings).toEqual(["disk full: fee ledger row kept in memory until there is room"]);
    expect(ledger.get(2)).toMatchObject({stores: 5});
    expect(ledger.recent(10).map((r) => [r.epoch, r.stores])).toEqual([[2, 5], [1, 1]]);
    expect(sqlite.prepare("SELECT count(*) AS n FROM fee_ledger").get()).toEqual({n: 1});

    sqlite.pragma(`max_page_count = ${pages + 1000}`);
    ledger.save(row(3, 1));
    expect(sqlite.prepare("SELECT epoch, stores FROM fee_ledger ORDER BY epoch").all()).toEqual([
      {epoch: 1, stores: 1},
      {epoch: 2, stores: 5},
      {epoch: 3, stores: 1},
    ]);
  });

  it("still throws other failures", async () => {
    t = await memoryStore();
    const ledger = new SqliteFeeLedger(t.store.db);
    t.store.db.sqlite.exec("DROP TABLE fee_ledger");
    expect(() => ledger.save(row(1, 1))).toThrow(/no such table/);
  });
});
