import {copyFileSync, existsSync} from "node:fs";
import {join} from "node:path";
import Database from "better-sqlite3";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";
import {ACCOUNT_A, T0, expectCode, msg, query, tmpDir} from "./helpers.js";

describe("durability and reopening", () => {
  let dir: string;
  let cleanup: () => void;
  const open = (path: string, synchronous: "normal" | "full" = "normal"): Promise<SqliteMessageStore> =>
    openTestStore({path, synchronous}, {clock: new ManualClock(T0)});

  beforeEach(() => ({dir, cleanup} = tmpDir()));
  afterEach(() => cleanup());

  it("creates the parent directory and finds every acknowledged write after reopening", async () => {
    const path = join(dir, "nested", "deeper", "storage.db");
    const store = await open(path);
    const results = await Promise.all(Array.from({length: 300}, (_, i) => store.store(msg(`d${i}`))));
    expect(results.every((r) => r.status === "new")).toBe(true);
    await store.close();
    const reopened = await open(path);
    expect(reopened.db.migration.applied).toEqual([]);
    expect(reopened.retrieve(query({maxCount: 1_000})).messages).toHaveLength(300);
    await reopened.close();
  });

  it("acknowledged writes are in the files on disk without close (state of a kill -9)", async () => {
    const path = join(dir, "live.db");
    const store = await open(path);
    await Promise.all(Array.from({length: 200}, (_, i) => store.store(msg(`k${i}`))));
    await store.revokeSubaccounts(ACCOUNT_A, [Buffer.alloc(36, 3)]);
    // Copy the database and its WAL as they are now, as if the process had died here.
    const crashed = join(dir, "crashed.db");
    copyFileSync(path, crashed);
    expect(existsSync(`${path}-wal`)).toBe(true);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    const recovered = await open(crashed);
    expect(recovered.retrieve(query({maxCount: 1_000})).messages).toHaveLength(200);
    expect(recovered.isRevoked(ACCOUNT_A, Buffer.alloc(36, 3))).toBe(true);
    await recovered.close();
    await store.close();
  });

  it("uses WAL and the configured synchronous level", async () => {
    const normal = await open(join(dir, "n.db"));
    expect(normal.db.sqlite.pragma("journal_mode", {simple: true})).toBe("wal");
    expect(normal.db.sqlite.pragma("synchronous", {simple: true})).toBe(1);
    await normal.close();
    const full = await open(join(dir, "f.db"), "full");
    expect(full.db.sqlite.pragma("synchronous", {simple: true})).toBe(2);
    await full.store(msg("f"));
    await full.close();
  });

  it("refuses a database written by a newer version, with a clear error", async () => {
    const path = join(dir, "future.db");
    const store = await open(path);
    const known = store.db.migration.toVersion;
    await store.close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 0)").run(known + 1);
    raw.close();
    const attempt = open(path);
    await expectCode(attempt, "STORAGE_ERROR_SCHEMA_TOO_NEW");
    await expect(attempt).rejects.toThrow(/newer than this node knows/);
  });

  it("fails to open an unusable path with STORAGE_ERROR_OPEN_FAILED", async () => {
    copyFileSync(new URL(import.meta.url), join(dir, "not-a-dir")); // a file where a directory must go
    await expectCode(open(join(dir, "not-a-dir", "x.db")), "STORAGE_ERROR_OPEN_FAILED");
  });
});
