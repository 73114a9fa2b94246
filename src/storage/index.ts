export type * from "./interface.js";
export {SqliteMessageStore, type SqliteMessageStoreModules} from "./sqlite-message-store.js";
export {StorageDb, type StateValue, type StorageDbOptions} from "./db.js";
export {StorageError, type StorageErrorCode, type StorageErrorType} from "./errors.js";
export {
  defaultStorageOptions,
  resolveStorageOptions,
  type ResolvedStorageOptions,
  type StorageOptions,
  type StorageTuning,
} from "./options.js";
export type {SweepResult} from "./ttl-sweeper.js";
export type {WriteBatcherStats} from "./write-batcher.js";
export {
  ProofTables,
  type NewProofResult,
  type ProofMessage,
  type ProofResultRow,
  type ResultTally,
  type ChangeLog,
} from "./proof-tables.js";
export {ReplicationTables, type AccountHash} from "./replication-tables.js";
export {RetryTable, type NewRetry, type RetryRow} from "./retry-table.js";
export type {AppliedTombstones} from "./tombstones.js";
export {CommitmentReader, type CommitmentRow} from "./commitment-reader.js";
export {CommitmentStore, type CommitmentHeader, type StoredBucket, type StoredHead, type StoredTopPage} from "./commitment-store.js";
export {SqliteFeeLedger} from "./fee-ledger.js";
export type {FeeLedgerRow} from "./fee-ledger.js";
export {PenaltyTables, type PenaltyReportInsert, type PenaltyReportQuery, type PenaltyReportRow} from "./penalty-tables.js";
export {RewardTables, type RewardBalanceRow, type RewardClaimRow, type RewardEpochRow} from "./reward-tables.js";
