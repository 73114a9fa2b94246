/**
 * Store throughput: raw better-sqlite3 inserts (one autocommit transaction per row, and batches
 * of 100) on the real schema, against SqliteMessageStore.store with group commit and 64
 * concurrent writers. File-backed WAL databases, synchronous=NORMAL, a fresh database per rep.
 *
 *   npm run build && node dist/bench/storage.js
 */
import {createHash} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {StorageDb} from "../src/storage/db.js";
import type {NewMessage} from "../src/storage/interface.js";
import {SqliteMessageStore} from "../src/storage/sqlite-message-store.js";
import {systemClock} from "../src/util/clock.js";

export interface StorageBenchOptions {
  rows: number;
  reps: number;
  owners: number;
  writers: number;
  rawBatchSize: number;
}

export interface StorageBenchResult {
  name: string;
  opsPerSec: number;
  /** opsPerSec ÷ the autocommit baseline. */
  ratio: number;
}

const DEFAULTS: StorageBenchOptions = {rows: 20_000, reps: 5, owners: 1_000, writers: 64, rawBatchSize: 100};
const DATA = Buffer.alloc(1024, 0x5a);
const DAY_MS = 86_400_000;

function makeMessages(rows: number, owners: number, rep: number): NewMessage[] {
  const now = Date.now();
  return Array.from({length: rows}, (_, i) => ({
    account: `05${(i % owners).toString(16).padStart(64, "0")}`,
    hash: createHash("sha256").update(`${rep}:${i}`).digest("base64").replace(/=+$/, ""),
    namespace: 0,
    timestamp: now,
    expiry: now + (i % 10 === 0 ? DAY_MS : 14 * DAY_MS),
    data: DATA,
    replaceNamespace: false,
  }));
}

async function withTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "pars-bench-storage-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

/** Raw inserts through the migrated schema (triggers included); batchSize 1 = autocommit per row. */
function rawInserts(dir: string, messages: NewMessage[], owners: number, batchSize: number): number {
  const db = StorageDb.open(
    {path: join(dir, "raw.db"), synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 64 * 1024 ** 3, migrationsDir: null},
    Date.now(),
  );
  const addOwner = db.sqlite.prepare("INSERT INTO owners (type, pubkey) VALUES (5, ?)");
  for (let o = 0; o < owners; o++) addOwner.run(Buffer.from(o.toString(16).padStart(64, "0"), "hex"));
  const insert = db.sqlite.prepare(
    "INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const insertOne = (m: NewMessage, i: number): void => {
    insert.run(m.hash, (i % owners) + 1, m.namespace, m.timestamp, m.expiry, m.data);
  };
  const insertBatch = db.sqlite.transaction((start: number) => {
    for (let i = start; i < Math.min(start + batchSize, messages.length); i++) insertOne(messages[i]!, i);
  });
  const t0 = performance.now();
  if (batchSize === 1) messages.forEach(insertOne);
  else for (let i = 0; i < messages.length; i += batchSize) insertBatch(i);
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return messages.length / seconds;
}

async function groupCommitStores(dir: string, messages: NewMessage[], writers: number): Promise<number> {
  const store = await SqliteMessageStore.open({path: join(dir, "store.db"), sweepIntervalMs: 0}, {clock: systemClock});
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < messages.length) await store.store(messages[next++]!);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({length: writers}, writer));
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  return messages.length / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function benchStorage(overrides: Partial<StorageBenchOptions> = {}): Promise<StorageBenchResult[]> {
  const o = {...DEFAULTS, ...overrides};
  const cases: Array<[string, (dir: string, messages: NewMessage[]) => Promise<number>]> = [
    ["raw insert, autocommit per row", (dir, ms) => Promise.resolve(rawInserts(dir, ms, o.owners, 1))],
    [
      `raw insert, ${o.rawBatchSize} per transaction`,
      (dir, ms) => Promise.resolve(rawInserts(dir, ms, o.owners, o.rawBatchSize)),
    ],
    [`store(), group commit, ${o.writers} writers`, (dir, ms) => groupCommitStores(dir, ms, o.writers)],
  ];
  const results: StorageBenchResult[] = [];
  for (const [name, run] of cases) {
    const samples: number[] = [];
    for (let rep = 0; rep < o.reps; rep++) {
      const messages = makeMessages(o.rows, o.owners, rep);
      samples.push(await withTmpDir((dir) => run(dir, messages)));
    }
    results.push({name, opsPerSec: Math.round(median(samples)), ratio: 0});
  }
  const baseline = results[0]?.opsPerSec ?? 1;
  for (const r of results) r.ratio = Math.round((r.opsPerSec / baseline) * 100) / 100;
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchStorage();
  console.table(results);
}
