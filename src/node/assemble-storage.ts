/** The message store and the table classes over its database, each built once for the whole node. */
import type {Logger} from "pino";
import type {ParsStorageConfig} from "../config/index.js";
import type {StoreMetrics} from "../metrics/index.js";
import {PenaltyTables, ProofTables, ReplicationTables, RetryTable, RewardTables, SqliteFeeLedger, SqliteMessageStore} from "../storage/index.js";
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
}

/** Opens the store, checks it belongs to `networkId`, builds the tables; closes the store if a step fails. */
export async function assembleStorage(
  config: ParsStorageConfig,
  path: string,
  m: {readonly clock: Clock; readonly logger: Logger; readonly metrics: StoreMetrics | null},
): Promise<NodeStorage> {
  const modules = {clock: m.clock, logger: m.logger.child({module: "storage"}), metrics: m.metrics};
  const store = await SqliteMessageStore.open({path, ...config.storage}, modules);
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
    return {store, tables};
  } catch (err) {
    await store.close();
    throw err;
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
