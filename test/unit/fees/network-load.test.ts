import {afterEach, beforeEach, describe, expect, it} from "vitest";
import type {StorageLoad} from "../../../src/economics/index.js";
import {FeeService, networkOrOwnLoad} from "../../../src/fees/fee-service.js";
import {SqliteFeeLedger} from "../../../src/storage/fee-ledger.js";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";

const HOUR = 3_600_000;
let store: SqliteMessageStore;
let network: StorageLoad | null;
/** This node alone is 96 % full (×50); the network is 60 % full (×2). */
const own: StorageLoad = {storageUsed: 96, storageCapacity: 100};
let fees: FeeService;

beforeEach(async () => {
  const clock = new ManualClock(10 * HOUR);
  store = await openTestStore({}, {clock});
  network = null;
  const load = networkOrOwnLoad({load: () => network}, () => own);
  fees = new FeeService({epochMs: HOUR, flushIntervalMs: 60_000}, {clock, load, swarmMembers: () => ["aa"], ledger: new SqliteFeeLedger(store.db)});
});
afterEach(async () => {
  fees.close();
  await store.close();
});

describe("scarcity from the network view", () => {
  it("uses the node's own load while the view has none, and the network's once it has", () => {
    expect(fees.quote(1024, false).multiplier).toBe(50n);
    expect(fees.schedule()).toMatchObject({multiplier: 50, storage_used: 96, storage_capacity: 100, load_origin: "node"});
    network = {storageUsed: 60, storageCapacity: 100};
    expect(fees.quote(1024, false).multiplier).toBe(2n);
    expect(fees.schedule()).toMatchObject({multiplier: 2, utilization_pct: 60, storage_used: 60, storage_capacity: 100, load_origin: "network"});
    network = null;
    expect(fees.quote(1024, false).multiplier).toBe(50n);
  });

  it("uses the node's own load without a network view at all (membership source none)", () => {
    expect(networkOrOwnLoad(null, () => own).load()).toEqual({...own, origin: "node"});
  });
});
