import {afterEach, describe, expect, it} from "vitest";
import {StorageDb} from "../../../src/storage/db.js";
import {defaultStorageOptions} from "../../../src/storage/options.js";

describe("StorageDb", () => {
  let db: StorageDb;
  afterEach(() => db.close());
  const open = (hardLimitBytes = 64 * 1024 ** 2): StorageDb =>
    StorageDb.open({path: ":memory:", synchronous: "normal", busyTimeoutMs: 1234, hardLimitBytes, migrationsDir: null}, 0);

  it("turns foreign keys on, sets the busy timeout and the page-count backstop", () => {
    db = open(64 * 1024 ** 2);
    expect(db.sqlite.pragma("foreign_keys", {simple: true})).toBe(1);
    expect(db.sqlite.pragma("busy_timeout", {simple: true})).toBe(1234);
    expect(db.sqlite.pragma("max_page_count", {simple: true})).toBe((64 * 1024 ** 2) / db.pageSize);
    expect(db.usedBytes()).toBeGreaterThan(0);
    expect(db.usedBytes() % db.pageSize).toBe(0);
  });

  it("keeps node metadata in state_kv with its type", () => {
    db = open();
    expect(db.getState("network_id")).toBeNull();
    db.setState("network_id", "7");
    db.setState("n", 42);
    db.setState("blob", Buffer.from([1, 2]));
    expect(db.getState("network_id")).toBe("7");
    expect(db.getState("n")).toBe(42);
    expect(db.getState("blob")).toEqual(Buffer.from([1, 2]));
    db.setState("network_id", "8");
    expect(db.getState("network_id")).toBe("8");
  });

  it("close is idempotent", () => {
    db = open();
    db.close();
    expect(db.isOpen).toBe(false);
    expect(defaultStorageOptions.synchronous).toBe("normal");
  });
});
