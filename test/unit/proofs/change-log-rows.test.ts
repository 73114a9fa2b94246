/**
 * The change log carries each changed message's leaf fields (migration 0011): an incremental
 * refresh takes inserts, updates and deletes from it in id order and reads `messages` only for what
 * the log does not know (rows logged before 0011, rows without a data digest), to the root a full
 * build gives.
 */
import {afterEach, beforeAll, describe, expect, it, vi} from "vitest";
import {LocalEngine} from "../../../src/proofs/index.js";
import {build, FULL, HOUR_MS, message, proofStore, T0, type ProofStore} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";

beforeAll(async () => {
  await testPq();
});

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(): Promise<ProofStore> {
  const s = await proofStore();
  cleanup.push(() => s.store.close());
  return s;
}

/** A refresh request for everything in the log, as the proof service makes it. */
function logged(s: ProofStore, timestamp: number): {timestamp: number; changed: string[]; logWatermark: number} {
  const log = s.tables.changeLog(1_000_000);
  s.tables.takeUpdatedHashes();
  return {timestamp, changed: [...new Set(log.hashes ?? [])], logWatermark: log.watermark};
}

describe("change log with leaf fields", () => {
  it("an incremental refresh takes inserts, expiry updates and deletes from the log without reading messages", async () => {
    const s = await setup();
    const messages = Array.from({length: 60}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await s.store.storeBulk(messages.slice(0, 40));
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000});
    await engine.refresh({timestamp: T0, changed: null});
    s.tables.trimChangeLog(s.tables.changeLog(1_000_000).watermark);

    await s.store.storeBulk(messages.slice(40));
    await s.store.deleteByHashes(messages[0]!.account, [messages[0]!.hash]);
    s.store.db.sqlite.prepare("UPDATE messages SET expiry = expiry + 5 WHERE hash = ?").run(messages[5]!.hash);
    // Expired by the next T: logged with its expiry, left out like a read row would be.
    s.store.db.sqlite.prepare("UPDATE messages SET expiry = ? WHERE hash = ?").run(T0 + 500, messages[6]!.hash);
    const reads = vi.spyOn(s.tables.reader, "rowsByHashes");

    const summary = await engine.refresh(logged(s, T0 + 1_000));
    expect(reads).not.toHaveBeenCalled();
    expect(summary!.stats.rebuilt).toBeGreaterThanOrEqual(23);
    const full = await build(s.tables, null, FULL, T0 + 1_000);
    expect(summary!.root.equals(full.root)).toBe(true);
    expect(summary!.messageCount).toBe(58);
  });

  it("log rows that do not carry the fields (logged before migration 0011) are read from messages", async () => {
    const s = await setup();
    const messages = Array.from({length: 30}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await s.store.storeBulk(messages.slice(0, 20));
    const engine = new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000});
    await engine.refresh({timestamp: T0, changed: null});
    s.tables.trimChangeLog(s.tables.changeLog(1_000_000).watermark);

    await s.store.storeBulk(messages.slice(20));
    s.store.db.sqlite.exec("UPDATE proof_change_log SET state = NULL, owner = NULL, namespace = NULL, expiry = NULL, size = NULL, digest = NULL");
    const reads = vi.spyOn(s.tables.reader, "rowsByHashes");

    const summary = await engine.refresh(logged(s, T0 + 1_000));
    expect(reads).toHaveBeenCalled();
    expect(reads.mock.calls.flatMap((c) => c[0]).sort()).toEqual(messages.slice(20).map((m) => m.hash).sort());
    expect(summary!.root.equals((await build(s.tables, null, FULL, T0 + 1_000)).root)).toBe(true);
  });

  it("ids never repeat: a log trimmed empty goes on above the last id, so later rows are never taken for rows an earlier refresh had (migration 0014)", async () => {
    const s = await setup();
    const messages = Array.from({length: 6}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await s.store.storeBulk(messages.slice(0, 3));
    const first = s.tables.changeLog(1_000_000);
    expect(first.hashes).toHaveLength(3);
    s.tables.trimChangeLog(first.watermark);
    expect(s.tables.changeLog(1_000_000)).toMatchObject({watermark: 0, hashes: []});

    await s.store.storeBulk(messages.slice(3));
    // Before 0014 (INTEGER PRIMARY KEY without AUTOINCREMENT) an empty table started again at 1.
    const second = s.tables.changeLog(1_000_000, first.watermark);
    expect(second.watermark).toBe(first.watermark + 3);
    expect(second.hashes).toEqual(messages.slice(3).map((m) => m.hash));
  });
});
