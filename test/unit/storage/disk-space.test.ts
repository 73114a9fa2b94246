/**
 * The store's side of the disk, on any machine: a faked free-space figure (what statfs would say)
 * sets the effective size limit, and the reserve file is written, released on SQLITE_FULL (here
 * from the max_page_count backstop) and written back. The real full disk is
 * test/integration/disk-full.test.ts and disk-reserve.test.ts (tmpfs, root only).
 */
import {existsSync, statSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {RESERVE_FILE_NAME} from "../../../src/storage/disk-space.js";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import type {StorageOptions} from "../../../src/storage/options.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";
import {ACCOUNT_A, T0, memoryStore, msg, tmpDir} from "./helpers.js";

const MIB = 1024 ** 2;
const RESERVE = MIB;
const HEADROOM = 2 * MIB;
const MESSAGE_BYTES = 32 * 1024;

interface Logged {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

describe("the store on a (faked) small disk", () => {
  let dir: ReturnType<typeof tmpDir> | null = null;
  let store: SqliteMessageStore | null = null;
  /** What the fake statfs reports. */
  let free = 0;
  let logged: Logged[] = [];
  afterEach(async () => {
    await store?.close();
    store = null;
    dir?.cleanup();
    dir = null;
  });

  const logger = Object.fromEntries(
    ["debug", "info", "warn", "error"].map((level) => [level, (obj: Record<string, unknown>, m: string) => void logged.push({level, msg: m, obj})]),
  ) as unknown as {debug(): void; info(): void; warn(): void; error(): void};

  async function open(opts: Partial<StorageOptions> = {}): Promise<SqliteMessageStore> {
    dir = tmpDir();
    logged = [];
    store = await openTestStore(
      {path: join(dir.dir, "storage.db"), diskReserveBytes: RESERVE, diskHeadroomBytes: HEADROOM, ...opts},
      {clock: new ManualClock(T0), logger, freeBytes: () => free},
    );
    return store;
  }

  const reservePath = (): string => join(dir!.dir, RESERVE_FILE_NAME);
  const dbFileBytes = (): number => statSync(join(dir!.dir, "storage.db")).size;

  it("limits the store to what the disk can hold: file + free − reserve − headroom, re-measured as it runs", async () => {
    free = 6 * MIB;
    const s = await open();
    expect(statSync(reservePath()).size).toBe(RESERVE);
    // The fake disk does not shrink when the reserve is written: held, it is simply not subtracted.
    const stats = s.stats();
    expect(stats.sizeLimitBytes).toBe(10 * 1024 ** 3);
    expect(stats.effectiveSizeLimitBytes).toBe(dbFileBytes() + 6 * MIB - HEADROOM);
    expect(stats).toMatchObject({diskFreeBytes: 6 * MIB, diskReserveBytes: RESERVE});
    const opened = logged.find((l) => l.msg === "message store opened");
    expect(opened?.obj).toMatchObject({sizeLimitBytes: 10 * 1024 ** 3, effectiveSizeLimitBytes: stats.effectiveSizeLimitBytes});
    expect(logged.some((l) => l.level === "warn" && /free disk space now limits/.test(l.msg))).toBe(true);

    // Another program takes space: the next commit re-measures and the store is full.
    await s.store(msg("first", {data: Buffer.alloc(MESSAGE_BYTES)}));
    free = 0;
    await s.store(msg("second", {data: Buffer.alloc(MESSAGE_BYTES)}));
    expect(s.isFull()).toBe(true);
    await expect(s.store(msg("refused"))).rejects.toMatchObject({
      code: "STORAGE_ERROR_FULL",
      message: expect.stringMatching(/limited by the free disk space/) as unknown as string,
    });
    expect(s.usage().sizeLimitBytes).toBe(Math.max(0, dbFileBytes() - HEADROOM));

    // Deletes work and, with room back, so do stores.
    expect(await s.deleteByHashes(ACCOUNT_A, [msg("first").hash])).toHaveLength(1);
    free = 6 * MIB;
    await s.sweepExpired();
    expect(s.isFull()).toBe(false);
    expect(await s.store(msg("accepted"))).toMatchObject({status: "new"});
  });

  it("keeps the configured limit when it is the smaller one", async () => {
    free = 1024 * MIB;
    const s = await open({sizeLimitBytes: 4 * MIB});
    expect(s.stats()).toMatchObject({sizeLimitBytes: 4 * MIB, effectiveSizeLimitBytes: 4 * MIB});
    expect(logged.some((l) => /free disk space now limits/.test(l.msg))).toBe(false);
  });

  it("writes the reserve only with room for it and the headroom, and takes it once room appears", async () => {
    free = RESERVE + HEADROOM - 1;
    const s = await open();
    expect(existsSync(reservePath())).toBe(false);
    expect(logged.some((l) => l.level === "warn" && l.msg === "no room for the disk reserve")).toBe(true);
    expect(s.stats()).toMatchObject({diskReserveBytes: 0, effectiveSizeLimitBytes: Math.max(0, dbFileBytes() - 1)});
    free = RESERVE + HEADROOM;
    await s.sweepExpired();
    expect(statSync(reservePath()).size).toBe(RESERVE);
    expect(s.stats().diskReserveBytes).toBe(RESERVE);
  });

  it("releases the reserve on SQLITE_FULL, and writes it back after a sweep when there is room", async () => {
    free = 64 * MIB;
    const s = await open({sizeLimitBytes: 64 * MIB, hardLimitBytes: 512 * 1024});
    let error: unknown = null;
    for (let i = 0; i < 100 && error === null; i++) {
      await s.store(msg(`m${i}`, {data: Buffer.alloc(MESSAGE_BYTES)})).catch((err: unknown) => (error = err));
    }
    expect(error).toMatchObject({code: "STORAGE_ERROR_FULL"});
    expect(existsSync(reservePath())).toBe(false);
    expect(logged.some((l) => l.level === "warn" && /released the disk reserve/.test(l.msg))).toBe(true);
    // Deletes still work; the sweep then takes the reserve back (the fake disk has room).
    expect((await s.deleteAll(ACCOUNT_A, "all")).length).toBeGreaterThan(0);
    await s.sweepExpired();
    expect(statSync(reservePath()).size).toBe(RESERVE);
  });

  it("keeps a larger reserve file left by an earlier configuration, and counts it as held", async () => {
    free = 64 * MIB;
    dir = tmpDir();
    writeFileSync(join(dir.dir, RESERVE_FILE_NAME), Buffer.alloc(2 * RESERVE));
    store = await openTestStore(
      {path: join(dir.dir, "storage.db"), diskReserveBytes: RESERVE, diskHeadroomBytes: 0},
      {clock: new ManualClock(T0), logger, freeBytes: () => free},
    );
    expect(store.stats()).toMatchObject({diskReserveBytes: 2 * RESERVE, effectiveSizeLimitBytes: dbFileBytes() + 64 * MIB});
  });

  it("has no disk facts in memory", async () => {
    const t = await memoryStore({sizeLimitBytes: 5 * MIB});
    try {
      const stats = t.store.stats();
      expect(stats).toMatchObject({sizeLimitBytes: 5 * MIB, effectiveSizeLimitBytes: 5 * MIB});
      expect(stats.diskFreeBytes).toBeUndefined();
    } finally {
      await t.store.close();
    }
  });
});
