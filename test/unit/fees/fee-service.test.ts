import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {SESSION_CREATE_FEE, STORAGE_FEE_PER_KB} from "../../../src/economics/index.js";
import {FeeService, quoteJson} from "../../../src/fees/fee-service.js";
import {SqliteFeeLedger} from "../../../src/storage/fee-ledger.js";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";

const HOUR = 3_600_000;
let store: SqliteMessageStore;
let clock: ManualClock;
let load = {storageUsed: 0, storageCapacity: 100};
let fees: FeeService;

beforeEach(async () => {
  clock = new ManualClock(10 * HOUR);
  store = await openTestStore({}, {clock});
  load = {storageUsed: 0, storageCapacity: 100};
  fees = new FeeService(
    {epochMs: HOUR, flushIntervalMs: 60_000},
    {clock, load: {load: () => load}, swarmMembers: () => ["aa", "bb", "cc"], ledger: new SqliteFeeLedger(store.db)},
  );
});
afterEach(async () => {
  fees.close();
  await store.close();
});

describe("FeeService", () => {
  it("quotes size × scarcity multiplier, plus the session-create fee for a new mailbox", () => {
    const q = fees.quote(2049, true);
    expect(q.baseFee).toBe(3n * STORAGE_FEE_PER_KB);
    expect(q.multiplier).toBe(1n);
    expect(q.total).toBe(3n * STORAGE_FEE_PER_KB + SESSION_CREATE_FEE);
    load = {storageUsed: 70, storageCapacity: 100};
    const scarce = fees.quote(1024, false);
    expect(scarce.multiplier).toBe(5n);
    expect(quoteJson(scarce)).toEqual({
      unit: "base",
      base_fee: STORAGE_FEE_PER_KB.toString(),
      multiplier: 5,
      storage_fee: (5n * STORAGE_FEE_PER_KB).toString(),
      session_create_fee: "0",
      total: (5n * STORAGE_FEE_PER_KB).toString(),
    });
  });

  it("keeps a per-epoch ledger with an exact 80/20 split among the swarm, persisted across restarts", () => {
    fees.charge(fees.quote(1024, true), 1024);
    fees.charge(fees.quote(100, false), 100);
    clock.advance(HOUR);
    fees.charge(fees.quote(5000, false), 5000);
    const ledger = fees.ledger(10) as {epochs: Array<Record<string, any>>};
    expect(ledger.epochs.map((e) => e.epoch as number)).toEqual([11, 10]);
    const first = ledger.epochs[1]!;
    const total = SESSION_CREATE_FEE + 2n * STORAGE_FEE_PER_KB;
    expect(first).toMatchObject({stores: 2, new_mailboxes: 1, bytes: 1124, fees_total: total.toString()});
    expect(BigInt(first.swarm_share) + BigInt(first.treasury_share)).toBe(total);
    expect(BigInt(first.treasury_share)).toBe((total * 20n) / 100n);
    const perNode = Object.values(first.per_node as Record<string, string>).map(BigInt);
    expect(perNode.reduce((a, b) => a + b, 0n)).toBe(BigInt(first.swarm_share));
    fees.close();
    const reopened = new FeeService(
      {epochMs: HOUR, flushIntervalMs: 60_000},
      {clock, load: {load: () => load}, swarmMembers: () => ["aa"], ledger: new SqliteFeeLedger(store.db)},
    );
    reopened.charge(reopened.quote(1024, false), 1024);
    const after = reopened.ledger(1) as {epochs: Array<Record<string, any>>};
    expect(after.epochs[0]).toMatchObject({epoch: 11, stores: 2});
    reopened.close();
  });

  it("publishes the schedule and the current multiplier", () => {
    load = {storageUsed: 96, storageCapacity: 100};
    expect(fees.schedule()).toMatchObject({unit: "base", decimals: 18, multiplier: 50, utilization_pct: 96});
  });
});
