/**
 * The helper that reads a large refresh's old records ahead (src/proofs/fetch-worker.ts), over a
 * database file: it hands out exactly the rows the engine's own read gives, shares batches with
 * the engine (each taken from one side), drops an ended job's batches, and a refresh using it gives
 * the commitment a full build gives.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {initHashing, sha256} from "../../src/crypto/hash.js";
import {FULL_PLAN, LocalEngine, dataDigest, refreshCommitment} from "../../src/proofs/index.js";
import {RecordFetcher} from "../../src/proofs/fetch-worker.js";
import {CommitmentStore, ProofTables, StorageDb, type StoredBucket} from "../../src/storage/index.js";

const T = 1_767_225_600_000;
const N = 12_000;
const dir = mkdtempSync(join(tmpdir(), "pars-proofs-fetch-"));
const path = join(dir, "store.db");
let db: StorageDb;
let tables: ProofTables;
let store: CommitmentStore;

beforeAll(async () => {
  await initHashing();
  db = StorageDb.open({path, synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 2 ** 40, migrationsDir: null}, T);
  tables = new ProofTables(db);
  const owner = db.sqlite.prepare("INSERT OR IGNORE INTO owners (id, type, pubkey) VALUES (?, 5, ?)");
  const insert = db.sqlite.prepare("INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data, data_digest) VALUES (?, ?, ?, ?, ?, ?, ?)");
  db.sqlite.transaction(() => {
    for (let o = 1; o <= 20; o++) owner.run(o, sha256(Buffer.from(`owner ${o}`)));
    for (let i = 0; i < N; i++) {
      const data = Buffer.from(`message ${i} `.repeat(1 + (i % 5)));
      insert.run(sha256(Buffer.from(`hash ${i}`)).toString("base64").slice(0, 43), 1 + (i % 20), i % 3, T - 60_000, T + 3_600_000 + i, data, dataDigest(data));
    }
  })();
  store = CommitmentStore.open(path, 5_000);
  // A persisted commitment: the records the fetches below read.
  const engine = new LocalEngine(tables.reader, {sliceBudgetMs: 1_000, store});
  await engine.refresh({timestamp: T, changed: null, logWatermark: 0});
  await engine.close();
});

afterAll(() => {
  store.close();
  db.close();
  rmSync(dir, {recursive: true, force: true});
});

/** Every stored non-empty bucket, shuffled the way a merge's hash order shuffles them. */
function storedBuckets(): number[] {
  const all = store.buckets(0, 262_144).filter((r) => r.record.length > 0).map((r) => r.bucket);
  return all.map((b, i) => ({b, k: (i * 7919) % all.length})).sort((x, y) => x.k - y.k).map((x) => x.b);
}

const same = (rows: StoredBucket[]): string[] => rows.map((r) => `${r.bucket}/${r.generation}/${r.digest.toString("hex")}/${r.record.toString("hex")}`);

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("RecordFetcher", () => {
  it("hands out, batch by batch in the job's order, the rows the engine's own read gives, each taken from one of them (the engine never waits for the helper)", async () => {
    const fetcher = RecordFetcher.open(path, 5_000);
    try {
      const wanted = storedBuckets();
      const batch = 64;
      fetcher.start(wanted, batch);
      // The helper has read some batches (from the last) before the engine takes any.
      await until(() => fetcher.posted >= 8);
      let own = 0;
      for (let i = 0; i < wanted.length; i += batch) {
        const asked = wanted.slice(i, i + batch).sort((x, y) => x - y);
        // One bucket of each batch is left out, as a record already in memory would be.
        const missing = asked.filter((_, k) => k !== 3);
        const rows = fetcher.take(missing, (list) => {
          own += list.length;
          return store.records(list);
        });
        expect(same(rows)).toEqual(same(store.records(missing)));
      }
      const batches = Math.ceil(wanted.length / batch);
      expect(fetcher.counts.helper).toBeGreaterThanOrEqual(8);
      expect(fetcher.counts.helper + fetcher.counts.engine).toBe(batches);
      // The engine read only the batches it claimed (all of each: a statement per batch).
      expect(own).toBeLessThanOrEqual(fetcher.counts.engine * batch);
      // A bucket outside the job is read with the fallback.
      expect(same(fetcher.take([wanted[0]!], (list) => store.records(list)))).toEqual(same(store.records([wanted[0]!])));
    } finally {
      await fetcher.close();
    }
  });

  it("drops an ended job's batches: the next job gets its own rows", async () => {
    const fetcher = RecordFetcher.open(path, 5_000);
    try {
      const wanted = storedBuckets();
      fetcher.start(wanted.slice(0, 2_000), 32);
      await until(() => fetcher.posted >= 8);
      // A new job while the old one's batches wait on the port.
      const second = wanted.slice(2_000, 2_400);
      fetcher.start(second, 32);
      for (let i = 0; i < second.length; i += 32) {
        const asked = second.slice(i, i + 32).sort((x, y) => x - y);
        expect(same(fetcher.take(asked, (list) => store.records(list)))).toEqual(same(store.records(asked)));
      }
      expect(fetcher.counts.helper + fetcher.counts.engine).toBeGreaterThanOrEqual(Math.ceil(second.length / 32));
    } finally {
      await fetcher.close();
    }
  });
});

describe("a refresh with the helper", () => {
  it("gives the commitment a full build gives, with the helper started for it and stopped after", async () => {
    let started: RecordFetcher | null = null;
    const engine = new LocalEngine(tables.reader, {
      sliceBudgetMs: 1_000,
      store,
      prefetchMinRecords: 1,
      recordFetcher: () => (started = RecordFetcher.open(path, 5_000)),
    });
    try {
      // Half the messages get a new expiry: ~6,000 buckets merged into their records on disk.
      const hashes = db.sqlite.prepare("SELECT hash FROM messages WHERE rowid % 2 = 0").pluck().all() as string[];
      db.sqlite.prepare("UPDATE messages SET expiry = expiry + 1 WHERE rowid % 2 = 0").run();
      const summary = await engine.refresh({timestamp: T + 1, changed: hashes, logWatermark: 0});
      expect(started).not.toBeNull();
      const counts = (started as RecordFetcher | null)!.counts;
      expect(counts.helper + counts.engine).toBeGreaterThan(0);
      expect(summary!.stats.reread).toBe(0);
      const full = await refreshCommitment(tables.reader, null, FULL_PLAN, {timestamp: T + 1, sliceBudgetMs: 1_000});
      expect(summary!.root.toString("hex")).toBe(full!.root.toString("hex"));
      expect(summary!.messageCount).toBe(N);
    } finally {
      await engine.close();
    }
  });
});
