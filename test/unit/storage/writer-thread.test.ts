import {spawnSync, type SpawnSyncReturns} from "node:child_process";
import {writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {pathToFileURL} from "node:url";
import {afterEach, describe, expect, it} from "vitest";
import type {StoredMessage} from "../../../src/storage/interface.js";
import type {StorageError} from "../../../src/storage/errors.js";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";
import {ACCOUNT_A, ACCOUNT_B, T0, expectCode, msg, query, tmpDir} from "./helpers.js";

// The writer thread runs the compiled worker (dist/): `npm run build` first.
describe("SqliteMessageStore with the writer thread", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  interface Extra {
    clock?: ManualClock;
    onWriterFailed?: (err: StorageError) => void;
  }

  async function open(opts: Parameters<typeof openTestStore>[0] = {}, extra: Extra = {}): Promise<{store: SqliteMessageStore; path: string}> {
    const {dir, cleanup} = tmpDir();
    cleanups.push(cleanup);
    const path = join(dir, "messages.db");
    const store = await openTestStore({path, writerThread: true, diskReserveBytes: 0, ...opts}, {clock: new ManualClock(T0), ...extra});
    cleanups.push(() => store.close());
    return {store, path};
  }

  async function reopen(path: string): Promise<SqliteMessageStore> {
    const store = await openTestStore({path, writerThread: false, diskReserveBytes: 0}, {clock: new ManualClock(T0)});
    cleanups.push(() => store.close());
    return store;
  }

  /** Runs `lines` in a fresh node process after they open `store` (writer thread on) over a new file. */
  function runWithStore(lines: readonly string[]): SpawnSyncReturns<string> {
    const {dir, cleanup} = tmpDir();
    cleanups.push(cleanup);
    const storeModule = pathToFileURL(resolve("dist/src/storage/sqlite-message-store.js")).href;
    const script = [
      `import {SqliteMessageStore} from ${JSON.stringify(storeModule)};`,
      `const store = await SqliteMessageStore.open({path: ${JSON.stringify(join(dir, "m.db"))}, writerThread: true, sweepIntervalMs: 0, diskReserveBytes: 0}, {clock: {now: () => Date.now()}});`,
      ...lines,
    ].join("\n");
    const file = join(dir, "script.mjs");
    writeFileSync(file, script);
    return spawnSync(process.execPath, [file], {encoding: "utf8", timeout: 60_000, env: {...process.env, NODE_OPTIONS: ""}});
  }

  it("runs on a database file, and inline for :memory: (one connection cannot be shared)", async () => {
    const {store} = await open();
    expect(store.writerThread).toBe(true);
    const memory = await openTestStore({writerThread: true}, {clock: new ManualClock(T0)});
    cleanups.push(() => memory.close());
    expect(memory.writerThread).toBe(false);
  });

  it("read-after-ack: a retrieve right after a store's answer sees the message, for every store of a burst", async () => {
    const {store} = await open();
    const seen: boolean[] = [];
    await Promise.all(
      Array.from({length: 300}, (_, i) =>
        store.store(msg(`r${i}`, {account: i % 2 === 0 ? ACCOUNT_A : ACCOUNT_B})).then(() => {
          // Synchronously in the continuation: the main thread's read connection, no waiting.
          const page = store.retrieve(query({account: i % 2 === 0 ? ACCOUNT_A : ACCOUNT_B}));
          seen.push(page.messages.some((m) => m.hash === msg(`r${i}`).hash));
        }),
      ),
    );
    expect(seen).toHaveLength(300);
    expect(seen.every(Boolean)).toBe(true);
    expect(store.writeStats().committedWrites).toBe(300);
    // One event-loop turn's stores went to the worker together.
    expect(store.writeStats().maxWritesPerCommit).toBeGreaterThan(1);
  });

  it("announces added and removed after the commit, with Buffer data, as inline writes do", async () => {
    const {store} = await open({mailboxMaxMessages: 2});
    const added: StoredMessage[] = [];
    const removed: string[] = [];
    store.on("added", (ms) => added.push(...ms));
    store.on("removed", (hs) => removed.push(...hs));
    await Promise.all([store.store(msg("a")), store.store(msg("b"))]);
    await store.store(msg("c"));
    expect(added.map((m) => m.hash)).toEqual([msg("a").hash, msg("b").hash, msg("c").hash]);
    expect(Buffer.isBuffer(added[0]?.data)).toBe(true);
    expect(added[2]?.data.toString()).toBe("data:c");
    expect(removed).toEqual([msg("a").hash]);
    const bulk = await store.storeBulk([{...msg("d"), account: ACCOUNT_B}]);
    expect(Buffer.isBuffer(bulk[0]?.data)).toBe(true);
    expect(Buffer.isBuffer(added.at(-1)?.data)).toBe(true);
  });

  it("close() commits every queued write before it resolves", async () => {
    const {store, path} = await open();
    const writes = Array.from({length: 500}, (_, i) => store.store(msg(`q${i}`)));
    const closed = store.close();
    expect((await Promise.all(writes)).every((r) => r.status === "new")).toBe(true);
    await closed;
    const again = await reopen(path);
    expect(again.stats().messageCount).toBe(500);
  });

  it("storage.commitDelayMs: stores of separate turns within it go to the thread as one batch; close() posts it at once", async () => {
    const {store, path} = await open({commitDelayMs: 60_000});
    const first = store.store(msg("d1"));
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.store(msg("d2"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.writeStats().commits).toBe(0);
    await store.close();
    expect(await Promise.all([first, second])).toMatchObject([{status: "new"}, {status: "new"}]);
    expect(store.writeStats()).toMatchObject({commits: 1, maxWritesPerCommit: 2});
    expect((await reopen(path)).stats().messageCount).toBe(2);
  });

  it("close() finishes in a process that nothing else keeps alive (the thread stays referenced until it exited)", () => {
    const child = runWithStore([
      `const data = Buffer.from("x");`,
      `await store.store({account: "05" + "aa".repeat(32), hash: "h".repeat(43), namespace: 0, timestamp: 1, expiry: Date.now() + 60000, data, replaceNamespace: false});`,
      `await store.close();`,
      `console.log("closed");`,
    ]);
    expect(child.stderr).toBe("");
    expect(child.stdout.trim()).toBe("closed");
    expect(child.status).toBe(0);
  });

  it("by default a writer-thread crash ends the process loudly (the error is rethrown for the crash handler)", () => {
    const child = runWithStore([
      `const held = store.store({account: "05" + "aa".repeat(32), hash: "h".repeat(43), namespace: 0, timestamp: 1, expiry: Date.now() + 60000, data: Buffer.from("x"), replaceNamespace: false});`,
      `held.catch((err) => console.log("rejected:", err.code));`,
      `store.crashWriterForTest();`,
      `setTimeout(() => console.log("still running"), 30000);`,
    ]);
    expect(child.stdout).toContain("rejected: STORAGE_ERROR_QUERY_FAILED");
    expect(child.stdout).not.toContain("still running");
    expect(child.stderr).toMatch(/storage writer thread exited .*writes fail until the node restarts/);
    expect(child.status).not.toBe(0);
  });

  it("a writer-thread crash rejects the writes it held with a clear error, keeps acknowledged data, and does not hang", async () => {
    const failures: StorageError[] = [];
    const {store, path} = await open({}, {onWriterFailed: (err) => failures.push(err)});
    await Promise.all(Array.from({length: 20}, (_, i) => store.store(msg(`ack${i}`))));
    const held = Array.from({length: 10}, (_, i) => store.store(msg(`lost${i}`)).then(() => null, (err: unknown) => err));
    store.crashWriterForTest();
    const errors = await Promise.all(held);
    for (const err of errors) {
      expect(err).toMatchObject({code: "STORAGE_ERROR_QUERY_FAILED"});
      expect(String((err as Error).message)).toMatch(/storage writer thread/);
    }
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toMatch(/writes fail until the node restarts/);
    // Later writes fail at once; reads still work; close does not wait for the dead thread.
    await expectCode(store.store(msg("after")), "STORAGE_ERROR_QUERY_FAILED");
    expect(store.retrieve(query()).messages.length).toBeGreaterThanOrEqual(20);
    await store.close();
    const again = await reopen(path);
    const hashes = new Set(again.retrieve(query()).messages.map((m) => m.hash));
    for (let i = 0; i < 20; i++) expect(hashes.has(msg(`ack${i}`).hash)).toBe(true);
  });

  it("SQLITE_FULL on the writer thread: the store fails with STORAGE_ERROR_FULL, deletes still work, and storing resumes", async () => {
    // The soft limit far above the page-count backstop: SQLite itself refuses, on the worker's connection.
    const {store} = await open({sizeLimitBytes: 1024 ** 3, hardLimitBytes: 512 * 1024});
    const big = (i: number): ReturnType<typeof msg> => msg(`big${i}`, {data: Buffer.alloc(16 * 1024, i)});
    const stored: string[] = [];
    let full: unknown = null;
    for (let i = 0; i < 200 && full === null; i++) {
      try {
        await store.store(big(i));
        stored.push(big(i).hash);
      } catch (err) {
        full = err;
      }
    }
    expect(full).toMatchObject({code: "STORAGE_ERROR_FULL"});
    expect(stored.length).toBeGreaterThan(5);
    // What was acknowledged is there; a delete frees room (it retries after SQLITE_FULL if it must).
    expect(store.retrieve(query()).messages).toHaveLength(stored.length);
    expect(await store.deleteByHashes(ACCOUNT_A, stored.slice(0, 10))).toHaveLength(10);
    expect((await store.store(msg("fits"))).status).toBe("new");
  });

  it("the TTL sweep runs on the writer thread and announces what it removed", async () => {
    const clock = new ManualClock(T0);
    const {store} = await open({}, {clock});
    const removed: string[] = [];
    store.on("removed", (hs) => removed.push(...hs));
    await store.store(msg("short", {expiry: T0 + 1}));
    await store.store(msg("long"));
    clock.set(T0 + 1);
    const r = await store.sweepExpired();
    expect(r.expired).toBe(1);
    expect(removed).toEqual([msg("short").hash]);
    expect(store.stats().messageCount).toBe(1);
  });
});
