import Database from "better-sqlite3";
import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import {toStorageError} from "../../../src/storage/errors.js";
import {WriteBatcher, type WriteOutcome} from "../../../src/storage/write-batcher.js";
import {ACCOUNT_A, expectCode, fakeHash, memoryStore, msg, query, type TestStore} from "./helpers.js";

describe("WriteBatcher", () => {
  let db: Database.Database;
  let committed: Array<Array<WriteOutcome<unknown>>>;
  let flushes: number;

  function batcher(maxBatchWrites = 1_000, delayMs?: number): WriteBatcher {
    return new WriteBatcher(
      {maxBatchWrites, ...(delayMs === undefined ? {} : {delayMs})},
      {db, mapError: (e) => toStorageError(e, 0), onCommit: (o) => committed.push(o), onFlushed: () => flushes++},
    );
  }
  const insert = (v: string) => (): WriteOutcome<string> => {
    db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
    return {value: v};
  };
  const rows = (): string[] => db.prepare<[], {v: string}>("SELECT v FROM t ORDER BY v").all().map((r) => r.v);

  beforeEach(() => {
    db = new Database(":memory:");
    db.exec("CREATE TABLE t (v TEXT PRIMARY KEY)");
    committed = [];
    flushes = 0;
  });
  afterEach(() => db.close());

  it("runs the writes of one event-loop turn in one transaction and settles them after COMMIT", async () => {
    const b = batcher();
    const promises = ["a", "b", "c"].map((v) => b.enqueue(insert(v)));
    expect(rows(), "nothing runs before the flush").toEqual([]);
    expect(b.pending).toBe(3);
    expect(await Promise.all(promises)).toEqual(["a", "b", "c"]);
    expect(b.stats()).toEqual({commits: 1, committedWrites: 3, failedWrites: 0, maxWritesPerCommit: 3});
    expect(committed).toHaveLength(1);
    expect(flushes).toBe(1);
    expect(db.inTransaction).toBe(false);
  });

  it("a failing write rolls back alone; its batch-mates commit", async () => {
    const b = batcher();
    const bad = (): WriteOutcome<string> => {
      db.prepare("INSERT INTO t (v) VALUES ('partial')").run();
      db.prepare("INSERT INTO t (v) VALUES ('a')").run(); // duplicate of the first write
      return {value: "never"};
    };
    const results = await Promise.allSettled([b.enqueue(insert("a")), b.enqueue(bad), b.enqueue(insert("c"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({code: "STORAGE_ERROR_QUERY_FAILED"});
    expect(rows()).toEqual(["a", "c"]);
    expect(b.stats()).toMatchObject({commits: 1, committedWrites: 2, failedWrites: 1});
    expect(committed[0]?.map((o) => o.value)).toEqual(["a", "c"]);
  });

  it("when COMMIT fails every write of the transaction rejects and nothing is announced", async () => {
    db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    db.exec("CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)");
    db.pragma("foreign_keys = ON");
    const b = batcher();
    const orphan = (): WriteOutcome<string> => {
      db.prepare("INSERT INTO child (p) VALUES (42)").run(); // checked only at COMMIT
      return {value: "orphan"};
    };
    const results = await Promise.allSettled([b.enqueue(insert("a")), b.enqueue(orphan)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({code: "STORAGE_ERROR_QUERY_FAILED"});
    expect(rows()).toEqual([]);
    expect(committed).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });

  it("if SQLite loses the transaction, the writes run in it reject and the rest go on in a new one", async () => {
    const b = batcher();
    const loseTransaction = (): WriteOutcome<string> => {
      db.prepare("ROLLBACK").run(); // what SQLITE_FULL or an I/O error may do
      throw new Error("disk trouble");
    };
    const results = await Promise.allSettled([
      b.enqueue(insert("a")),
      b.enqueue(loseTransaction),
      b.enqueue(insert("c")),
      b.enqueue(insert("d")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled", "fulfilled"]);
    expect(rows()).toEqual(["c", "d"]);
    expect(b.stats()).toMatchObject({commits: 1, committedWrites: 2, failedWrites: 2});
  });

  it("flushes synchronously when maxBatchWrites writes are queued", async () => {
    const b = batcher(2);
    const first = b.enqueue(insert("a"));
    const second = b.enqueue(insert("b"));
    expect(rows(), "flushed without waiting for the turn").toEqual(["a", "b"]);
    const third = b.enqueue(insert("c"));
    expect(rows()).toEqual(["a", "b"]);
    await Promise.all([first, second, third]);
    expect(b.stats()).toMatchObject({commits: 2, maxWritesPerCommit: 2});
  });

  describe("with delayMs (storage.commitDelayMs)", () => {
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    beforeEach(() => vi.useFakeTimers({toFake: ["setTimeout", "clearTimeout"]}));
    afterEach(() => vi.useRealTimers());

    it("without it, a turn's writes commit at its end: writes of two turns take two transactions", async () => {
      const b = batcher();
      const first = b.enqueue(insert("a"));
      await nextTurn();
      expect(rows(), "committed at the end of its turn").toEqual(["a"]);
      const second = b.enqueue(insert("b"));
      await Promise.all([first, second]);
      expect(b.stats()).toMatchObject({commits: 2, maxWritesPerCommit: 1});
    });

    it("writes of several turns within the delay share one transaction, committed when it ends", async () => {
      const b = batcher(1_000, 5);
      const first = b.enqueue(insert("a"));
      await nextTurn();
      const second = b.enqueue(insert("b"));
      await nextTurn();
      expect(rows(), "nothing commits before the delay is over").toEqual([]);
      expect(b.pending).toBe(2);
      vi.advanceTimersByTime(5);
      expect(await Promise.all([first, second])).toEqual(["a", "b"]);
      expect(b.stats()).toEqual({commits: 1, committedWrites: 2, failedWrites: 0, maxWritesPerCommit: 2});
      // The next write starts a new delay.
      const third = b.enqueue(insert("c"));
      await nextTurn();
      expect(rows()).toEqual(["a", "b"]);
      vi.advanceTimersByTime(5);
      await third;
      expect(b.stats().commits).toBe(2);
    });

    it("still flushes at once when maxBatchWrites writes are queued, and flush() cancels the delay", async () => {
      const b = batcher(2, 1_000);
      const batch = [b.enqueue(insert("a")), b.enqueue(insert("b"))];
      expect(rows(), "flushed without waiting for the delay").toEqual(["a", "b"]);
      await Promise.all(batch);
      const late = b.enqueue(insert("c"));
      b.flush();
      await late;
      expect(rows()).toEqual(["a", "b", "c"]);
      expect(vi.getTimerCount(), "no timer left behind").toBe(0);
    });
  });

  it("writes queued by a commit listener run in a later transaction", async () => {
    let b: WriteBatcher | null = null;
    let nested: Promise<string> | null = null;
    b = new WriteBatcher(
      {maxBatchWrites: 10},
      {
        db,
        mapError: (e) => toStorageError(e, 0),
        onCommit: () => {
          nested ??= b!.enqueue(insert("nested"));
        },
        onFlushed: () => {},
      },
    );
    await b.enqueue(insert("a"));
    const queuedByListener = nested as Promise<string> | null;
    expect(await queuedByListener).toBe("nested");
    expect(rows()).toEqual(["a", "nested"]);
    expect(b.stats().commits).toBe(2);
  });
});

describe("group commit through SqliteMessageStore", () => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("many concurrent stores share one transaction", async () => {
    t = await memoryStore();
    const before = t.store.writeStats().commits;
    const results = await Promise.all(Array.from({length: 200}, (_, i) => t.store.store(msg(`g${i}`))));
    expect(results.every((r) => r.status === "new")).toBe(true);
    const stats = t.store.writeStats();
    expect(stats.commits - before).toBe(1);
    expect(stats.maxWritesPerCommit).toBe(200);
    expect(t.store.retrieve(query()).messages).toHaveLength(200);
  });

  it("a store failing inside SQLite does not fail its batch-mates", async () => {
    t = await memoryStore();
    const boom = fakeHash("boom");
    t.store.db.sqlite.exec(
      `CREATE TEMP TRIGGER fail_boom BEFORE INSERT ON messages WHEN NEW.hash = '${boom}' ` +
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    );
    const ok1 = t.store.store(msg("ok1"));
    const bad = t.store.store(msg("boom"));
    const ok2 = t.store.store(msg("ok2"));
    await expectCode(bad, "STORAGE_ERROR_QUERY_FAILED");
    expect((await ok1).status).toBe("new");
    expect((await ok2).status).toBe("new");
    expect(t.store.writeStats()).toMatchObject({commits: 1, committedWrites: 2, failedWrites: 1});
    expect(t.store.retrieve(query()).messages.map((m) => m.hash)).toEqual([fakeHash("ok1"), fakeHash("ok2")]);
    // The failed store left no owner or counter residue.
    expect(t.store.stats().messageCount).toBe(2);
  });

  it("storage.commitDelayMs: stores of separate turns within it share a commit; close() commits without waiting for it", async () => {
    t = await memoryStore({commitDelayMs: 60_000});
    const before = t.store.writeStats().commits;
    const first = t.store.store(msg("d1"));
    await new Promise((resolve) => setImmediate(resolve));
    const second = t.store.store(msg("d2"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.store.writeStats().commits - before).toBe(0);
    await t.store.close();
    expect(await Promise.all([first, second])).toMatchObject([{status: "new"}, {status: "new"}]);
    expect(t.store.writeStats()).toMatchObject({commits: before + 1, maxWritesPerCommit: 2});
  });

  it("close() commits queued writes before closing", async () => {
    t = await memoryStore();
    const pending = [t.store.store(msg("q1")), t.store.deleteAll(ACCOUNT_A, "all"), t.store.store(msg("q2"))];
    await t.store.close();
    const [s1, deleted, s2] = await Promise.all(pending);
    expect(s1).toMatchObject({status: "new"});
    expect(deleted).toEqual([{namespace: 0, hash: fakeHash("q1")}]);
    expect(s2).toMatchObject({status: "new"});
  });
});
