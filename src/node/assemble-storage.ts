/** The message store and the table classes over its database, each built once for the whole node. */
import type {Logger} from "pino";
import type {ParsStorageConfig} from "../config/index.js";
import type {StoreMetrics} from "../metrics/index.js";
import {PenaltyTables, ProofTables, ReplicationTables, RetryTable, RewardTables, SqliteFeeLedger, SqliteMessageStore} from "../storage/index.js";
import {ReaderThread} from "../storage/reader-thread.js";
import type {Clock} from "../util/index.js";

/** The tables other modules keep over the store's database; node/ hands each to its user. */
export interface NodeTables {
  readonly proofs: ProofTables;
  readonly replication: ReplicationTables;
  readonly retries: RetryTable;
  readonly feeLedger: SqliteFeeLedger;
  readonly rewards: RewardTables;
  readonly penalties: PenaltyTables;
}

export interface NodeStorage {
  readonly store: SqliteMessageStore;
  readonly tables: NodeTables;
  /** Retrieve pages' reads and answers off the event loop (`storage.readerThread`); null when off. */
  readonly reader: ReaderThread | null;
}

/** Pages asked of the reader thread and not yet answered, beyond which retrieves get 503. */
export const READER_MAX_QUEUED = 1_000;
/** Times a dead reader thread is started again before retrieves stay on the event loop. */
export const READER_MAX_RESTARTS = 3;

/** Opens the store, checks it belongs to `networkId`, builds the tables; closes the store if a step fails. */
export async function assembleStorage(
  config: ParsStorageConfig,
  path: string,
  m: {readonly clock: Clock; readonly logger: Logger; readonly metrics: StoreMetrics | null},
): Promise<NodeStorage> {
  const modules = {clock: m.clock, logger: m.logger.child({module: "storage"}), metrics: m.metrics};
  const {readerThread, ...storage} = config.storage;
  const store = await SqliteMessageStore.open({path, ...storage}, modules);
  try {
    checkNetwork(store, config.networkId);
    const tables: NodeTables = {
      proofs: new ProofTables(store.db),
      replication: new ReplicationTables(store.db),
      retries: new RetryTable(store.db),
      feeLedger: new SqliteFeeLedger(store.db, {logger: m.logger.child({module: "fees"})}),
      rewards: new RewardTables(store.db),
      penalties: new PenaltyTables(store.db),
    };
    return {store, tables, reader: readerThread ? await startReader(store, modules.logger) : null};
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The reader thread on the store's file; without one (an in-memory store, a failed start) retrieves read on the event loop. */
async function startReader(store: SqliteMessageStore, logger: Logger): Promise<ReaderThread | null> {
  const path = store.db.sqlite.name;
  if (path === ":memory:" || path === "") return null;
  try {
    const busyTimeoutMs = store.db.sqlite.pragma("busy_timeout", {simple: true}) as number;
    return await ReaderThread.start({path, busyTimeoutMs, maxQueued: READER_MAX_QUEUED, maxRestarts: READER_MAX_RESTARTS}, {logger});
  } catch (err) {
    logger.error({err}, "the retrieve reader thread did not start; retrieves are read on the event loop");
    return null;
  }
}

/** A data directory belongs to one network: refuse to mix mainnet and testnet messages. */
function checkNetwork(store: SqliteMessageStore, networkId: number): void {
  const stored = store.getState("network_id");
  const recorded = stored === null ? null : String(stored);
  if (recorded === null) {
    store.setState("network_id", String(networkId));
  } else if (recorded !== String(networkId)) {
    throw new Error(
      `the data directory belongs to network ${recorded}, but this node was started for network ${networkId}; ` +
        "use another --data-dir or the matching --network",
    );
  }
}
