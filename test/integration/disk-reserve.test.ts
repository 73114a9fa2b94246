/**
 * The disk reserve on a real full disk, made deterministic: with SQLite's auto-checkpoint off the
 * WAL only grows, so once another program has taken every free byte, any write (a delete, the
 * sweeper) needs room the disk no longer has. The store must release its reserve, checkpoint,
 * and succeed, where without a reserve the same delete fails. Closing on the full disk works.
 * Needs root (mount); skipped with the reason otherwise.
 */
import {execFileSync} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import Database from "better-sqlite3";
import {afterAll, afterEach, describe, expect, it} from "vitest";
import {SqliteMessageStore} from "../../src/storage/sqlite-message-store.js";
import {ManualClock} from "../../src/util/clock.js";
import {ACCOUNT_A, HOUR_MS, T0, msg, query} from "../unit/storage/helpers.js";
import {fillDisk, freeBytes} from "../utils/disk.js";

const TMPFS_BYTES = 8 * 1024 ** 2;
const RESERVE_BYTES = 1024 ** 2;

const root = mkdtempSync(join(tmpdir(), "pars-disk-reserve-"));
const mountError = tryMount();

function tryMount(): string | null {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_BYTES}`, "tmpfs", root], {stdio: "pipe"});
    return null;
  } catch (err) {
    const why = err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err);
    console.warn(`disk-reserve: skipped, cannot mount a tmpfs (needs root): ${why}`);
    return why;
  }
}

afterAll(() => {
  if (mountError === null) execFileSync("umount", [root]);
  rmSync(root, {recursive: true, force: true});
});

const warnings: string[] = [];
const logger = {debug() {}, info() {}, warn: (_o: unknown, m: string) => void warnings.push(m), error: (_o: unknown, m: string) => void warnings.push(m)};

let store: SqliteMessageStore | null = null;
let clock: ManualClock;
let run = 0;

afterEach(async () => {
  warnings.length = 0;
  await store?.close();
  store = null;
  rmSync(join(root, "filler"), {force: true});
  rmSync(join(root, `run${run - 1}`), {recursive: true, force: true});
});



/**
 * A store holding `count` 20 kB messages (half expiring at T0 + 1 s) plus 10 long-lived ones, on a
 * disk filled to the last byte, whose WAL holds frames that are never checkpointed on their own:
 * the 10 grew the database inside the WAL, so even a checkpoint needs room on the disk.
 */
async function stuckStore(reserveBytes: number, count = 60): Promise<SqliteMessageStore> {
  const dir = join(root, `run${run++}`);
  mkdirSync(dir);
  clock = new ManualClock(T0);
  const s = await SqliteMessageStore.open(
    {path: join(dir, "storage.db"), sweepIntervalMs: 0, diskReserveBytes: reserveBytes, diskHeadroomBytes: 0},
    {clock, logger},
  );
  store = s;
  for (let i = 0; i < count; i++) {
    await s.store(msg(`m${i}`, {data: Buffer.alloc(20_000, i), expiry: i % 2 === 0 ? T0 + 1_000 : T0 + HOUR_MS}));
  }
  s.db.sqlite.pragma("wal_checkpoint(TRUNCATE)");
  s.db.sqlite.pragma("wal_autocheckpoint = 0");
  for (let i = 0; i < 10; i++) await s.store(msg(`late${i}`, {data: Buffer.alloc(20_000, i)}));
  for (let i = 1; i < count; i += 2) {
    await s.expire({account: ACCOUNT_A, hashes: [msg(`m${i}`).hash], expiries: [T0 + 2 * HOUR_MS], mode: "extend"});
  }
  fillDisk(root);
  expect(freeBytes(root)).toBe(0);
  return s;
}

describe.skipIf(mountError !== null)("the disk reserve on a full tmpfs", () => {
  it("without a reserve, a delete on the full disk fails (the situation the reserve is for)", async () => {
    const s = await stuckStore(0);
    const hashes = s.retrieve(query()).messages.map((m) => m.hash);
    await expect(s.deleteAll(ACCOUNT_A, "all")).rejects.toMatchObject({code: "STORAGE_ERROR_FULL"});
    expect(s.retrieve(query()).messages.map((m) => m.hash)).toEqual(hashes);
  });

  it("releases the reserve on SQLITE_FULL so the delete succeeds; stores reuse the freed pages; the reserve comes back", async () => {
    const s = await stuckStore(RESERVE_BYTES);
    const dir = join(root, `run${run - 1}`);
    expect(existsSync(join(dir, "storage.reserve"))).toBe(true);
    const deleted = await s.deleteAll(ACCOUNT_A, "all");
    expect(deleted).toHaveLength(70);
    expect(existsSync(join(dir, "storage.reserve"))).toBe(false);
    expect(s.stats()).toMatchObject({messageCount: 0, diskReserveBytes: 0});
    expect(warnings).toContain("disk full: released the disk reserve so deletes and expiry can free space");
    // The filler is still there: new messages go into the pages the delete freed.
    for (let i = 0; i < 20; i++) {
      expect(await s.store(msg(`again${i}`, {data: Buffer.alloc(20_000, i)}))).toMatchObject({status: "new"});
    }
    // Once the other program's file is gone, the next sweep writes the reserve again.
    rmSync(join(root, "filler"));
    await s.sweepExpired();
    expect(existsSync(join(dir, "storage.reserve"))).toBe(true);
    expect(s.stats().diskReserveBytes).toBe(RESERVE_BYTES);
  });

  it("closes on the full disk (PRAGMA optimize cannot write there) and the database is intact", async () => {
    const s = await stuckStore(0);
    const dir = join(root, `run${run - 1}`);
    await expect(s.close()).resolves.toBeUndefined();
    expect(s.db.isOpen).toBe(false);
    rmSync(join(root, "filler"));
    const reopened = new Database(join(dir, "storage.db"), {readonly: true});
    try {
      expect(reopened.pragma("integrity_check", {simple: true})).toBe("ok");
      expect(reopened.prepare("SELECT count(*) AS n FROM messages").get()).toEqual({n: 70});
    } finally {
      reopened.close();
    }
  });

  it("the sweeper releases the reserve too and removes every expired message", async () => {
    const s = await stuckStore(RESERVE_BYTES);
    clock.set(T0 + 1_000);
    const swept = await s.sweepExpired();
    expect(swept.expired).toBe(30);
    expect(s.stats().messageCount).toBe(40);
    expect(warnings).toContain("disk full: released the disk reserve so deletes and expiry can free space");
  });
});
