/**
 * The commitment engine on its worker thread (src/proofs/engine-host.ts) against the same engine
 * in this thread, over one database file: same roots, same inclusion paths, answers served while
 * a rebuild runs, and a worker that fails is replaced.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {initHashing, sha256} from "../../src/crypto/hash.js";
import {BUCKET_COUNT, FULL_PLAN, LocalEngine, PAGE_ROWS, ProofError, WorkerEngine, bucketOf, dataDigest, decodeMessageHash, refreshCommitment} from "../../src/proofs/index.js";
import {CommitmentReader, CommitmentStore, ProofTables, StorageDb} from "../../src/storage/index.js";
import {MIN_PROOF_CACHE_KIB, persistedMessageCount, proofPageCacheKiB} from "../../src/storage/commitment-store.js";

const T = 1_767_225_600_000;
const N = 20_000;
const dir = mkdtempSync(join(tmpdir(), "pars-proofs-worker-"));
const path = join(dir, "store.db");
const warnings: string[] = [];
const logger = {warn: (_: object, msg: string) => void warnings.push(msg)};
let db: StorageDb;
let tables: ProofTables;

/** N messages written straight to SQLite (with digests, as the store writes them). */
function fill(n: number, from = 0): void {
  const owner = db.sqlite.prepare("INSERT OR IGNORE INTO owners (id, type, pubkey) VALUES (?, 5, ?)");
  const insert = db.sqlite.prepare("INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data, data_digest) VALUES (?, ?, ?, ?, ?, ?, ?)");
  db.sqlite.transaction(() => {
    for (let o = 1; o <= 50; o++) owner.run(o, sha256(Buffer.from(`owner ${o}`)));
    for (let i = from; i < from + n; i++) {
      const data = Buffer.from(`message ${i} `.repeat(1 + (i % 9)));
      const hash = sha256(Buffer.from(`hash ${i}`)).toString("base64").slice(0, 43);
      insert.run(hash, 1 + (i % 50), i % 3, T - 60_000, T + 3_600_000 + i, data, dataDigest(data));
    }
  })();
}

beforeAll(async () => {
  await initHashing();
  db = StorageDb.open({path, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 40, migrationsDir: null}, T);
  tables = new ProofTables(db);
  fill(N);
});

afterAll(() => {
  db.close();
  rmSync(dir, {recursive: true, force: true});
});

const liveOf = (hash: string) => {
  const m = tables.messageByHash(hash, T);
  if (m === null) throw new Error(`no message ${hash}`);
  return {account: m.account, namespace: m.namespace, dataDigest: dataDigest(m.data)};
};

/** A full build at T, published: what the races below answer from. */
async function publishFirst(worker: WorkerEngine): Promise<void> {
  await worker.refresh({timestamp: T, changed: null});
  await worker.publish(T);
}

/**
 * Starts `refresh`, then asks for the inclusion path of a live message at T while it runs; the
 * order in which the two came back ("found" or "not found", and what `refresh` resolved with).
 */
async function findDuring(worker: WorkerEngine, refresh: () => Promise<string>): Promise<string[]> {
  const hash = tables.liveHashesInRange("A", "z", T)[0]!;
  const order: string[] = [];
  const refreshed = refresh().then((what) => order.push(what));
  const found = worker.find(T, hash, liveOf(hash)).then((f) => order.push(f === null ? "not found" : "found"));
  await Promise.all([refreshed, found]);
  return order;
}

describe("the commitment worker's connections", () => {
  // better-sqlite3's default page cache is 16 MB a connection; the worker's two filled theirs (~40 MB
  // of the 1 M bench's peak RSS), while at 10 M the churn needs the B-trees' inner pages cached
  // (docs/benchmarks.md, "Session 10: memory at 1 M").
  it("keep a page cache by the node's size: 2 MB up to 1.3 M messages, SQLite's 16 MB from 10 M", () => {
    expect(proofPageCacheKiB(0)).toBe(MIN_PROOF_CACHE_KIB);
    expect(proofPageCacheKiB(1_000_000)).toBe(MIN_PROOF_CACHE_KIB);
    expect(proofPageCacheKiB(5_000_000)).toBe(7813);
    expect(proofPageCacheKiB(10_000_000)).toBe(15_625);
    expect(proofPageCacheKiB(100_000_000)).toBe(16_000);
    const reader = CommitmentReader.openReadOnly(path, 5_000);
    const store = CommitmentStore.open(path, 5_000);
    try {
      expect(MIN_PROOF_CACHE_KIB).toBeLessThanOrEqual(4096);
      expect(reader.pageCacheKiB()).toBe(proofPageCacheKiB(persistedMessageCount(db.sqlite)));
      expect(store.pageCacheKiB()).toBe(proofPageCacheKiB(persistedMessageCount(db.sqlite)));
      reader.sizePageCache(10_000_000);
      store.sizePageCache(10_000_000);
      expect(reader.pageCacheKiB()).toBe(15_625);
      expect(store.pageCacheKiB()).toBe(15_625);
    } finally {
      reader.close();
      store.close();
    }
    // A reader over the node's own connection leaves that connection's cache alone.
    const before = db.sqlite.pragma("cache_size", {simple: true});
    new CommitmentReader(db.sqlite).sizePageCache(1_000_000);
    expect(db.sqlite.pragma("cache_size", {simple: true})).toBe(before);
  });
});

describe("full build on a read-only connection", () => {
  it("holds no read transaction across its yields: the writer can checkpoint and truncate the WAL at every one", async () => {
    const reader = CommitmentReader.openReadOnly(path, 5_000);
    const results: number[] = [];
    try {
      const c = await refreshCommitment(reader, null, FULL_PLAN, {
        timestamp: T,
        sliceBudgetMs: 0,
        yieldFn: () => {
          db.sqlite.prepare("UPDATE messages SET timestamp = timestamp + 1 WHERE id = ?").run(1 + results.length);
          const [row] = db.sqlite.pragma("wal_checkpoint(TRUNCATE)") as Array<{busy: number}>;
          results.push(row!.busy);
          return Promise.resolve();
        },
      });
      expect(c!.messageCount).toBe(N);
      expect(results.length).toBeGreaterThanOrEqual(Math.floor(N / PAGE_ROWS));
      expect(results.every((busy) => busy === 0)).toBe(true);
    } finally {
      reader.close();
      tables.takeUpdatedHashes();
    }
  });
});

describe("WorkerEngine", () => {
  it("builds and refreshes the same commitment as the engine in this thread, with the same inclusion paths", async () => {
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger);
    const local = new LocalEngine(tables.reader, {sliceBudgetMs: 10});
    try {
      const [w, l] = [await worker.refresh({timestamp: T, changed: null}), await local.refresh({timestamp: T, changed: null})];
      expect(w!.messageCount).toBe(N);
      expect(Buffer.isBuffer(w!.root)).toBe(true);
      expect(w!.root.equals(l!.root)).toBe(true);
      expect([...w!.bucketCounts]).toEqual([...l!.bucketCounts]);
      await Promise.all([worker.publish(T), local.publish(T)]);
      const hashes = tables.liveHashesInRange("A", "z", T).slice(0, 20);
      for (const h of hashes) expect(await worker.find(T, h, liveOf(h))).toEqual(await local.find(T, h, liveOf(h)));

      // Changes made through SQL reach both by the change list; the refresh re-reads nothing else.
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 7 WHERE id % 1000 = 0").run();
      fill(500, N);
      const changed = [...tables.takeUpdatedHashes(), ...(db.sqlite.prepare("SELECT hash FROM messages WHERE id > ?").pluck().all(N) as string[])];
      const [w2, l2] = [await worker.refresh({timestamp: T + 1, changed}), await local.refresh({timestamp: T + 1, changed})];
      expect(w2!.messageCount).toBe(N + 500);
      expect(w2!.root.equals(l2!.root)).toBe(true);
      expect(w2!.stats.reread).toBe(0);
    } finally {
      await worker.close();
      await local.close();
    }
  });

  it("collects garbage during and after a full build while nothing is published, and not during a rebuild beside a published commitment", async () => {
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 1}, logger);
    try {
      await worker.refresh({timestamp: T, changed: null});
      const built = await worker.memory();
      expect(built.gcs).toBeGreaterThanOrEqual(2);
      expect(built.lastGcMs).toBeGreaterThan(0);
      await worker.publish(T);
      // Answers to the published commitment would wait for a pause: V8 collects as it decides.
      await worker.refresh({timestamp: T + 1, changed: null});
      await worker.publish(T + 1);
      expect((await worker.memory()).gcs).toBe(built.gcs);
    } finally {
      await worker.close();
    }
  });

  it("runs with a bounded heap, so V8 collects a refresh's garbage before it grows to several times the live heap", async () => {
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger);
    try {
      const {heapLimit} = await worker.memory();
      // Old generation 512 MB plus the young one: V8's default here is 2 GB or more (growth up to 4× per GC).
      expect(heapLimit).toBeGreaterThanOrEqual(512 * 1024 * 1024);
      expect(heapLimit).toBeLessThan(600 * 1024 * 1024);
    } finally {
      await worker.close();
    }
  });

  it("starts its worker with a young generation chosen by the node's messages (store_totals): small at this size, larger past the line", async () => {
    const stored = (db.sqlite.prepare("SELECT messages FROM store_totals WHERE id = 1").pluck().get() as number);
    expect(stored).toBeGreaterThanOrEqual(N);
    const small = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger);
    const large = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger, {largeNodeMessages: stored});
    const fixed = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger, {largeNodeMessages: stored, youngGenerationMb: 8});
    try {
      expect((await small.memory()).youngGenerationMb).toBe(4);
      expect((await large.memory()).youngGenerationMb).toBe(32);
      expect((await fixed.memory()).youngGenerationMb).toBe(8);
    } finally {
      await Promise.all([small.close(), large.close(), fixed.close()]);
    }
  });

  it("moves a node that grew past the line to a larger worker at its next refresh: answers go on across the swap, and the refresh gives a full build's root", async () => {
    const request = (timestamp: number, logFrom = 0) => {
      const log = tables.changeLog(1_000_000, logFrom);
      return {req: {timestamp, changed: [...new Set(log.hashes)], logWatermark: log.watermark, logFrom}, watermark: log.watermark};
    };
    // Start from a persisted commitment of what is stored now, its log trimmed.
    const seed = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger);
    try {
      await seed.refresh({timestamp: T + 20, changed: null, logWatermark: tables.changeLog(1_000_000).watermark});
    } finally {
      await seed.close();
    }
    const before = (db.sqlite.prepare("SELECT count(*) FROM messages WHERE expiry > ?").pluck().get(T + 21) as number);
    const line = before + 100;
    const engine = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger, {largeNodeMessages: line});
    const local = new LocalEngine(tables.reader, {sliceBudgetMs: 10});
    const from = warnings.length;
    try {
      let r = request(T + 21);
      expect((await engine.refresh(r.req))!.messageCount).toBe(before);
      await engine.publish(T + 21);
      expect((await engine.memory()).youngGenerationMb).toBe(4);
      // The node grows past the line: this refresh still runs on the small worker …
      fill(150, N + 5_000);
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 3 WHERE id % 500 = 0").run();
      tables.takeUpdatedHashes();
      r = request(T + 22, r.watermark);
      const grown = await engine.refresh(r.req);
      expect(grown!.messageCount).toBeGreaterThanOrEqual(line);
      await engine.publish(T + 22);
      expect((await engine.memory()).youngGenerationMb).toBe(4);
      // … and the next one on a worker of the larger size, which took the published commitment over
      // from disk: an answer asked while the refresh (and the swap before it) runs is found.
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 5 WHERE id % 700 = 0").run();
      fill(20, N + 6_000);
      tables.takeUpdatedHashes();
      r = request(T + 23, r.watermark);
      const hash = tables.liveHashesInRange("A", "z", T + 22)[3]!;
      const refreshed = engine.refresh(r.req);
      const answered = engine.find(T + 22, hash, liveOf(hash));
      expect(await answered).not.toBeNull();
      const swapped = await refreshed;
      expect((await engine.memory()).youngGenerationMb).toBe(32);
      // The old worker answered until the new one held the commitment; the new one answers it too.
      expect(await engine.find(T + 22, hash, liveOf(hash))).toEqual(await answered);
      const full = await local.refresh({timestamp: T + 23, changed: null});
      expect(swapped!.root.equals(full!.root)).toBe(true);
      expect(swapped!.messageCount).toBe(full!.messageCount);
      expect(swapped!.loadedMs).toBe(0);
      expect(swapped!.stats.rebuilt).toBeLessThan(BUCKET_COUNT / 10);
      await engine.publish(T + 23);
      expect(await engine.find(T + 23, hash, liveOf(hash))).not.toBeNull();
      expect(warnings.slice(from)).toEqual([]);
    } finally {
      await engine.close();
      await local.close();
    }
  });

  it("keeps its worker while the persisted commitment is not the published one (a refresh left unpublished), and moves once it is", async () => {
    const request = (timestamp: number) => {
      const log = tables.changeLog(1_000_000);
      return {timestamp, changed: [...new Set(log.hashes)], logWatermark: log.watermark};
    };
    const stored = db.sqlite.prepare("SELECT messages FROM store_totals WHERE id = 1").pluck().get() as number;
    const engine = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger, {largeNodeMessages: stored + 100});
    const local = new LocalEngine(tables.reader, {sliceBudgetMs: 10});
    const from = warnings.length;
    try {
      await engine.refresh(request(T + 41));
      await engine.publish(T + 41);
      fill(150, N + 7_000);
      tables.takeUpdatedHashes();
      // Past the line, but its proof is never published: the persisted commitment (T + 42) is not the published one (T + 41).
      expect((await engine.refresh(request(T + 42)))!.messageCount).toBeGreaterThanOrEqual(stored + 100);
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 2 WHERE id % 900 = 0").run();
      tables.takeUpdatedHashes();
      await engine.refresh(request(T + 43));
      expect((await engine.memory()).youngGenerationMb).toBe(4);
      expect(warnings.slice(from).filter((w) => w.includes("could not move the commitment"))).toHaveLength(1);
      await engine.publish(T + 43);
      // Now the persisted commitment is the published one: the next refresh moves.
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 2 WHERE id % 800 = 0").run();
      tables.takeUpdatedHashes();
      const moved = await engine.refresh(request(T + 44));
      expect((await engine.memory()).youngGenerationMb).toBe(32);
      expect(moved!.root.equals((await local.refresh({timestamp: T + 44, changed: null}))!.root)).toBe(true);
      expect(warnings.slice(from)).toHaveLength(1);
    } finally {
      await engine.close();
      await local.close();
    }
  });

  it("replaces a worker that ran out of heap with one of twice the limit, so the refresh that needed more succeeds", async () => {
    // 4 MB of old generation cannot hold a full build of N messages; 32 MB can (three doublings).
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger, {oldGenerationMb: 4});
    const from = warnings.length;
    const failures: string[] = [];
    try {
      let summary = null;
      for (let attempt = 0; attempt < 6 && summary === null; attempt++) {
        summary = await worker.refresh({timestamp: T, changed: null}).catch((err: NodeJS.ErrnoException) => {
          failures.push(err.code ?? err.message);
          return null;
        });
      }
      expect(failures.length).toBeGreaterThan(0);
      expect(new Set(failures)).toEqual(new Set(["ERR_WORKER_OUT_OF_MEMORY"]));
      const live = db.sqlite.prepare("SELECT COUNT(*) AS n FROM messages WHERE expiry > ?").get(T) as {n: number};
      expect(summary?.messageCount).toBe(live.n);
      expect((await worker.memory()).heapLimit).toBeGreaterThan(2 ** failures.length * 4 * 1024 * 1024);
      expect(warnings.slice(from).filter((w) => w.includes("twice the limit"))).toHaveLength(failures.length);
    } finally {
      await worker.close();
    }
  });

  it("answers an inclusion request inside a slice, after the step it arrived in: a rebuild in one long slice does not hold it", async () => {
    // One slice for the whole rebuild: only the per-step poll can answer before it ends.
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 60_000}, logger);
    try {
      await publishFirst(worker);
      // The find is queued behind the rebuild, which starts its one slice before the worker reads the port again.
      expect(await findDuring(worker, () => worker.refresh({timestamp: T + 2, changed: null}).then(() => "rebuild"))).toEqual(["found", "rebuild"]);
    } finally {
      await worker.close();
    }
  });

  it("answers an inclusion request queued during an incremental refresh before the refresh ends, with the refresh in one slice", async () => {
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 60_000}, logger);
    try {
      await publishFirst(worker);
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 11 WHERE id % 4 = 0").run();
      const changed = tables.takeUpdatedHashes();
      expect(changed.length).toBeGreaterThanOrEqual(N / 4);
      const order = await findDuring(worker, () => worker.refresh({timestamp: T + 1, changed}).then((s) => `refresh ${s!.stats.rebuilt}`));
      expect(order[0]).toBe("found");
      expect(order[1]).toMatch(/^refresh [1-9]/);
    } finally {
      await worker.close();
    }
  });

  it("answers inclusion requests between the slices of a full rebuild", async () => {
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 1}, logger);
    try {
      await publishFirst(worker);
      expect(await findDuring(worker, () => worker.refresh({timestamp: T + 2, changed: null}).then(() => "rebuild"))).toEqual(["found", "rebuild"]);
    } finally {
      await worker.close();
    }
  });

  it("reports a full build's progress to the host while it runs, and none once it is done", async () => {
    const worker = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 1}, logger);
    try {
      const seen: Array<ReturnType<WorkerEngine["progress"]>> = [];
      let done = false;
      const build = worker.refresh({timestamp: T, changed: null}).finally(() => (done = true));
      while (!done) {
        const p = worker.progress();
        if (p !== null) seen.push(p);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect((await build)?.messageCount).toBeGreaterThanOrEqual(N); // other tests here add some
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]).toMatchObject({full: true, total: BUCKET_COUNT});
      expect(seen[0]!.done).toBeLessThan(BUCKET_COUNT);
      expect(worker.progress()).toBeNull();
    } finally {
      await worker.close();
    }
  });

  it("a worker that cannot start fails the call with its reason; the next call starts a new one", async () => {
    const missing = join(dir, "later.db");
    const worker = new WorkerEngine({path: missing, busyTimeoutMs: 5_000, sliceBudgetMs: 10}, logger);
    try {
      await expect(worker.refresh({timestamp: T, changed: null})).rejects.toThrow(/unable to open|no such file|SQLITE_CANTOPEN/i);
      expect(warnings.some((w) => w.includes("commitment worker stopped"))).toBe(true);
      const later = StorageDb.open({path: missing, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 40, migrationsDir: null}, T);
      later.close();
      expect(await worker.refresh({timestamp: T, changed: []})).toMatchObject({messageCount: 0});
    } finally {
      await worker.close();
    }
    await expect(worker.refresh({timestamp: T, changed: null})).rejects.toThrow("closed");
  });
  it("persists its commitment: a new worker loads it and refreshes only what the change log names, to a full build's root", async () => {
    const request = (timestamp: number, full = false) => {
      const log = tables.changeLog(1_000_000);
      return {timestamp, changed: full ? null : [...new Set(log.hashes)], logWatermark: log.watermark};
    };
    const first = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger);
    try {
      expect(await first.refresh(request(T, true))).toMatchObject({persisted: true, loadedMs: 0});
    } finally {
      await first.close();
    }
    expect(tables.changeLog(10).hashes).toEqual([]);
    fill(300, N + 1_000);
    const second = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger);
    const local = new LocalEngine(tables.reader, {sliceBudgetMs: 10});
    try {
      const [loaded, full] = [await second.refresh(request(T + 5)), await local.refresh({timestamp: T + 5, changed: null})];
      expect(loaded!.loadedMs).toBeGreaterThan(0);
      expect(loaded!.stats.rebuilt).toBeLessThanOrEqual(300);
      expect(loaded!.root.equals(full!.root)).toBe(true);
      expect(loaded!.messageCount).toBe(full!.messageCount);
      await Promise.all([second.publish(T + 5), local.publish(T + 5)]);
      const hash = (db.sqlite.prepare("SELECT hash FROM messages ORDER BY id DESC LIMIT 1").pluck().get() as string);
      expect(await second.find(T + 5, hash, liveOf(hash))).toEqual(await local.find(T + 5, hash, liveOf(hash)));
    } finally {
      await second.close();
      await local.close();
    }
  });
  it("answers 503 NOT_READY through the worker for a loaded bucket whose record is damaged and cannot be replaced, and paths for the others", async () => {
    const log = tables.changeLog(1_000_000);
    const first = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger);
    try {
      await first.refresh({timestamp: T + 6, changed: [...new Set(log.hashes)], logWatermark: log.watermark});
    } finally {
      await first.close();
    }
    const [victim, other] = tables.liveHashesInRange("A", "z", T).filter((_, i) => i % 97 === 0);
    const bucket = bucketOf(decodeMessageHash(victim!)!);
    const record = db.sqlite.prepare("SELECT record FROM proof_buckets WHERE bucket = ?").pluck().get(bucket) as Buffer;
    record[60] = record[60]! ^ 1;
    db.sqlite.prepare("UPDATE proof_buckets SET record = ? WHERE bucket = ?").run(record, bucket);
    // The bucket as read now gives another root (its change kept out of the log, so no refresh reads it).
    db.sqlite.prepare("UPDATE messages SET expiry = expiry + 1 WHERE hash = ?").run(victim);
    db.sqlite.prepare("DELETE FROM proof_change_log").run();
    tables.takeUpdatedHashes();
    const second = new WorkerEngine({path, busyTimeoutMs: 5_000, sliceBudgetMs: 10, persist: true}, logger);
    try {
      await second.refresh({timestamp: T + 7, changed: [], logWatermark: 0});
      await second.publish(T + 7);
      const err = await second.find(T + 7, victim!, liveOf(victim!)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProofError);
      expect((err as ProofError).code).toBe("PROOF_ERROR_NOT_READY");
      expect(await second.find(T + 7, other!, liveOf(other!))).not.toBeNull();
    } finally {
      await second.close();
    }
  });
});
